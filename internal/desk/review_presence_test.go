package desk_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// An agent whose console's stream cannot get through (a proxy refusing
// WebSockets) but who claims and replies over REST is there: each claim
// went back to the queue within a second, the agent counted gone, and the
// customer was told the agent had left.
func TestClaimsAndRepliesCountAsTheConsoleHeardFrom(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d := desk.New(db, engine, nil, desk.Options{ManualOnly: true, Now: func() time.Time { return now }})
	if err := db.CreateUser(ctx, &auth.User{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent,
		MaxChats: 3, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	ana := func() *auth.User {
		t.Helper()
		u, err := db.User(ctx, "ana")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	assignedToAna := func(id, when string) {
		t.Helper()
		if err := d.Route(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != conversation.StateAssigned || c.Assignee != "ana" {
			t.Fatalf("%s: %s to %q, want still Ana's", when, c.State, c.Assignee)
		}
	}
	now = now.Add(5 * time.Minute) // no beat since: the stream never got through
	id := queuedAt(t, engine, "zh-CN", now)
	if _, err := d.Claim(ctx, ana(), id); err != nil {
		t.Fatal(err)
	}
	assignedToAna(id, "right after Ana claimed it")
	now = now.Add(90 * time.Second)
	if _, err := d.Reply(ctx, ana(), id, "您好，我来帮您查一下"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(90 * time.Second) // 3 minutes after the claim, 90 s after the reply
	assignedToAna(id, "after Ana replied")
}

// The wait a queued customer is told comes from the handling time of the
// latest conversations closed on any node, as the store holds them: each
// node kept its own average of the closes it served, and started again
// from the 5-minute default after every restart.
func TestWaitEstimatesUseTheClosesInTheStore(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	// Another node (or this one before a restart) closed twelve, each
	// served for 20 minutes.
	for i := range 12 {
		c, _, _, err := engine.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-time.Duration(24-i) * time.Hour)
		if _, _, err := engine.Apply(ctx, c.ID, func(c *conversation.Conversation) ([]conversation.Message, error) {
			c.State, c.Assignee, c.QueuedAt, c.AssignedAt, c.ClosedAt = conversation.StateClosed, "bo", at, at, at.Add(20*time.Minute)
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	d := desk.New(db, engine, nil, desk.Options{ManualOnly: true, Now: func() time.Time { return now }})
	if err := db.CreateUser(ctx, &auth.User{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent,
		MaxChats: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	id := queuedAt(t, engine, "zh-CN", now)
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	it, ok := d.Snapshot().Position(id)
	if !ok || it.Position != 1 || it.Wait != 20*time.Minute {
		t.Fatalf("queued first with one agent of one slot: %+v (listed %v), want a wait of 20 min from the closes in the store", it, ok)
	}
}

// A conversation put back in the queue after its agent's console went
// silent waits from then, not from when it was first queued: an hour an
// agent spent on it showed as an hour's wait, and fired the queue-wait
// alert the moment it came back.
func TestARequeuedConversationWaitsFromItsRequeue(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Now().UTC().Add(-2 * time.Hour) // the desk's clock; messages are stamped by the real one
	d := desk.New(db, engine, nil, desk.Options{ManualOnly: true, Now: func() time.Time { return now }})
	if err := db.CreateUser(ctx, &auth.User{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent,
		MaxChats: 3, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	first := now
	id := queuedAt(t, engine, "zh-CN", first)
	ana, err := db.User(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(ctx, ana, id); err != nil {
		t.Fatal(err)
	}
	now = time.Now().UTC().Add(3 * time.Minute) // Ana served it, then her console went silent
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	it, ok := d.Snapshot().Position(id)
	if !ok {
		t.Fatal("the conversation of the silent agent is not back in the queue")
	}
	if !it.Conversation.QueuedAt.Equal(first.Truncate(time.Millisecond)) && !it.Conversation.QueuedAt.Equal(first) {
		t.Errorf("queued_at %s, want still %s (its place in line)", it.Conversation.QueuedAt, first)
	}
	if age := time.Since(it.Since); it.Since.IsZero() || age < 0 || age > time.Minute {
		t.Fatalf("it waits since %s (%s ago), want since its requeue, moments ago (first queued %s)", it.Since, age, first)
	}
}
