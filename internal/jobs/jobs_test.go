package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/store"
)

var quiet = slog.New(slog.DiscardHandler)

// openStore opens (and migrates) the SQLite database at path; it is closed
// when the test ends unless the caller closes it first.
func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, store.Options{SQLitePath: path, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { db.Close(context.Background()) }) })
	return db
}

func newStore(t *testing.T) *store.DB {
	return openStore(t, filepath.Join(t.TempDir(), "steward.db"))
}

// run starts o.Run and returns a stop that cancels it and waits for it to
// return (also called when the test ends).
func run(t *testing.T, o *jobs.Outbox) (stop func() time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx)
	}()
	var once sync.Once
	stop = func() time.Duration {
		start := time.Now()
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("Run did not return within 30s of its context ending")
			}
		})
		return time.Since(start)
	}
	t.Cleanup(func() { stop() })
	return stop
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jobByKey(t *testing.T, db *store.DB, key string) jobs.Job {
	t.Helper()
	all, err := db.Jobs(context.Background(), jobs.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range all {
		if j.Key == key {
			return j
		}
	}
	t.Fatalf("no job %s", key)
	return jobs.Job{}
}

// fast are options for tests that should not wait for real backoffs.
func fast(handlers map[string]jobs.Handler) jobs.Options {
	return jobs.Options{Handlers: handlers, Poll: 10 * time.Millisecond, MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, Logger: quiet}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestOutboxBackoffRetryAfterAndMaxAge(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	clk := &clock{now: time.UnixMilli(1_767_225_600_000).UTC()}
	created := clk.Now()
	o := jobs.New(db, jobs.Options{Poll: 5 * time.Millisecond, MinBackoff: time.Second, MaxBackoff: 8 * time.Second,
		Now: clk.Now, Logger: quiet, Handlers: map[string]jobs.Handler{
			"flaky": func(context.Context, jobs.Job) error { return errors.New("HTTP 503") },
			"limited": func(context.Context, jobs.Job) error {
				return &notify.RetryAfterError{After: 90 * time.Second, Err: errors.New("HTTP 429")}
			},
			"paused": func(context.Context, jobs.Job) error {
				return &notify.RetryAfterError{After: 7 * 24 * time.Hour, Err: errors.New("HTTP 429")}
			},
		}})
	run(t, o)
	if err := o.Enqueue(ctx, "flaky", "f1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	// Exponential from MinBackoff, doubling up to MaxBackoff, ±20%.
	for n, want := range []time.Duration{1, 2, 4, 8, 8, 8} {
		want *= time.Second
		waitFor(t, 5*time.Second, fmt.Sprintf("failure %d", n+1), func() bool { return jobByKey(t, db, "f1").Attempts == n+1 })
		j := jobByKey(t, db, "f1")
		wait := j.NextAt.Sub(clk.Now())
		lo, hi := want*8/10-time.Millisecond, want*12/10+time.Millisecond
		if wait < lo || wait > hi || j.Status != jobs.StatusPending || j.LastError != "HTTP 503" {
			t.Fatalf("after failure %d: next attempt in %s (want %s..%s), %+v", n+1, wait, lo, hi, j)
		}
		if n < 5 { // the sixth failure waits for the clock to jump a day below
			clk.Set(j.NextAt)
		}
	}
	// A server's Retry-After wins over a shorter backoff.
	if err := o.Enqueue(ctx, "limited", "l1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the rate-limited attempt", func() bool { return jobByKey(t, db, "l1").Attempts == 1 })
	if wait := jobByKey(t, db, "l1").NextAt.Sub(clk.Now()); wait < 90*time.Second || wait > 90*time.Second+time.Millisecond {
		t.Fatalf("after a 429 with Retry-After 90s the next attempt is in %s", wait)
	}
	// A Retry-After past the job's last day is cut to that day: the last
	// attempt comes 24 h after the job was made, not a week later.
	if err := o.Enqueue(ctx, "paused", "p1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the paused attempt", func() bool { return jobByKey(t, db, "p1").Attempts == 1 })
	if j := jobByKey(t, db, "p1"); !j.NextAt.Equal(j.CreatedAt.Add(24 * time.Hour)) {
		t.Fatalf("after a 429 with Retry-After of a week the next attempt is at %s, the job was made at %s", j.NextAt, j.CreatedAt)
	}
	// A job still failing a day after it was enqueued is dead.
	clk.Set(created.Add(24*time.Hour + time.Minute))
	waitFor(t, 5*time.Second, "the old job to die", func() bool { return jobByKey(t, db, "f1").Status == jobs.StatusDead })
	if j := jobByKey(t, db, "f1"); j.Attempts != 7 {
		t.Fatalf("dead after %d attempts, want 7", j.Attempts)
	}
}

func TestOutboxPermanentErrorAndMaxAttemptsKillJobs(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	var calls atomic.Int32
	opts := fast(map[string]jobs.Handler{
		"notify:rejecting": func(context.Context, jobs.Job) error {
			calls.Add(1)
			return notify.Permanent(errors.New("HTTP 400: bad token"))
		},
		"notify:flaky": func(context.Context, jobs.Job) error { return errors.New("HTTP 502") },
	})
	opts.MaxAttempts = 3
	o := jobs.New(db, opts)
	run(t, o)
	for _, kind := range []string{"notify:rejecting", "notify:flaky"} {
		if err := o.Enqueue(ctx, kind, kind+"/1", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "both jobs to die", func() bool {
		return jobByKey(t, db, "notify:rejecting/1").Status == jobs.StatusDead &&
			jobByKey(t, db, "notify:flaky/1").Status == jobs.StatusDead
	})
	if j := jobByKey(t, db, "notify:rejecting/1"); j.Attempts != 1 || calls.Load() != 1 || !strings.Contains(j.LastError, "bad token") {
		t.Fatalf("permanent failure: %+v after %d calls", j, calls.Load())
	}
	if j := jobByKey(t, db, "notify:flaky/1"); j.Attempts != 3 {
		t.Fatalf("MaxAttempts 3: dead after %d attempts", j.Attempts)
	}
}

func TestOutboxHandlerPanicIsAFailure(t *testing.T) {
	db := newStore(t)
	var calls atomic.Int32
	o := jobs.New(db, fast(map[string]jobs.Handler{"notify:ops": func(context.Context, jobs.Job) error {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // a nil-map write panics
		}
		return nil
	}}))
	run(t, o)
	if err := o.Enqueue(context.Background(), "notify:ops", "p1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the job to be sent", func() bool { return jobByKey(t, db, "p1").Status == jobs.StatusSent })
	if j := jobByKey(t, db, "p1"); j.Attempts != 2 || !strings.Contains(j.LastError, "panicked") {
		t.Fatalf("after a panic and a success: %+v", j)
	}
	if h := o.Health()["notify:ops"]; !h.Healthy || h.ConsecutiveFailures != 0 || h.LastSuccess.IsZero() {
		t.Fatalf("health: %+v", h)
	}
}

func TestOutboxHandlerLookup(t *testing.T) {
	db := newStore(t)
	var (
		mu  sync.Mutex
		got = map[string]string{}
	)
	handler := func(name string) jobs.Handler {
		return func(_ context.Context, j jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			got[j.Kind] = name
			return nil
		}
	}
	o := jobs.New(db, fast(map[string]jobs.Handler{
		"notify:":       handler("notify:"),
		"notify:pager":  handler("notify:pager"),
		"notify:team:":  handler("notify:team:"),
		"digest:weekly": handler("digest:weekly"),
	}))
	run(t, o)
	want := map[string]string{
		"notify:ops":         "notify:",
		"notify:pager":       "notify:pager",
		"notify:pager:night": "notify:",
		"notify:team:a":      "notify:team:",
		"notify:teamx":       "notify:",
		"digest:weekly":      "digest:weekly",
	}
	for kind := range want {
		if err := o.Enqueue(context.Background(), kind, "k-"+kind, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Enqueue(context.Background(), "digest:daily", "k-daily", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every handled kind", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(want)
	})
	mu.Lock()
	for kind, name := range want {
		if got[kind] != name {
			t.Errorf("%s went to %q, want %q", kind, got[kind], name)
		}
	}
	mu.Unlock()
	// A kind nothing handles is retried (another node may know it), not lost.
	waitFor(t, 5*time.Second, "the unhandled job to fail", func() bool { return jobByKey(t, db, "k-daily").Attempts > 0 })
	if j := jobByKey(t, db, "k-daily"); j.Status != jobs.StatusPending || !strings.Contains(j.LastError, "no handler") {
		t.Fatalf("unhandled kind: %+v", j)
	}
}

// A kind whose receiver hangs holds at most half the workers, so another
// kind's jobs go out at once.
func TestOutboxHangingKindDoesNotDelayOthers(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	var (
		slowNow, slowMax atomic.Int32
		mu               sync.Mutex
		fastDone         []time.Time
	)
	opts := fast(map[string]jobs.Handler{
		"notify:hanging": func(ctx context.Context, _ jobs.Job) error {
			n := slowNow.Add(1)
			defer slowNow.Add(-1)
			for m := slowMax.Load(); n > m && !slowMax.CompareAndSwap(m, n); m = slowMax.Load() {
			}
			<-ctx.Done() // hangs until the send timeout
			return ctx.Err()
		},
		"notify:ops": func(context.Context, jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			fastDone = append(fastDone, time.Now())
			return nil
		},
	})
	opts.Concurrency, opts.SendTimeout = 4, 2*time.Second
	o := jobs.New(db, opts)
	stop := run(t, o)
	for i := range 8 {
		if err := o.Enqueue(ctx, "notify:hanging", fmt.Sprint("hang-", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 2*time.Second, "hanging sends", func() bool { return slowNow.Load() == 2 })
	start := time.Now()
	for i := range 10 {
		if err := o.Enqueue(ctx, "notify:ops", fmt.Sprint("ops-", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, time.Second, "the other kind's jobs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(fastDone) == 10
	})
	t.Logf("10 jobs sent in %s beside a hanging kind", time.Since(start))
	if m := slowMax.Load(); m != 2 {
		t.Fatalf("the hanging kind had %d sends in flight, want at most 2 (half of 4)", m)
	}
	stop()
}

// Shutting down waits for the sends in flight, which are not cancelled, and
// records them as sent.
func TestOutboxDrainsOnShutdown(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	var started, finished atomic.Int32
	o := jobs.New(db, fast(map[string]jobs.Handler{"notify:": func(ctx context.Context, _ jobs.Job) error {
		started.Add(1)
		select {
		case <-time.After(300 * time.Millisecond):
			finished.Add(1)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}))
	stop := run(t, o)
	for i, kind := range []string{"notify:ops", "notify:ops", "notify:pager"} {
		if err := o.Enqueue(ctx, kind, fmt.Sprint("drain-", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 2*time.Second, "three sends in flight", func() bool { return started.Load() == 3 })
	took := stop()
	if finished.Load() != 3 {
		t.Fatalf("Run returned with %d of 3 sends finished", finished.Load())
	}
	stats, err := db.JobStats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if stats["notify:ops"].Sent != 2 || stats["notify:pager"].Sent != 1 || stats["notify:ops"].Pending != 0 {
		t.Fatalf("after the drain: %+v", stats)
	}
	t.Logf("drained in %s", took)
}

// Health turns failing after three failures in a row and healthy again on a
// success; OnChange hears both flips, once each.
func TestOutboxHealthFlipsAndRequeue(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	var (
		down    atomic.Bool
		mu      sync.Mutex
		changes []string
	)
	down.Store(true)
	opts := fast(map[string]jobs.Handler{"notify:ops": func(context.Context, jobs.Job) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}})
	opts.MaxAttempts = 4
	opts.OnChange = func(kind string, h jobs.KindHealth) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, fmt.Sprintf("%s healthy=%v failures=%d", kind, h.Healthy, h.ConsecutiveFailures))
	}
	o := jobs.New(db, opts)
	run(t, o)
	if err := o.Enqueue(ctx, "notify:ops", "h1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the job to die", func() bool { return jobByKey(t, db, "h1").Status == jobs.StatusDead })
	h := o.Health()["notify:ops"]
	if h.Healthy || h.ConsecutiveFailures != 4 || h.LastError != "connection refused" {
		t.Fatalf("health while failing: %+v", h)
	}
	down.Store(false)
	j := jobByKey(t, db, "h1")
	if err := o.Requeue(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the requeued job to be sent", func() bool { return jobByKey(t, db, "h1").Status == jobs.StatusSent })
	if err := o.Requeue(ctx, j.ID); !errcode.Is(err, errcode.Conflict) {
		t.Fatalf("requeue of a sent job: %v, want conflict", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"notify:ops healthy=false failures=3", "notify:ops healthy=true failures=0"}
	if !slices.Equal(changes, want) {
		t.Fatalf("OnChange calls = %q, want %q", changes, want)
	}
}

// Two pools (two processes) over one database, with every key enqueued
// twice: each job runs exactly once.
func TestOutboxTwoPoolsRunEachJobOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	dbs := []*store.DB{openStore(t, path), openStore(t, path)}
	ctx := context.Background()
	var (
		mu    sync.Mutex
		calls = map[string]int{}
	)
	h := func(_ context.Context, j jobs.Job) error {
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		calls[j.Key]++
		return nil
	}
	var pools []*jobs.Outbox
	for i, db := range dbs {
		opts := fast(map[string]jobs.Handler{"notify:": h})
		opts.Owner = fmt.Sprint("node-", i)
		o := jobs.New(db, opts)
		run(t, o)
		pools = append(pools, o)
	}
	const n = 60
	for i := range n {
		for _, o := range pools {
			if err := o.Enqueue(ctx, fmt.Sprint("notify:k", i%3), fmt.Sprint("once-", i), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pools[0].Enqueue(ctx, "notify:ops", "", nil); !errcode.Is(err, errcode.Invalid) {
		t.Fatalf("enqueue without a key: %v, want invalid", err)
	}
	if err := pools[0].Enqueue(ctx, "notify:ops", "bin", []byte{0xff, 0}); !errcode.Is(err, errcode.Invalid) {
		t.Fatalf("enqueue of a binary payload: %v, want invalid", err)
	}
	waitFor(t, 10*time.Second, "every job", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) == n
	})
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for key, c := range calls {
		if c != 1 {
			t.Errorf("%s ran %d times", key, c)
		}
	}
}

// receiver is a loopback webhook endpoint that records each delivery id
// (the X-Steward-Delivery header) it accepts, and can be taken down: it then
// answers 503, or drops connections without a response.
type receiver struct {
	mu      sync.Mutex
	down    string // "", "503" or "drop"
	refused int
	got     map[string]int
	last    time.Time
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	id := req.Header.Get("X-Steward-Delivery")
	io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	down := r.down
	if down != "" {
		r.refused++
	} else {
		r.got[id]++
		r.last = time.Now()
	}
	r.mu.Unlock()
	switch down {
	case "503":
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	case "drop":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (r *receiver) setDown(mode string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = mode
}

// webhook is a notify handler as a channel would be: it posts the notice
// with its stable id, and sorts failures into retryable and permanent.
func webhook(client *http.Client, url string) jobs.Handler {
	return func(ctx context.Context, j jobs.Job) error {
		var n notify.Notice
		if err := json.Unmarshal(j.Payload, &n); err != nil {
			return notify.Permanent(fmt.Errorf("decode notice: %w", err))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(j.Payload))
		if err != nil {
			return notify.Permanent(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Steward-Delivery", n.ID)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return fmt.Errorf("webhook answered %s", resp.Status)
		default:
			return notify.Permanent(fmt.Errorf("webhook answered %s", resp.Status))
		}
	}
}

// The acceptance test of the outbox. It takes a minute of real time on
// purpose: the receiver stays down for a full 60 s, long enough for every
// notice to be retried many times at the capped backoff and for the process
// to be restarted mid-outage, the situation the outbox exists for. Every
// notice must then arrive exactly once, within seconds of the receiver's
// return.
func TestOutboxNoticesSurviveAMinuteOutageAndARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a minute of real time")
	}
	const outage = 60 * time.Second
	rcv := &receiver{got: map[string]int{}, down: "503"}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "steward.db")
	ctx := context.Background()

	var (
		mu      sync.Mutex
		changes []string
	)
	newOutbox := func(db *store.DB, owner string) *jobs.Outbox {
		return jobs.New(db, jobs.Options{
			Owner:      owner,
			Handlers:   map[string]jobs.Handler{"notify:": webhook(srv.Client(), srv.URL)},
			Poll:       100 * time.Millisecond,
			MaxBackoff: 5 * time.Second,
			Logger:     quiet,
			OnChange: func(kind string, h jobs.KindHealth) {
				mu.Lock()
				defer mu.Unlock()
				changes = append(changes, fmt.Sprintf("%s %s healthy=%v", owner, kind, h.Healthy))
			},
		})
	}
	notice := func(i int) (kind, key string, payload []byte) {
		kind = []string{"notify:ops", "notify:pager"}[i%2]
		key = fmt.Sprintf("alert-%02d-firing", i)
		payload, _ = json.Marshal(notify.Notice{ID: key, Level: notify.LevelCritical, Status: notify.StatusFiring,
			Title: fmt.Sprintf("Alert %d", i), TitleZH: fmt.Sprintf("告警 %d", i), At: time.Now().UTC()})
		return kind, key, payload
	}
	enqueue := func(o *jobs.Outbox, i int) {
		kind, key, payload := notice(i)
		if err := o.Enqueue(ctx, kind, key, payload); err != nil {
			t.Fatal(err)
		}
	}

	// The first process enqueues 12 notices while the receiver is down.
	began := time.Now()
	db1, err := store.Open(ctx, store.Options{SQLitePath: path, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first := newOutbox(db1, "process-1")
	stop1 := run(t, first)
	for i := range 12 {
		enqueue(first, i)
	}

	// Halfway through the outage the process restarts: its pool drains, its
	// database closes, and a new process opens the same file. The receiver
	// now drops connections instead of answering 503.
	time.Sleep(outage/2 - time.Since(began))
	rcv.setDown("drop")
	drained := stop1()
	if err := db1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db2 := openStore(t, path)
	pending, err := db2.Jobs(ctx, jobs.JobFilter{Status: jobs.StatusPending})
	if err != nil || len(pending) != 12 {
		t.Fatalf("after the restart %d jobs are pending (%v), want 12", len(pending), err)
	}
	second := newOutbox(db2, "process-2")
	stop2 := run(t, second)
	// The new process enqueues 8 more, and 3 of the first again (as a
	// producer that retries would): those are not enqueued twice.
	for i := 12; i < 20; i++ {
		enqueue(second, i)
	}
	for i := range 3 {
		enqueue(second, i)
	}

	time.Sleep(outage - time.Since(began))
	rcv.setDown("")
	back := time.Now()
	rcv.mu.Lock()
	refused := rcv.refused
	rcv.mu.Unlock()
	t.Logf("receiver back after %s; it refused %d deliveries while down; the restart drained in %s",
		back.Sub(began).Round(time.Millisecond), refused, drained.Round(time.Millisecond))
	if refused < 40 {
		t.Fatalf("only %d deliveries were tried during the outage", refused)
	}
	if h := second.Health()["notify:ops"]; h.Healthy || h.ConsecutiveFailures < jobs.FailureThreshold {
		t.Fatalf("notify:ops health during the outage: %+v", h)
	}

	waitFor(t, 15*time.Second, "all 20 notices to arrive", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return len(rcv.got) == 20
	})
	// Leave time for a duplicate to show up, then stop.
	time.Sleep(2 * time.Second)
	stop2()

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for i := range 20 {
		_, key, _ := notice(i)
		if n := rcv.got[key]; n != 1 {
			t.Errorf("%s arrived %d times, want exactly once", key, n)
		}
	}
	if len(rcv.got) != 20 {
		t.Errorf("%d distinct deliveries arrived, want 20: %v", len(rcv.got), rcv.got)
	}
	catchUp := rcv.last.Sub(back)
	t.Logf("all 20 notices arrived within %s of the receiver's return", catchUp.Round(time.Millisecond))
	if catchUp > 8*time.Second {
		t.Errorf("the last notice arrived %s after the receiver came back, want a few seconds (MaxBackoff 5s)", catchUp)
	}
	stats, err := db2.JobStats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for kind, s := range stats {
		if s.Pending != 0 || s.Dead != 0 || s.Sent != 10 {
			t.Errorf("%s: %+v, want 10 sent", kind, s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, kind := range []string{"notify:ops", "notify:pager"} {
		want := []string{"process-2 " + kind + " healthy=false", "process-2 " + kind + " healthy=true"}
		var got []string
		for _, c := range changes {
			if strings.HasPrefix(c, "process-2 "+kind+" ") {
				got = append(got, c)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("OnChange for %s in the second process: %q, want %q", kind, got, want)
		}
	}
}
