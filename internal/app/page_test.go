package app

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/notifytest"
	"github.com/steward-cs/steward/internal/notify/webhook"
	"github.com/steward-cs/steward/internal/store"
)

// brokenJobs is the outbox's store with its enqueue failing or hanging,
// as when the database the notice is about is down or its disk hangs.
type brokenJobs struct {
	*store.DB
	mode atomic.Value // "fail", "hang" or ""
}

func (b *brokenJobs) EnqueueJob(ctx context.Context, j jobs.Job) (int64, bool, error) {
	switch b.mode.Load() {
	case "fail":
		return 0, false, errors.New("disk I/O error")
	case "hang":
		select {} // a disk that never answers
	}
	return b.DB.EnqueueJob(ctx, j)
}

// openStore is a migrated SQLite store (testutil's would import this
// package).
func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(t.TempDir(), "steward.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// A notice the outbox cannot take, refused or not taken in time, still
// reaches its channel: sent directly from the node. One the outbox takes
// is left to the outbox.
func TestPageWithoutTheOutboxSendsDirectly(t *testing.T) {
	db := openStore(t)
	st := &brokenJobs{DB: db}
	st.mode.Store("")
	fake := notifytest.NewWebhook("")
	defer fake.Close()
	ch, err := webhook.New(webhook.Config{URL: fake.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &crisis{logger: slog.New(slog.DiscardHandler), mon: monitor.New(monitor.Options{Node: "n1"}),
		outbox:   jobs.New(st, jobs.Options{Handlers: map[string]jobs.Handler{"notify:": func(context.Context, jobs.Job) error { return nil }}}),
		channels: map[string]notify.Channel{"hook": ch}, minLevel: map[string]int{"hook": 0}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.life = ctx
	notice := func(id string) notify.Notice {
		return notify.Notice{ID: id, Level: notify.LevelCritical, Status: notify.StatusFiring, Title: "store down", At: time.Now()}
	}
	wait := func(id string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			for _, n := range fake.Notices() {
				if n.ID == id {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("notice %s never reached the channel; got %d notices", id, fake.Count())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if k := c.Page(ctx, notice("queued")); k != 1 {
		t.Fatalf("Page with a working outbox = %d, want 1", k)
	}
	time.Sleep(200 * time.Millisecond)
	if fake.Count() != 0 {
		t.Fatalf("a notice the outbox took was also sent directly: %+v", fake.Notices())
	}

	st.mode.Store("fail")
	if k := c.Page(ctx, notice("refused")); k != 1 {
		t.Fatalf("Page with a failing outbox = %d, want 1 (sent directly)", k)
	}
	wait("refused")

	st.mode.Store("hang")
	start := time.Now()
	if k := c.Page(ctx, notice("hung")); k != 1 {
		t.Fatalf("Page with a hung outbox = %d, want 1 (sent directly)", k)
	}
	if took := time.Since(start); took > enqueueWait+2*time.Second {
		t.Fatalf("Page waited %s for a hung outbox", took)
	}
	wait("hung")
}

// A channel that takes only critical notices hears neither a warning nor
// its end; one that takes warnings hears both.
func TestPageHoldsResolutionsToTheChannelsLevel(t *testing.T) {
	db := openStore(t)
	c := &crisis{logger: slog.New(slog.DiscardHandler), mon: monitor.New(monitor.Options{Node: "n1"}),
		outbox:   jobs.New(db, jobs.Options{Handlers: map[string]jobs.Handler{"notify:": func(context.Context, jobs.Job) error { return nil }}}),
		channels: map[string]notify.Channel{"oncall": nil, "ops": nil},
		minLevel: map[string]int{"oncall": notify.LevelRank(notify.LevelCritical), "ops": notify.LevelRank(notify.LevelWarning)}}
	ctx := context.Background()
	for _, st := range []string{notify.StatusFiring, notify.StatusResolved} {
		if k := c.Page(ctx, notify.Notice{ID: "w-" + st, Level: notify.LevelWarning, Status: st, Title: "slow"}); k != 1 {
			t.Errorf("a %s warning went to %d channels, want 1 (ops)", st, k)
		}
		if k := c.Page(ctx, notify.Notice{ID: "c-" + st, Level: notify.LevelCritical, Status: st, Title: "down"}); k != 2 {
			t.Errorf("a %s critical notice went to %d channels, want 2", st, k)
		}
	}
}

// An alert group's notice whose critical alert ended while a warning of the
// group fires on is a warning, and still reaches the critical-only channel
// that heard the critical alert fire (it never heard the end).
func TestPageTellsTheEndOfACriticalAlertToItsChannels(t *testing.T) {
	db := openStore(t)
	c := &crisis{logger: slog.New(slog.DiscardHandler), mon: monitor.New(monitor.Options{Node: "n1"}),
		outbox:   jobs.New(db, jobs.Options{Handlers: map[string]jobs.Handler{"notify:": func(context.Context, jobs.Job) error { return nil }}}),
		channels: map[string]notify.Channel{"oncall": nil, "ops": nil},
		minLevel: map[string]int{"oncall": notify.LevelRank(notify.LevelCritical), "ops": notify.LevelRank(notify.LevelWarning)}}
	ctx := context.Background()
	if k := c.Page(ctx, notify.Notice{ID: "mixed", Level: notify.LevelWarning, Reach: notify.LevelCritical, Status: notify.StatusFiring,
		Title: "slo_burn"}); k != 2 {
		t.Fatalf("a warning that carries a critical alert's end went to %d channels, want 2 (oncall too)", k)
	}
	g := monitor.AlertGroup{Key: `{alertname="slo_burn"}`, Labels: map[string]string{"alertname": "slo_burn"}, Status: monitor.StatusFiring,
		Level: monitor.LevelWarning, Reach: monitor.LevelCritical}
	count := func() int {
		t.Helper()
		js, err := db.Jobs(ctx, jobs.JobFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(js)
	}
	before := count()
	c.pageGroup(g)
	if n := count() - before; n != 2 {
		t.Fatalf("the group's notice was queued for %d channels, want 2", n)
	}
}

// hangingPosture is the incident controller's store with SavePosture
// hanging while armed: a disk that stopped answering mid-step.
type hangingPosture struct {
	*store.DB
	armed   atomic.Bool
	release chan struct{}
}

func (h *hangingPosture) SavePosture(ctx context.Context, p incident.Posture) error {
	if h.armed.Load() {
		<-h.release
	}
	return h.DB.SavePosture(ctx, p)
}

// An alert group's notification does not wait for the incident
// controller: the monitor's loop called it, and it waited on the
// controller's lock, held by a step stuck in a database write, so a hung
// disk stopped the monitor's probes and rules with it.
func TestAlertGroupsDoNotHoldTheMonitorsLoop(t *testing.T) {
	db := openStore(t)
	st := &brokenJobs{DB: db}
	st.mode.Store("fail") // the outbox is in the same stuck database
	fake := notifytest.NewWebhook("")
	defer fake.Close()
	ch, err := webhook.New(webhook.Config{URL: fake.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &crisis{logger: slog.New(slog.DiscardHandler), mon: monitor.New(monitor.Options{Node: "n1"}),
		outbox:   jobs.New(st, jobs.Options{Handlers: map[string]jobs.Handler{"notify:": func(context.Context, jobs.Job) error { return nil }}}),
		channels: map[string]notify.Channel{"hook": ch}, minLevel: map[string]int{"hook": 0},
		groups: make(chan monitor.AlertGroup, groupQueue), life: ctx}
	hang := &hangingPosture{DB: db, release: make(chan struct{})}
	c.ctl, err = incident.New(ctx, incident.Options{Store: hang, Alerts: c.alerts, Pager: c, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go c.pageGroups(ctx)
	hang.armed.Store(true)
	stuck := make(chan struct{})
	go func() {
		defer close(stuck)
		c.ctl.SetPosture(ctx, incident.Actor{ID: "u1", Name: "Ops"}, incident.Posture{Level: incident.Level3}, "drill")
	}()
	time.Sleep(100 * time.Millisecond) // the operator's change holds the controller, stuck in the store

	g := monitor.AlertGroup{Key: "store", Status: monitor.StatusFiring, Level: monitor.LevelCritical,
		Labels: map[string]string{"alertname": "component_down"}, Alerts: []monitor.Alert{{Summary: "store down", Level: monitor.LevelCritical}}}
	returned := make(chan struct{})
	go func() {
		c.notifyGroup(g)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(2 * time.Second):
		t.Fatal("notifying an alert group waited for the incident controller's stuck step")
	}
	// The page goes out once the controller is free again.
	close(hang.release)
	<-stuck
	deadline := time.Now().Add(10 * time.Second)
	for fake.Count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the alert group was never paged")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
