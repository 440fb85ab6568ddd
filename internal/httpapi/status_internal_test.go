package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
)

// awayStore is the incident store of a database that refuses, or hangs.
type awayStore struct {
	*store.DB
	mode atomic.Int32 // 0 fine, 1 refusing, 2 hanging until the caller gives up
}

func (s *awayStore) away(ctx context.Context) error {
	switch s.mode.Load() {
	case 1:
		return errors.New("connection refused")
	case 2:
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *awayStore) Incidents(ctx context.Context, limit int) ([]incident.Incident, error) {
	if err := s.away(ctx); err != nil {
		return nil, err
	}
	return s.DB.Incidents(ctx, limit)
}

func (s *awayStore) Events(ctx context.Context, id string) ([]incident.Event, error) {
	if err := s.away(ctx); err != nil {
		return nil, err
	}
	return s.DB.Events(ctx, id)
}

type noEngine struct{}

func (noEngine) SetPosture(*conversation.Posture) {}

type noAlerts struct{}

func (noAlerts) Active() []monitor.Alert { return nil }

// The status page is read most when the database is away: it answers within
// its bound when the database hangs (it waited for good), and keeps the open
// incident, which this node holds in memory (it vanished from the page for
// the outage's length).
func TestTheStatusPageKeepsTheIncidentWhenTheDatabaseIsAway(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := &awayStore{DB: db}
	var ctl *incident.Controller
	ctl, err = incident.New(ctx, incident.Options{Store: st, Engine: noEngine{}, Alerts: noAlerts{},
		History: monitor.New(monitor.Options{Rules: []monitor.Rule{}})})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := ctl.Declare(ctx, incident.Actor{ID: "u1", Name: "Ops"}, "Checkout is slow", "结算缓慢", monitor.LevelWarning)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{crisis: &Crisis{Controller: ctl}, logger: slog.New(slog.DiscardHandler)}
	for _, mode := range []int32{1, 2} {
		st.mode.Store(mode)
		w, start := httptest.NewRecorder(), time.Now()
		if err := s.publicStatus(w, httptest.NewRequest("GET", "/api/v1/status", nil)); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		var out struct {
			Incident *struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"incident"`
			HistoryUnavailable bool `json:"history_unavailable"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if !out.HistoryUnavailable || out.Incident == nil || out.Incident.ID != inc.ID || out.Incident.Title != "Checkout is slow" {
			t.Errorf("database %s: %s; want the open incident from memory, history unavailable", map[int32]string{1: "refusing", 2: "hanging"}[mode], w.Body)
		}
		if took > 3*time.Second {
			t.Errorf("database %s: the page took %s", map[int32]string{1: "refusing", 2: "hanging"}[mode], took)
		}
	}
}
