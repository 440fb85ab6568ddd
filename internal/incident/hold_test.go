package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

// A calm measured before an operator pinned the posture by hand must not
// count after they hand back: the alerts fired again while the posture was
// manual and stopped only a second before the hand-back, so the controller
// must wait the whole hold (10 s here) before stepping down.
func TestHandBackWaitsAFreshHold(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	a := firing("bot_errors", monitor.LevelCritical, h.clock, "component", "bot")
	h.alerts.set(a)
	if p := h.step(t, time.Second); p.Level != incident.Level1 {
		t.Fatalf("bot errors: %+v", p)
	}
	// The alert clears; the hold starts.
	h.alerts.set()
	h.step(t, time.Second)
	h.step(t, 5*time.Second)
	// The operator pins level 1 by hand; meanwhile the fault comes back
	// for a minute, and clears.
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true}, "keep it to people"); err != nil {
		t.Fatal(err)
	}
	h.alerts.set(a)
	for range 60 {
		h.step(t, time.Second)
	}
	h.alerts.set()
	h.step(t, time.Second)
	if _, err := h.ctl.Automatic(ctx, op); err != nil {
		t.Fatal(err)
	}
	if p := h.step(t, time.Second); p.Level != incident.Level1 {
		t.Fatalf("stepped down to %+v 2 s after the alerts stopped (the hold is 10 s): the calm measured before the manual posture counted", p)
	}
}

// With recovery: confirm, a person confirms that the fault is over (refused
// while its alerts fire). When the fault comes back during the hold after
// the confirmation, the gate must close again: here the relapse is held at
// level 1 as it should, and once its alert stops the posture waits for a
// new confirmation (it stepped down without one).
func TestARelapseAfterConfirmationNeedsAnotherConfirmation(t *testing.T) {
	ctl, al, clock, step := confirmingController(t)
	down := firing("component_down", monitor.LevelCritical, *clock, "component", "nlu")
	al.set(down)
	if p := step(time.Second); p.Level != 1 {
		t.Fatalf("posture %+v", p)
	}
	al.set()
	step(time.Second)
	inc := ctl.Current()
	if _, err := ctl.ConfirmRecovery(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID); err != nil {
		t.Fatal(err)
	}
	// The fault comes back two seconds later, before the hold is over, for
	// half a minute.
	step(time.Second)
	al.set(down)
	for range 30 {
		if p := step(time.Second); p.Level != 1 {
			t.Fatalf("relapse: %+v", p)
		}
	}
	al.set()
	end := *clock
	for range 30 {
		if p := step(time.Second); p.Level != 1 {
			t.Fatalf("stepped down to level %d %s after the relapse ended, without a new confirmation: the confirmation was given before this fault was over",
				p.Level, clock.Sub(end))
		}
	}
}

// The leader rereads the store whenever another node changes something
// (Changed → Reload), and every reread restarts the hold before stepping
// down. An operator on another node who posted a status note every 8 s
// (hold: 10 s) kept customers on the degraded posture indefinitely after
// the fault was over; now only taking the lead restarts the hold.
func TestNotesOnAnotherNodeDoNotRestartTheHold(t *testing.T) {
	db := openStore(t)
	al := &alerts{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	opts := func(changed func()) incident.Options {
		return incident.Options{Store: db, Engine: &engine{}, Alerts: al, Logger: quiet(), Changed: changed,
			RecoverAfter: 10 * time.Second, Now: func() time.Time { return clock }}
	}
	lead, err := incident.New(context.Background(), opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	step := func(d time.Duration) incident.Posture {
		clock = clock.Add(d)
		if err := lead.Step(ctx, clock); err != nil {
			t.Fatal(err)
		}
		return lead.Posture()
	}
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "nlu"))
	if p := step(time.Second); p.Level != 1 {
		t.Fatalf("posture %+v", p)
	}
	other, err := incident.New(ctx, opts(func() {
		if err := lead.Reload(ctx); err != nil {
			t.Error(err)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := lead.Current().ID
	al.set()
	calm := clock
	for i := range 60 {
		if i%8 == 7 {
			if _, err := other.Update(ctx, incident.Actor{ID: "u1", Name: "Ops"}, id, "", "still watching"); err != nil {
				t.Fatal(err)
			}
		}
		step(time.Second)
	}
	if p := lead.Posture(); p.Level != incident.Normal {
		t.Fatalf("still at level %d %s after the alerts stopped (hold 10 s): each note on the other node restarted the hold", p.Level, clock.Sub(calm))
	}
}
