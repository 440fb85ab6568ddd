package incident_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

// newHarnessWith is newHarness with its options changed by modify first.
func newHarnessWith(t *testing.T, modify func(o *incident.Options)) *harness {
	t.Helper()
	h := &harness{alerts: &alerts{}, engine: &engine{}, pager: &pager{}, db: openStore(t),
		clock: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	h.mon = monitor.New(monitor.Options{Rollups: h.db, Rules: []monitor.Rule{}, SLOs: []monitor.SLO{},
		Now: func() time.Time { return h.clock }})
	o := incident.Options{Store: h.db, Engine: h.engine, Alerts: h.alerts, History: h.mon, Pager: h.pager,
		RecoverAfter: 10 * time.Second, Logger: quiet(), Now: func() time.Time { return h.clock }}
	modify(&o)
	ctl, err := incident.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	h.ctl = ctl
	return h
}

// An incident opened for a posture an operator set is titled by what the
// posture does. Its title is on the public status page, and it was the
// operator's reason, names and all ("service degraded: Zhang San checks
// the courier API"); the reason stays on the staff's timeline. The
// incident is opened by the operator, as stored.
func TestAnIncidentForAnOperatorsPostureKeepsTheirReasonOffItsTitle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u7zngha5dhuywkrjg", Name: "Wang Fang"}
	const reason = "Zhang San checks the courier API"
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: incident.Level2}, reason); err != nil {
		t.Fatal(err)
	}
	cur := h.ctl.Current()
	if cur == nil {
		t.Fatal("a degraded posture set by hand opened no incident")
	}
	inc, events, err := h.ctl.Incident(ctx, cur.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(inc.Title, "Zhang") || strings.Contains(inc.TitleZH, "Zhang") || !strings.Contains(inc.Title, "level 2") ||
		!strings.Contains(inc.TitleZH, "二级") {
		t.Errorf("title %q / %q: want what the posture does (level 2), not the operator's reason", inc.Title, inc.TitleZH)
	}
	if inc.OpenedBy != op.ID || inc.OpenedByName != op.Name {
		t.Errorf("opened by %q (%q), want %s (%s)", inc.OpenedBy, inc.OpenedByName, op.ID, op.Name)
	}
	var opened, posture bool
	for _, e := range events {
		switch e.Kind {
		case incident.EventOpened:
			opened = true
			if e.Actor != op.ID || strings.Contains(e.Text, "Zhang") {
				t.Errorf("the opened event: actor %q, text %q; want the operator, without the reason", e.Actor, e.Text)
			}
		case incident.EventPosture:
			posture = posture || strings.Contains(e.Text, reason)
		}
	}
	if !opened || !posture {
		t.Errorf("timeline %+v: want an opened event, and the posture's line with the reason", events)
	}
}

// Resolving an incident by hand returns the posture to normal, one set by
// hand included. The posture used to stay, and the next step opened a new
// incident for it (paging every channel, with a line saying the posture
// was served before the database took writes again, which it never
// refused), and again after each resolution.
func TestResolvingByHandEndsAPostureSetByHand(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: incident.Level2}, "maintenance"); err != nil {
		t.Fatal(err)
	}
	first := h.ctl.Current()
	if _, err := h.ctl.Resolve(ctx, op, first.ID, "done"); err != nil {
		t.Fatal(err)
	}
	h.pager.mu.Lock()
	paged := len(h.pager.notices)
	h.pager.mu.Unlock()
	for range 3 {
		h.step(t, time.Second)
	}
	if p := h.ctl.Posture(); !p.IsNormal() || p.Manual {
		t.Errorf("after the incident was resolved by hand the posture is %+v, want normal and automatic", p)
	}
	if cur := h.ctl.Current(); cur != nil {
		t.Fatalf("after resolving %s by hand, incident %s %q opened", first.ID, cur.ID, cur.Title)
	}
	h.pager.mu.Lock()
	defer h.pager.mu.Unlock()
	for _, n := range h.pager.notices[paged:] {
		t.Errorf("paged after the resolution: %s %q", n.Status, n.Title)
	}
}

// A confirmation of the recovery is refused while the fault's alerts fire,
// but not for alerts that degrade nothing: an SLO burn looks back hours,
// and held customers on the degraded posture for half an hour after the
// operator saw the fault was over.
func TestConfirmRecoveryWaitsOnlyForAlertsThatDegrade(t *testing.T) {
	h := newHarnessWith(t, func(o *incident.Options) {
		o.Playbooks = incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{{Name: "nlu-trouble",
			Match: []string{`component="nlu"`}, Action: incident.ActionLevel1, Scope: "all", Human: true, Recovery: "confirm"}})
	})
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	down := firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu")
	burn := firing("slo_burn", monitor.LevelCritical, h.clock, "slo", "bot_turns")
	h.alerts.set(down, burn)
	if p := h.step(t, time.Second); p.Level != incident.Level1 {
		t.Fatalf("posture %+v, want level 1", p)
	}
	inc := h.ctl.Current()
	if inc == nil || !inc.AwaitingConfirm {
		t.Fatalf("incident %+v: want one waiting for a confirmation", inc)
	}
	if _, err := h.ctl.ConfirmRecovery(ctx, op, inc.ID); err == nil {
		t.Fatal("the recovery was confirmed while the NLU was still down")
	}
	h.alerts.set(burn) // the NLU is back; the burn's windows still look back at it
	h.step(t, time.Second)
	if _, err := h.ctl.ConfirmRecovery(ctx, op, inc.ID); err != nil {
		t.Fatalf("with only the SLO burn firing: %v", err)
	}
	for range 15 {
		h.step(t, time.Second)
	}
	if p := h.ctl.Posture(); !p.IsNormal() {
		t.Fatalf("15 s after the confirmation the posture is %+v, want normal", p)
	}
}

// A posture change the open incident could not record (the store refused
// it: the outage level 3 answers) is recorded once the store takes writes
// again. The change's timeline line and its page were skipped for good,
// and the postmortem did not say level 3 was served.
func TestAPostureChangeTheIncidentCouldNotRecordIsRecordedLater(t *testing.T) {
	down := &atomic.Bool{}
	h := newHarnessWith(t, func(o *incident.Options) { o.Store = downStore{o.Store, down} })
	h.alerts.set(firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu"))
	if p := h.step(t, time.Second); p.Level != incident.Level1 {
		t.Fatalf("posture %+v, want level 1", p)
	}
	inc := h.ctl.Current()
	down.Store(true)
	h.alerts.set(firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu"),
		firing("store_write_failures", monitor.LevelCritical, h.clock, "component", "store"))
	h.clock = h.clock.Add(time.Second)
	h.ctl.Step(context.Background(), h.clock) // fails: the store refuses writes
	if p := h.ctl.Posture(); p.Level != incident.Level3 {
		t.Fatalf("posture %+v during the store outage, want level 3", p)
	}
	h.pager.mu.Lock()
	var pagedLevel3 bool
	for _, n := range h.pager.notices {
		pagedLevel3 = pagedLevel3 || strings.Contains(n.Title, "level 3")
	}
	h.pager.mu.Unlock()
	if !pagedLevel3 {
		t.Error("level 3 was not paged while the store refused the incident's update")
	}
	down.Store(false)
	h.step(t, time.Second)
	_, events, err := h.ctl.Incident(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == incident.EventPosture && e.Data["to"] == float64(incident.Level3) {
			return
		}
	}
	t.Fatalf("with the store back, the timeline does not say level 3 was served: %+v", events)
}

// A phase a person set stands until the incident's alerts start or stop:
// the controller set "monitoring" back to "identified" at its next step,
// with a line saying the alerts fired again when they had never stopped.
func TestAPhaseSetByHandStandsUntilTheAlertsChange(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	al := firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu")
	h.alerts.set(al)
	h.step(t, time.Second)
	inc := h.ctl.Current()
	if inc == nil || inc.Phase != incident.PhaseIdentified {
		t.Fatalf("incident %+v, want one identified", inc)
	}
	if _, err := h.ctl.Update(ctx, op, inc.ID, incident.PhaseMonitoring, "fix deployed"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.step(t, time.Second)
	}
	if got := h.ctl.Current().Phase; got != incident.PhaseMonitoring {
		t.Fatalf("the operator's phase monitoring became %s while the alert fired on", got)
	}
	// The alert stops and fires again: that is news, and the controller
	// says so.
	h.alerts.set()
	h.step(t, time.Second)
	h.alerts.set(al)
	h.step(t, time.Second)
	if got := h.ctl.Current().Phase; got != incident.PhaseIdentified {
		t.Fatalf("phase %s after the alert fired again, want identified", got)
	}
}

// blockingEngine holds the first posture it is given after hold is set
// until release is closed.
type blockingEngine struct {
	engine
	hold    atomic.Bool
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (e *blockingEngine) SetPosture(p *conversation.Posture) {
	if e.hold.CompareAndSwap(true, false) {
		e.once.Do(func() { close(e.entered) })
		<-e.release
	}
	e.engine.SetPosture(p)
}

// A notice edit racing a posture change leaves the engine serving the
// posture in force: the edit read the posture, then handed it to the
// engine after the change had handed over its own, and the engine served
// the old posture until the next change (on one node, for good).
func TestANoticeEditDoesNotHandTheEngineAnOldPosture(t *testing.T) {
	eng := &blockingEngine{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarnessWith(t, func(o *incident.Options) { o.Engine = eng })
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	eng.hold.Store(true)
	edited := make(chan error, 1)
	go func() {
		edited <- h.ctl.SetNotice(ctx, op, incident.Level3, incident.Notice{ZH: "系统维护中", EN: "Maintenance"})
	}()
	<-eng.entered // the edit hands the engine the normal posture, and waits
	set := make(chan error, 1)
	go func() {
		_, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: incident.Level3}, "drill")
		set <- err
	}()
	time.Sleep(100 * time.Millisecond) // the change runs as far as it can
	close(eng.release)
	if err := <-edited; err != nil {
		t.Fatal(err)
	}
	if err := <-set; err != nil {
		t.Fatal(err)
	}
	eng.mu.Lock()
	last := eng.got[len(eng.got)-1]
	eng.mu.Unlock()
	if last == nil || last.Level != incident.Level3 {
		t.Fatalf("the engine serves %+v, want level 3 (the controller's posture is level %d)", last, h.ctl.Posture().Level)
	}
}

// "Handoffs caused" leaves out the diverted turns that went to no one: a
// fallback flow's notice tells the customer what is happening and hands
// them to no person nor the offline form.
func TestHandoffsCausedLeaveOutTheFallbackFlowsNotices(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	start := h.clock.Add(20 * time.Minute)
	h.record(start.Add(-10*time.Minute), 100, turnSignal("answer", false))
	h.record(start.Add(10*time.Second), 8, turnSignal(monitor.OutcomeDiverted, false))
	notice := turnSignal(monitor.OutcomeDiverted, false)
	notice.DivertedNotice = true
	h.record(start.Add(20*time.Second), 12, notice)
	h.clock = start.Add(2 * time.Minute)
	inc := &incident.Incident{ID: "inc-notices", Title: "fallback flow", Severity: monitor.LevelWarning, Phase: incident.PhaseResolved,
		OpenedBy: "system", StartedAt: start, DetectedAt: start, ResolvedAt: h.clock, UpdatedAt: h.clock}
	if err := h.db.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	h.clock = start.Add(10 * time.Minute)
	im, err := h.ctl.Measure(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if im.HandoffsCaused != 8 || im.Interruptions != 20 {
		t.Fatalf("handoffs caused %d (want the 8 diverted to people, not the 12 notices), interruptions %d (want 20)",
			im.HandoffsCaused, im.Interruptions)
	}
}

// A posture's own notice of two empty texts is no notice of its own:
// customers are told the level's. It passed validation ("both or
// neither") and hid the level's notice from every customer.
func TestAnEmptyPostureNoticeLeavesTheLevelsNotice(t *testing.T) {
	h := newHarness(t)
	op := incident.Actor{ID: "u1", Name: "Ops"}
	if _, _, err := h.ctl.SetPosture(context.Background(), op, incident.Posture{Level: incident.Level2, Notice: &incident.Notice{}}, "drill"); err != nil {
		t.Fatal(err)
	}
	h.engine.mu.Lock()
	got := h.engine.got[len(h.engine.got)-1]
	h.engine.mu.Unlock()
	want := incident.DefaultNotices[incident.Level2]
	if got == nil || got.Notice["zh-CN"] != want.ZH || got.Notice["en"] != want.EN {
		t.Fatalf("customers are told %+v, want level 2's notice", got)
	}
}
