package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/testutil"
)

// A conversation's tickets are listed oldest first, and only its own.
func TestConversationTickets(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testutil.OpenStore(t, b.Options(t))
			at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			for _, id := range []string{"c-tk-1", "c-tk-2"} {
				c := newConversation(id)
				if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
					t.Fatal(err)
				}
			}
			for i, tk := range []desk.Ticket{
				{ID: "t-later", ConversationID: "c-tk-1", Contact: "a", Message: "second"},
				{ID: "t-other", ConversationID: "c-tk-2", Contact: "b", Message: "elsewhere"},
				{ID: "t-first", ConversationID: "c-tk-1", Contact: "c", Message: "first"},
			} {
				tk.Locale, tk.Status = "zh-CN", desk.TicketOpen
				tk.CreatedAt = at.Add(time.Duration([]int{2, 1, 0}[i]) * time.Minute)
				if err := db.AddTicket(ctx, &tk); err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.ConversationTickets(ctx, "c-tk-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].ID != "t-first" || got[1].ID != "t-later" || got[0].Message != "first" {
				t.Fatalf("tickets of c-tk-1: %+v, want t-first then t-later", got)
			}
			if none, err := db.ConversationTickets(ctx, "c-none"); err != nil || len(none) != 0 {
				t.Fatalf("tickets of a conversation without any: %+v, %v", none, err)
			}
		})
	}
}
