package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// errWriterClosed is returned for writes submitted after Close.
var errWriterClosed = errors.New("store is closed")

type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// writer owns the write connection. It gathers the requests that arrive while
// a commit is in flight and commits them together: one fsync serves many
// turns. One failing request does not undo the others (see try).
type writer struct {
	db       *sql.DB
	maxBatch int
	logger   *slog.Logger
	// transient, if set, says an error left nothing committed and may pass
	// (PostgreSQL); onTransient is told of each such error before the retry.
	transient   func(error) bool
	onTransient func(error)
	// timeout, if set, bounds one try of a batch (PostgreSQL): a server
	// that vanished without a word (power, network) fails the batch after
	// it, instead of holding every write of the node for the kernel's TCP
	// timeout, which is minutes.
	timeout time.Duration

	reqs    chan writeReq
	mu      sync.RWMutex // guards closed against sends on reqs
	closed  bool
	stopped chan struct{}

	// Counters since start, for WriterStats.
	batches, writes atomic.Uint64
	busy            atomic.Int64 // nanoseconds spent running batches
}

// start starts w's loop; set its fields first.
func (w *writer) start() *writer {
	w.reqs, w.stopped = make(chan writeReq, w.maxBatch), make(chan struct{})
	go w.loop()
	return w
}

// do submits fn and waits until its transaction has committed or failed.
// If ctx ends while fn is still queued, fn is skipped; once it is running,
// the result stands and do reports it.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	req := writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errWriterClosed
	}
	select {
	case w.reqs <- req:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	return <-req.done
}

func (w *writer) loop() {
	defer close(w.stopped)
	batch := make([]writeReq, 0, w.maxBatch)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		start := time.Now()
		w.commit(batch)
		w.busy.Add(int64(time.Since(start)))
		w.batches.Add(1)
		w.writes.Add(uint64(len(batch)))
	}
}

// Retrying a read or a write batch: how many times it is tried in all;
// the wait after the n-th try is retryWait(n): 25 ms doubled each time,
// 25 ms … 800 ms, about 1.6 s in all, inside the spool's two-second bound
// on a turn's write, and enough to ride out a PostgreSQL restart or a
// failover's reconnect.
const tries = 6

func retryWait(try int) time.Duration { return 25 * time.Millisecond << (try - 1) }

// commit runs batch in one transaction. When the transaction fails in a
// way that says nothing of it was committed (a lost connection before the
// commit was sent, a read-only server after a failover, a serialisation
// failure), it runs again on a fresh connection: the caller never sees a
// failure that a second try would not have. A request whose own statement
// failed that way is tried again in the next round while its neighbours
// commit.
func (w *writer) commit(batch []writeReq) {
	for try := 1; ; try++ {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if w.timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, w.timeout)
		}
		results, err, atCommit := w.try(ctx, batch)
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			// The server did not answer within the bound: every request
			// fails (one whose commit was under way may have landed), and
			// the pool starts afresh, since its other connections most
			// likely lead to the same silent server.
			err = fmt.Errorf("the database did not answer within %s: %w", w.timeout, cmp.Or(err, context.DeadlineExceeded))
			w.logger.Error("group commit timed out", "error", err, "batch", len(batch), "at_commit", atCommit)
			if w.onTransient != nil {
				w.onTransient(err)
			}
			err = unreachable(err)
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		retry := w.transient != nil && try < tries
		var again []writeReq
		cause := err // why the requests in again are tried again
		if err != nil {
			if retry && w.transient(err) && (!atCommit || pgconn.SafeToRetry(err)) {
				again = batch
			} else {
				w.logger.Error("group commit failed", "error", err, "batch", len(batch))
				err = w.outlasted(err)
				for _, r := range batch {
					r.done <- err
				}
				return
			}
		} else {
			for i, r := range batch {
				if results[i] != nil && retry && w.transient(results[i]) {
					again, cause = append(again, r), results[i]
					continue
				}
				r.done <- w.outlasted(results[i])
			}
		}
		if len(again) == 0 {
			return
		}
		w.logger.Warn("write failed for a reason that passes: trying again", "error", cause, "try", try,
			"requests", len(again), "wait", retryWait(try))
		if w.onTransient != nil {
			w.onTransient(cause)
		}
		time.Sleep(retryWait(try))
		batch = again
	}
}

// outlasted marks a transient error that is still there after the last
// try as the database being unavailable; others pass unchanged.
func (w *writer) outlasted(err error) error {
	if err != nil && w.transient != nil && w.transient(err) {
		return unreachable(err)
	}
	return busy(err)
}

// try runs batch once. err is a failure of the whole transaction (every
// request failed with it); atCommit says it came from the commit itself,
// whose outcome is then unknown unless the driver says nothing was sent.
//
// The batch runs plainly, every request straight in the one transaction.
// Only when a request fails is that transaction rolled back and the batch
// run again with each request in a savepoint (trySavepoints), so that the
// failing one does not undo its neighbours: the two statements a savepoint
// costs per request are paid by the few batches that need them. Write
// functions are safe to run twice, as the PostgreSQL retries need too.
func (w *writer) try(ctx context.Context, batch []writeReq) (results []error, err error, atCommit bool) {
	results = make([]error, len(batch))
	// The transaction outlives any one request's context (ctx is the
	// batch's own): a request that gives up must not roll back its
	// neighbours.
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err), false
	}
	for i, r := range batch {
		if results[i] = r.ctx.Err(); results[i] != nil {
			continue
		}
		if results[i] = r.fn(ctx, tx); results[i] != nil {
			tx.Rollback()
			if len(batch) == 1 {
				return results, nil, false
			}
			return w.trySavepoints(ctx, batch, results, i)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err), true
	}
	return results, nil, false
}

// trySavepoints runs batch again, each request inside a savepoint, after
// request failed ran plainly and failed; results holds what the plain run
// found up to it. The requests up to failed have started running, so they
// run again whatever their contexts say now (once a request runs, its
// result stands); those of them that were skipped for their contexts stay
// skipped.
func (w *writer) trySavepoints(ctx context.Context, batch []writeReq, results []error, failed int) ([]error, error, bool) {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err), false
	}
	for i, r := range batch {
		if i < failed && results[i] != nil {
			continue
		}
		if i > failed {
			if results[i] = r.ctx.Err(); results[i] != nil {
				continue
			}
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("savepoint: %w", err), false
		}
		if results[i] = r.fn(ctx, tx); results[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("rollback to savepoint: %w", err), false
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT w"); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("release savepoint: %w", err), false
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err), true
	}
	return results, nil, false
}

// stop refuses new writes and waits for queued ones to commit, or for ctx.
func (w *writer) stop(ctx context.Context) {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	select {
	case <-w.stopped:
	case <-ctx.Done():
	}
}

// WriterStats are the counters of the store's one writer since the store
// was opened. The writer is serial, so Busy growing by nearly a second per
// second means writes queue for it: it is what limits the write rate.
type WriterStats struct {
	Batches uint64        // transactions run (group commits)
	Writes  uint64        // write requests in them
	Busy    time.Duration // time spent running them, commits included
}

// WriterStats returns the writer's counters.
func (db *DB) WriterStats() WriterStats {
	return WriterStats{Batches: db.w.batches.Load(), Writes: db.w.writes.Load(), Busy: time.Duration(db.w.busy.Load())}
}
