// Package jobs is Steward's durable outbox: work that must happen outside the
// request that caused it, above all notices to operators, is first committed
// to the store and then carried out by a bounded pool of workers that retries
// with backoff and is drained on shutdown.
//
// Delivery is exactly once in normal operation and at least once always:
//
//   - Enqueue returns only after the job is committed, so nothing enqueued is
//     lost to a crash, and enqueueing a key that exists already is a no-op, so
//     a producer that retries (or runs on two nodes) creates no duplicates.
//   - A worker claims a job by writing a lease (owner, expiry) with one
//     conditional UPDATE, so two workers, in one process or on two nodes,
//     never hold the same job at once.
//   - A job is marked sent only after its handler returned nil.
//   - A crash, or a lost database, between a successful send and its
//     completion leaves the job pending under an expiring lease: it is sent
//     again. That is why every job has a stable key and every notice a stable
//     id derived from it (notify.Notice.ID, the webhook's X-Steward-Delivery
//     header), so receivers that can deduplicate do.
//
// Handlers must honour their context: each call gets SendTimeout, which is
// kept under half the lease so a job cannot be claimed again while its first
// send is still running.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/token"
)

// Statuses of a job.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	// StatusDead is a job given up on; an operator may requeue it.
	StatusDead = "dead"
)

// FailureThreshold is how many consecutive failures make a kind unhealthy.
const FailureThreshold = 3

// Job is one unit of durable work.
type Job struct {
	ID int64
	// Kind selects the handler, e.g. "notify:ops".
	Kind string
	// Key is unique across all jobs: a second job with the same key is not
	// enqueued. Notices derive their stable id from it.
	Key string
	// Payload is text, usually JSON.
	Payload []byte
	// Attempts counts the finished attempts, failed or not.
	Attempts  int
	NextAt    time.Time
	Status    string
	LastError string
	CreatedAt time.Time
	SentAt    time.Time // zero until sent
}

// Claim asks the store to lease due jobs to one worker pool.
type Claim struct {
	Owner string
	Now   time.Time
	Lease time.Duration
	// Limit bounds the jobs leased by this claim.
	Limit int
	// PerKind bounds the jobs of one kind Owner holds at once, counting
	// Busy; 0 means no bound. It keeps one slow kind from taking every
	// worker.
	PerKind int
	// Busy counts the jobs of each kind Owner is running already.
	Busy map[string]int
}

// JobFilter selects jobs for the console; empty fields match everything.
type JobFilter struct {
	Status string
	Kind   string
	// Limit bounds the result (the store's default when 0).
	Limit int
}

// KindStats counts the jobs of one kind.
type KindStats struct {
	Pending, Sent, Dead int
	// OldestPending is the age of the oldest pending job.
	OldestPending time.Duration
}

// JobStats holds the counts of each kind.
type JobStats map[string]KindStats

// Store keeps jobs durably.
type Store interface {
	// EnqueueJob stores j unless a job with j.Key exists; either way it
	// returns that job's id.
	EnqueueJob(ctx context.Context, j Job) (id int64, created bool, err error)
	// ClaimJobs leases due pending jobs whose lease has expired, oldest
	// first, atomically: no two claims get the same job.
	ClaimJobs(ctx context.Context, c Claim) ([]Job, error)
	// CompleteJob marks a job leased to owner as sent.
	CompleteJob(ctx context.Context, id int64, owner string, at time.Time) error
	// RetryJob records a failed attempt of a job leased to owner and
	// releases it until next, or for good when dead.
	RetryJob(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error
	// JobStats counts jobs by kind and status.
	JobStats(ctx context.Context, now time.Time) (JobStats, error)
	// Jobs lists jobs newest first.
	Jobs(ctx context.Context, f JobFilter) ([]Job, error)
	// RequeueJob makes a dead job pending again, due at once, with its
	// attempts reset and its age counted from now (a job that died of age
	// would otherwise die again at its first failure).
	RequeueJob(ctx context.Context, id int64, now time.Time) error
}

// Handler carries out one job. An error marked notify.Permanent kills the
// job at once; a notify.RetryAfterError delays the next attempt.
type Handler func(ctx context.Context, j Job) error

// KindHealth is how a kind's jobs have been going.
type KindHealth struct {
	// Healthy turns false after FailureThreshold consecutive failures and
	// true again on the next success.
	Healthy             bool
	ConsecutiveFailures int
	LastError           string
	LastFailure         time.Time
	LastSuccess         time.Time
	// Pending, Dead and OldestPending come from the last statistics read
	// (every few seconds), across all nodes.
	Pending       int
	Dead          int
	OldestPending time.Duration
}

// Options configure an Outbox; zero values take the defaults.
type Options struct {
	// Handlers maps a kind to its handler. A key ending in ":" is a prefix:
	// "notify:" handles "notify:ops" and "notify:pager" unless they have
	// their own entry; the longest prefix wins.
	Handlers map[string]Handler
	// Owner names this worker pool in leases (default host name, process
	// id and a random suffix). Two pools must never share an owner.
	Owner string
	// Concurrency bounds the handlers running at once (default 4).
	Concurrency int
	// KindConcurrency bounds those of one kind (default Concurrency/2, at
	// least 1), so a slow kind cannot starve the others.
	KindConcurrency int
	// Poll is how often due jobs are looked for when nothing wakes the
	// pool (default 500ms).
	Poll time.Duration
	// Lease is how long a claimed job is reserved (default 30s, and at
	// least twice SendTimeout).
	Lease time.Duration
	// SendTimeout bounds one handler call (default 15s).
	SendTimeout time.Duration
	// MinBackoff is the wait after a first failure (default 1s); it
	// doubles with every failure up to MaxBackoff (default 60s), with ±20%
	// jitter.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxAttempts kills a job after so many failures; 0 means no bound.
	MaxAttempts int
	// MaxAge kills a job that fails when it is older than this (default
	// 24h).
	MaxAge time.Duration
	// OnChange is told when a kind turns unhealthy or healthy again. It is
	// called in order on a worker goroutine and must return quickly.
	OnChange func(kind string, h KindHealth)
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// statsEvery is how often Run refreshes the counts Health reports.
const statsEvery = 5 * time.Second

// Outbox enqueues jobs durably and runs them.
type Outbox struct {
	st     Store
	opts   Options
	logger *slog.Logger
	wake   chan struct{}

	mu     sync.Mutex // guards health
	health map[string]KindHealth
	// changeMu keeps OnChange calls in the order the changes happened.
	changeMu sync.Mutex
}

// New returns an Outbox over st; call Run to start its workers.
func New(st Store, opts Options) *Outbox {
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), token.ID("", 5))
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.KindConcurrency <= 0 {
		opts.KindConcurrency = max(1, opts.Concurrency/2)
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 15 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	opts.Lease = max(opts.Lease, 2*opts.SendTimeout)
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 60 * time.Second
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Outbox{
		st:     st,
		opts:   opts,
		logger: opts.Logger.With("component", "jobs"),
		wake:   make(chan struct{}, 1),
		health: map[string]KindHealth{},
	}
}

// Enqueue stores a job and wakes the workers; it returns once the job is
// durable and never waits for it to run. A key enqueued before is not
// enqueued again.
func (o *Outbox) Enqueue(ctx context.Context, kind, key string, payload []byte) error {
	switch {
	case kind == "":
		return errcode.Errorf(errcode.Invalid, "a job needs a kind")
	case key == "":
		return errcode.Errorf(errcode.Invalid, "a %s job needs a key", kind)
	case !utf8.Valid(payload) || strings.ContainsRune(string(payload), 0):
		return errcode.Errorf(errcode.Invalid, "the payload of job %s is not text", key)
	}
	now := o.opts.Now()
	if _, _, err := o.st.EnqueueJob(ctx, Job{Kind: kind, Key: key, Payload: payload, Status: StatusPending,
		NextAt: now, CreatedAt: now}); err != nil {
		return fmt.Errorf("enqueue %s job %s: %w", kind, key, err)
	}
	o.poke()
	return nil
}

// Requeue gives a dead job another attempt now.
func (o *Outbox) Requeue(ctx context.Context, id int64) error {
	if err := o.st.RequeueJob(ctx, id, o.opts.Now()); err != nil {
		return fmt.Errorf("requeue job %d: %w", id, err)
	}
	o.poke()
	return nil
}

// Jobs lists jobs, newest first, for operators.
func (o *Outbox) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	switch f.Status {
	case "", StatusPending, StatusSent, StatusDead:
	default:
		return nil, errcode.Errorf(errcode.Invalid, "status %q is none of pending, sent, dead", f.Status)
	}
	js, err := o.st.Jobs(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return js, nil
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run claims due jobs and runs their handlers until ctx is done, then waits
// for the handlers in flight, which keep their own timeouts, and records
// their outcome. Call it once.
func (o *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var (
		busy     = map[string]int{}
		inflight int
		// done gets a kind whenever a handler has finished; one slot per
		// worker, so a worker never blocks on it even after Run stopped
		// reading.
		done      = make(chan string, o.opts.Concurrency)
		poll      = time.NewTicker(o.opts.Poll)
		nextStats time.Time
		claimErr  error
	)
	defer poll.Stop()
	for {
		if time.Now().After(nextStats) {
			o.refreshStats(ctx)
			nextStats = time.Now().Add(statsEvery)
		}
		if free := o.opts.Concurrency - inflight; free > 0 {
			claimed, err := o.st.ClaimJobs(ctx, Claim{Owner: o.opts.Owner, Now: o.opts.Now(), Lease: o.opts.Lease,
				Limit: free, PerKind: o.opts.KindConcurrency, Busy: maps.Clone(busy)})
			switch {
			case err != nil && ctx.Err() == nil:
				if claimErr == nil {
					o.logger.Error("claim jobs", "error", err)
				}
				claimErr = err
			case err == nil && claimErr != nil:
				o.logger.Info("claiming jobs again")
				claimErr = nil
			}
			for _, j := range claimed {
				busy[j.Kind]++
				inflight++
				wg.Go(func() {
					o.work(ctx, j)
					done <- j.Kind
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case kind := <-done:
			inflight--
			if busy[kind]--; busy[kind] <= 0 {
				delete(busy, kind)
			}
		case <-o.wake:
		case <-poll.C:
		}
	}
}

// work runs one claimed job and records the outcome. Neither the handler
// nor the bookkeeping is cut short by Run's context: that is the drain.
func (o *Outbox) work(ctx context.Context, j Job) {
	ctx = context.WithoutCancel(ctx)
	sendCtx, cancel := context.WithTimeout(ctx, o.opts.SendTimeout)
	err := o.call(sendCtx, j)
	cancel()

	now := o.opts.Now()
	log := o.logger.With("job_id", j.ID, "kind", j.Kind, "key", j.Key, "attempt", j.Attempts+1)
	ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Health follows the attempt itself, and is recorded before the job's
	// row changes: whoever sees the row sent or dead sees the health too.
	o.record(j.Kind, err, now)
	if err == nil {
		if cerr := persist(ctx, func() error { return o.st.CompleteJob(ctx, j.ID, o.opts.Owner, now) }); cerr != nil {
			log.Error("complete job; it may be sent again", "error", cerr)
		}
		return
	}
	next, dead := o.schedule(j, err, now)
	if rerr := persist(ctx, func() error {
		return o.st.RetryJob(ctx, j.ID, o.opts.Owner, next, truncate(err.Error(), 1000), dead)
	}); rerr != nil {
		log.Error("record failed job", "error", rerr, "job_error", err)
	} else if dead {
		log.Error("job is dead", "error", err)
	} else {
		log.Warn("job failed, will retry", "error", err, "next_at", next)
	}
}

// persist runs a store update, trying again twice after an error that may
// pass (a lost connection, a busy database): a completion that is not
// recorded means the job is sent again. A lost lease is final.
func persist(ctx context.Context, update func() error) error {
	wait := 200 * time.Millisecond
	for try := 1; ; try++ {
		err := update()
		if err == nil || try == 3 || errcode.Is(err, errcode.Conflict) || errcode.Is(err, errcode.NotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
			wait *= 2
		}
	}
}

// errNoHandler fails a job whose kind nothing handles here; it is retried,
// as another node (or the next version) may know the kind.
var errNoHandler = errors.New("no handler for this kind")

// call runs j's handler, turning a panic into an error.
func (o *Outbox) call(ctx context.Context, j Job) (err error) {
	h := o.handler(j.Kind)
	if h == nil {
		return errNoHandler
	}
	defer func() {
		if r := recover(); r != nil {
			o.logger.Error("job handler panicked", "kind", j.Kind, "job_id", j.ID, "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, j)
}

// handler returns the handler of kind: its own, else the one of its longest
// registered prefix ending in ":".
func (o *Outbox) handler(kind string) Handler {
	if h, ok := o.opts.Handlers[kind]; ok {
		return h
	}
	for i := len(kind) - 2; i >= 0; i-- {
		if kind[i] == ':' {
			if h, ok := o.opts.Handlers[kind[:i+1]]; ok {
				return h
			}
		}
	}
	return nil
}

// schedule decides when a job that failed with err at now is tried again,
// or that it is dead.
func (o *Outbox) schedule(j Job, err error, now time.Time) (next time.Time, dead bool) {
	failures := j.Attempts + 1
	switch {
	case notify.IsPermanent(err):
		return now, true
	case o.opts.MaxAttempts > 0 && failures >= o.opts.MaxAttempts:
		return now, true
	case now.Sub(j.CreatedAt) >= o.opts.MaxAge:
		return now, true
	}
	next = now.Add(backoff(failures, o.opts.MinBackoff, o.opts.MaxBackoff))
	if after, ok := notify.RetryAfter(err); ok && after > next.Sub(now) {
		next = now.Add(min(after, o.opts.MaxAge)) // min: a Retry-After of centuries must not overflow
	}
	// A receiver asking for a pause past the job's last day (Retry-After:
	// a week) gets its last attempt at the end of that day, not a week
	// later: a notice is given up after MaxAge, never kept beyond it.
	if last := j.CreatedAt.Add(o.opts.MaxAge); next.After(last) {
		next = last
	}
	return next, false
}

// backoff is the wait after the n-th consecutive failure: lo doubled n-1
// times, at most hi, then ±20% jitter.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return time.Duration(float64(min(d, hi)) * (0.8 + 0.4*rand.Float64()))
}

// record updates kind's health after an attempt and reports a flip.
func (o *Outbox) record(kind string, err error, now time.Time) {
	o.mu.Lock()
	h, ok := o.health[kind]
	if !ok {
		h.Healthy = true
	}
	was := h.Healthy
	if err == nil {
		h.ConsecutiveFailures, h.LastSuccess, h.Healthy = 0, now, true
	} else {
		h.ConsecutiveFailures++
		h.LastError, h.LastFailure = truncate(err.Error(), 300), now
		if h.ConsecutiveFailures >= FailureThreshold {
			h.Healthy = false
		}
	}
	o.health[kind] = h
	if h.Healthy == was || o.opts.OnChange == nil {
		o.mu.Unlock()
		return
	}
	// Taking changeMu before releasing mu orders the calls as the flips.
	o.changeMu.Lock()
	o.mu.Unlock()
	defer o.changeMu.Unlock()
	if h.Healthy {
		o.logger.Info("job kind is healthy again", "kind", kind)
	} else {
		o.logger.Warn("job kind is failing", "kind", kind, "failures", h.ConsecutiveFailures, "error", h.LastError)
	}
	o.opts.OnChange(kind, h)
}

func (o *Outbox) refreshStats(ctx context.Context) {
	stats, err := o.st.JobStats(ctx, o.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			o.logger.Warn("read job statistics", "error", err)
		}
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for kind, h := range o.health {
		h.Pending, h.Dead, h.OldestPending = 0, 0, 0
		o.health[kind] = h
	}
	for kind, s := range stats {
		h, ok := o.health[kind]
		if !ok {
			h.Healthy = true
		}
		h.Pending, h.Dead, h.OldestPending = s.Pending, s.Dead, s.OldestPending
		o.health[kind] = h
	}
}

// Health returns each kind's health as this process has seen it.
func (o *Outbox) Health() map[string]KindHealth {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.health)
}

func truncate(s string, n int) string {
	// PostgreSQL's text takes neither invalid UTF-8 nor NUL, and an error
	// may carry both (an SMTP server's reply in GBK): refused, the failure
	// was never recorded and the job was sent again every lease, for ever.
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
