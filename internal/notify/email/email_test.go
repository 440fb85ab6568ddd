package email_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/email"
	"github.com/steward-cs/steward/internal/notify/notifytest"
)

func TestMessageIsWellFormed(t *testing.T) {
	ch, err := email.New(email.Config{Host: "smtp.example.com", From: "alerts@example.com", To: []string{"a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.Notice{ID: "ntc/with spaces", Level: notify.LevelWarning, Status: notify.StatusFiring,
		TitleZH: strings.Repeat("很长的标题", 20), Title: "Injected\r\nBcc: victim@example.com", Text: "t"}
	raw := ch.Message(n, time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC))
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" {
		t.Fatal("a title injected a header")
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != ch.Subject(n) || !strings.HasPrefix(subject, "[Steward] [重要 Warning · 告警 Firing] 很长的标题") {
		t.Fatalf("subject %q: %v", subject, err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d bytes", len(line))
		}
	}
	id := m.Header.Get("Message-ID")
	if !strings.HasPrefix(id, "<steward.") || !strings.HasSuffix(id, "@example.com>") || strings.Contains(id, " ") {
		t.Fatalf("Message-ID = %q", id)
	}
	if again := ch.Message(n, time.Now()); !bytes.Contains(again, []byte("Message-ID: "+id)) {
		t.Fatal("Message-ID differs between renderings of one notice")
	}
}

func TestSMTPReplies(t *testing.T) {
	fake := notifytest.NewSMTP("", "")
	defer fake.Close()
	cfg := email.Config{Host: fake.Host(), Port: fake.Port(), From: "a@example.com", To: []string{"b@example.com"}}
	ch, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := notify.Notice{ID: "n1", Level: notify.LevelInfo, Status: notify.StatusFiring, Title: "t"}

	fake.SetReject(451)
	if err := ch.Send(context.Background(), n); err == nil || notify.IsPermanent(err) {
		t.Fatalf("451: err = %v, want retryable", err)
	}
	fake.SetReject(0)
	if err := ch.Send(context.Background(), n); err != nil || fake.Count() != 1 {
		t.Fatalf("err = %v, count %d", err, fake.Count())
	}

	cfg.StartTLS = email.StartTLSAlways
	strict, _ := email.New(cfg)
	if err := strict.Send(context.Background(), n); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("start_tls always without STARTTLS: err = %v, want permanent", err)
	}
}

// One refused recipient does not keep the notice from the others. A
// temporary refusal is retried for that recipient alone; a permanent one
// gives up, with the refused address in the error.
func TestRefusedRecipientDoesNotStopTheOthers(t *testing.T) {
	fake := notifytest.NewSMTP("", "")
	defer fake.Close()
	cfg := email.Config{Host: fake.Host(), Port: fake.Port(), From: "a@example.com",
		To: []string{"oncall@example.com", "gone@example.com", "grey@example.com"}}
	ch, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fake.SetRejectAddress("gone@example.com", 550)
	err = ch.Send(ctx, notify.Notice{ID: "n1", Level: notify.LevelCritical, Status: notify.StatusFiring, Title: "t"})
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "gone@example.com") {
		t.Fatalf("one recipient refused for good: err = %v, want permanent, naming it", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || strings.Join(msgs[0].To, " ") != "oncall@example.com grey@example.com" {
		t.Fatalf("delivered %+v, want one message to the two accepted", msgs)
	}

	fake.SetRejectAddress("grey@example.com", 451)
	n2 := notify.Notice{ID: "n2", Level: notify.LevelCritical, Status: notify.StatusFiring, Title: "t"}
	err = ch.Send(ctx, n2)
	if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "grey@example.com") {
		t.Fatalf("a greylisted recipient: err = %v, want retryable, naming it", err)
	}
	fake.SetRejectAddress("grey@example.com", 0)
	if err := ch.Send(ctx, n2); !notify.IsPermanent(err) && err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs = fake.Messages()[1:]
	var got []string
	for _, m := range msgs {
		got = append(got, strings.Join(m.To, "+"))
	}
	// The retry goes to grey alone (gone is still refused, for good).
	if strings.Join(got, " ") != "oncall@example.com grey@example.com" {
		t.Fatalf("deliveries of n2: %q, want oncall first, then grey alone", got)
	}
}
