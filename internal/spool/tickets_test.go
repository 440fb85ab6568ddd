package spool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
)

// faultyTickets is the desk's store, failing as the env's faults say:
// writes while failWrites is set, reads while failReads is.
type faultyTickets struct {
	db     *store.DB
	f      *faults
	landed atomic.Int64 // tickets the real store took
}

func (ft *faultyTickets) AddTicket(ctx context.Context, t *desk.Ticket, maxOpen int) error {
	if ft.f.failWrites.Load() {
		return errLocked
	}
	if err := ft.db.AddTicket(ctx, t, maxOpen); err != nil {
		return err
	}
	ft.landed.Add(1)
	if ft.f.landThenFail.Load() {
		return errLocked
	}
	return nil
}

func (ft *faultyTickets) OpenTickets(ctx context.Context, id string) (int, error) {
	if ft.f.failReads.Load() {
		return 0, errLocked
	}
	return ft.db.OpenTickets(ctx, id)
}

func (ft *faultyTickets) ConversationTickets(ctx context.Context, id string) ([]desk.Ticket, error) {
	if ft.f.failReads.Load() {
		return nil, errLocked
	}
	return ft.db.ConversationTickets(ctx, id)
}

// offlineTicket is an offline message as the desk makes it: masked, with
// its sealed originals.
func offlineTicket(c *conversation.Conversation, id string) *desk.Ticket {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &desk.Ticket{ID: id, ConversationID: c.ID, Contact: "138****5678", Message: "请回电", Locale: c.Locale,
		Status: desk.TicketOpen, CreatedAt: now, Originals: []guard.VaultRecord{
			{Ref: "ticket:" + id + ":contact", ConversationID: c.ID, Kinds: []string{"contact", "cn_mobile"},
				Sealed: guard.Sealed{KeyID: "k1", Data: []byte{1, 2, 3}}, CreatedAt: now}}}
}

// thanks is the desk's thank-you turn after an offline message.
func thanks(c *conversation.Conversation) conversation.Turn {
	m := msg(c, c.LastSeq+1, conversation.RoleBot, "已收到您的留言")
	m.Outcome = conversation.OutcomeTicket
	c.LastSeq++
	next := *c
	return conversation.Turn{Conversation: &next, Messages: []conversation.Message{m}}
}

// The offline form is what a degraded posture offers the customers it
// cannot serve, the database's own outage included; there it was a 503
// for the whole outage. An offline message is now journalled with its
// sealed original while the store cannot take it, counted against the
// conversation's limit, survives a restart, and lands once, after the
// conversation's earlier writes, with its original revealable.
func TestAnOfflineMessageIsJournalledThroughAnOutage(t *testing.T) {
	e := newEnv(t)
	ft := &faultyTickets{db: e.db, f: e.inner}
	var told atomic.Int64
	e.opts.Tickets = ft
	e.opts.OnTicketLanded = func(string) { told.Add(1) }
	ctx := context.Background()
	s := e.open()

	// b is stored before the outage; a begins during it, so its ticket
	// must wait for a's creation.
	b := newConversation("cb")
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	e.inner.failWrites.Store(true)
	e.inner.failReads.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	for _, c := range []*conversation.Conversation{a, b} {
		if n, err := s.OpenTickets(ctx, c.ID); err != nil || n != 0 {
			t.Fatalf("%s: open tickets before any: %d, %v; want 0 (the store cannot count them)", c.ID, n, err)
		}
		must(t, s.AddTicket(ctx, offlineTicket(c, "t-"+c.ID), 3))
		must(t, s.SaveTurn(ctx, thanks(c)))
		if n, err := s.OpenTickets(ctx, c.ID); err != nil || n != 1 {
			t.Fatalf("%s: open tickets with one journalled: %d, %v; want 1", c.ID, n, err)
		}
		// Reads of the conversation skip the ticket's line.
		got, err := s.Conversation(ctx, c.ID)
		must(t, err)
		if got.LastSeq != c.LastSeq {
			t.Fatalf("%s read during the outage at seq %d, want %d", c.ID, got.LastSeq, c.LastSeq)
		}
		msgs, err := s.Messages(ctx, c.ID, c.LastSeq-1)
		must(t, err)
		if len(msgs) != 1 || msgs[0].Outcome != conversation.OutcomeTicket {
			t.Fatalf("%s: the thank-you read during the outage: %+v", c.ID, msgs)
		}
	}
	if got := s.Pending(); got != 5 {
		t.Fatalf("pending = %d, want 5 (a's creation, two tickets, two thank-yous)", got)
	}
	journal, err := os.ReadFile(e.path)
	must(t, err)
	if bytes.Contains(journal, []byte("13812345678")) {
		t.Fatal("the journal holds the contact in the clear")
	}
	must(t, s.Close())

	// A restart in the middle of the outage keeps them.
	s2 := e.open()
	if got := s2.Pending(); got != 5 {
		t.Fatalf("pending after a restart = %d, want 5", got)
	}
	if n, err := s2.OpenTickets(ctx, "ca"); err != nil || n != 1 {
		t.Fatalf("open tickets of ca after a restart: %d, %v; want 1", n, err)
	}
	e.inner.failWrites.Store(false)
	e.inner.failReads.Store(false)
	e.run(s2)
	e.drained(s2)
	for _, c := range []*conversation.Conversation{a, b} {
		ts, err := e.db.ConversationTickets(ctx, c.ID)
		must(t, err)
		if len(ts) != 1 || ts[0].ID != "t-"+c.ID || ts[0].Contact != "138****5678" || ts[0].Message != "请回电" ||
			ts[0].Status != desk.TicketOpen {
			t.Fatalf("%s's tickets in the store: %+v", c.ID, ts)
		}
		rec, err := e.db.VaultRecord(ctx, "ticket:t-"+c.ID+":contact")
		if err != nil {
			t.Fatalf("%s: the contact's sealed original did not reach the vault: %v", c.ID, err)
		}
		if rec.Sealed.KeyID != "k1" || !bytes.Equal(rec.Sealed.Data, []byte{1, 2, 3}) || rec.ConversationID != c.ID {
			t.Fatalf("%s: vault record %+v", c.ID, rec)
		}
		msgs, err := e.db.Messages(ctx, c.ID, 0)
		must(t, err)
		if len(msgs) != int(c.LastSeq) || msgs[len(msgs)-1].Outcome != conversation.OutcomeTicket {
			t.Fatalf("%s's transcript in the store: %d messages, want %d ending with the thank-you", c.ID, len(msgs), c.LastSeq)
		}
	}
	if got := told.Load(); got != 2 {
		t.Fatalf("OnTicketLanded called %d times, want 2", got)
	}
}

// A ticket the store took but reported failed (a timeout) is journalled
// and recognised at replay: the customer has it once.
func TestATicketThatLandedIsNotReplayedTwice(t *testing.T) {
	e := newEnv(t)
	ft := &faultyTickets{db: e.db, f: e.inner}
	e.opts.Tickets = ft
	ctx := context.Background()
	s := e.open()
	c := newConversation("cc")
	must(t, s.CreateConversation(ctx, c, greeting(c)))
	e.inner.landThenFail.Store(true)
	must(t, s.AddTicket(ctx, offlineTicket(c, "t-1"), 3))
	if got := s.Pending(); got != 1 {
		t.Fatalf("pending = %d, want 1", got)
	}
	// Counted once while it is both in the store and in the journal would
	// be fine; refusing the limit's last place for it would not be.
	e.inner.landThenFail.Store(false)
	e.run(s)
	e.drained(s)
	ts, err := e.db.ConversationTickets(ctx, "cc")
	must(t, err)
	if len(ts) != 1 || ft.landed.Load() != 1 {
		t.Fatalf("tickets in the store %+v, store writes %d; want one of each", ts, ft.landed.Load())
	}
}

// A journalled ticket whose conversation never reached the store (another
// node's, written over) is set aside like any write that cannot be
// replayed, without its sealed original.
func TestATicketWithoutItsConversationIsRejected(t *testing.T) {
	e := newEnv(t)
	e.opts.Tickets = &faultyTickets{db: e.db, f: e.inner}
	ctx := context.Background()
	s := e.open()
	ghost := newConversation("cghost")
	e.inner.failWrites.Store(true)
	must(t, s.AddTicket(ctx, offlineTicket(ghost, "t-ghost"), 3))
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	n, _, err := s.Rejected()
	must(t, err)
	if n != 1 {
		t.Fatalf("rejected writes = %d, want 1", n)
	}
	b, err := os.ReadFile(e.path + ".rejected")
	must(t, err)
	if !strings.Contains(string(b), `"t-ghost"`) || strings.Contains(string(b), `"AQID"`) {
		t.Fatalf("rejected file %s: want the ticket without its sealed original", b)
	}
	if _, err := e.db.VaultRecord(ctx, "ticket:t-ghost:contact"); !errcode.Is(err, errcode.NotFound) && err != guard.ErrErased {
		t.Fatalf("the rejected ticket's original is in the vault: %v", err)
	}
}

// With the store up, a ticket of a conversation it does not hold, and that
// this node has nothing of, belongs to a conversation in another node's
// journal: journalled here it would be replayed first and set aside. It is
// refused for a moment instead, and the customer tries again.
func TestATicketOfAnotherNodesSpooledConversationWaits(t *testing.T) {
	e := newEnv(t)
	e.opts.Tickets = &faultyTickets{db: e.db, f: e.inner}
	s := e.open()
	err := s.AddTicket(context.Background(), offlineTicket(newConversation("celsewhere"), "t-1"), 3)
	if !errors.Is(err, conversation.ErrNotStoredYet) || errcode.Code(err) != errcode.Unavailable {
		t.Fatalf("AddTicket = %v, want ErrNotStoredYet (unavailable)", err)
	}
	if got := s.Pending(); got != 0 {
		t.Fatalf("pending = %d, want 0", got)
	}
}

// OnSpool says how many customer messages each spooled write holds: the
// postmortem counts "customer messages held in the local spool", and it
// counted every spooled write (a greeting, an agent's reply, a thank-you).
func TestOnSpoolCountsCustomerMessages(t *testing.T) {
	e := newEnv(t)
	e.opts.Tickets = &faultyTickets{db: e.db, f: e.inner}
	var got []string
	var mu sync.Mutex
	e.opts.OnSpool = func(op string, customer int, _ error) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s:%d", op, customer))
		mu.Unlock()
	}
	ctx := context.Background()
	s := e.open()
	e.inner.failWrites.Store(true)
	c := newConversation("cs")
	must(t, s.CreateConversation(ctx, c, greeting(c)))
	must(t, s.SaveTurn(ctx, turn(c, "hi")))
	must(t, s.AddTicket(ctx, offlineTicket(c, "t-1"), 3))
	must(t, s.SaveTurn(ctx, thanks(c)))
	want := "create_conversation:0 save_turn:1 add_ticket:1 save_turn:0"
	if strings.Join(got, " ") != want {
		t.Fatalf("OnSpool calls %v, want %s", got, want)
	}
}

// OnWrite hears each write once, as its turn saw it: stored, or
// journalled (those journalled behind a failed one, never tried on the
// store, too); replays are not writes of a turn. The message_persisted SLO
// counted the store's attempts, so a write spooled behind another was not
// bad, and its replay was good.
func TestOnWriteCountsEachWriteOnceAtItsTurn(t *testing.T) {
	e := newEnv(t)
	e.opts.Tickets = &faultyTickets{db: e.db, f: e.inner}
	var mu sync.Mutex
	var got []string
	e.opts.OnWrite = func(op string, stored bool) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s:%v", op, stored))
		mu.Unlock()
	}
	ctx := context.Background()
	s := e.open()
	a, b := newConversation("ca"), newConversation("cb")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	e.inner.failFor.Store("ca", true)
	must(t, s.SaveTurn(ctx, turn(a, "fails")))
	e.inner.failFor.Delete("ca")
	must(t, s.SaveTurn(ctx, turn(a, "behind")))
	must(t, s.AddTicket(ctx, offlineTicket(a, "t-a"), 3))
	must(t, s.SaveTurn(ctx, turn(b, "fine")))
	must(t, s.AddTicket(ctx, offlineTicket(b, "t-b"), 3))
	e.run(s)
	e.drained(s)
	mu.Lock()
	defer mu.Unlock()
	want := "create_conversation:true create_conversation:true save_turn:false save_turn:false add_ticket:false save_turn:true add_ticket:true"
	if strings.Join(got, " ") != want {
		t.Fatalf("OnWrite calls\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
