package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
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
				if err := db.AddTicket(ctx, &tk, 10); err != nil {
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
			// Open tickets are a to-do list, oldest first; resolved ones are
			// listed most recently resolved first (past the list's 500, the
			// newly resolved never showed).
			for i, id := range []string{"t-first", "t-later"} {
				if _, err := db.ResolveTicket(ctx, id, "u1", at.Add(time.Duration(10+i)*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			done, err := db.Tickets(ctx, desk.TicketResolved)
			if err != nil || len(done) != 2 || done[0].ID != "t-later" || done[1].ID != "t-first" {
				t.Fatalf("resolved tickets %+v %v, want the last resolved first", done, err)
			}
		})
	}
}

// Closed conversations are listed latest closed first, an agent's own or
// everyone's, at most as many as asked for; open ones never.
func TestClosedConversations(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testutil.OpenStore(t, b.Options(t))
			at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			for i, sp := range []struct{ id, assignee, state string }{
				{"c-cl-1", "u-ann", "closed"}, {"c-cl-2", "u-bob", "closed"}, {"c-cl-3", "u-ann", "closed"},
				{"c-cl-4", "u-ann", "assigned"}, {"c-cl-5", "", "closed"},
			} {
				c := newConversation(sp.id)
				if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
					t.Fatal(err)
				}
				c.State, c.Assignee = conversation.State(sp.state), sp.assignee
				c.UpdatedAt = at.Add(time.Duration(10-i) * time.Minute) // updated in the opposite order to closing
				if sp.state == "closed" {
					c.ClosedAt = at.Add(time.Duration(i) * time.Minute)
				}
				if err := db.SaveTurn(ctx, turn(c, "再见")); err != nil {
					t.Fatal(err)
				}
			}
			ids := func(assignee string, limit int) []string {
				t.Helper()
				cs, err := db.ClosedConversations(ctx, assignee, limit)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range cs {
					if c.ClosedAt.IsZero() {
						t.Fatalf("%s listed without its closing time", c.ID)
					}
					out = append(out, c.ID)
				}
				return out
			}
			for _, tc := range []struct {
				assignee string
				limit    int
				want     string
			}{
				{"", 10, "c-cl-5 c-cl-3 c-cl-2 c-cl-1"},
				{"", 2, "c-cl-5 c-cl-3"},
				{"u-ann", 10, "c-cl-3 c-cl-1"},
				{"u-bob", 10, "c-cl-2"},
				{"u-nobody", 10, ""},
			} {
				if got := strings.Join(ids(tc.assignee, tc.limit), " "); got != tc.want {
					t.Errorf("closed of %q, at most %d: %q, want %q", tc.assignee, tc.limit, got, tc.want)
				}
			}
		})
	}
}

// The audit trail's object filter: a whole object exactly, or an id without
// its type under any type (auditors typed "gift-wrap" and found nothing),
// with LIKE's wildcards in the id taken literally.
func TestAuditObjectFilter(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			log := audit.New(testutil.OpenStore(t, b.Options(t)), nil)
			for _, obj := range []string{"entry:gift_wrap", "entry:giftXwrap", "release:gift_wrap", "kb", "entry:gift_wrap2"} {
				if err := log.Record(ctx, audit.Entry{Actor: "u1", Action: "test.touch", Object: obj}); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct{ object, want string }{
				{"gift_wrap", "entry:gift_wrap release:gift_wrap"},
				{"entry:gift_wrap", "entry:gift_wrap"},
				{"kb", "kb"},
				{"wrap", ""},
			} {
				es, err := log.Entries(ctx, audit.Query{Object: tc.object})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range es {
					got = append(got, e.Object)
				}
				slices.Sort(got)
				if strings.Join(got, " ") != tc.want {
					t.Errorf("object %q: %q, want %q", tc.object, got, tc.want)
				}
			}
		})
	}
}

// The action filter is a prefix, read alike on both databases: without
// regard to case (SQLite's LIKE ignores it, PostgreSQL's did not), and with
// LIKE's wildcards taken literally.
func TestAuditActionFilter(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			log := audit.New(testutil.OpenStore(t, b.Options(t)), nil)
			for _, action := range []string{"kb.publish", "kb.rollback", "kbxpublish", "pii.reveal"} {
				if err := log.Record(ctx, audit.Entry{Actor: "u1", Action: action, Object: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct{ action, want string }{
				{"kb.", "kb.publish kb.rollback"},
				{"KB.", "kb.publish kb.rollback"},
				{"kb_", ""},
				{"pii.reveal", "pii.reveal"},
			} {
				es, err := log.Entries(ctx, audit.Query{Action: tc.action})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range es {
					got = append(got, e.Action)
				}
				slices.Sort(got)
				if strings.Join(got, " ") != tc.want {
					t.Errorf("action %q: %q, want %q", tc.action, got, tc.want)
				}
			}
		})
	}
}

// A conversation's open offline messages stay within their limit however
// many arrive at once: the count and the insert are one transaction, and on
// PostgreSQL concurrent ones of a conversation take turns. (Counted apart
// from the insert, twelve sent at once were all stored.)
func TestTicketLimitHoldsAgainstConcurrentMessages(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testutil.OpenStore(t, b.Options(t))
			c := newConversation("c-tk-limit")
			if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
				t.Fatal(err)
			}
			const limit, sent = 3, 12
			var stored, full atomic.Int32
			var wg sync.WaitGroup
			for i := range sent {
				wg.Go(func() {
					tk := desk.Ticket{ID: fmt.Sprintf("t-limit-%d", i), ConversationID: c.ID, Contact: "wechat", Message: "call me",
						Locale: "zh-CN", Status: desk.TicketOpen, CreatedAt: time.Now().UTC()}
					switch err := db.AddTicket(ctx, &tk, limit); {
					case err == nil:
						stored.Add(1)
					case errcode.Is(err, errcode.Conflict):
						full.Add(1)
					default:
						t.Errorf("ticket %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			n, err := db.OpenTickets(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Load() != limit || full.Load() != sent-limit || n != limit {
				t.Fatalf("%d stored, %d refused as full, %d open; want %d, %d, %d", stored.Load(), full.Load(), n, limit, sent-limit, limit)
			}
		})
	}
}
