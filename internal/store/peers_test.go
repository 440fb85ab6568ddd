package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A node reads the other nodes' shared seconds, newest changes included,
// never its own; a node's seconds older than 20 minutes are forgotten when
// it next shares, and any node's older than 40 when another shares.
func TestSharedSeconds(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		sample := func(at time.Time, turns int) monitor.Sample {
			var c monitor.Counts
			for range turns {
				c.Add(&monitor.Counts{All: monitor.Group{Turns: 1}})
			}
			return monitor.Sample{At: at, Counts: c}
		}
		if err := db.SaveSeconds(ctx, "a", []monitor.Sample{sample(now.Add(-30*time.Minute), 9), sample(now.Add(-2*time.Second), 1)}); err != nil {
			t.Fatal(err)
		}
		// A node gone for good (a replaced pod) left a second 50 minutes
		// old: the other nodes forget it when they share.
		if err := db.Update(ctx, func(ctx context.Context, t store.Tx) error {
			_, err := t.Exec(ctx, `INSERT INTO metric_seconds (second, node, data) VALUES ($1, 'gone', '{}')`, now.Add(-50*time.Minute).Unix())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveSeconds(ctx, "b", []monitor.Sample{sample(now.Add(-time.Second), 2)}); err != nil {
			t.Fatal(err)
		}
		// a shares its last second again, changed by a late signal.
		if err := db.SaveSeconds(ctx, "a", []monitor.Sample{sample(now.Add(-2*time.Second), 3)}); err != nil {
			t.Fatal(err)
		}
		got, err := db.PeerSeconds(ctx, "b", now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Node != "a" || !got[0].At.Equal(now.Add(-2*time.Second)) || got[0].Counts.All.Turns != 3 {
			t.Fatalf("b reads %+v, want a's one recent second with 3 turns (the old one pruned)", got)
		}
		got, err = db.PeerSeconds(ctx, "a", now.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("after the last second a reads %+v, want nothing", got)
		}
		got, err = db.PeerSeconds(ctx, "a", now.Add(-10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Node != "b" || got[0].Counts.All.Turns != 2 {
			t.Fatalf("a reads %+v, want b's second", got)
		}
	})
}

// A node reads how far its clock is from the database server's: on
// loopback, well within the probe's two seconds; on SQLite, zero.
func TestClockOffset(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		off, err := db.ClockOffset(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if db.Clustered() {
			if off < -250*time.Millisecond || off > 250*time.Millisecond {
				t.Fatalf("offset %s on loopback", off)
			}
		} else if off != 0 {
			t.Fatalf("SQLite offset %s, want 0", off)
		}
	})
}
