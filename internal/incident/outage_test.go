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
	stored, err := db.LoadPosture(context.Background())
	if err != nil || stored.Level != incident.Level3 || stored.IncidentID != inc.ID {
		t.Fatalf("stored posture %+v (%v), want level 3 naming %s", stored, err, inc.ID)
	}
}
