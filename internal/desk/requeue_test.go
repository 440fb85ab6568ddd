package desk_test

import (
	"cmp"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A conversation whose agent's console goes silent (closed, crashed, signed
// out) goes back to the queue with a line for the customer, and on to an
// agent who is there; an agent who set themselves offline with the console
// still open, or an API client never heard from, keeps theirs.
func TestConversationsOfAGoneAgentGoBackToTheQueue(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := desk.New(db, engine, nil, desk.Options{Now: func() time.Time { return now }})
	for _, id := range []string{"ana", "bo", "api"} {
		if err := db.CreateUser(ctx, &auth.User{ID: id, Email: id + "@example.com", Name: id, Role: auth.RoleAgent,
			MaxChats: 3, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	presence := func(id string, p auth.Presence) {
		t.Helper()
		if err := db.SetPresence(ctx, id, p, now); err != nil {
			t.Fatal(err)
		}
	}
	queued := func() string { return queuedAt(t, engine, "zh-CN", now) }
	state := func(id string) (conversation.State, string) {
		t.Helper()
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.State, c.Assignee
	}
	route := func() {
		t.Helper()
		if err := d.Route(ctx); err != nil {
			t.Fatal(err)
		}
	}

	presence("ana", auth.Online)
	first := queued()
	route()
	if st, who := state(first); st != conversation.StateAssigned || who != "ana" {
		t.Fatalf("first: %s to %q, want assigned to ana", st, who)
	}
	// Ana's console beats a minute later: she keeps it, even after
	// setting herself offline (she is still there to finish it).
	now = now.Add(time.Minute)
	presence("ana", auth.Offline)
	if err := d.Touch(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(90 * time.Second)
	route()
	if st, who := state(first); st != conversation.StateAssigned || who != "ana" {
		t.Fatalf("with ana's console alive: %s to %q, want still ana's", st, who)
	}

	// An API client that never had a console keeps what it claimed.
	second := queued()
	if _, _, err := engine.Apply(ctx, second, func(c *conversation.Conversation) ([]conversation.Message, error) {
		c.State, c.Assignee, c.AssignedAt = conversation.StateAssigned, "api", now
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	// Ana's console goes silent for longer than the presence TTL while Bo
	// is online: her conversation goes back to the queue and on to Bo.
	now = now.Add(2 * time.Minute)
	presence("bo", auth.Online)
	route()
	if st, who := state(first); st != conversation.StateAssigned || who != "bo" {
		t.Fatalf("after ana's console went silent: %s to %q, want reassigned to bo", st, who)
	}
	if st, who := state(second); st != conversation.StateAssigned || who != "api" {
		t.Fatalf("the API client's conversation: %s to %q, want still its", st, who)
	}
	msgs, err := db.Messages(ctx, first, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []conversation.Outcome
	for _, m := range msgs {
		if m.Role == conversation.RoleSystem {
			outcomes = append(outcomes, m.Outcome)
		}
	}
	want := []conversation.Outcome{conversation.OutcomeJoined, conversation.OutcomeRequeued, conversation.OutcomeJoined}
	if len(outcomes) != len(want) || outcomes[0] != want[0] || outcomes[1] != want[1] || outcomes[2] != want[2] {
		t.Fatalf("system messages %v, want %v", outcomes, want)
	}

	// With nobody there, a gone agent's conversation waits in the queue,
	// ahead of those that came after it.
	now = now.Add(3 * time.Minute)
	third := queued()
	route()
	if st, _ := state(first); st != conversation.StateQueued {
		t.Fatalf("with every console silent: %s, want queued", st)
	}
	q := d.Snapshot()
	if len(q.Items) != 2 || q.Items[0].Conversation.ID != first || q.Items[1].Conversation.ID != third {
		t.Fatalf("queue %+v, want the requeued conversation first", q.Items)
	}
}

// A restart (or a store outage) longer than the presence TTL is not every
// agent going away: consoles are given the TTL from the restart to beat
// again before their conversations go back to the queue. An agent last
// heard from long before (a console closed for the weekend) is not brought
// back by it.
func TestARestartDoesNotRequeueEveryConversation(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, id := range []string{"ana", "weekend", "li"} {
		if err := db.CreateUser(ctx, &auth.User{ID: id, Email: id + "@example.com", Name: id, Role: auth.RoleAgent,
			MaxChats: 3, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetPresence(ctx, "weekend", auth.Online, now.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	// Li closed her laptop eight minutes before, still "online": gone when
	// the restart came, she is not brought back by it.
	if err := db.SetPresence(ctx, "li", auth.Online, now.Add(-8*time.Minute)); err != nil {
		t.Fatal(err)
	}
	d := desk.New(db, engine, nil, desk.Options{Now: clock})
	id := queuedAt(t, engine, "zh-CN", now)
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	assignee := func() (conversation.State, string) {
		t.Helper()
		got, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.State, got.Assignee
	}
	if st, who := assignee(); st != conversation.StateAssigned || who != "ana" {
		t.Fatalf("before the restart: %s to %q, want ana", st, who)
	}

	// Down for 150 s (her console last beat as it went down): the new
	// process routes at once, before her console has reconnected.
	now = now.Add(150 * time.Second)
	d = desk.New(db, engine, nil, desk.Options{Now: clock})
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	if st, who := assignee(); st != conversation.StateAssigned || who != "ana" {
		t.Fatalf("right after the restart: %s to %q, want still ana's", st, who)
	}
	if q := d.Snapshot(); q != nil && q.AgentsOnline != 1 {
		t.Fatalf("agents online after the restart: %d, want 1 (ana; not li, not the weekend's)", q.AgentsOnline)
	}
	// The supervisor's team view says what routing counts on.
	team, err := d.Agents(ctx, &auth.User{ID: "boss", Role: auth.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range team {
		if want := map[string]auth.Presence{"ana": auth.Online}[a.User.ID]; a.Status.Presence != cmp.Or(want, auth.Offline) {
			t.Errorf("the team view after the restart: %s is %s, want %s", a.User.ID, a.Status.Presence, cmp.Or(want, auth.Offline))
		}
	}

	// Her console never comes back: the TTL after the restart, it goes.
	now = now.Add(2*time.Minute + time.Second)
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := assignee(); st != conversation.StateQueued {
		t.Fatalf("with ana's console silent the TTL after the restart: %s, want queued again", st)
	}
}

// A conversation queued before closing time is still given to an agent who
// frees up after it; one queued after closing is left for the morning.
func TestQueuedBeforeClosingIsServedAfterIt(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	hours, err := desk.ParseHours("UTC", []string{"mon-sun"}, "09:00", "18:00")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 17, 58, 0, 0, time.UTC)
	d := desk.New(db, engine, nil, desk.Options{Hours: hours, Now: func() time.Time { return now }})
	if err := db.CreateUser(ctx, &auth.User{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent,
		MaxChats: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	before := queuedAt(t, engine, "zh-CN", now)                    // 17:58, while Ana is busy elsewhere (not yet online)
	after := queuedAt(t, engine, "zh-CN", now.Add(10*time.Minute)) // 18:08
	now = now.Add(15 * time.Minute)                                // 18:13: Ana comes online with a free slot
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	if err := d.Route(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]conversation.State{before: conversation.StateAssigned, after: conversation.StateQueued} {
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != want {
			t.Errorf("conversation queued at %s: %s after closing, want %s", c.QueuedAt.Format("15:04"), c.State, want)
		}
	}
}

// queuedAt starts a conversation in locale and puts it in the queue at at.
func queuedAt(t *testing.T, engine *conversation.Engine, locale string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	c, _, _, err := engine.Start(ctx, conversation.StartRequest{Locale: locale})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := engine.Apply(ctx, c.ID, func(c *conversation.Conversation) ([]conversation.Message, error) {
		c.State, c.QueuedAt = conversation.StateQueued, at
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// A supervisor cannot hand a conversation to an agent whose console has
// gone silent: the router handed it straight back to the queue, with the
// customer waiting on nobody meanwhile. An agent whose console beats, or
// who never had one (an API client), can be given it.
func TestAssignRefusesAnAgentWhoseConsoleIsSilent(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	d := desk.New(db, engine, nil, desk.Options{Now: func() time.Time { return now }})
	boss := &auth.User{ID: "boss", Email: "boss@example.com", Name: "Boss", Role: auth.RoleSupervisor, CreatedAt: now, UpdatedAt: now}
	for _, u := range []*auth.User{boss,
		{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent, MaxChats: 3, CreatedAt: now, UpdatedAt: now},
		{ID: "api", Email: "api@example.com", Name: "API", Role: auth.RoleAgent, MaxChats: 3, CreatedAt: now, UpdatedAt: now}} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetPresence(ctx, "ana", auth.Online, now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute) // Ana's console stopped beating
	id := queuedAt(t, engine, "zh-CN", now)
	_, err := d.Assign(ctx, boss, id, "ana")
	if errcode.Code(err) != errcode.Conflict {
		t.Fatalf("assigning to an agent silent for 10 minutes: %v, want conflict", err)
	}
	if c, _ := db.Conversation(ctx, id); c.State != conversation.StateQueued {
		t.Fatalf("the refused assignment left the conversation %s", c.State)
	}
	if _, err := d.Assign(ctx, boss, id, "api"); err != nil {
		t.Fatalf("assigning to an agent never heard from: %v", err)
	}
	if err := d.Touch(ctx, "ana"); err != nil { // Ana is back
		t.Fatal(err)
	}
	if _, err := d.Assign(ctx, boss, id, "ana"); err != nil {
		t.Fatalf("assigning to an agent whose console beats again: %v", err)
	}
}
