package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// armed runs hook at the first ActiveRelease read after a CreateRelease:
// serveStored's check, i.e. between storing the release and OnRelease.
type armed struct {
	*store.DB
	on   bool
	hook func()
}

func (a *armed) CreateRelease(ctx context.Context, r *knowledge.Release, model, minimal []byte, active int64) error {
	err := a.DB.CreateRelease(ctx, r, model, minimal, active)
	a.on = err == nil && a.hook != nil
	return err
}

func (a *armed) ActiveRelease(ctx context.Context) (int64, error) {
	if a.on {
		a.on = false
		a.hook()
	}
	return a.DB.ActiveRelease(ctx)
}

// A correction flag is resolved by the release customers are served, not
// by one that lost a race: node A publishes the fix while node B rolls
// back to the release before it. A's publish told the correction queue of
// its own release, resolving the flag while customers got the old answer,
// and the flag left the default queue.
func TestFlagsFollowTheReleaseServedNotTheOnePublished(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	flags := quality.NewFlags(db)
	onRelease := func(ctx context.Context, r *knowledge.Release) {
		if _, err := flags.Released(ctx, r.ID, r.Versions); err != nil {
			t.Errorf("OnRelease(%d): %v", r.ID, err)
		}
	}
	wrapped := &armed{DB: db}
	gate := knowledge.GateOptions{MinAccuracy: 0.01}
	nodeA := knowledge.NewService(wrapped, knowledge.Options{Gate: gate, OnRelease: onRelease})
	nodeB := knowledge.NewService(db, knowledge.Options{Gate: gate, OnRelease: onRelease})
	op := knowledge.Actor{ID: "u_op", Name: "Op"}
	rev := knowledge.Actor{ID: "u_rev", Name: "Rev"}
	fee, ret := twoEntries()
	if _, err := nodeA.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
		t.Fatal(err)
	}
	r1, err := nodeA.Publish(ctx, op, knowledge.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A customer's flag on ship-fee, linked to the fix in version 2.
	now := time.Now().UTC()
	f := &quality.Flag{ID: "f_1", ConversationID: "c1", MessageID: "m1", EntryID: "ship-fee", Outcome: "answer",
		Question: "how much is shipping", Source: quality.SourceCustomer, Status: quality.FlagOpen, CreatedAt: now, UpdatedAt: now}
	if err := db.AddFlag(ctx, f); err != nil {
		t.Fatal(err)
	}
	fix := fee.Clone()
	c := fix.Locales["en"]
	c.Answer = "Shipping is free over 199."
	fix.Locales["en"] = c
	rec, err := nodeA.Update(ctx, op, "ship-fee", fix, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flags.LinkFix(ctx, []string{"f_1"}, "ship-fee", rec.Version, "u_op"); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeA.Submit(ctx, op, "ship-fee"); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeA.Approve(ctx, rev, "ship-fee"); err != nil {
		t.Fatal(err)
	}
	// Node A publishes the fix; as it is stored, node B rolls back to r1.
	wrapped.hook = func() {
		if _, err := nodeB.Rollback(ctx, op, r1.ID, "bad"); err != nil {
			t.Errorf("rollback on node B: %v", err)
		}
	}
	r2, err := nodeA.Publish(ctx, op, knowledge.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	active, _ := db.ActiveRelease(ctx)
	resolved, _ := db.Flags(ctx, []quality.FlagStatus{quality.FlagResolved}, 10)
	fixing, _ := db.Flags(ctx, []quality.FlagStatus{quality.FlagFixing}, 10)
	if active != r1.ID {
		t.Fatalf("active release %d after the race, want the rollback's %d (published %d)", active, r1.ID, r2.ID)
	}
	if len(resolved) != 0 || len(fixing) != 1 {
		t.Fatalf("flags: resolved %+v, %d fixing; want the flag still fixing while release %d (without the fix) is served",
			resolved, len(fixing), active)
	}
}
