package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit adds e to the chain. The head row's update takes the lock
// that orders concurrent appends (a row lock in PostgreSQL; SQLite has one
// writer), so no two entries share a predecessor.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry, hash func(*audit.Entry) string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		err := t.queryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&e.Seq, &e.PrevHash)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.ErrNoHead
		}
		if err != nil {
			return err
		}
		e.Hash = hash(e)
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		if e.Detail == nil {
			detail = []byte("{}")
		}
		if _, err := t.exec(ctx, `INSERT INTO audit_log (seq, at, actor, actor_name, action, object, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Seq, millis(e.At), e.Actor, e.ActorName, e.Action, e.Object,
			string(detail), e.PrevHash, e.Hash); err != nil {
			return err
		}
		_, err = t.exec(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AuditHead returns the chain's checkpoint row.
func (db *DB) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := db.queryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = audit.ErrNoHead
	}
	if err != nil {
		return h, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// AuditRange returns up to limit entries after seq, oldest first.
func (db *DB) AuditRange(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	rows, err := db.queryContext(ctx, `SELECT seq, at, actor, actor_name, action, object, detail, prev_hash, hash
		FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries after %d: %w", after, err)
	}
	return scanAudit(rows)
}

// AuditEntries returns entries, newest first.
func (db *DB) AuditEntries(ctx context.Context, q audit.Query) ([]audit.Entry, error) {
	where, args := "1 = 1", []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Action != "" {
		// A prefix, read alike on both databases: case aside (SQLite's LIKE
		// ignores ASCII case, PostgreSQL's does not), wildcards literal.
		where += " AND LOWER(action) LIKE " + arg(strings.ToLower(likeEscape(q.Action))+"%") + ` ESCAPE '\'`
	}
	switch {
	case q.Object == "":
	case strings.Contains(q.Object, ":"):
		where += " AND object = " + arg(q.Object)
	default: // an id without its type: any type
		// Ends with ":id", compared exactly: LIKE ignores ASCII case on
		// SQLite and not on PostgreSQL, so the same filter listed
		// "entry:gift_wrap" for GIFT_WRAP on one and nothing on the other.
		suffix := ":" + q.Object
		where += " AND (object = " + arg(q.Object) + " OR substr(object, length(object) - " +
			arg(utf8.RuneCountInString(suffix)) + " + 1) = " + arg(suffix) + ")"
	}
	if q.Before > 0 {
		where += " AND seq < " + arg(q.Before)
	}
	rows, err := db.queryContext(ctx, `SELECT seq, at, actor, actor_name, action, object, detail, prev_hash, hash
		FROM audit_log WHERE `+where+` ORDER BY seq DESC LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return scanAudit(rows)
}

func scanAudit(rows resultRows) ([]audit.Entry, error) {
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		var (
			e      audit.Entry
			at     any
			detail string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.ActorName, &e.Action, &e.Object, &detail, &e.PrevHash,
			&e.Hash); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		// SQLite keeps whatever an edit wrote into the integer column (text,
		// a fraction): such a time is left zero, so the entry is listed and
		// fails its hash, rather than failing the whole read.
		if ms, ok := at.(int64); ok {
			e.At = fromMillis(ms)
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			// Only an edit outside Steward writes a detail that is not a JSON
			// object: keep it as it is, so the entry is shown and fails its hash.
			e.Detail = map[string]any{"(undecodable)": detail}
		}
		if len(e.Detail) == 0 {
			e.Detail = nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}
