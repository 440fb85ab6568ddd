package incident_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
)

// flakyStore fails CreateIncident once (a busy or briefly unreachable
// database), then works.
type flakyStore struct {
	incident.Store
	failCreate int
}

func (s *flakyStore) CreateIncident(ctx context.Context, i *incident.Incident) error {
	if s.failCreate > 0 {
		s.failCreate--
		return errors.New("database is locked")
	}
	return s.Store.CreateIncident(ctx, i)
}

// One failed write of a new incident does not lose its alert: trackAlerts
// marked the alert seen before opening the incident, so the next step took
// it as known, and the incident that opened next was a stand-in ("service
// degraded", warning) without the critical alert, claiming the alerts were
// resolved while that alert still fired.
func TestAFailedIncidentWriteDoesNotLoseTheAlert(t *testing.T) {
	db := openStore(t)
	st := &flakyStore{Store: db, failCreate: 1}
	al, eng := &alerts{}, &engine{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ctl, err := incident.New(context.Background(), incident.Options{Store: st, Engine: eng, Alerts: al, Logger: quiet(),
		RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	down := firing("component_down", monitor.LevelCritical, clock, "component", "nlu")
	al.set(down)
	clock = clock.Add(time.Second)
	if err := ctl.Step(context.Background(), clock); err == nil {
		t.Fatal("the first step did not report the failed write")
	}
	for range 3 {
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
	}
	inc := ctl.Current()
	if inc == nil {
		t.Fatal("no incident")
	}
	if !slices.Contains(inc.Alerts, down.Fingerprint) || inc.Severity != monitor.LevelCritical || inc.Phase == incident.PhaseMonitoring {
		t.Fatalf("the incident %q: alerts %v (want %s), severity %s (want critical), phase %s while the alert fires",
			inc.Title, inc.Alerts, down.Fingerprint, inc.Severity, inc.Phase)
	}
}

// downStore is a database that refuses every write while down, as in the
// outage the store-trouble playbook exists for.
type downStore struct {
	incident.Store
	down *atomic.Bool
}

var errDown = errors.New("disk I/O error")

func (s downStore) SavePosture(ctx context.Context, p incident.Posture) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.SavePosture(ctx, p)
}

func (s downStore) CreateIncident(ctx context.Context, i *incident.Incident) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.CreateIncident(ctx, i)
}

func (s downStore) UpdateIncident(ctx context.Context, i *incident.Incident) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.UpdateIncident(ctx, i)
}

func (s downStore) AppendEvent(ctx context.Context, id string, e *incident.Event) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.AppendEvent(ctx, id, e)
}

// Level 3 (disaster recovery) is the answer to the database failing, so it
// cannot wait for that database: the controller recorded the incident and
// the posture before serving the posture, and with the writes refused every
// step failed at the incident's creation and the engine was never told to
// degrade. Once the database is back, what was served is stored.
func TestLevel3DoesNotNeedTheDatabase(t *testing.T) {
	db := openStore(t)
	al, eng := &alerts{}, &engine{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	down := &atomic.Bool{}
	down.Store(true)
	ctl, err := incident.New(context.Background(), incident.Options{Store: downStore{db, down}, Engine: eng, Alerts: al, Logger: quiet(),
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	al.set(firing("store_write_failures", monitor.LevelCritical, clock, "component", "store"),
		firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	var last error
	for range 10 {
		clock = clock.Add(time.Second)
		last = ctl.Step(context.Background(), clock)
	}
	eng.mu.Lock()
	served := 0
	for _, p := range eng.got {
		if p != nil {
			served = max(served, p.Level)
		}
	}
	eng.mu.Unlock()
	if ctl.Posture().Level != incident.Level3 || served != incident.Level3 || !errors.Is(last, errDown) {
		t.Fatalf("10 s into a store outage: posture level %d, the engine serves level %d; the step says: %v",
			ctl.Posture().Level, served, last)
	}
	// The database is back: the incident opens with its alerts, and the
	// posture served is stored, naming it.
	down.Store(false)
	for range 2 {
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatalf("a step with the database back: %v", err)
		}
	}
	inc := ctl.Current()
	if inc == nil || len(inc.Alerts) != 2 || inc.Severity != monitor.LevelCritical {
		t.Fatalf("with the database back, the incident is %+v; want one with both critical alerts", inc)
	}
	// It says what customers were served: level 3 since the outage's
	// first seconds, not level 0 (the posture was applied before the
	// incident existed).
	if inc.MaxLevel != incident.Level3 || inc.MitigatedAt.IsZero() || inc.MitigatedAt.After(inc.DetectedAt.Add(10*time.Second)) {
		t.Fatalf("the incident says max level %d, mitigated at %s (detected %s); want level 3, mitigated within the outage",
			inc.MaxLevel, inc.MitigatedAt, inc.DetectedAt)
	}
	stored, err := db.LoadPosture(context.Background())
	if err != nil || stored.Level != incident.Level3 || stored.IncidentID != inc.ID {
		t.Fatalf("stored posture %+v (%v), want level 3 naming %s", stored, err, inc.ID)
	}
}

// An outage shorter than the wait for the database: its alerts were over
// by the time the store took writes again, so none of them opened the
// incident, and the level 3 served through the outage left no incident,
// no timeline and no postmortem.
func TestAnOutageOverBeforeTheStoreReturnsLeavesAnIncident(t *testing.T) {
	db := openStore(t)
	al, eng := &alerts{}, &engine{}
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	down := &atomic.Bool{}
	down.Store(true)
	ctl, err := incident.New(context.Background(), incident.Options{Store: downStore{db, down}, Engine: eng, Alerts: al, Logger: quiet(),
		RecoverAfter: 5 * time.Second, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	al.set(firing("component_down", monitor.LevelCritical, clock, "component", "store"))
	for range 3 {
		clock = clock.Add(time.Second)
		ctl.Step(context.Background(), clock)
	}
	degradedAt := ctl.Posture().Since
	if ctl.Posture().Level != incident.Level3 {
		t.Fatalf("posture level %d during the outage, want 3", ctl.Posture().Level)
	}
	// The alert resolves, and only then does the store take writes.
	al.set()
	clock = clock.Add(time.Second)
	ctl.Step(context.Background(), clock)
	down.Store(false)
	clock = clock.Add(time.Second)
	if err := ctl.Step(context.Background(), clock); err != nil {
		t.Fatalf("the first step with the database back: %v", err)
	}
	inc := ctl.Current()
	if inc == nil {
		t.Fatal("the database is back and the level 3 served through the outage has no incident")
	}
	if inc.MaxLevel != incident.Level3 || !inc.StartedAt.Equal(degradedAt) || inc.Severity != monitor.LevelCritical {
		t.Fatalf("incident: max level %d (want 3), started %s (want %s, when level 3 was served), severity %s (want critical)",
			inc.MaxLevel, inc.StartedAt, degradedAt, inc.Severity)
	}
	stored, err := db.LoadPosture(context.Background())
	if err != nil || stored.Level != incident.Level3 || stored.IncidentID != inc.ID {
		t.Fatalf("stored posture %+v (%v), want level 3 naming %s", stored, err, inc.ID)
	}
	// It then runs its course: the hold, back to normal, resolved with a
	// postmortem.
	for range 10 {
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
	}
	got, events, err := ctl.Incident(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Open() || ctl.Posture().Level != incident.Normal || got.Postmortem == "" {
		t.Fatalf("10 s after the database came back: incident phase %s, posture level %d, postmortem %d bytes",
			got.Phase, ctl.Posture().Level, len(got.Postmortem))
	}
	posture := false
	for _, e := range events {
		posture = posture || (e.Kind == incident.EventPosture && e.Data["to"] == float64(incident.Level3))
	}
	if !posture {
		t.Fatalf("the timeline does not say level 3 was served: %+v", events)
	}
}

// A node that served a posture it could not store (it acted alone while
// the database was out of its reach) and then takes the lead keeps that
// posture, and stores it; a node that does not lead takes the stored one.
func TestTakeLeadKeepsThePostureServedWithoutTheStore(t *testing.T) {
	for _, lead := range []bool{true, false} {
		db := openStore(t)
		al, eng := &alerts{}, &engine{}
		clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		down := &atomic.Bool{}
		down.Store(true)
		ctl, err := incident.New(context.Background(), incident.Options{Store: downStore{db, down}, Engine: eng, Alerts: al,
			Logger: quiet(), Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		al.set(firing("component_down", monitor.LevelCritical, clock, "component", "store"))
		for range 3 {
			clock = clock.Add(time.Second)
			ctl.Step(context.Background(), clock)
		}
		down.Store(false)
		want := incident.Normal
		if lead {
			want = incident.Level3
			err = ctl.TakeLead(context.Background())
		} else {
			err = ctl.Reload(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		if ctl.Posture().Level != want || servedLevel(eng) != want {
			t.Fatalf("lead=%v: after the reload the posture is level %d and the engine serves level %d, want %d",
				lead, ctl.Posture().Level, servedLevel(eng), want)
		}
		if !lead {
			continue
		}
		clock = clock.Add(time.Second)
		if err := ctl.Step(context.Background(), clock); err != nil {
			t.Fatal(err)
		}
		stored, err := db.LoadPosture(context.Background())
		if err != nil || stored.Level != incident.Level3 || ctl.Current() == nil || stored.IncidentID != ctl.Current().ID {
			t.Fatalf("the leader's first step stored %+v (%v); want level 3 naming the incident %+v", stored, err, ctl.Current())
		}
	}
}

// servedLevel is the level of the posture the engine was given last.
func servedLevel(e *engine) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.got) == 0 || e.got[len(e.got)-1] == nil {
		return incident.Normal
	}
	return e.got[len(e.got)-1].Level
}
