package desk_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
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
