package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A rollback to a release further back passes over the releases in between:
// the operator went back past them, so they are no better than the one left.
// Only the release left was marked as rolled back, so the next rollback
// without a target (the incident controller's) went to a release the
// operator had skipped.
func TestARollbackPastAReleaseLeavesItNoLongerGood(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, knowledge.Options{Gate: knowledge.GateOptions{MinAccuracy: 0.01}})
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		fee, ret := twoEntries()
		if _, err := kb.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for range 3 {
			r, err := kb.Publish(ctx, op, knowledge.PublishOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		// Releases 2 and 3 are bad: back to 1.
		if _, err := kb.Rollback(ctx, op, ids[0], "releases 2 and 3 are bad"); err != nil {
			t.Fatal(err)
		}
		r4, err := kb.Publish(ctx, op, knowledge.PublishOptions{Note: "the fix"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := kb.Releases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l.ActiveID != r4.ID || l.RollbackTo != ids[0] {
			t.Fatalf("after rolling back from %d to %d and publishing %d: rollback_to %d, want %d (release %d was rolled back past)",
				ids[2], ids[0], r4.ID, l.RollbackTo, ids[0], ids[1])
		}
		if r, err := kb.Rollback(ctx, op, 0, "the fix is bad too"); err != nil || r.ID != ids[0] {
			t.Fatalf("a rollback without a target went to %+v (%v); want release %d, not the skipped %d", r.ID, err, ids[0], ids[1])
		}
	})
}

// gateEntries are three entries whose question variants tell them apart,
// and the same with returns asking shipping's questions: a release that
// answers far worse.
func gateEntries() (good, worse []knowledge.Entry) {
	mk := func(id, title, ans string, qs ...string) knowledge.Entry {
		return knowledge.Entry{ID: id, Category: "c", Title: title,
			Locales: map[string]knowledge.Content{knowledge.LocaleEN: {Answer: ans, Questions: qs}}}
	}
	good = []knowledge.Entry{
		mk("ship-fee", "Shipping fees", "Shipping is free over 99.", "how much is shipping", "delivery cost",
			"what does delivery cost", "shipping price"),
		mk("returns", "Returns", "You can return items within seven days.", "can I return this", "how do returns work",
			"return an item", "send it back"),
		mk("invoice", "Invoices", "Invoices are issued in the order page.", "I need an invoice", "where is my invoice",
			"get a receipt", "tax invoice please"),
	}
	for _, e := range good {
		worse = append(worse, e.Clone())
	}
	c := worse[1].Locales[knowledge.LocaleEN]
	c.Questions = append([]string(nil), good[0].Locales[knowledge.LocaleEN].Questions...)
	worse[1].Locales[knowledge.LocaleEN] = c
	return good, worse
}

// The accuracy_drop check compares a candidate with the active release's
// cross-validated accuracy. The first release at start-up skips the
// cross-validation, so the release after it was never compared with
// anything: a publish that made answers far worse passed, where the same
// publish over a release with a measured accuracy is refused.
func TestTheReleaseAfterTheFirstOneIsGatedAgainstItsAccuracy(t *testing.T) {
	ctx := context.Background()
	op := knowledge.Actor{ID: "u_op", Name: "Op"}
	gate := knowledge.GateOptions{MinAccuracy: 0.01}
	good, worse := gateEntries()

	// The control: over a published release, the worse one is refused.
	control := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	ckb := knowledge.NewService(control, knowledge.Options{Gate: gate})
	if _, err := ckb.Import(ctx, op, good, true); err != nil {
		t.Fatal(err)
	}
	base, err := ckb.Publish(ctx, op, knowledge.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ckb.Import(ctx, op, worse, true); err != nil {
		t.Fatal(err)
	}
	_, err = ckb.Publish(ctx, op, knowledge.PublishOptions{})
	ge, ok := errors.AsType[*knowledge.GateError](err)
	if !ok || ge.Report.Problems[0].Check != knowledge.CheckAccuracyDrop {
		t.Fatalf("control: the worse release over one at %.3f: %v; want an accuracy_drop refusal", base.Quality.Accuracy, err)
	}
	t.Logf("control: %s", ge.Report.Summary())

	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		kb := knowledge.NewService(db, knowledge.Options{Gate: gate})
		if _, err := kb.Import(ctx, op, good, true); err != nil {
			t.Fatal(err)
		}
		if err := kb.Load(ctx); err != nil { // the first release, at start-up
			t.Fatal(err)
		}
		if _, err := kb.Import(ctx, op, worse, true); err != nil {
			t.Fatal(err)
		}
		r, err := kb.Publish(ctx, op, knowledge.PublishOptions{})
		if err == nil {
			t.Fatalf("the worse release passed the gate over the first release: %s", r.Quality.Summary())
		}
		if ge, ok := errors.AsType[*knowledge.GateError](err); !ok || ge.Report.Problems[0].Check != knowledge.CheckAccuracyDrop {
			t.Fatalf("publish: %v; want an accuracy_drop refusal", err)
		}
	})
}

// realignRacer is the store of a node rolling back: once its activation is
// stored, another node publishes, before the rolling-back node does
// anything more (it used to realign the entries' approvals after the
// activation, in writes of their own).
type realignRacer struct {
	*store.DB
	mu      sync.Mutex
	publish func()
}

func (r *realignRacer) ActivateRelease(ctx context.Context, id int64, at time.Time, rolledBack int64, reason string,
	active int64, writes []knowledge.RecordWrite) error {
	err := r.DB.ActivateRelease(ctx, id, at, rolledBack, reason, active, writes)
	r.mu.Lock()
	hook := r.publish
	r.publish = nil
	r.mu.Unlock()
	if err == nil && hook != nil {
		hook()
	}
	return err
}

// A rollback activates the older release, then realigns the entries'
// approvals in later writes. A publish on another node in between reads
// the approvals the rollback is about to take back, gates them against the
// release rolled back to (which they passed before), and its compare and
// swap succeeds: the rolled-back version is served again, while its entry
// says "rejected: release 2 was rolled back".
func TestAPublishDuringARollbackDoesNotServeWhatItTookBack(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		gate := knowledge.GateOptions{MinAccuracy: 0.01}
		nodeA := knowledge.NewService(db, knowledge.Options{Gate: gate})
		fee, ret := twoEntries()
		if _, err := nodeA.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
			t.Fatal(err)
		}
		r1, err := nodeA.Publish(ctx, op, knowledge.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bad := fee.Clone()
		bad.Locales["en"] = knowledge.Content{Questions: fee.Locales["en"].Questions, Answer: "Shipping costs 500 yuan, always."}
		if _, err := nodeA.Import(ctx, op, []knowledge.Entry{bad}, true); err != nil {
			t.Fatal(err)
		}
		r2, err := nodeA.Publish(ctx, op, knowledge.PublishOptions{})
		if err != nil || r2.Versions[fee.ID] != 2 {
			t.Fatalf("the bad release: %+v, %v", r2, err)
		}
		racer := &realignRacer{DB: db}
		var raced error
		racer.publish = func() {
			_, raced = nodeA.Publish(ctx, op, knowledge.PublishOptions{Note: "published on node A during the rollback"})
		}
		nodeB := knowledge.NewService(racer, knowledge.Options{Gate: gate})
		if _, err := nodeB.Rollback(ctx, op, r1.ID, "release 2 quotes a wrong fee"); err != nil {
			t.Fatal(err)
		}
		active, err := db.ActiveRelease(ctx)
		if err != nil {
			t.Fatal(err)
		}
		served, err := db.Release(ctx, active)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := db.KBRecord(ctx, fee.ID)
		if err != nil {
			t.Fatal(err)
		}
		if served.Versions[fee.ID] != 1 {
			t.Fatalf("after the rollback to %d the active release is %d, serving %s at version %d (the rolled-back one; "+
				"the entry says %s: %q); the racing publish: %v", r1.ID, active, fee.ID, served.Versions[fee.ID], rec.Status,
				rec.Reason, raced)
		}
	})
}

// gateHolder is a store on which a publish's quality gate runs until
// released: a large knowledge base trains for a minute or more.
type gateHolder struct {
	*store.DB
	mu      sync.Mutex
	hold    bool
	entered chan struct{}
	release chan struct{}
}

func (g *gateHolder) GoldenQuestions(ctx context.Context) ([]knowledge.Golden, error) {
	g.mu.Lock()
	hold := g.hold
	g.hold = false
	g.mu.Unlock()
	if hold {
		close(g.entered)
		<-g.release
	}
	return g.DB.GoldenQuestions(ctx)
}

// A node that is publishing (training and gating, a minute or more on a
// large knowledge base) does not serve another node's rollback until its
// publish ends: Sync waits for the publish lock, so customers on that node
// keep the release the incident controller took back.
func TestANodeThatIsPublishingServesAnotherNodesRollback(t *testing.T) {
	testutil.ForEachBackendOnTwoNodes(t, func(t *testing.T, nodes [2]*store.DB) {
		ctx := context.Background()
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		gate := knowledge.GateOptions{MinAccuracy: 0.01}
		holder := &gateHolder{DB: nodes[0], entered: make(chan struct{}), release: make(chan struct{})}
		nodeA := knowledge.NewService(holder, knowledge.Options{Gate: gate})
		nodeB := knowledge.NewService(nodes[1], knowledge.Options{Gate: gate})
		fee, ret := twoEntries()
		if _, err := nodeB.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
			t.Fatal(err)
		}
		r1, err := nodeB.Publish(ctx, op, knowledge.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := nodeB.Publish(ctx, op, knowledge.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodeA.Sync(ctx); err != nil || nodeA.Active().Release.ID != r2.ID {
			t.Fatalf("node A serves %+v (%v), want release %d", nodeA.Active(), err, r2.ID)
		}
		holder.mu.Lock()
		holder.hold = true
		holder.mu.Unlock()
		published := make(chan error, 1)
		go func() {
			_, err := nodeA.Publish(ctx, op, knowledge.PublishOptions{})
			published <- err
		}()
		<-holder.entered
		defer func() {
			close(holder.release)
			if err := <-published; errcode.Code(err) != errcode.Conflict {
				t.Errorf("node A's publish over the rollback: %v, want a conflict", err)
			}
		}()
		if _, err := nodeB.Rollback(ctx, op, r1.ID, "release 2 is bad"); err != nil {
			t.Fatal(err)
		}
		synced := make(chan error, 1)
		go func() {
			_, err := nodeA.Sync(ctx)
			synced <- err
		}()
		select {
		case err := <-synced:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("node A's Sync still waits for its publish 5 s after node B rolled back: node A serves release %d, "+
				"rolled back, for as long as its publish trains", nodeA.Active().Release.ID)
		}
		if id := nodeA.Active().Release.ID; id != r1.ID {
			t.Fatalf("node A serves release %d after the rollback to %d", id, r1.ID)
		}
	})
}

// The refusals of the releases tab and of the incident controller's
// rollback have Chinese texts too: the controller writes "知识库回滚失败："
// followed by the refusal's Chinese message, or its English one when there
// is none, onto the incident timeline a Chinese console shows.
func TestReleaseRefusalsSpeakChinese(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	kb := knowledge.NewService(db, knowledge.Options{Gate: knowledge.GateOptions{MinAccuracy: 0.01}})
	op := knowledge.Actor{ID: "u_op", Name: "Op"}
	_, nothing := kb.Publish(ctx, op, knowledge.PublishOptions{})
	fee, ret := twoEntries()
	if _, err := kb.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
		t.Fatal(err)
	}
	r1, err := kb.Publish(ctx, op, knowledge.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, noEarlier := kb.Rollback(ctx, op, 0, "answers got worse")
	_, already := kb.Activate(ctx, op, r1.ID, "")
	for what, err := range map[string]error{"a publish with nothing approved": nothing,
		"a rollback with no earlier good release": noEarlier, "activating the active release": already} {
		if err == nil || errcode.MessageZH(err) == "" {
			t.Errorf("%s: %v (Chinese %q), want a refusal with a Chinese text", what, err, errcode.MessageZH(err))
		}
	}
}
