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
