package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// syncBuffer collects the server's log lines from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The personal data of the test, in the forms a customer types them.
var (
	piiMobile = "13812345678"
	piiID     = "11010519491231002X"
	piiCard   = "6222021234567890128"
	piiEmail  = "zhang.san@example.com"
)

// Personal data is masked in what is stored and shown, the original is
// revealed only to the agent who handles the conversation (and audited),
// and no log line nor database file carries it in the clear.
func TestPersonalDataIsMaskedStoredSealedAndRevealedWithAudit(t *testing.T) {
	logs := &syncBuffer{}
	run := testutil.StartLogging(t, nil, logs)
	cust := &testutil.Client{T: t, Base: run.URL}
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	other := testutil.Login(t, run.URL, run.Demo[2].Email, run.Demo[2].Password)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	conv := cust.Start("zh-CN")
	said := "我的手机号是" + piiMobile + "，身份证" + piiID + "，卡号 " + piiCard + "，邮箱 " + piiEmail + "，转人工"
	turn := cust.Say(conv, said)
	if strings.Contains(turn.Customer.Text, piiMobile) || !strings.Contains(turn.Customer.Text, "138****5678") ||
		!strings.Contains(turn.Customer.Text, "622202*********0128") || !strings.Contains(turn.Customer.Text, "**************002X") ||
		!strings.Contains(turn.Customer.Text, "z***@example.com") {
		t.Fatalf("customer message as acknowledged: %q", turn.Customer.Text)
	}
	if turn.State != "queued" {
		t.Fatalf("state %q, want queued (asked for a human): %+v", turn.State, turn.Messages)
	}

	// Routing gives it to the one agent online; claiming races it harmlessly.
	agent.Do("POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages",
		map[string]string{"text": "好的，我们会致电 " + piiMobile + " 联系您"}, nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/notes",
		map[string]string{"text": "客户卡号 " + piiCard}, nil)

	var transcript struct {
		Messages []struct {
			ID, Role, Text string
			PII            []string `json:"pii"`
		} `json:"messages"`
		Notes []struct{ Text string } `json:"notes"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &transcript)
	var customerMsg, agentMsg string
	for _, m := range transcript.Messages {
		if strings.Contains(m.Text, piiMobile) || strings.Contains(m.Text, piiCard) {
			t.Fatalf("transcript shows personal data: %q", m.Text)
		}
		switch {
		case m.Role == "customer" && len(m.PII) == 4:
			customerMsg = m.ID
		case m.Role == "agent" && len(m.PII) == 1 && m.PII[0] == "cn_mobile":
			agentMsg = m.ID
		}
	}
	if customerMsg == "" || agentMsg == "" {
		t.Fatalf("masked messages do not say what was masked: %+v", transcript.Messages)
	}
	if len(transcript.Notes) != 1 || strings.Contains(transcript.Notes[0].Text, piiCard) {
		t.Fatalf("note: %+v", transcript.Notes)
	}

	// The handling agent reveals the original; it is audited.
	var revealed struct {
		Text  string
		Kinds []string
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal", map[string]string{"ref": customerMsg}, &revealed)
	if revealed.Text != said || len(revealed.Kinds) != 4 {
		t.Fatalf("revealed %+v, want the original %q", revealed, said)
	}
	var audit struct {
		Entries []struct {
			Action, Object, Actor string
			Detail                map[string]any
		}
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/audit?action=pii.", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Object != "conversation:"+conv.ID || audit.Entries[0].Actor != agent.ID ||
		audit.Entries[0].Detail["ref"] != customerMsg {
		t.Fatalf("audit of the reveal: %+v", audit.Entries)
	}
	// Another agent does not handle it; an auditor may read but not reveal.
	if status, b := other.Do("POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal", map[string]string{"ref": customerMsg}); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Fatalf("another agent revealed: %d %s", status, b)
	}
	auditor := admin.AddUser("auditor-pii@example.com", "auditor", nil)
	if status, b := auditor.Do("POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal", map[string]string{"ref": customerMsg}); status != http.StatusForbidden {
		t.Fatalf("an auditor revealed: %d %s", status, b)
	}
	// A message from another conversation cannot be revealed through this one.
	conv2 := cust.Start("en")
	t2 := cust.Say(conv2, "call me on "+piiMobile)
	if status, b := agent.Do("POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal", map[string]string{"ref": t2.Customer.ID}); status != http.StatusNotFound {
		t.Fatalf("revealed another conversation's message through this one: %d %s", status, b)
	}
	if status, b := agent.Do("POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal", map[string]string{"ref": ""}); status != http.StatusBadRequest || !bytes.Contains(b, []byte("ref")) {
		t.Fatalf("empty ref: %d %s", status, b)
	}

	// Offline form: the contact is masked for the list, sealed for the call back.
	conv3 := cust.Start("zh-CN")
	body, _ := json.Marshal(map[string]string{"contact": piiMobile, "message": "请打 " + piiMobile + " 找我"})
	if status, b := cust.Do("POST", "/api/v1/conversations/"+conv3.ID+"/offline-message", conv3.Token, body); status != http.StatusCreated {
		t.Fatalf("offline message: %d %s", status, b)
	}
	var tickets struct {
		Tickets []struct{ ID, Contact, Message string } `json:"tickets"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &tickets)
	var ticket string
	for _, tk := range tickets.Tickets {
		if strings.Contains(tk.Contact, piiMobile) || strings.Contains(tk.Message, piiMobile) {
			t.Fatalf("ticket shows personal data: %+v", tk)
		}
		if tk.Contact == "138****5678" {
			ticket = tk.ID
		}
	}
	if ticket == "" {
		t.Fatalf("no masked ticket among %+v", tickets.Tickets)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv3.ID+"/reveal", map[string]string{"ref": "ticket:" + ticket + ":contact"}, &revealed)
	if revealed.Text != piiMobile {
		t.Fatalf("ticket contact revealed as %q", revealed.Text)
	}

	// Nothing in the clear in the logs (debug level) nor in the database files.
	for _, secret := range []string{piiMobile, piiID, piiCard, piiEmail} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log carries %s", secret)
		}
	}
	if !strings.Contains(logs.String(), "turn") {
		t.Fatalf("the test saw no debug log lines at all:\n%s", logs.String())
	}
	files, _ := filepath.Glob(filepath.Join(run.DataDir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, secret := range []string{piiMobile, piiID, piiCard, piiEmail} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s carries %s in the clear", filepath.Base(f), secret)
			}
		}
	}
}

// The offline form's contact is personal data whatever its form: a landline
// or a WeChat id the detector does not know is masked all the same, and
// revealed on purpose like the rest.
func TestAnyOfflineContactIsMasked(t *testing.T) {
	run, agent := startStaffed(t)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "offline"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	for _, contact := range []string{"021-62345678", "wechat: zhang_san88", "QQ 1234"} {
		conv := c.Start("zh-CN")
		c.Say(conv, "转人工")
		body, _ := json.Marshal(map[string]string{"contact": contact, "message": "请回电"})
		status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body)
		if status != http.StatusCreated {
			t.Fatalf("offline message: %d %s", status, b)
		}
		var created struct {
			Ticket struct{ ID, Contact string } `json:"ticket"`
		}
		json.Unmarshal(b, &created)
		var got struct {
			Tickets []struct{ ID, Contact string } `json:"tickets"`
		}
		agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &got)
		shown := ""
		for _, tk := range got.Tickets {
			if tk.ID == created.Ticket.ID {
				shown = tk.Contact
			}
		}
		if shown == "" || shown == contact || strings.Contains(shown, "6234") || strings.Contains(shown, "zhang") || strings.Contains(shown, "1234") {
			t.Fatalf("contact %q is listed as %q, want it masked", contact, shown)
		}
		var revealed struct{ Text string }
		agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/reveal",
			map[string]string{"ref": "ticket:" + created.Ticket.ID + ":contact"}, &revealed)
		if revealed.Text != contact {
			t.Fatalf("contact %q revealed as %q", contact, revealed.Text)
		}
	}
}
