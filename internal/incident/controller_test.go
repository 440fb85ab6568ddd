package incident_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "steward.db"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// alerts is a settable list of firing alerts.
type alerts struct {
	mu   sync.Mutex
	list []monitor.Alert
}

func (a *alerts) Active() []monitor.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]monitor.Alert(nil), a.list...)
}

func (a *alerts) set(list ...monitor.Alert) {
	a.mu.Lock()
	a.list = list
	a.mu.Unlock()
}

func firing(name, level string, at time.Time, labels ...string) monitor.Alert {
	l := map[string]string{"alertname": name, "level": level}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return monitor.Alert{Labels: l, Level: level, Summary: name + " fired", SummaryZH: name + " 触发", Status: monitor.StatusFiring,
		Fingerprint: monitor.Fingerprint(l), StartsAt: at}
}

// engine records the postures it is given.
type engine struct {
	mu  sync.Mutex
	got []*conversation.Posture
}

func (e *engine) SetPosture(p *conversation.Posture) {
	e.mu.Lock()
	e.got = append(e.got, p)
	e.mu.Unlock()
}

// pager counts the notices it would send.
type pager struct {
	mu      sync.Mutex
	notices []notify.Notice
}

func (p *pager) Page(_ context.Context, n notify.Notice) int {
	p.mu.Lock()
	p.notices = append(p.notices, n)
	p.mu.Unlock()
	return 1
}

type harness struct {
	ctl    *incident.Controller
	alerts *alerts
	engine *engine
	pager  *pager
	db     *store.DB
	mon    *monitor.Monitor
	clock  time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{alerts: &alerts{}, engine: &engine{}, pager: &pager{}, db: openStore(t),
		clock: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	h.mon = monitor.New(monitor.Options{Rollups: h.db, Rules: []monitor.Rule{}, SLOs: []monitor.SLO{},
		Now: func() time.Time { return h.clock }})
	ctl, err := incident.New(context.Background(), incident.Options{Store: h.db, Engine: h.engine, Alerts: h.alerts,
		History: h.mon, Pager: h.pager, RecoverAfter: 10 * time.Second, Logger: quiet(), Now: func() time.Time { return h.clock }})
	if err != nil {
		t.Fatal(err)
	}
	h.ctl = ctl
	return h
}

// step advances the clock by d and lets the controller look once.
func (h *harness) step(t *testing.T, d time.Duration) incident.Posture {
	t.Helper()
	h.clock = h.clock.Add(d)
	if err := h.ctl.Step(context.Background(), h.clock); err != nil {
		t.Fatal(err)
	}
	return h.ctl.Posture()
}

// An NLU outage degrades everything to humans at once, steps down only
// after the alerts stayed quiet for the hold, and leaves a resolved
// incident with a timeline and a postmortem.
func TestControllerEscalatesAndRecoversWithHysteresis(t *testing.T) {
	h := newHarness(t)
	h.alerts.set(firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu"))
	p := h.step(t, time.Second)
	if p.Level != incident.Level1 || !p.All || !p.Human {
		t.Fatalf("posture after an NLU outage = %+v, want level 1, everything, to humans", p)
	}
	if got := h.engine.got[len(h.engine.got)-1]; got == nil || got.Level != 1 || !got.Human || got.Notice["zh-CN"] == "" {
		t.Fatalf("the engine got %+v", got)
	}
	inc := h.ctl.Current()
	if inc == nil || inc.Phase != incident.PhaseIdentified || inc.MitigatedAt.IsZero() {
		t.Fatalf("incident = %+v, want identified and mitigated", inc)
	}
	// The alert clears; the posture holds for RecoverAfter.
	h.alerts.set()
	for range 9 {
		if p := h.step(t, time.Second); p.Level != incident.Level1 {
			t.Fatalf("stepped down after %s, before the hold", h.clock.Sub(inc.MitigatedAt))
		}
	}
	if inc := h.ctl.Current(); inc == nil || inc.Phase != incident.PhaseMonitoring {
		t.Fatalf("while holding: %+v, want monitoring", inc)
	}
	if p := h.step(t, 2*time.Second); p.Level != incident.Normal {
		t.Fatalf("after the hold: %+v, want normal", p)
	}
	h.step(t, time.Second)
	if h.ctl.Current() != nil {
		t.Fatalf("the incident stayed open")
	}
	got, events, err := h.ctl.Incident(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Phase != incident.PhaseResolved || got.Postmortem == "" || got.MaxLevel != 1 {
		t.Fatalf("resolved incident = %+v", got)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	want := "opened notification alert posture notification alert_resolved phase posture notification resolved notification"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("timeline = %s\nwant       %s", strings.Join(kinds, " "), want)
	}
}

// A relapse soon after a recovery doubles the hold: no flapping.
func TestControllerDampsFlapping(t *testing.T) {
	h := newHarness(t)
	a := firing("bot_errors", monitor.LevelCritical, h.clock, "component", "bot")
	h.alerts.set(a)
	h.step(t, time.Second)
	h.alerts.set()
	h.step(t, time.Second)
	if p := h.step(t, 11*time.Second); p.Level != incident.Normal {
		t.Fatalf("first recovery: %+v", p)
	}
	h.alerts.set(a)
	if p := h.step(t, 5*time.Second); p.Level != incident.Level1 {
		t.Fatalf("relapse: %+v", p)
	}
	h.wantDoubledHold(t, "stepped down after the first hold despite a relapse")
}

// wantDoubledHold clears the alerts and checks that level 1 outlasts the
// single hold (10 s) and steps down after the doubled one; early is the
// failure of stepping down too soon.
func (h *harness) wantDoubledHold(t *testing.T, early string) {
	t.Helper()
	h.alerts.set()
	h.step(t, time.Second)
	if p := h.step(t, 11*time.Second); p.Level != incident.Level1 {
		t.Fatal(early)
	}
	if p := h.step(t, 10*time.Second); p.Level != incident.Normal {
		t.Fatalf("after the doubled hold: %+v", p)
	}
}

// A posture set by hand stays until handed back, whatever the alerts do.
func TestManualPostureStays(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 2}, ""); err == nil {
		t.Fatal("a posture without a reason was accepted")
	}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1}, "test"); err == nil {
		t.Fatal("level 1 without a scope was accepted")
	}
	p, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, Categories: []string{"refund"}, Human: true}, "refund system down")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Manual || h.ctl.Current() == nil {
		t.Fatalf("manual posture %+v, incident %v", p, h.ctl.Current())
	}
	for range 30 {
		if p := h.step(t, time.Second); p.Level != 1 {
			t.Fatalf("the controller undid a manual posture: %+v", p)
		}
	}
	if p, err := h.ctl.Automatic(ctx, op); err != nil || p.Manual {
		t.Fatalf("automatic: %+v %v", p, err)
	}
	h.step(t, time.Second)
	if p := h.step(t, 11*time.Second); p.Level != incident.Normal {
		t.Fatalf("after handing back with no alerts: %+v", p)
	}
}

// The incident a posture serves is the controller's to say: an id sent
// with a posture (PUT /api/v1/posture decodes a whole one) is not kept.
func TestPostureIncidentIsTheControllers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	p, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: incident.Normal, IncidentID: "inc-made-up"}, "all clear")
	if err != nil {
		t.Fatal(err)
	}
	if p.IncidentID != "" || h.ctl.Posture().IncidentID != "" {
		t.Fatalf("a normal posture serves incident %q (stored %q), want none", p.IncidentID, h.ctl.Posture().IncidentID)
	}
	p, _, err = h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true, IncidentID: "inc-made-up"}, "checkout down")
	if err != nil {
		t.Fatal(err)
	}
	if inc := h.ctl.Current(); inc == nil || p.IncidentID != inc.ID {
		t.Fatalf("level 1 serves incident %q, want the one it opened (%v)", p.IncidentID, inc)
	}
}

// An "ask" playbook waits for a person's approval.
func TestPlaybookAskWaitsForApproval(t *testing.T) {
	db := openStore(t)
	al, eng := &alerts{}, &engine{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ctl, err := incident.New(context.Background(), incident.Options{Store: db, Engine: eng, Alerts: al, Logger: quiet(),
		Now: func() time.Time { return clock },
		Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{
			{Name: "store-trouble", Match: []string{`component="store"`}, Action: incident.ActionLevel3, Approval: "ask"}})})
	if err != nil {
		t.Fatal(err)
	}
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	clock = clock.Add(time.Second)
	if err := ctl.Step(context.Background(), clock); err != nil {
		t.Fatal(err)
	}
	inc := ctl.Current()
	if ctl.Posture().Level != 0 || inc == nil || len(inc.Pending) != 1 {
		t.Fatalf("posture %+v, incident %+v: want normal with one pending action", ctl.Posture(), inc)
	}
	if _, err := ctl.Approve(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID, incident.ActionRef{}); err != nil {
		t.Fatal(err)
	}
	if p := ctl.Posture(); p.Level != 3 {
		t.Fatalf("after approval: %+v", p)
	}
}

// An approval waits only as long as its alert fires: left pending after
// the alert resolved, it could be approved for a fault that was over,
// degrading service (by hand, so for good) for nothing, and the alert
// firing again asked a second time beside it.
func TestAPendingApprovalIsWithdrawnWhenItsAlertResolves(t *testing.T) {
	db := openStore(t)
	al, eng := &alerts{}, &engine{}
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ctl, err := incident.New(context.Background(), incident.Options{Store: db, Engine: eng, Alerts: al, Logger: quiet(),
		Now: func() time.Time { return clock }, RecoverAfter: time.Hour,
		Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{
			{Name: "store-trouble", Match: []string{`component="store"`}, Action: incident.ActionLevel3, Approval: "ask"}})})
	if err != nil {
		t.Fatal(err)
	}
	// Another alert keeps the incident open while the store's comes and goes.
	other := firing("component_down", monitor.LevelCritical, clock, "component", "nlu")
	store := firing("component_down", monitor.LevelCritical, clock, "component", "store")
	step := func() {
		t.Helper()
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
	}
	al.set(other, store)
	step()
	inc := ctl.Current()
	if inc == nil || len(inc.Pending) != 1 {
		t.Fatalf("incident %+v: want one pending approval", inc)
	}
	al.set(other)
	step()
	if inc = ctl.Current(); inc == nil || len(inc.Pending) != 0 {
		t.Fatalf("the store's alert resolved, and the incident still waits for approval of %+v", inc.Pending)
	}
	if _, err := ctl.Approve(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID, incident.ActionRef{}); errcode.Code(err) != errcode.NotFound {
		t.Fatalf("approving the withdrawn action: %v, want not found", err)
	}
	stored, err := db.Incident(context.Background(), inc.ID)
	if err != nil || len(stored.Pending) != 0 {
		t.Fatalf("stored incident pending %+v (%v), want none", stored.Pending, err)
	}
	al.set(other, firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	step()
	if inc = ctl.Current(); len(inc.Pending) != 1 {
		t.Fatalf("the alert fired again: %d pending approvals, want 1", len(inc.Pending))
	}
}

// record records n copies of s in h's monitor, a millisecond apart from at.
func (h *harness) record(at time.Time, n int, s monitor.Signal) {
	for i := range n {
		s.At = at.Add(time.Duration(i) * time.Millisecond)
		h.mon.Record(s)
	}
}

// turnSignal is a bot turn's signal.
func turnSignal(outcome string, failed bool) monitor.Signal {
	return monitor.Signal{Kind: monitor.KindTurn, Outcome: outcome, Failed: failed, Confidence: 0.8}
}

// "Handoffs caused" counts handoffs: the turns the posture diverted, and
// those handed to a person beyond the rate before the incident. It was the
// interruptions again (failed turns plus diverted), counting failures that
// handed nobody on and the handoffs customers ask for every day.
func TestHandoffsCausedAreHandoffsBeyondTheUsualRate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	start := h.clock.Add(20 * time.Minute)
	rec, turn := h.record, turnSignal
	// Before: 100 turns, 10 of them handed to a person (10 %).
	rec(start.Add(-10*time.Minute), 90, turn("answer", false))
	rec(start.Add(-9*time.Minute), 10, turn("handoff", false))
	// During: 50 turns: 5 failed with a fallback (nobody handed on), 20
	// handed to a person (5 expected at the usual rate), 25 answered; and
	// 8 diverted by the posture.
	rec(start.Add(10*time.Second), 5, turn("fallback", true))
	rec(start.Add(20*time.Second), 20, turn("handoff", false))
	rec(start.Add(30*time.Second), 25, turn("answer", false))
	rec(start.Add(40*time.Second), 8, turn(monitor.OutcomeDiverted, false))
	h.clock = start.Add(2 * time.Minute)
	inc := &incident.Incident{ID: "inc-handoffs", Title: "slow answers", Severity: monitor.LevelWarning, Phase: incident.PhaseResolved,
		OpenedBy: "system", StartedAt: start, DetectedAt: start, ResolvedAt: h.clock, UpdatedAt: h.clock}
	if err := h.db.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	h.clock = start.Add(10 * time.Minute)
	im, err := h.ctl.Measure(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if im.HandoffsCaused != 8+15 || im.Interruptions != 5+8 {
		t.Fatalf("handoffs caused %d (want 23: 8 diverted + 20 handoffs − 5 usual), interruptions %d (want 13)",
			im.HandoffsCaused, im.Interruptions)
	}
}

// The postmortem's numbers are the signals' numbers: turns, answer rate,
// ratings, flags and interruptions before, during and after.
func TestPostmortemNumbersMatchTheSignals(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	start := h.clock.Add(20 * time.Minute) // 10:20
	rec, turn := h.record, turnSignal
	// Before (10:10–10:19): 40 answered, 10 fallbacks, 4 ratings of 5★.
	rec(start.Add(-10*time.Minute), 40, turn("answer", false))
	rec(start.Add(-9*time.Minute), 10, turn("fallback", false))
	rec(start.Add(-8*time.Minute), 4, monitor.Signal{Kind: monitor.KindRating, Stars: 5})
	// During (10:20–10:22): 6 answered, 12 failed, 18 diverted, 3 low
	// ratings, 5 flags; 20 write attempts of which 7 failed, and 4 writes
	// spooled (a spooled write fails again at each replay attempt: the
	// spooled count is the spool's, not the failures').
	rec(start.Add(10*time.Second), 6, turn("answer", false))
	rec(start.Add(20*time.Second), 12, turn("handoff", true))
	rec(start.Add(70*time.Second), 18, turn(monitor.OutcomeDiverted, false))
	rec(start.Add(80*time.Second), 3, monitor.Signal{Kind: monitor.KindRating, Stars: 1})
	rec(start.Add(90*time.Second), 5, monitor.Signal{Kind: monitor.KindFlag})
	rec(start.Add(100*time.Second), 13, monitor.Signal{Kind: monitor.KindWrite})
	rec(start.Add(100*time.Second), 7, monitor.Signal{Kind: monitor.KindWrite, Failed: true})
	rec(start.Add(100*time.Second), 4, monitor.Signal{Kind: monitor.KindWrite, Spooled: true})
	// After (from 10:23): 30 answered, 2 ratings of 4★.
	rec(start.Add(4*time.Minute), 30, turn("answer", false))
	rec(start.Add(5*time.Minute), 2, monitor.Signal{Kind: monitor.KindRating, Stars: 4})

	h.clock = start.Add(2*time.Minute + 30*time.Second)
	inc := &incident.Incident{ID: "inc-test", Title: "NLU outage", TitleZH: "语义理解故障", Severity: monitor.LevelCritical,
		Phase: incident.PhaseResolved, OpenedBy: "system", StartedAt: start, DetectedAt: start.Add(4 * time.Second),
		MitigatedAt: start.Add(9 * time.Second), ResolvedAt: h.clock, MaxLevel: 1, UpdatedAt: h.clock}
	if err := h.db.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	// The timeline is told in both languages, as the rest of the report is.
	if err := h.db.AppendEvent(ctx, inc.ID, &incident.Event{At: start.Add(9 * time.Second), Kind: "posture",
		Text: "Posture set to level 1", TextZH: "服务状态调整为一级"}); err != nil {
		t.Fatal(err)
	}
	h.clock = start.Add(10 * time.Minute)
	im, err := h.ctl.Measure(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	b, d, a := im.Before.All, im.During.All, im.After.All
	checks := []struct {
		name      string
		got, want int
	}{
		{"turns before", b.Turns, 50}, {"answered before", b.Answered, 40}, {"ratings before", b.Ratings, 4},
		{"turns during", d.Turns, 18}, {"diverted during", d.Diverted, 18}, {"errors during", d.Errors, 12},
		{"answered during", d.Answered, 6}, {"low ratings during", d.LowRating, 3}, {"flags during", d.Flags, 5},
		{"interruptions", im.Interruptions, 30}, {"handoffs caused", im.HandoffsCaused, 30}, {"spooled", im.Spooled, 4},
		{"turns after", a.Turns, 30}, {"ratings after", a.Ratings, 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if im.InterruptionRate < 0.8333 || im.InterruptionRate > 0.8334 {
		t.Errorf("interruption rate = %v, want 30/36", im.InterruptionRate)
	}
	md, err := h.ctl.Postmortem(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Time to detect 发现耗时: 4s", "Time to mitigate 止损耗时: 9s", "Time to resolve 恢复耗时: 150s",
		"| Bot turns 消息数 | 50 | 36 | 30 |", "| Answer rate 回答率 | 80.0% | 33.3% | 100.0% |",
		"| Answered of all turns 回答占全部消息 | 80.0% | 16.7% | 100.0% |",
		"| Ratings 评价 (mean ★) | 4 (5.00★) | 3 (1.00★) | 2 (4.00★) |", "| Low ratings 低分 | 0 | 3 | 0 |",
		"| Wrong-answer flags 错误标记 | 0 | 5 | 0 |", "Session interruption rate 会话中断率: 83.3% (30 of 36 turns)（36 条消息中 30 条）",
		"（机器人照常回答 6，被降级分流 18，失败 12）", "turns 消息 ", "发起人 opened by ",
		"Handoffs caused 引发转人工/留言: 30", "held in the local spool 暂存消息: 4", "Five whys", "Action items",
		"## Timeline (UTC)", "by minute (UTC)", "`posture` Posture set to level 1 · 服务状态调整为一级",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// A playbook with confirmed recovery keeps the posture until a person
// confirms, then steps down after the hold.
func TestConfirmedRecovery(t *testing.T) {
	ctl, al, clock, step := confirmingController(t)
	al.set(firing("component_down", monitor.LevelCritical, *clock, "component", "nlu"))
	if p := step(time.Second); p.Level != 1 {
		t.Fatalf("posture %+v", p)
	}
	// Confirming while the alert still fires is refused: it would only
	// take the gate away before the fault is over.
	if inc := ctl.Current(); inc == nil || !inc.AwaitingConfirm {
		t.Fatalf("incident = %+v, want awaiting confirmation", inc)
	} else if _, err := ctl.ConfirmRecovery(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID); errcode.Code(err) != errcode.Conflict ||
		!strings.Contains(err.Error(), "still fires") {
		t.Fatalf("confirming while the alert fires: %v, want a conflict saying it still fires", err)
	}
	al.set()
	for range 30 {
		if p := step(time.Second); p.Level != 1 {
			t.Fatalf("stepped down without a confirmation: %+v", p)
		}
	}
	inc := ctl.Current()
	if inc == nil || !inc.AwaitingConfirm {
		t.Fatalf("incident = %+v, want awaiting confirmation", inc)
	}
	if _, err := ctl.ConfirmRecovery(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID); err != nil {
		t.Fatal(err)
	}
	step(time.Second)
	if p := step(6 * time.Second); p.Level != 0 {
		t.Fatalf("after the confirmation and the hold: %+v", p)
	}
}

// A flooding source is throttled to the flood rule's limit; a spike on the
// default "web" source (every widget customer) is only reported.
func TestFloodThrottlesOnlyNamedSources(t *testing.T) {
	h := newHarness(t)
	web := firing("traffic_flood", monitor.LevelWarning, h.clock, "source", "web")
	web.Threshold = 80
	h.alerts.set(web)
	if p := h.step(t, time.Second); !p.IsNormal() {
		t.Fatalf("a spike on web throttled every customer: %+v", p)
	}
	bot := firing("traffic_flood", monitor.LevelWarning, h.clock, "source", "partner-api")
	bot.Threshold = 50
	h.alerts.set(web, bot)
	p := h.step(t, time.Second)
	if p.Throttle["partner-api"] != 50 || len(p.Throttle) != 1 {
		t.Fatalf("throttle = %v, want partner-api at 50/s only", p.Throttle)
	}
	if !h.ctl.Allow("web") {
		t.Fatal("web was refused")
	}
}

// The postmortem and the timeline name people, not their user ids: the
// name is recorded with the id when they act.
func TestIncidentRecordNamesWhoActed(t *testing.T) {
	ctx := context.Background()
	op := incident.Actor{ID: "u7zngha5dhuywkrjg", Name: "Wang Fang"}
	t.Run("declared by hand", func(t *testing.T) {
		h := newHarness(t)
		inc, err := h.ctl.Declare(ctx, op, "Checkout is slow", "结算缓慢", monitor.LevelWarning)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.ctl.Update(ctx, op, inc.ID, incident.PhaseIdentified, "payment provider"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.ctl.Resolve(ctx, op, inc.ID, "fixed"); err != nil {
			t.Fatal(err)
		}
		got, events, err := h.ctl.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.OpenedBy != op.ID || got.OpenedByName != op.Name {
			t.Errorf("opened by %q (%q), want the id and the name", got.OpenedBy, got.OpenedByName)
		}
		for _, e := range events {
			if e.Actor == op.ID && e.ActorName != op.Name {
				t.Errorf("%s event by %s has actor name %q", e.Kind, e.Actor, e.ActorName)
			}
		}
		if !strings.Contains(got.Postmortem, "opened by Wang Fang") || strings.Contains(got.Postmortem, op.ID) {
			t.Errorf("postmortem does not name who opened it, or shows their id:\n%s", got.Postmortem)
		}
	})
	t.Run("opened by a posture set by hand", func(t *testing.T) {
		h := newHarness(t)
		if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true}, "bot is wrong"); err != nil {
			t.Fatal(err)
		}
		inc := h.ctl.Current()
		if inc == nil {
			t.Fatal("no incident")
		}
		md, err := h.ctl.Postmortem(ctx, inc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md, "opened by Wang Fang") || strings.Contains(md, op.ID) {
			t.Errorf("postmortem:\n%s", md)
		}
		if p := h.ctl.Posture(); p.SetBy != op.ID || p.SetByName != op.Name {
			t.Errorf("posture set by %q (%q)", p.SetBy, p.SetByName)
		}
	})
	t.Run("opened by Steward", func(t *testing.T) {
		h := newHarness(t)
		h.alerts.set(firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu"))
		h.step(t, time.Second)
		inc := h.ctl.Current()
		md, err := h.ctl.Postmortem(ctx, inc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md, "opened by Steward") {
			t.Errorf("postmortem:\n%s", md)
		}
	})
}

// The timeline counts notified channels in words: "1 channel", not "1 channel(s)".
func TestNotificationLineCountsChannels(t *testing.T) {
	h := newHarness(t)
	h.alerts.set(firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu"))
	h.step(t, time.Second)
	_, events, err := h.ctl.Incident(context.Background(), h.ctl.Current().ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind != incident.EventNotification {
			continue
		}
		n++
		if !strings.HasPrefix(e.Text, "notified 1 channel: ") || !strings.HasPrefix(e.TextZH, "已通知 1 个渠道：") {
			t.Errorf("notification line %q / %q", e.Text, e.TextZH)
		}
	}
	if n == 0 {
		t.Fatal("no notification on the timeline")
	}
}

// The reasons the controller writes are in both languages: the Chinese
// console showed "handed back to automatic" and "阶段 identified".
func TestControllerReasonsInChinese(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true}, "bot is wrong"); err != nil {
		t.Fatal(err)
	}
	if p := h.ctl.Posture(); p.Reason != "bot is wrong" || p.ReasonZH != "" {
		t.Errorf("an operator's reason: %q / %q, want their words in reason only", p.Reason, p.ReasonZH)
	}
	p, err := h.ctl.Automatic(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	if p.Reason != "handed back to automatic" || p.ReasonZH != "交还自动处置" {
		t.Errorf("handing back: %q / %q", p.Reason, p.ReasonZH)
	}
}

// In a cluster the confirmation may reach a node that does not lead: it
// tells the others (Changed), the leader rereads, and steps down after
// the hold. It used to tell no one, so the leader waited for good.
func TestConfirmedRecoveryOnAnotherNode(t *testing.T) {
	db := openStore(t)
	al := &alerts{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	opts := func(changed func()) incident.Options {
		return incident.Options{Store: db, Engine: &engine{}, Alerts: al, Logger: quiet(), Changed: changed,
			RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock },
			Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{
				{Name: "nlu-trouble", Match: []string{`component="nlu"`}, Action: incident.ActionLevel1, Scope: "all",
					Human: true, Recovery: "confirm"}})}
	}
	lead, err := incident.New(context.Background(), opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) incident.Posture {
		clock = clock.Add(d)
		if err := lead.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
		return lead.Posture()
	}
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "nlu"))
	if p := step(time.Second); p.Level != 1 {
		t.Fatalf("posture %+v", p)
	}
	al.set()
	for range 10 {
		step(time.Second)
	}
	// The other node, as the app wires it: its changes make every node
	// reread (the leader included).
	told := 0
	other, err := incident.New(context.Background(), opts(func() {
		told++
		if err := lead.Reload(context.Background()); err != nil {
			t.Error(err)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	inc := other.Current()
	if inc == nil || !inc.AwaitingConfirm {
		t.Fatalf("the other node's incident = %+v, want awaiting confirmation", inc)
	}
	if _, err := other.ConfirmRecovery(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID); err != nil {
		t.Fatal(err)
	}
	if told == 0 {
		t.Fatal("confirming the recovery did not tell the other nodes")
	}
	step(time.Second)
	if p := step(6 * time.Second); p.Level != 0 {
		t.Fatalf("the leader, after a confirmation on another node and the hold: %+v", p)
	}
	if cur := lead.Current(); cur != nil && cur.AwaitingConfirm {
		t.Fatalf("the leader's incident still awaits a confirmation: %+v", cur)
	}
}

// A restart (or another node taking the lead) takes up the open incident
// as stored: the alerts still firing are the incident's already. They used
// to count as new: the timeline told of them again, and an action an
// operator had approved was asked for again.
func TestRestartAdoptsTheIncidentsAlerts(t *testing.T) {
	db := openStore(t)
	al := &alerts{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	newCtl := func() *incident.Controller {
		ctl, err := incident.New(context.Background(), incident.Options{Store: db, Engine: &engine{}, Alerts: al, Logger: quiet(),
			Now: func() time.Time { return clock },
			Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{
				{Name: "store-trouble", Match: []string{`component="store"`}, Action: incident.ActionLevel3, Approval: "ask"}})})
		if err != nil {
			t.Fatal(err)
		}
		return ctl
	}
	step := func(ctl *incident.Controller) {
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
	}
	firingEvents := func(id string) int {
		_, events, err := newCtl().Incident(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == incident.EventAlert {
				n++
			}
		}
		return n
	}
	first := newCtl()
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	step(first)
	inc := first.Current()
	if inc == nil || len(inc.Pending) != 1 {
		t.Fatalf("incident %+v, want one pending action", inc)
	}
	if _, err := first.Approve(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, inc.ID, incident.ActionRef{}); err != nil {
		t.Fatal(err)
	}
	if n := firingEvents(inc.ID); n != 1 {
		t.Fatalf("%d alert events before the restart, want 1", n)
	}

	again := newCtl() // the process restarts; the alert still fires
	step(again)
	step(again)
	cur := again.Current()
	if cur == nil || cur.ID != inc.ID || len(cur.Pending) != 0 {
		t.Fatalf("after the restart: incident %+v, want %s with no action pending again", cur, inc.ID)
	}
	if n := firingEvents(inc.ID); n != 1 {
		t.Errorf("%d alert events after the restart, want still 1", n)
	}
	if p := again.Posture(); p.Level != 3 {
		t.Errorf("after the restart the posture is %+v, want the approved level 3", p)
	}
	// An alert of the incident that resolves and fires again after the
	// restart is news, as before.
	al.set()
	step(again)
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	step(again)
	if n := firingEvents(inc.ID); n != 2 {
		t.Errorf("%d alert events after the alert fired again, want 2", n)
	}
}

// An incident resolved by hand while its alert still fires is followed by
// a new one that holds the alert: it used to open with no alerts, and so
// announced at once that "the alerts are resolved".
func TestResolvedByHandWhileFiring(t *testing.T) {
	h := newHarness(t)
	al := firing("component_down", monitor.LevelCritical, h.clock, "component", "nlu")
	h.alerts.set(al)
	if p := h.step(t, time.Second); p.Level != 1 {
		t.Fatalf("posture %+v, want level 1", p)
	}
	first := h.ctl.Current()
	if _, err := h.ctl.Resolve(context.Background(), incident.Actor{ID: "u1", Name: "Ops"}, first.ID, "fixed, I think"); err != nil {
		t.Fatal(err)
	}
	h.step(t, time.Second)
	h.step(t, time.Second)
	next := h.ctl.Current()
	if next == nil || next.ID == first.ID {
		t.Fatalf("after resolving by hand with the alert firing: incident %+v, want a new one", next)
	}
	if !slices.Contains(next.Alerts, al.Fingerprint) || next.Phase == incident.PhaseMonitoring {
		t.Fatalf("the new incident %+v: want it to hold the firing alert and not to be watching a recovery", next)
	}
}

// kbRollbacks counts the knowledge base's rollbacks, each to an earlier
// release than the last.
type kbRollbacks struct {
	mu sync.Mutex
	n  int
}

func (k *kbRollbacks) Active() *knowledge.Active { return nil }

func (k *kbRollbacks) Rollback(context.Context, knowledge.Actor, int64, string) (*knowledge.Release, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n++
	return &knowledge.Release{ID: int64(10 - k.n)}, nil
}

// Level 2 serves the last good release whichever way it is entered: coming
// down from level 3 rolls back too (it used to roll back only from below),
// and once per incident (each rollback goes one good release further back).
func TestLevel2RollsBackOncePerIncident(t *testing.T) {
	db := openStore(t)
	al, kb := &alerts{}, &kbRollbacks{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ctl, err := incident.New(context.Background(), incident.Options{Store: db, Engine: &engine{}, Alerts: al, Logger: quiet(),
		Knowledge: kb, RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock },
		Playbooks: []incident.Playbook{
			{Name: "store", Match: []string{`component="store"`}, Action: incident.ActionLevel3},
			{Name: "release", Match: []string{`component="kb"`}, Action: incident.ActionLevel2}}})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) int {
		clock = clock.Add(d)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
		return ctl.Posture().Level
	}
	store := firing("component_down", monitor.LevelCritical, clock, "component", "store")
	release := firing("answer_rate_drop", monitor.LevelWarning, clock, "component", "kb")
	al.set(store, release)
	if l := step(time.Second); l != 3 || kb.n != 0 {
		t.Fatalf("level %d after %d rollbacks, want level 3 and none", l, kb.n)
	}
	al.set(release) // the store is back; the bad release is still live
	for range 10 {
		step(time.Second)
	}
	if l := step(time.Second); l != 2 || kb.n != 1 {
		t.Fatalf("level %d after %d rollbacks, want level 2 and the release rolled back once", l, kb.n)
	}
	al.set(store, release) // and down again, and back
	step(time.Second)
	al.set(release)
	for range 10 {
		step(time.Second)
	}
	if l := step(time.Second); l != 2 || kb.n != 1 {
		t.Fatalf("level %d after %d rollbacks, want level 2 and still one rollback", l, kb.n)
	}
}

// An incident Steward opens starts when its alerts' customers were first
// affected, not when the first alert fired, so that the postmortem's time
// to detect measures something. A later alert whose impact began earlier
// moves the start back.
func TestIncidentStartsAtTheFirstImpact(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	fired := h.clock
	a := firing("bot_errors", monitor.LevelCritical, fired, "component", "bot")
	a.ImpactFrom = fired.Add(-6 * time.Second)
	h.alerts.set(a)
	h.step(t, time.Second)
	inc := h.ctl.Current()
	if inc == nil {
		t.Fatal("no incident opened")
	}
	if !inc.StartedAt.Equal(fired.Add(-6*time.Second)) || !inc.DetectedAt.Equal(fired) {
		t.Fatalf("started %s, detected %s; want %s and %s", inc.StartedAt, inc.DetectedAt, fired.Add(-6*time.Second), fired)
	}
	b := firing("slow_turns", monitor.LevelWarning, h.clock, "component", "bot")
	b.ImpactFrom = fired.Add(-9 * time.Second)
	h.alerts.set(a, b)
	h.step(t, time.Second)
	got, _, err := h.ctl.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(fired.Add(-9 * time.Second)) {
		t.Fatalf("after an earlier impact joined: started %s, want %s", got.StartedAt, fired.Add(-9*time.Second))
	}
	md, err := h.ctl.Postmortem(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "Time to detect 发现耗时: 9s") {
		t.Fatalf("postmortem:\n%s", md)
	}
	// An alert whose rule cannot tell starts the incident when it fires.
	h2 := newHarness(t)
	h2.alerts.set(firing("bot_errors", monitor.LevelCritical, h2.clock, "component", "bot"))
	h2.step(t, time.Second)
	if inc := h2.ctl.Current(); inc == nil || !inc.StartedAt.Equal(inc.DetectedAt) {
		t.Fatalf("without ImpactFrom: %+v, want started when detected", inc)
	}
}

// Setting an incident's phase to resolved resolves it: it used to take the
// controller's lock twice, hang the request and freeze the controller.
func TestUpdateToResolvedResolves(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u_ops", Name: "Ops"}
	inc, err := h.ctl.Declare(ctx, op, "Checkout is slow", "结算缓慢", monitor.LevelWarning)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		got, err := h.ctl.Update(ctx, op, inc.ID, incident.PhaseResolved, "fixed upstream")
		if err == nil && got.Phase != incident.PhaseResolved {
			err = fmt.Errorf("phase %s after the update", got.Phase)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an update to resolved did not return: the controller is stuck")
	}
	if h.ctl.Current() != nil {
		t.Fatal("the incident is still open")
	}
	// The controller still works.
	if _, err := h.ctl.Declare(ctx, op, "Again", "再次", monitor.LevelWarning); err != nil {
		t.Fatal(err)
	}
}

// The notice that the service is back to normal reaches every channel that
// heard of the degradation: after level 2 (a critical page) it is sent at
// critical, so that an on-call channel taking only critical pages is not
// left believing the bot is still degraded. It used to go at info level.
func TestBackToNormalIsPagedAtTheDegradationsLevel(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	for _, step := range []struct {
		posture incident.Posture
		want    string // the level the normal notice goes at
	}{
		{incident.Posture{Level: 1, Categories: []string{"refund"}, Human: true}, notify.LevelWarning},
		{incident.Posture{Level: 2}, notify.LevelCritical},
	} {
		if _, _, err := h.ctl.SetPosture(ctx, op, step.posture, "drill"); err != nil {
			t.Fatal(err)
		}
		if step.posture.Level == 2 {
			// Down through level 1: still the level-2 incident's end.
			if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true}, "better"); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{}, "fixed"); err != nil {
			t.Fatal(err)
		}
		h.pager.mu.Lock()
		last := h.pager.notices[len(h.pager.notices)-1]
		h.pager.mu.Unlock()
		if last.Status != notify.StatusResolved || last.Level != step.want {
			t.Errorf("after level %d, back to normal paged as %s %s, want resolved at %s", step.posture.Level, last.Status, last.Level, step.want)
		}
		if cur := h.ctl.Current(); cur != nil {
			if _, err := h.ctl.Resolve(ctx, op, cur.ID, "done"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Resolving takes the same bound on its note as an update does: the note
// goes to the timeline and to every channel (a 20,000-character note was
// sent to DingTalk and Feishu as it was).
func TestResolveBoundsItsNote(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 2}, "drill"); err != nil {
		t.Fatal(err)
	}
	id := h.ctl.Current().ID
	_, err := h.ctl.Resolve(ctx, op, id, strings.Repeat("长", incident.MaxNote+1))
	if errcode.Code(err) != errcode.TooLarge {
		t.Fatalf("a note over %d characters: %v", incident.MaxNote, err)
	}
	if h.ctl.Current() == nil {
		t.Fatal("the refused resolution resolved the incident")
	}
	if _, err := h.ctl.Resolve(ctx, op, id, strings.Repeat("长", incident.MaxNote)); err != nil {
		t.Fatalf("a note of %d characters: %v", incident.MaxNote, err)
	}
}

// A relapse keeps its doubled hold however long it lasts: the flaps were
// forgotten ten minutes after the last recovery even while the relapse went
// on, and a relapse of six minutes stepped down after the single hold.
func TestALongRelapseKeepsItsLongerHold(t *testing.T) {
	h := newHarness(t)
	a := firing("bot_errors", monitor.LevelCritical, h.clock, "component", "bot")
	h.alerts.set(a)
	h.step(t, time.Second)
	h.alerts.set()
	h.step(t, time.Second)
	if p := h.step(t, 11*time.Second); p.Level != incident.Normal {
		t.Fatalf("first recovery: %+v", p)
	}
	h.step(t, 5*time.Minute)
	h.alerts.set(a)
	if p := h.step(t, time.Second); p.Level != incident.Level1 {
		t.Fatalf("relapse: %+v", p)
	}
	for range 12 { // six minutes degraded: eleven since the recovery
		h.step(t, 30*time.Second)
	}
	h.wantDoubledHold(t, "a relapse of six minutes stepped down after the single hold")
}

// An incident that resolves by itself while an SLO burn alert still fires
// (its window looks back for hours, and keeps no incident open) stays
// resolved: the burn alert is not news again. Forgotten with the incident,
// it opened a new one at the next step, which resolved at once, every
// second, each with its pages.
func TestABurnAlertStillFiringOpensNoNewIncident(t *testing.T) {
	h := newHarness(t)
	burn := firing("slo_burn", monitor.LevelCritical, h.clock, "slo", "message_persisted", "window", "1h0m0s")
	h.alerts.set(firing("store_write_failures", monitor.LevelCritical, h.clock, "component", "store"), burn)
	h.step(t, time.Second)
	h.alerts.set(burn)
	for range 30 {
		h.step(t, time.Second)
	}
	incs, err := h.ctl.Incidents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || incs[0].Phase != incident.PhaseResolved {
		t.Fatalf("%d incidents (the first %+v); want one, resolved", len(incs), incs[0])
	}
	h.pager.mu.Lock()
	pages := len(h.pager.notices)
	h.pager.mu.Unlock()
	if pages > 4 {
		t.Errorf("%d notices paged for one incident", pages)
	}
	// It resolved in both languages: the timeline and the notice.
	_, events, err := h.ctl.Incident(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == incident.EventResolved && (e.TextZH == "" || strings.Contains(e.TextZH, "the alerts")) {
			t.Errorf("the resolution's Chinese text: %q", e.TextZH)
		}
	}
	h.pager.mu.Lock()
	defer h.pager.mu.Unlock()
	for _, n := range h.pager.notices {
		if n.Status == notify.StatusResolved && (n.TextZH == n.Text || n.TextZH == "") {
			t.Errorf("the resolved notice's Chinese text: %q (English %q)", n.TextZH, n.Text)
		}
	}
}

// An operator's notice, written for their posture's level, does not stay
// when the controller later escalates past that level: customers are told
// what the graver level means.
func TestAnOperatorsNoticeDoesNotOutliveItsLevel(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u1", Name: "Ops"}
	custom := &incident.Notice{ZH: "部分问题转人工处理", EN: "Some questions go to our staff for now."}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: 1, All: true, Human: true, Notice: custom}, "payments are slow"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ctl.Automatic(ctx, op); err != nil {
		t.Fatal(err)
	}
	if p := h.ctl.Posture(); p.Level != incident.Level1 || h.ctl.Notice(p) != *custom {
		t.Fatalf("handed back: %+v with notice %+v, want level 1 with the operator's notice", p, h.ctl.Notice(p))
	}
	h.alerts.set(firing("store_write_failures", monitor.LevelCritical, h.clock, "component", "store"))
	p := h.step(t, time.Second)
	if p.Level != incident.Level3 {
		t.Fatalf("the store failing: %+v, want level 3", p)
	}
	if got, want := h.ctl.Notice(p), h.ctl.Notice(incident.Posture{Level: incident.Level3}); got != want {
		t.Fatalf("the notice under level 3: %+v, want the level's own %+v", got, want)
	}
}

// One posture reads the same every time: Describe listed throttled sources
// in map order, so the status page and the timeline changed from one call
// to the next, and the drill logged each new wording as a posture change.
func TestDescribeIsStable(t *testing.T) {
	p := incident.Posture{Throttle: map[string]float64{"partner-a": 50, "partner-b": 60, "partner-c": 70, "partner-d": 80}}
	first, firstZH := p.Describe()
	if !strings.Contains(first, "partner-a limited to 50.0 msg/s; source partner-b") {
		t.Fatalf("sources not in order: %s", first)
	}
	for range 50 {
		if en, zh := p.Describe(); en != first || zh != firstZH {
			t.Fatalf("one posture, two descriptions:\n%s\n%s", first, en)
		}
	}
}

// confirmingController is a controller whose nlu-trouble playbook (level 1)
// waits for a person to confirm the recovery, with a hold of 5 s: its
// alerts, its clock, and a step that moves the clock on by d.
func confirmingController(t *testing.T) (*incident.Controller, *alerts, *time.Time, func(d time.Duration) incident.Posture) {
	t.Helper()
	al := &alerts{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ctl, err := incident.New(context.Background(), incident.Options{Store: openStore(t), Engine: &engine{}, Alerts: al, Logger: quiet(),
		RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock },
		Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), []incident.Playbook{
			{Name: "nlu-trouble", Match: []string{`component="nlu"`}, Action: incident.ActionLevel1, Scope: "all",
				Human: true, Recovery: "confirm"}})})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) incident.Posture {
		clock = clock.Add(d)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
		return ctl.Posture()
	}
	return ctl, al, &clock, step
}

// What an operator types goes to every channel, the timeline and (the
// title) the public status page: a customer's number typed into a title,
// a note or a posture's reason is masked like everything else Steward
// stores and sends. It went out in the clear.
func TestOperatorsWordsAreMasked(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := incident.Actor{ID: "u_ops", Name: "Ops"}
	const phone, card = "13812345678", "6222021234567890128"
	inc, err := h.ctl.Declare(ctx, op, "customer "+phone+" cannot pay", "客户 "+phone+" 无法支付", monitor.LevelWarning)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ctl.Update(ctx, op, inc.ID, "", "card "+card+" declined"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.ctl.SetPosture(ctx, op, incident.Posture{Level: incident.Level1, All: true, Human: true},
		"asked by "+phone); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ctl.Resolve(ctx, op, inc.ID, "called back "+phone+", card "+card+" refunded"); err != nil {
		t.Fatal(err)
	}
	got, events, err := h.ctl.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	seen = append(seen, got.Title, got.TitleZH, got.Postmortem)
	for _, e := range events {
		seen = append(seen, e.Text, e.TextZH)
	}
	h.pager.mu.Lock()
	for _, n := range h.pager.notices {
		seen = append(seen, n.Title, n.TitleZH, n.Text, n.TextZH)
	}
	h.pager.mu.Unlock()
	all := strings.Join(seen, "\n")
	if strings.Contains(all, phone) || strings.Contains(all, card) {
		t.Fatalf("an operator's words went out unmasked:\n%s", all)
	}
	if !strings.Contains(got.Title, "138****5678") || !strings.Contains(all, "622202*********0128") {
		t.Fatalf("the masked forms are missing (title %q):\n%s", got.Title, all)
	}
}

// Setting a fault while calls are injected at its point does not race
// (Set returned the struct the map pointed to, which Inject counts on).
func TestSettingAFaultWhileItIsInjectedDoesNotRace(t *testing.T) {
	f := incident.NewFaults()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				f.Inject(context.Background(), incident.FaultNLU, "")
			}
		}
	}()
	for range 200 {
		if _, err := f.Set(incident.Fault{Point: incident.FaultNLU}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
}
