package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/jobs"
)

// Two channels that hang do not hold up a third that works. The limit per
// kind only kept one slow kind from taking every worker: two took all
// four, and each freed worker took the oldest due job, theirs, so the
// working channel's notice waited behind their whole backlog.
func TestTwoHangingKindsDoNotStarveAThird(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	var sentAt atomic.Int64
	hang := func(ctx context.Context, _ jobs.Job) error { <-ctx.Done(); return ctx.Err() }
	opts := fast(map[string]jobs.Handler{
		"notify:dingtalk": hang,
		"notify:wecom":    hang,
		"notify:email": func(context.Context, jobs.Job) error {
			sentAt.Store(time.Now().UnixNano())
			return nil
		},
	})
	opts.SendTimeout = 500 * time.Millisecond // 15 s in production
	o := jobs.New(db, opts)                   // Concurrency 4, KindConcurrency 2: the defaults
	for i := range 6 {
		for _, kind := range []string{"notify:dingtalk", "notify:wecom"} {
			if err := o.Enqueue(ctx, kind, fmt.Sprint(kind, "-", i), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(5 * time.Millisecond)
	start := time.Now()
	if err := o.Enqueue(ctx, "notify:email", "email-0", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	run(t, o)
	waitFor(t, 10*time.Second, "the email notice", func() bool { return sentAt.Load() != 0 })
	took := time.Unix(0, sentAt.Load()).Sub(start)
	if took > opts.SendTimeout/2 {
		t.Fatalf("the working channel's notice went out after %s (%.1f send timeouts) behind two hanging channels",
			took.Round(time.Millisecond), float64(took)/float64(opts.SendTimeout))
	}
}

// A job requeued after it died of age gets the retries of a new one: it
// kept its creation time, so its first failure after the requeue (the
// receiver still coming back) killed it again.
func TestARequeuedOldJobIsRetried(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	clk := &clock{now: time.UnixMilli(1_767_225_600_000).UTC()}
	var calls atomic.Int32
	var down atomic.Bool
	down.Store(true)
	opts := fast(map[string]jobs.Handler{"notify:ops": func(context.Context, jobs.Job) error {
		calls.Add(1)
		if down.Load() {
			return errors.New("HTTP 503")
		}
		return nil
	}})
	opts.Now = clk.Now
	o := jobs.New(db, opts)
	run(t, o)
	if err := o.Enqueue(ctx, "notify:ops", "old-1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a first failure", func() bool { return jobByKey(t, db, "old-1").Attempts == 1 })
	clk.Set(clk.Now().Add(25 * time.Hour))
	waitFor(t, 5*time.Second, "the job to die", func() bool { return jobByKey(t, db, "old-1").Status == jobs.StatusDead })
	before := calls.Load()
	if err := o.Requeue(ctx, jobByKey(t, db, "old-1").ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the requeued attempt", func() bool { return calls.Load() > before })
	down.Store(false)
	time.Sleep(300 * time.Millisecond)
	clk.Set(clk.Now().Add(time.Minute)) // past any backoff
	waitFor(t, 5*time.Second, "the requeued job sent", func() bool { return jobByKey(t, db, "old-1").Status == jobs.StatusSent })
}
