package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A primary that turns read-only (demoted, or fenced while its standby is
// promoted) keeps the pool's connections alive; writes must still find the
// new primary through the URL's target_session_attrs=read-write rather than
// fail on the old connections until they idle out.
func TestWritesFollowThePrimaryAfterAFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers, url := twoPrimaries(t, ctx, nil)
	db := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	write := func(node string) error {
		return db.SaveRollups(ctx, []monitor.Rollup{{Minute: time.Now().UTC().Truncate(time.Minute), Node: node}})
	}
	// Fill the pool with connections to the first server.
	for i := range 20 {
		if err := write(fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := rollups(t, servers[0]); n != 20 {
		t.Fatalf("the first server holds %d rollups, want 20", n)
	}
	// A node leads, and listens, on the first server.
	lease, err := db.TryLead(ctx, "failover", 100*time.Millisecond)
	if err != nil || lease == nil {
		t.Fatalf("lead on the first server: %v %v", lease, err)
	}
	defer lease.Release()
	listening := make(chan struct{})
	listenEnded := make(chan error, 1)
	go func() {
		listenEnded <- db.Listen(ctx, "failover_test", func() { close(listening) }, func(string) {})
	}()
	<-listening
	// The first server stops taking writes.
	if err := servers[0].Exec(ctx, "postgres", "ALTER SYSTEM SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := servers[0].Exec(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// The refusal is the store's to handle: it drops the connections to the
	// read-only server and tries again, so the caller sees no error.
	if err := write("after"); err != nil {
		t.Fatalf("the first write after the failover failed: %v", err)
	}
	if n := rollups(t, servers[1]); n != 1 {
		t.Errorf("the second server holds %d rollups after the failover, want 1", n)
	}
	// The lease on the fenced server ends: leading from there while another
	// node leads on the new primary would be two leaders.
	select {
	case <-lease.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the lease on the read-only server was kept")
	}
	// The listener ends too, so that its caller listens on the new primary
	// (it would hear nothing on the old one, and nothing would say so).
	select {
	case err := <-listenEnded:
		if err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("the listener ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the listener on the read-only server went on")
	}
	// Leadership is taken again on the new primary.
	deadline := time.Now().Add(5 * time.Second)
	for {
		again, err := db.TryLead(ctx, "failover", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if again != nil {
			again.Release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nobody could lead after the failover")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A server that crashes and comes back breaks every pooled connection.
// A write made at once, and one made while the server is still down, both
// succeed: the store retries a transaction that cannot have committed on a
// fresh connection, for about a second and a half.
func TestWritesRideOutARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	pg, err := testutil.StartPostgres()
	if err != nil {
		if testutil.PostgresRequired() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer pg.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	minute := time.Now().UTC().Truncate(time.Minute)
	write := func(node string) error {
		return db.SaveRollups(ctx, []monitor.Rollup{{Minute: minute, Node: node}})
	}
	// Fill the pool: several writes at once hold several connections.
	fill := func(prefix string) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() { errs <- write(fmt.Sprintf("%s-%d", prefix, i)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	fill("before")

	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := write("after-restart"); err != nil {
		t.Fatalf("a write after the restart failed: %v", err)
	}

	fill("again")
	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	back := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		back <- pg.Restart()
	}()
	start := time.Now()
	if err := write("while-down"); err != nil {
		t.Fatalf("a write while the server was down for 300 ms failed: %v", err)
	}
	if err := <-back; err != nil {
		t.Fatal(err)
	}
	t.Logf("the write made while the server was down succeeded after %s", time.Since(start).Round(time.Millisecond))
	check, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var n int
	if err := check.QueryRowContext(ctx, "SELECT count(*) FROM metric_rollups WHERE node = 'while-down'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the write made while the server was down is stored %d times (%v), want once", n, err)
	}

	// A server that stays down: after the retries, writes and reads say the
	// database is unavailable (HTTP 503, try again), not an internal error.
	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	if err := write("down"); !errcode.Is(err, errcode.Unavailable) {
		t.Errorf("a write to a server that stays down: %v, want unavailable", err)
	}
	if _, err := db.Rollups(ctx, minute, minute.Add(time.Minute)); !errcode.Is(err, errcode.Unavailable) {
		t.Errorf("a read from a server that stays down: %v, want unavailable", err)
	}
}

func rollups(t *testing.T, pg *testutil.Postgres) int {
	t.Helper()
	db, err := sql.Open("pgx", pg.URL("steward"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM metric_rollups").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
