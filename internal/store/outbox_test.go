package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// outboxBase is the fixed "now" of the outbox tests: leases and due times
// are compared with the times the caller passes, never the wall clock.
var outboxBase = time.UnixMilli(1_767_225_600_000).UTC()

func enqueueJob(t *testing.T, db *store.DB, kind, key string, next time.Time) int64 {
	t.Helper()
	id, created, err := db.EnqueueJob(context.Background(), jobs.Job{Kind: kind, Key: key,
		Payload: []byte(`{"key":"` + key + `"}`), NextAt: next, CreatedAt: next})
	if err != nil || !created {
		t.Fatalf("enqueue %s: created %v, %v", key, created, err)
	}
	return id
}

func claim(t *testing.T, db *store.DB, c jobs.Claim) []int64 {
	t.Helper()
	if c.Lease == 0 {
		c.Lease = 30 * time.Second
	}
	got, err := db.ClaimJobs(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(got))
	for i, j := range got {
		ids[i] = j.ID
	}
	return ids
}

func jobByID(t *testing.T, db *store.DB, id int64) jobs.Job {
	t.Helper()
	all, err := db.Jobs(context.Background(), jobs.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range all {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %d not listed", id)
	return jobs.Job{}
}

func TestOutboxEnqueueDedup(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first := jobs.Job{Kind: "notify:ops", Key: "alert-1-firing", Payload: []byte(`{"title":"退款失败率升高"}`),
			NextAt: outboxBase, CreatedAt: outboxBase}
		id, created, err := db.EnqueueJob(ctx, first)
		if err != nil || !created || id == 0 {
			t.Fatalf("first enqueue: %d %v %v", id, created, err)
		}
		again := first
		again.Payload, again.NextAt = []byte(`{"title":"changed"}`), outboxBase.Add(time.Hour)
		id2, created, err := db.EnqueueJob(ctx, again)
		if err != nil || created || id2 != id {
			t.Fatalf("second enqueue of one key: %d %v %v, want %d false nil", id2, created, err, id)
		}
		all, err := db.Jobs(ctx, jobs.JobFilter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("jobs: %+v %v", all, err)
		}
		j := all[0]
		if j.ID != id || j.Kind != first.Kind || j.Key != first.Key || string(j.Payload) != string(first.Payload) ||
			j.Status != jobs.StatusPending || j.Attempts != 0 || !j.NextAt.Equal(outboxBase) ||
			!j.CreatedAt.Equal(outboxBase) || !j.SentAt.IsZero() || j.LastError != "" {
			t.Fatalf("stored job = %+v", j)
		}
	})
}

func TestOutboxClaimLeaseAndExpiry(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b1 := enqueueJob(t, db, "b", "b1", outboxBase.Add(-time.Second))
		a1 := enqueueJob(t, db, "a", "a1", outboxBase.Add(-3*time.Second))
		a2 := enqueueJob(t, db, "a", "a2", outboxBase.Add(-2*time.Second))
		enqueueJob(t, db, "a", "later", outboxBase.Add(time.Hour))

		got := claim(t, db, jobs.Claim{Owner: "w1", Now: outboxBase, Limit: 10})
		if want := []int64{a1, a2, b1}; !slices.Equal(got, want) {
			t.Fatalf("first claim = %v, want the due jobs oldest first %v", got, want)
		}
		if got := claim(t, db, jobs.Claim{Owner: "w2", Now: outboxBase.Add(29 * time.Second), Limit: 10}); len(got) != 0 {
			t.Fatalf("claimed %v while leased", got)
		}
		// The lease runs out after 30s: another worker may take the jobs.
		got = claim(t, db, jobs.Claim{Owner: "w2", Now: outboxBase.Add(30 * time.Second), Limit: 2})
		if want := []int64{a1, a2}; !slices.Equal(got, want) {
			t.Fatalf("claim after expiry = %v, want %v", got, want)
		}
		// The first owner lost a1 and may not complete it.
		if err := db.CompleteJob(ctx, a1, "w1", outboxBase.Add(31*time.Second)); !errcode.Is(err, errcode.Conflict) {
			t.Fatalf("complete by the old owner: %v, want conflict", err)
		}
		if err := db.CompleteJob(ctx, b1, "w1", outboxBase.Add(31*time.Second)); err != nil {
			t.Fatalf("complete by the owner of an expired but untaken lease: %v", err)
		}
		if _, err := db.ClaimJobs(ctx, jobs.Claim{Now: outboxBase, Limit: 1}); !errcode.Is(err, errcode.Invalid) {
			t.Fatalf("claim without owner: %v", err)
		}
	})
}

// A claim gives each kind at most PerKind jobs, counting those the owner
// runs already, so one kind cannot take every worker.
func TestOutboxClaimPerKind(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		var a, b []int64
		for i := range 5 {
			a = append(a, enqueueJob(t, db, "notify:slow", fmt.Sprint("a", i), outboxBase.Add(time.Duration(i-10)*time.Second)))
		}
		for i := range 3 {
			b = append(b, enqueueJob(t, db, "notify:ops", fmt.Sprint("b", i), outboxBase.Add(time.Duration(i-5)*time.Second)))
		}
		c := jobs.Claim{Owner: "w", Now: outboxBase, Limit: 10, PerKind: 2, Busy: map[string]int{"notify:slow": 1}}
		if got, want := claim(t, db, c), []int64{a[0], b[0], b[1]}; !slices.Equal(got, want) {
			t.Fatalf("claim with one slow job busy = %v, want %v", got, want)
		}
		c.Busy = map[string]int{"notify:slow": 2, "notify:ops": 1}
		if got, want := claim(t, db, c), []int64{b[2]}; !slices.Equal(got, want) {
			t.Fatalf("claim with the slow kind full = %v, want %v", got, want)
		}
		c.Busy, c.Limit = nil, 1
		if got, want := claim(t, db, c), []int64{a[1]}; !slices.Equal(got, want) {
			t.Fatalf("claim of one = %v, want %v", got, want)
		}
		c.PerKind, c.Limit = 0, 10
		if got, want := claim(t, db, c), a[2:]; !slices.Equal(got, want) {
			t.Fatalf("claim without a per-kind bound = %v, want %v", got, want)
		}
	})
}

// Two nodes (two handles on one database), each with several workers,
// claim at once: every job is claimed exactly once.
func TestOutboxConcurrentClaimersNeverShareAJob(t *testing.T) {
	testutil.ForEachBackendOnTwoNodes(t, func(t *testing.T, nodes [2]*store.DB) {
		ctx := context.Background()
		const total = 200
		for i := range total {
			enqueueJob(t, nodes[0], fmt.Sprint("kind", i%3), fmt.Sprint("job-", i), outboxBase.Add(time.Duration(i)*time.Millisecond))
		}
		var (
			mu      sync.Mutex
			claimed = map[int64]string{}
			errs    []error
			wg      sync.WaitGroup
		)
		for w := range 8 {
			db, owner := nodes[w%2], fmt.Sprintf("node%d-worker%d", w%2, w)
			wg.Go(func() {
				for idle := 0; idle < 3; {
					got, err := db.ClaimJobs(ctx, jobs.Claim{Owner: owner, Now: outboxBase.Add(time.Second),
						Lease: time.Minute, Limit: 7})
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					if len(got) == 0 {
						idle++
						continue
					}
					idle = 0
					for _, j := range got {
						mu.Lock()
						if prev, dup := claimed[j.ID]; dup {
							errs = append(errs, fmt.Errorf("job %d claimed by %s and %s", j.ID, prev, owner))
						}
						claimed[j.ID] = owner
						mu.Unlock()
						if err := db.CompleteJob(ctx, j.ID, owner, outboxBase.Add(2*time.Second)); err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(claimed) != total {
			t.Fatalf("%d jobs claimed, want %d", len(claimed), total)
		}
		stats, err := nodes[1].JobStats(ctx, outboxBase)
		if err != nil {
			t.Fatal(err)
		}
		for kind, s := range stats {
			if s.Pending != 0 || s.Sent == 0 {
				t.Errorf("%s: %+v", kind, s)
			}
		}
	})
}

func TestOutboxRetryDeadAndRequeue(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := enqueueJob(t, db, "notify:ops", "flaky", outboxBase)
		claim(t, db, jobs.Claim{Owner: "w1", Now: outboxBase, Limit: 1})
		if err := db.RetryJob(ctx, id, "w2", outboxBase, "x", false); !errcode.Is(err, errcode.Conflict) {
			t.Fatalf("retry by another owner: %v, want conflict", err)
		}
		next := outboxBase.Add(5 * time.Second)
		if err := db.RetryJob(ctx, id, "w1", next, "HTTP 503", false); err != nil {
			t.Fatal(err)
		}
		if j := jobByID(t, db, id); j.Status != jobs.StatusPending || j.Attempts != 1 || !j.NextAt.Equal(next) ||
			j.LastError != "HTTP 503" {
			t.Fatalf("after a failure: %+v", j)
		}
		if got := claim(t, db, jobs.Claim{Owner: "w1", Now: next.Add(-time.Millisecond), Limit: 1}); len(got) != 0 {
			t.Fatalf("claimed before its next attempt: %v", got)
		}
		if got := claim(t, db, jobs.Claim{Owner: "w2", Now: next, Limit: 1}); !slices.Equal(got, []int64{id}) {
			t.Fatalf("claim when due = %v", got)
		}
		sentAt := next.Add(time.Second)
		if err := db.CompleteJob(ctx, id, "w2", sentAt); err != nil {
			t.Fatal(err)
		}
		if j := jobByID(t, db, id); j.Status != jobs.StatusSent || j.Attempts != 2 || !j.SentAt.Equal(sentAt) {
			t.Fatalf("after completion: %+v", j)
		}
		if err := db.CompleteJob(ctx, id, "w2", sentAt); !errcode.Is(err, errcode.Conflict) {
			t.Fatalf("second completion: %v, want conflict", err)
		}
		if err := db.RequeueJob(ctx, id, time.Now()); !errcode.Is(err, errcode.Conflict) {
			t.Fatalf("requeue of a sent job: %v, want conflict", err)
		}

		dead := enqueueJob(t, db, "notify:ops", "rejected", outboxBase.Add(time.Second))
		claim(t, db, jobs.Claim{Owner: "w1", Now: outboxBase.Add(time.Minute), Limit: 1})
		if err := db.RetryJob(ctx, dead, "w1", outboxBase.Add(time.Minute), "permanent: HTTP 400", true); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, db, jobs.Claim{Owner: "w1", Now: outboxBase.Add(time.Hour), Limit: 10}); len(got) != 0 {
			t.Fatalf("a dead job was claimed: %v", got)
		}
		requeued := outboxBase.Add(30 * time.Minute)
		if err := db.RequeueJob(ctx, dead, requeued); err != nil {
			t.Fatal(err)
		}
		// Due at its old creation time (first in line), and created at the
		// requeue: its age starts again (jobs.Options.MaxAge).
		j := jobByID(t, db, dead)
		if j.Status != jobs.StatusPending || j.Attempts != 0 || !j.NextAt.Equal(outboxBase.Add(time.Second)) ||
			!j.CreatedAt.Equal(requeued) || j.LastError == "" {
			t.Fatalf("after requeue: %+v", j)
		}
		if got := claim(t, db, jobs.Claim{Owner: "w1", Now: outboxBase.Add(time.Hour), Limit: 10}); !slices.Equal(got, []int64{dead}) {
			t.Fatalf("claim after requeue = %v", got)
		}
		if err := db.RequeueJob(ctx, 987654, time.Now()); !errcode.Is(err, errcode.NotFound) {
			t.Fatalf("requeue of a missing job: %v, want not_found", err)
		}
		if err := db.CompleteJob(ctx, 987654, "w1", sentAt); !errcode.Is(err, errcode.NotFound) {
			t.Fatalf("complete of a missing job: %v, want not_found", err)
		}
	})
}

func TestOutboxJobStatsAndList(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ops []int64
		for i := range 4 {
			ops = append(ops, enqueueJob(t, db, "notify:ops", fmt.Sprint("ops", i), outboxBase.Add(time.Duration(i)*time.Minute)))
		}
		enqueueJob(t, db, "notify:pager", "pager0", outboxBase.Add(10*time.Minute))
		claim(t, db, jobs.Claim{Owner: "w", Now: outboxBase.Add(2 * time.Minute), Limit: 2, PerKind: 0})
		if err := db.CompleteJob(ctx, ops[0], "w", outboxBase.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.RetryJob(ctx, ops[1], "w", outboxBase, "gone", true); err != nil {
			t.Fatal(err)
		}
		now := outboxBase.Add(time.Hour)
		stats, err := db.JobStats(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		want := jobs.JobStats{
			"notify:ops":   {Pending: 2, Sent: 1, Dead: 1, OldestPending: time.Hour - 2*time.Minute},
			"notify:pager": {Pending: 1, OldestPending: 50 * time.Minute},
		}
		if len(stats) != len(want) || stats["notify:ops"] != want["notify:ops"] || stats["notify:pager"] != want["notify:pager"] {
			t.Fatalf("stats = %+v, want %+v", stats, want)
		}
		for _, tc := range []struct {
			name string
			f    jobs.JobFilter
			keys []string
		}{
			{"all, newest first", jobs.JobFilter{}, []string{"pager0", "ops3", "ops2", "ops1", "ops0"}},
			{"by kind", jobs.JobFilter{Kind: "notify:ops", Limit: 2}, []string{"ops3", "ops2"}},
			{"dead", jobs.JobFilter{Status: jobs.StatusDead}, []string{"ops1"}},
			{"pending of a kind", jobs.JobFilter{Status: jobs.StatusPending, Kind: "notify:pager"}, []string{"pager0"}},
			{"none", jobs.JobFilter{Kind: "nope"}, nil},
		} {
			got, err := db.Jobs(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var keys []string
			for _, j := range got {
				keys = append(keys, j.Key)
			}
			if !slices.Equal(keys, tc.keys) {
				t.Errorf("%s: %v, want %v", tc.name, keys, tc.keys)
			}
		}
	})
}
