package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/jobs"
)

var _ jobs.Store = (*DB)(nil)

// outboxUpdate runs an outbox write. On SQLite it joins the group commit of
// the single writer. On PostgreSQL it runs in a transaction of its own: a
// claim's or a completion's row locks then last one statement instead of a
// whole batch, so two nodes claiming and completing at once cannot deadlock
// (and a completion cannot be lost to a deadlock and the job sent twice).
//
// Like the writer's batches, it follows a restart or a failover: a
// transient error that left the transaction uncommitted (or that pgx says
// is safe to retry) starts the pool afresh and runs it again, up to tries
// times. Without that a fenced old primary kept refusing a delivered
// notice's completion, and the notice went out again.
func (db *DB) outboxUpdate(ctx context.Context, fn func(ctx context.Context, t tx) error) error {
	if db.d.name() != "postgres" {
		return db.update(ctx, fn)
	}
	for try := 1; ; try++ {
		atCommit, err := db.outboxTx(ctx, fn)
		if err == nil || (atCommit && !pgconn.SafeToRetry(err)) {
			return err
		}
		if err := db.tryAgain(ctx, try, err); err != nil {
			return err
		}
	}
}

// outboxTx runs fn in a transaction of its own; atCommit says the error
// came from the commit, after which the transaction may have committed.
func (db *DB) outboxTx(ctx context.Context, fn func(ctx context.Context, t tx) error) (atCommit bool, _ error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, tx{sqlTx: sqlTx, d: db.d}); err != nil {
		sqlTx.Rollback()
		return false, err
	}
	if err := sqlTx.Commit(); err != nil {
		return true, fmt.Errorf("commit: %w", err)
	}
	return false, nil
}

// skipLocked makes a claim pass over rows another transaction holds, on
// PostgreSQL; SQLite has a single writer and no row locks.
func skipLocked(d dialect) string {
	if d.name() == "postgres" {
		return "FOR UPDATE SKIP LOCKED"
	}
	return ""
}

const jobColumns = `id, kind, dedup_key, payload, status, attempts, next_at, last_error, created_at, sent_at`

func scanJob(row rowScanner) (jobs.Job, error) {
	var (
		j                     jobs.Job
		payload               string
		nextAt, created, sent int64
	)
	if err := row.Scan(&j.ID, &j.Kind, &j.Key, &payload, &j.Status, &j.Attempts, &nextAt, &j.LastError, &created,
		&sent); err != nil {
		return jobs.Job{}, err
	}
	j.Payload = []byte(payload)
	j.NextAt, j.CreatedAt = fromMillis(nextAt), fromMillis(created)
	if sent != 0 {
		j.SentAt = fromMillis(sent)
	}
	return j, nil
}

// EnqueueJob stores j unless its key is taken, and returns the id of the job
// holding the key.
func (db *DB) EnqueueJob(ctx context.Context, j jobs.Job) (int64, bool, error) {
	var (
		id      int64
		created bool
	)
	err := db.outboxUpdate(ctx, func(ctx context.Context, t tx) error {
		err := t.queryRow(ctx, `INSERT INTO outbox (kind, dedup_key, payload, status, next_at, created_at)
			VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
			j.Kind, j.Key, string(j.Payload), millis(j.NextAt), millis(j.CreatedAt)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			created = false
			return t.queryRow(ctx, `SELECT id FROM outbox WHERE dedup_key = $1`, j.Key).Scan(&id)
		}
		created = err == nil
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("enqueue job %s: %w", j.Key, err)
	}
	return id, created, nil
}

// ClaimJobs leases due jobs to c.Owner with one conditional UPDATE: a job is
// taken only while it is pending and its lease has expired. SQLite has one
// writer; on PostgreSQL the UPDATE re-checks those conditions on any row a
// concurrent claim changed, and skips the rows other transactions hold
// locked rather than waiting for them. No job is leased twice.
func (db *DB) ClaimJobs(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	if c.Owner == "" {
		return nil, errcode.Errorf(errcode.Invalid, "a claim needs an owner")
	}
	args := []any{c.Owner, millis(c.Now.Add(c.Lease)), millis(c.Now), c.Limit}
	perKind, order := "", "next_at, id"
	if c.PerKind > 0 {
		// Each kind gets at most PerKind minus what the owner runs already.
		busy := "0"
		if len(c.Busy) > 0 {
			var b strings.Builder
			b.WriteString("CASE kind")
			for _, kind := range slices.Sorted(maps.Keys(c.Busy)) {
				args = append(args, kind, c.Busy[kind])
				fmt.Fprintf(&b, " WHEN $%d THEN CAST($%d AS INTEGER)", len(args)-1, len(args))
			}
			b.WriteString(" ELSE 0 END")
			busy = b.String()
		}
		args = append(args, c.PerKind)
		perKind = fmt.Sprintf("WHERE rn + %s <= $%d", busy, len(args))
		// Fair between kinds: every kind's next job before any kind's
		// second. In order of due time alone, two channels that hang
		// filled every worker with their backlog (older than the notice of
		// a channel that works), and that notice waited minutes.
		order = "rn + " + busy + ", next_at, id"
	}
	q := `UPDATE outbox SET lease_owner = $1, lease_until = $2
		WHERE id IN (
			SELECT id FROM (
				SELECT id, next_at, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY next_at, id) AS rn, kind
				FROM (
					SELECT id, kind, next_at FROM outbox
					WHERE status = 'pending' AND next_at <= $3 AND lease_until <= $3 ` + skipLocked(db.d) + `
				) candidates
			) due ` + perKind + `
			ORDER BY ` + order + ` LIMIT $4)
		AND status = 'pending' AND lease_until <= $3
		RETURNING ` + jobColumns
	var out []jobs.Job
	err := db.outboxUpdate(ctx, func(ctx context.Context, t tx) error {
		out = out[:0]
		rows, err := t.sqlTx.QueryContext(ctx, t.d.rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b jobs.Job) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CompleteJob marks a job leased to owner as sent.
func (db *DB) CompleteJob(ctx context.Context, id int64, owner string, at time.Time) error {
	err := db.outboxUpdate(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = $3, attempts = attempts + 1,
			lease_owner = '', lease_until = 0
			WHERE id = $1 AND status = 'pending' AND lease_owner = $2`, id, owner, millis(at))
		if err != nil {
			return err
		}
		return leaseHeld(ctx, t, res, id, owner)
	})
	if err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	return nil
}

// RetryJob records a failed attempt of a job leased to owner and releases
// it: pending again from next, or dead.
func (db *DB) RetryJob(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error {
	status := jobs.StatusPending
	if dead {
		status = jobs.StatusDead
	}
	err := db.outboxUpdate(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `UPDATE outbox SET status = $3, next_at = $4, last_error = $5, attempts = attempts + 1,
			lease_owner = '', lease_until = 0
			WHERE id = $1 AND status = 'pending' AND lease_owner = $2`, id, owner, status, millis(next), lastErr)
		if err != nil {
			return err
		}
		return leaseHeld(ctx, t, res, id, owner)
	})
	if err != nil {
		return fmt.Errorf("retry job %d: %w", id, err)
	}
	return nil
}

// leaseHeld explains an update of a leased job that changed no row.
func leaseHeld(ctx context.Context, t tx, res sql.Result, id int64, owner string) error {
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var status, holder string
	err := t.queryRow(ctx, `SELECT status, lease_owner FROM outbox WHERE id = $1`, id).Scan(&status, &holder)
	if errors.Is(err, sql.ErrNoRows) {
		return errcode.Localized(errcode.NotFound, "job %d not found", "找不到任务 %d", id)
	}
	if err != nil {
		return err
	}
	if status != jobs.StatusPending {
		return errcode.Errorf(errcode.Conflict, "job %d is %s already", id, status)
	}
	return errcode.Errorf(errcode.Conflict, "job %d is not leased to %s", id, owner)
}

// JobStats counts jobs by kind and status.
func (db *DB) JobStats(ctx context.Context, now time.Time) (jobs.JobStats, error) {
	rows, err := db.queryContext(ctx, `SELECT kind, status, COUNT(*), MIN(created_at) FROM outbox GROUP BY kind, status`)
	if err != nil {
		return nil, fmt.Errorf("job statistics: %w", err)
	}
	defer rows.Close()
	out := jobs.JobStats{}
	for rows.Next() {
		var (
			kind, status string
			n            int
			oldest       int64
		)
		if err := rows.Scan(&kind, &status, &n, &oldest); err != nil {
			return nil, fmt.Errorf("job statistics: %w", err)
		}
		s := out[kind]
		switch status {
		case jobs.StatusPending:
			s.Pending = n
			s.OldestPending = max(0, now.Sub(fromMillis(oldest)))
		case jobs.StatusSent:
			s.Sent = n
		case jobs.StatusDead:
			s.Dead = n
		}
		out[kind] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job statistics: %w", err)
	}
	return out, nil
}

// Jobs lists jobs newest first, 100 unless f says otherwise (at most 1000).
func (db *DB) Jobs(ctx context.Context, f jobs.JobFilter) ([]jobs.Job, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		where = append(where, fmt.Sprintf("kind = $%d", len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, min(limit, 1000))
	q := `SELECT ` + jobColumns + ` FROM outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := db.queryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []jobs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// RequeueJob makes a dead job pending again with no attempts, due at once
// (its next attempt time becomes its creation time, which also puts it
// first in line), and created now: its age, which MaxAge bounds, starts
// again. Its last error stays until the next attempt.
func (db *DB) RequeueJob(ctx context.Context, id int64, now time.Time) error {
	err := db.outboxUpdate(ctx, func(ctx context.Context, t tx) error {
		// SET reads the row as it was: next_at takes the old created_at.
		res, err := t.exec(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, next_at = created_at, created_at = $2,
			lease_owner = '', lease_until = 0 WHERE id = $1 AND status = 'dead'`, id, millis(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var status string
		err = t.queryRow(ctx, `SELECT status FROM outbox WHERE id = $1`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return errcode.Localized(errcode.NotFound, "job %d not found", "找不到任务 %d", id)
		}
		if err != nil {
			return err
		}
		return errcode.Errorf(errcode.Conflict, "job %d is %s, not dead", id, status)
	})
	if err != nil {
		return fmt.Errorf("requeue job %d: %w", id, err)
	}
	return nil
}
