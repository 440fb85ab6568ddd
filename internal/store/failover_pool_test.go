package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// twoPrimaries starts two servers, each with a migrated "steward" database
// (prepare runs on each), and returns them with a URL that writes to
// whichever takes writes (target_session_attrs=read-write).
func twoPrimaries(t *testing.T, ctx context.Context, prepare func(db *store.DB)) ([2]*testutil.Postgres, string) {
	t.Helper()
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
		t.Cleanup(pg.Stop)
		servers[i] = pg
	}
	for _, pg := range servers {
		if err := pg.Exec(ctx, "postgres", "CREATE DATABASE steward"); err != nil {
			t.Fatal(err)
		}
		db := testutil.OpenStore(t, store.Options{DatabaseURL: pg.URL("steward")})
		if prepare != nil {
			prepare(db)
		}
	}
	return servers, fmt.Sprintf("postgres://steward@127.0.0.1:%d,127.0.0.1:%d/steward?sslmode=disable&target_session_attrs=read-write",
		servers[0].Port(), servers[1].Port())
}

// fence turns a server read-only, as a failover fences the old primary.
func fence(t *testing.T, ctx context.Context, pg *testutil.Postgres) {
	t.Helper()
	if err := pg.Exec(ctx, "postgres", "ALTER SYSTEM SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Exec(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// The outbox's writes follow a failover as the writer's do. They ran in a
// transaction of their own with no retry, so a fenced old primary refused
// a delivered notice's completion on every try (the pool's connections all
// led there), and the notice went out again once its lease ran out.
func TestOutboxWritesFollowThePrimaryAfterAFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Millisecond)
	job := jobs.Job{Kind: "notify:ops", Key: "incident-1-opened/ops", Payload: []byte(`{}`), NextAt: now, CreatedAt: now}
	claim := jobs.Claim{Owner: "leader", Now: now, Lease: 30 * time.Second, Limit: 1}
	// The same job, claimed by the same leader, on both servers (as if replicated).
	servers, url := twoPrimaries(t, ctx, func(db *store.DB) {
		if _, _, err := db.EnqueueJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ClaimJobs(ctx, claim); err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
	})
	db := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	for i := range 5 { // connections to the first server in the pool
		if err := db.SaveRollups(ctx, []monitor.Rollup{{Minute: now.Truncate(time.Minute), Node: fmt.Sprint("n", i)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.JobStats(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	fence(t, ctx, servers[0])
	if err := db.CompleteJob(ctx, 1, "leader", time.Now()); err != nil {
		t.Fatalf("the completion of a delivered notice after the failover: %v", err)
	}
}

// A connection busy while the pool started afresh (a backup's snapshot, a
// long read) is not used again once it comes back: it stayed in the pool,
// the first one reused, and every read after a failover came from the
// fenced old primary, missing what was written to the new one.
func TestAConnectionBusyThroughAFailoverIsNotReused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers, url := twoPrimaries(t, ctx, nil)
	db := testutil.OpenStore(t, store.Options{DatabaseURL: url})
	minute := time.Now().UTC().Truncate(time.Minute)
	write := func(node string) error {
		return db.SaveRollups(ctx, []monitor.Rollup{{Minute: minute, Node: node}})
	}
	if err := write("before"); err != nil {
		t.Fatal(err)
	}
	holding, release, inspected := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		inspected <- db.Inspect(ctx, func(context.Context, backup.View) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	fence(t, ctx, servers[0])
	if err := write("after"); err != nil {
		t.Fatalf("write after the failover: %v", err)
	}
	close(release)
	if err := <-inspected; err != nil {
		t.Fatal(err)
	}
	stale := 0
	for range 10 {
		rs, err := db.Rollups(ctx, minute, minute.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rs {
			found = found || r.Node == "after"
		}
		if !found {
			stale++
		}
	}
	if stale > 0 {
		t.Fatalf("%d of 10 reads after the failover came from the fenced old primary (they miss a committed write)", stale)
	}
}

// A conversation's lock is taken on the server that takes writes. After a
// failover that left the old primary up and fenced read-only, a node's
// lock connections stayed on it and took the lock there, while a node
// connected afresh took it on the new primary: two turns of one
// conversation at once, until a restart.
func TestConversationLocksFollowThePrimary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers, url := twoPrimaries(t, ctx, nil)
	a := testutil.OpenStore(t, store.Options{DatabaseURL: url, LockConns: 1})
	rel, err := a.LockConversation(ctx, "conv")
	if err != nil {
		t.Fatal(err)
	}
	rel() // back to a's lock pool, connected to the first server
	fence(t, ctx, servers[0])
	b := testutil.OpenStore(t, store.Options{DatabaseURL: url, LockConns: 1}) // connects to the second
	relB, err := b.LockConversation(ctx, "conv")
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
	defer lcancel()
	if relA, err := a.LockConversation(lctx, "conv"); err == nil {
		relA()
		t.Fatal("node a took conversation conv's lock while node b holds it (on the fenced old primary)")
	}
	relB()
	// Released on the primary, a takes it there.
	relA, err := a.LockConversation(ctx, "conv")
	if err != nil {
		t.Fatalf("after b let go: %v", err)
	}
	relA()
}
