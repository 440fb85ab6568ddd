package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// errWriterClosed is returned for writes submitted after Close.
var errWriterClosed = errors.New("store is closed")

type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// writer owns the write connection. It gathers the requests that arrive while
// a commit is in flight and commits them together, each inside a savepoint so
// one failing request does not undo the others: one fsync serves many turns.
type writer struct {
	db       *sql.DB
	maxBatch int
	logger   *slog.Logger

	reqs    chan writeReq
	mu      sync.RWMutex // guards closed against sends on reqs
	closed  bool
	stopped chan struct{}
}

func startWriter(db *sql.DB, maxBatch int, logger *slog.Logger) *writer {
	w := &writer{db: db, maxBatch: maxBatch, logger: logger, reqs: make(chan writeReq, maxBatch), stopped: make(chan struct{})}
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
		w.commit(batch)
	}
}

func (w *writer) commit(batch []writeReq) {
	results := make([]error, len(batch))
	err := func() error {
		// The transaction outlives any one request's context: a request
		// that gives up must not roll back its neighbours.
		ctx := context.Background()
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		single := len(batch) == 1
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if single {
				results[i] = r.fn(ctx, tx)
				continue
			}
			if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
				tx.Rollback()
				return fmt.Errorf("savepoint: %w", err)
			}
			if results[i] = r.fn(ctx, tx); results[i] != nil {
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
					tx.Rollback()
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT w"); err != nil {
				tx.Rollback()
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		if single && results[0] != nil {
			tx.Rollback()
			return nil
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}()
	if err != nil {
		w.logger.Error("group commit failed", "error", err, "batch", len(batch))
	}
	for i, r := range batch {
		if err != nil {
			r.done <- err
		} else {
			r.done <- results[i]
		}
	}
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
