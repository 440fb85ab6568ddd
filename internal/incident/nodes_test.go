package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

// A critical SLO burn on its own (2 % of writes failing for an hour: under
// store_write_failures' 5 %, over message_persisted's 14.4× budget) opened
// an incident, as every critical alert does, and the same step resolved it
// and paged "Resolved" while the budget still burned. It pages through its
// alert group and opens no incident of its own.
func TestACriticalBurnAloneOpensNoIncidentToResolveAtOnce(t *testing.T) {
	h := newHarness(t)
	burn := firing("slo_burn", monitor.LevelCritical, h.clock, "slo", "message_persisted", "window", "1h0m0s")
	h.alerts.set(burn)
	h.step(t, time.Second)
	incs, err := h.ctl.Incidents(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	h.pager.mu.Lock()
	defer h.pager.mu.Unlock()
	var titles []string
	for _, n := range h.pager.notices {
		titles = append(titles, string(n.Status)+": "+n.Title)
	}
	if len(incs) == 1 && incs[0].Phase == incident.PhaseResolved {
		t.Fatalf("a critical burn alert that still fires opened an incident and resolved it in the same second; pages: %q", titles)
	}
}

// Two nodes: the leader opens an incident for a critical alert whose
// playbook only notifies, and told nobody (Changed was called by posture
// changes, not by an incident opening). An operator on the other node, up
// to its next 2 s reread, saw no open incident and declared one: two
// incidents were open at once, the leader took up the newer, and the older
// was open for good. Now the other nodes are told, and a declaration looks
// in the store for an open incident.
func TestTwoNodesCannotHoldTwoOpenIncidents(t *testing.T) {
	db := openStore(t)
	al := &alerts{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var lead *incident.Controller
	told := 0
	opts := func(changed func()) incident.Options {
		return incident.Options{Store: db, Engine: &engine{}, Alerts: al, Logger: quiet(), Changed: changed,
			RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock }}
	}
	lead, err := incident.New(context.Background(), opts(func() { told++ }))
	if err != nil {
		t.Fatal(err)
	}
	other, err := incident.New(context.Background(), opts(func() {
		if err := lead.Reload(context.Background()); err != nil {
			t.Error(err)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	al.set(firing("backup_failed", monitor.LevelCritical, clock, "component", "backup"))
	clock = clock.Add(time.Second)
	if err := lead.Step(ctx, clock); err != nil {
		t.Fatal(err)
	}
	first := lead.Current()
	if first == nil {
		t.Fatal("the critical alert opened no incident")
	}
	toldAtOpen := told
	clock = clock.Add(500 * time.Millisecond)
	second, err := other.Declare(ctx, incident.Actor{ID: "u1", Name: "Ops"}, "backups failing", "", "warning")
	if err == nil {
		incs, _ := lead.Incidents(ctx, 10)
		open := 0
		for _, i := range incs {
			if i.Open() {
				open++
			}
		}
		_, rerr := lead.Resolve(ctx, incident.Actor{ID: "u1", Name: "Ops"}, first.ID, "")
		t.Fatalf("declared %s on the other node while the leader's %s was open (told the other nodes %d times): %d open incidents; resolving %s on the leader: %v",
			second.ID, first.ID, toldAtOpen, open, first.ID, rerr)
	}
}
