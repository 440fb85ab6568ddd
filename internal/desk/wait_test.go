package desk_test

import (
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
)

// A conversation a supervisor closed while it was still queued (never
// assigned) waited until the close: desk.Wait counted to now, so the closed
// list's waiting_seconds grew for ever. An assigned one waited until the
// assignment, however long the agent then served it.
func TestTheWaitOfAConversationClosedInTheQueueStopsAtTheClose(t *testing.T) {
	queued := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := &conversation.Conversation{State: conversation.StateClosed, QueuedAt: queued, ClosedAt: queued.Add(5 * time.Minute)}
	if got := desk.Wait(c, queued.Add(72*time.Hour)); got != 5*time.Minute {
		t.Fatalf("closed after 5 minutes in the queue, three days later it has waited %s", got)
	}
	c.AssignedAt = queued.Add(2 * time.Minute)
	if got := desk.Wait(c, queued.Add(72*time.Hour)); got != 2*time.Minute {
		t.Fatalf("assigned after 2 minutes and closed later: waited %s", got)
	}
	open := &conversation.Conversation{State: conversation.StateQueued, QueuedAt: queued}
	if got := desk.Wait(open, queued.Add(7*time.Minute)); got != 7*time.Minute {
		t.Fatalf("still queued after 7 minutes: waited %s", got)
	}
}
