package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
)

var _ monitor.SilenceStore = (*DB)(nil)

// SaveSilence inserts a silence or replaces the one with its id (an
// expiry moves EndsAt).
func (db *DB) SaveSilence(ctx context.Context, s monitor.Silence) error {
	matchers, err := json.Marshal(s.Matchers)
	if err != nil {
		return fmt.Errorf("save silence %s: %w", s.ID, err)
	}
	err = db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO silences (id, matchers, comment, created_by, starts_at, ends_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, comment = excluded.comment,
				created_by = excluded.created_by, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
				created_at = excluded.created_at`,
			s.ID, string(matchers), s.Comment, s.CreatedBy, millis(s.StartsAt), millis(s.EndsAt), millis(s.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save silence %s: %w", s.ID, err)
	}
	return nil
}

// Silences returns the silences ending after since, by start.
func (db *DB) Silences(ctx context.Context, since time.Time) ([]monitor.Silence, error) {
	rows, err := db.queryContext(ctx, `SELECT id, matchers, comment, created_by, starts_at, ends_at, created_at
		FROM silences WHERE ends_at > $1 ORDER BY starts_at, id`, millis(since))
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	defer rows.Close()
	var out []monitor.Silence
	for rows.Next() {
		var (
			s                       monitor.Silence
			matchers                string
			starts, ends, createdAt int64
		)
		if err := rows.Scan(&s.ID, &matchers, &s.Comment, &s.CreatedBy, &starts, &ends, &createdAt); err != nil {
			return nil, fmt.Errorf("list silences: %w", err)
		}
		if err := json.Unmarshal([]byte(matchers), &s.Matchers); err != nil {
			return nil, fmt.Errorf("decode matchers of silence %s: %w", s.ID, err)
		}
		s.StartsAt, s.EndsAt, s.CreatedAt = fromMillis(starts), fromMillis(ends), fromMillis(createdAt)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	return out, nil
}
