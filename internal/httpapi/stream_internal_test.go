package httpapi

import (
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/realtime"
)

// A conversation still with the bot reaches the desk's consoles only for
// what they act on: the offline form offered, and a message left on it (its
// thank-you line), which the console counts and shows in an open transcript.
func TestPublishTellsTheDeskOfLeftMessages(t *testing.T) {
	hub := realtime.NewHub(16)
	desk := hub.Subscribe(DeskTopic)
	defer desk.Close()
	p := HubPublisher{Hub: hub}
	c := &conversation.Conversation{ID: "c-1", State: conversation.StateBot, LastSeq: 3}
	for _, tc := range []struct {
		outcome conversation.Outcome
		desk    bool
	}{
		{conversation.OutcomeAnswer, false},
		{conversation.OutcomeOffline, true},
		{conversation.OutcomeTicket, true},
	} {
		p.Publish(c, []conversation.Message{{ID: "m", Seq: 3, Role: conversation.RoleBot, Outcome: tc.outcome}})
		got := false
		for len(desk.C) > 0 {
			<-desk.C
			got = true
		}
		if got != tc.desk {
			t.Errorf("a bot conversation's %s message on the desk topic: %v, want %v", tc.outcome, got, tc.desk)
		}
	}
}
