package desk_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// An agent's limit holds when they claim several conversations at once (a
// double click, two console tabs): each claim counted the agent's load
// before any of them assigned, so all of them went through.
func TestParallelClaimsKeepTheLimit(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	d := desk.New(db, engine, nil, desk.Options{ManualOnly: true, Now: func() time.Time { return now }})
	agent := &auth.User{ID: "ana", Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent, MaxChats: 2,
		CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var ids []string
	for range n {
		ids = append(ids, queuedAt(t, engine, "en", now))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Claim(ctx, agent, id); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assigned := 0
	for _, id := range ids {
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == conversation.StateAssigned && c.Assignee == "ana" {
			assigned++
		}
	}
	if won != 2 || assigned != 2 {
		t.Fatalf("%d claims went through and %d conversations are Ana's, want 2 and 2 (her limit)", won, assigned)
	}
}

// gatedEngine holds the first n assignments until all n have been asked
// for, so that each was decided on a count of the agent's load taken
// before any of them was stored: the race of two nodes, made certain.
type gatedEngine struct {
	*conversation.Engine
	mu      sync.Mutex
	waiting int
	open    chan struct{}
	n       int
}

func (g *gatedEngine) gate() {
	g.mu.Lock()
	g.waiting++
	if g.waiting == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	<-g.open
}

func (g *gatedEngine) Apply(ctx context.Context, id string, change conversation.Change) (*conversation.Conversation, []conversation.Message, error) {
	g.gate()
	return g.Engine.Apply(ctx, id, change)
}

func (g *gatedEngine) ApplyWithin(ctx context.Context, id string, limit int, change conversation.Change) (*conversation.Conversation, []conversation.Message, error) {
	g.gate()
	return g.Engine.ApplyWithin(ctx, id, limit, change)
}

// An agent's limit holds across nodes: Ana, at a limit of one, claims a
// conversation in her console on one node while the leader's router, on
// another, gives her the other queued one; both counted her free. One of
// the two is refused as she is full, and a conversation the router could
// not give her goes to Bob, who is free, in the same pass.
func TestClaimAndRouterOnTwoNodesKeepTheLimit(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	// Bob speaks English only, so the router can give him the English
	// conversation but never the Chinese one Ana claims.
	for id, langs := range map[string][]string{"ana": nil, "bob": {"en"}} {
		u := &auth.User{ID: id, Email: id + "@example.com", Name: id, Role: auth.RoleAgent, MaxChats: 1, Languages: langs,
			CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := db.SetPresence(ctx, id, auth.Online, now); err != nil {
			t.Fatal(err)
		}
	}
	routed, claimed := queuedAt(t, engine, "en", now), queuedAt(t, engine, "zh-CN", now.Add(time.Second))
	gated := &gatedEngine{Engine: engine, n: 2, open: make(chan struct{})}
	clock := func() time.Time { return now }
	leader := desk.New(db, gated, nil, desk.Options{Now: clock})
	other := desk.New(db, gated, nil, desk.Options{Now: clock, Leading: func() bool { return false }})
	ana, err := db.User(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var claimErr, routeErr error
	wg.Go(func() { _, claimErr = other.Claim(ctx, ana, claimed) })
	wg.Go(func() { routeErr = leader.Route(ctx) })
	wg.Wait()
	if routeErr != nil {
		t.Fatalf("route: %v", routeErr)
	}
	owner := map[string]string{}
	for _, id := range []string{routed, claimed} {
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		owner[id] = c.Assignee
	}
	anas := 0
	for _, a := range owner {
		if a == "ana" {
			anas++
		}
	}
	if anas != 1 {
		t.Fatalf("Ana has %d conversations (%v), want 1, her limit", anas, owner)
	}
	t.Logf("owners %v; Ana's claim: %v", owner, claimErr)
	if claimErr == nil {
		// Her claim won: the router's choice of her was refused, and the
		// conversation went to Bob instead of waiting for the next pass.
		if owner[claimed] != "ana" || owner[routed] != "bob" {
			t.Fatalf("Ana's claim went through; owners %v, want the routed conversation Bob's", owner)
		}
	} else if !errcode.Is(claimErr, errcode.Conflict) || !strings.Contains(errcode.Message(claimErr), "limit") {
		t.Fatalf("Ana's claim at her limit: %v, want a conflict that names her limit", claimErr)
	}
}
