package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// A closed conversation takes nothing more from the customer, the offline
// form included: it opened a ticket for a conversation that was over and
// added the bot's thanks after the close. It is refused with 409, in the
// customer's language too.
func TestTheOfflineFormIsRefusedOnceClosed(t *testing.T) {
	run, agent := startStaffed(t)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "转人工")
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	form := []byte(`{"contact":"li@example.com","message":"还在吗"}`)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	before := getView(t, c, conv)
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, form)
	after := getView(t, c, conv)
	if status != http.StatusConflict || !strings.Contains(string(b), "会话已结束") {
		t.Errorf("offline message in a closed conversation: %d %s, want 409 saying so in Chinese too", status, b)
	}
	if len(after.Messages) != len(before.Messages) {
		last := after.Messages[len(after.Messages)-1]
		t.Errorf("a message was added after the close: seq %d role %s %q", last.Seq, last.Role, last.Text)
	}
	var tickets struct {
		Tickets []struct {
			ConversationID string `json:"conversation_id"`
		}
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &tickets)
	for _, tk := range tickets.Tickets {
		if tk.ConversationID == conv.ID {
			t.Errorf("a ticket was opened for the closed conversation")
		}
	}
}
