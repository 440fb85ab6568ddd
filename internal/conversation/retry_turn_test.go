package conversation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// A retry with the same client_id returns the same turn: the replies
// stored with it, not a desk message written in the same millisecond (the
// "joined" line of an assignment that follows a handoff at once), and with
// the same created_at as the first answer. Replies were told from later
// messages by their time, which the store keeps to the millisecond.
func TestARetryReturnsOnlyItsOwnTurn(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for i := range 50 {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("k-%d", i)
		first, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "how much is shipping?", ClientID: key})
		if err != nil {
			t.Fatal(err)
		}
		// The desk writes right after the turn, as an assignment does.
		if _, _, err := e.Apply(ctx, c.ID, func(c *conversation.Conversation) ([]conversation.Message, error) {
			return []conversation.Message{{Role: conversation.RoleSystem, Outcome: conversation.OutcomeJoined, Text: "Li Na has joined"}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		again, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "how much is shipping?", ClientID: key})
		if err != nil {
			t.Fatal(err)
		}
		if !again.Repeated || len(again.Replies) != len(first.Replies) {
			for _, r := range again.Replies {
				t.Logf("retry reply seq %d role %s outcome %s %q", r.Seq, r.Role, r.Outcome, r.Text)
			}
			t.Fatalf("conversation %d: the retry returned %d replies (repeated %v), the turn had %d", i, len(again.Replies),
				again.Repeated, len(first.Replies))
		}
		for j := range first.Replies {
			if again.Replies[j].ID != first.Replies[j].ID || !again.Replies[j].CreatedAt.Equal(first.Replies[j].CreatedAt) {
				t.Fatalf("conversation %d: reply %d is %s at %s on retry, %s at %s at first", i, j, again.Replies[j].ID,
					again.Replies[j].CreatedAt, first.Replies[j].ID, first.Replies[j].CreatedAt)
			}
		}
		if !again.Customer.CreatedAt.Equal(first.Customer.CreatedAt) {
			t.Fatalf("conversation %d: the retry's created_at %s differs from the turn's %s", i,
				again.Customer.CreatedAt.Format("15:04:05.000000000"), first.Customer.CreatedAt.Format("15:04:05.000000000"))
		}
	}
}
