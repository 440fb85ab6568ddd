package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A primary that turns read-only (demoted, or fenced while its standby is
// promoted) keeps the pool's connections alive; writes must still find the
// new primary through the URL's target_session_attrs=read-write rather than
// fail on the old connections until they idle out.
func TestWritesFollowThePrimaryAfterAFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers")
	}
	var servers [2]*testutil.Postgres
	for i := range servers {
		pg, err := testutil.StartPostgres()
		if err != nil {
			if testutil.PostgresRequired() {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		defer pg.Stop()
		servers[i] = pg
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, pg := range servers {
		if err := pg.Exec(ctx, "postgres", "CREATE DATABASE steward"); err != nil {
			t.Fatal(err)
		}
		db := testutil.OpenStore(t, store.Options{DatabaseURL: pg.URL("steward")})
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	url := fmt.Sprintf("postgres://steward@127.0.0.1:%d,127.0.0.1:%d/steward?sslmode=disable&target_session_attrs=read-write",
		servers[0].Port(), servers[1].Port())
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
	// The first server stops taking writes.
	if err := servers[0].Exec(ctx, "postgres", "ALTER SYSTEM SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := servers[0].Exec(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	failures := 0
	for i := 0; ; i++ {
		if err := write("after"); err == nil {
			break
		}
		failures++
		if failures > 5 {
			t.Fatalf("writes still fail after %d tries: the pool keeps its connections to the read-only server", failures)
		}
	}
	if n := rollups(t, servers[1]); n != 1 {
		t.Errorf("the second server holds %d rollups after the failover, want 1", n)
	}
	t.Logf("writes reached the new primary after %d refused", failures)
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
