package main_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// After a weekend nobody was online, more offline messages wait than the
// list holds (the oldest 500): the API says how many in all, and the
// console counts them all and says that the rest show as these are
// resolved, instead of a count that stops at 500.
func TestConsoleSaysHowManyMessagesWaitBeyondTheList(t *testing.T) {
	run := testutil.Start(t, nil)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(run.DataDir, app.SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	now := time.Now().UTC()
	c := &conversation.Conversation{ID: "c-weekend", TokenHash: []byte("hash"), State: conversation.StateBot, Locale: "zh-CN",
		LastSeq: 1, CreatedAt: now, UpdatedAt: now, Source: "web"}
	if err := db.CreateConversation(ctx, c, []conversation.Message{{ID: "m-weekend-1", ConversationID: c.ID, Seq: 1,
		Role: conversation.RoleBot, Text: "您好", Locale: "zh-CN", CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	const n = desk.TicketsListed + 3
	for i := range n {
		if err := db.AddTicket(ctx, &desk.Ticket{ID: fmt.Sprintf("t-%04d", i), ConversationID: c.ID, Contact: "微信 shop_fan",
			Message: fmt.Sprintf("请回电 %d", i), Locale: "zh-CN", Status: desk.TicketOpen,
			CreatedAt: now.Add(time.Duration(i-n) * time.Minute)}, n); err != nil {
			t.Fatal(err)
		}
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var list struct {
		Tickets []struct{ ID string }
		Total   int
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &list)
	if len(list.Tickets) != desk.TicketsListed || list.Total != n || list.Tickets[0].ID != "t-0000" {
		t.Fatalf("the list: %d tickets (first %+v), total %d; want the oldest %d of %d", len(list.Tickets), list.Tickets[:1], list.Total, desk.TicketsListed, n)
	}

	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-tickets")
	p.waitFor(fmt.Sprintf(`document.querySelectorAll('#tickets-list li').length === %d`, desk.TicketsListed))
	p.waitText("#count-tickets", fmt.Sprint(n))
	p.waitText("#tickets-more", fmt.Sprintf("%d messages in all; the oldest %d are listed", n, desk.TicketsListed))
}
