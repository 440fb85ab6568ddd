package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestSilenceStore(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2030, 3, 1, 8, 0, 0, 0, time.UTC)
		must := func(s string) monitor.Matcher {
			m, err := monitor.ParseMatcher(s)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		silences := []monitor.Silence{
			{ID: "s-over", Matchers: []monitor.Matcher{must(`alertname="kb_gap"`)}, CreatedBy: "u1",
				StartsAt: t0.Add(-2 * time.Hour), EndsAt: t0.Add(-time.Hour), CreatedAt: t0.Add(-2 * time.Hour)},
			{ID: "s-now", Matchers: []monitor.Matcher{must(`alertname="error_rate"`), must(`category=~"pay.*"`)},
				Comment: "支付渠道维护", CreatedBy: "u1", StartsAt: t0.Add(-time.Minute), EndsAt: t0.Add(time.Hour),
				CreatedAt: t0.Add(-time.Minute)},
			{ID: "s-later", Matchers: []monitor.Matcher{must(`level!=critical`)}, CreatedBy: "u2",
				StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(2 * time.Hour), CreatedAt: t0},
		}
		for _, s := range silences {
			if err := db.SaveSilence(ctx, s); err != nil {
				t.Fatal(err)
			}
		}

		tests := []struct {
			name  string
			since time.Time
			want  []string
		}{
			{"all", time.Time{}, []string{"s-over", "s-now", "s-later"}},
			{"not ended at t0", t0, []string{"s-now", "s-later"}},
			{"ending exactly at since is over", t0.Add(time.Hour), []string{"s-later"}},
			{"none", t0.Add(3 * time.Hour), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.Silences(ctx, tt.since)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if !slices.Equal(ids, tt.want) {
					t.Fatalf("Silences(%v) = %v, want %v", tt.since, ids, tt.want)
				}
			})
		}

		// A stored silence comes back as it was saved, and its matchers work.
		got, err := db.Silences(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		now := got[0]
		want := silences[1]
		if now.ID != want.ID || now.Comment != want.Comment || now.CreatedBy != want.CreatedBy ||
			!now.StartsAt.Equal(want.StartsAt) || !now.EndsAt.Equal(want.EndsAt) || !now.CreatedAt.Equal(want.CreatedAt) ||
			len(now.Matchers) != 2 || now.Matchers[1].String() != `category=~"pay.*"` {
			t.Fatalf("round trip: got %+v, want %+v", now, want)
		}
		if !now.Matches(map[string]string{"alertname": "error_rate", "category": "payment"}) ||
			now.Matches(map[string]string{"alertname": "error_rate", "category": "shipping"}) {
			t.Fatal("stored matchers do not select what they did")
		}

		// Saving again under the same id replaces it: expiry moves EndsAt.
		expired := want
		expired.EndsAt = t0
		if err := db.SaveSilence(ctx, expired); err != nil {
			t.Fatal(err)
		}
		got, err = db.Silences(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != "s-later" {
			t.Fatalf("after expiring s-now: %+v", got)
		}
		all, _ := db.Silences(ctx, time.Time{})
		if len(all) != 3 {
			t.Fatalf("an upsert must not add a row: %d silences", len(all))
		}
	})
}

// Two nodes adding to one incident's timeline at once (the leader's
// controller, an operator's note on another node) both succeed, each with
// its own place: the second used to read the same MAX(seq)+1 and fail on
// the primary key.
func TestConcurrentTimelineEventsOnPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	a := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	b := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	ctx := context.Background()
	now := time.Now().UTC()
	inc := &incident.Incident{ID: "inc-race", Title: "t", Severity: "warning", Phase: incident.PhaseInvestigating,
		OpenedBy: "system", StartedAt: now, UpdatedAt: now}
	if err := a.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, db := range []*store.DB{a, b} {
		wg.Go(func() {
			for range each {
				e := &incident.Event{At: time.Now().UTC(), Kind: incident.EventNote, Actor: "x", Text: "note"}
				if err := db.AppendEvent(ctx, inc.ID, e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	events, err := a.Events(ctx, inc.ID)
	if err != nil || len(events) != 2*each {
		t.Fatalf("%d events, %v; want %d", len(events), err, 2*each)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
}
