package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A ticket, a rating or a note about a conversation the database does not
// hold yet (begun while it was away, still in a node's spool) is refused
// as unavailable for a moment, not as an internal error: it broke the
// foreign key, and the customer's offline form got a 500.
func TestWritesAboutAConversationNotStoredYetAreUnavailable(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		const id = "c_in_the_spool_only"
		for what, err := range map[string]error{
			"ticket": db.AddTicket(ctx, &desk.Ticket{ID: "t1", ConversationID: id, Contact: "***", Message: "hi",
				Locale: "zh-CN", Status: desk.TicketOpen, CreatedAt: now}, 3),
			"rating": db.AddRating(ctx, &quality.Rating{ConversationID: id, Score: 5, CreatedAt: now}),
			"note":   db.AddNote(ctx, &desk.Note{ID: "n1", ConversationID: id, AuthorID: "u1", Text: "x", CreatedAt: now}),
		} {
			if errcode.Code(err) != errcode.Unavailable {
				t.Errorf("a %s for a conversation not stored yet: %v (code %s), want unavailable", what, err, errcode.Code(err))
			}
		}
	})
}
