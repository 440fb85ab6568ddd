package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/steward-cs/steward/internal/knowledge"
)

// PutEntries inserts or replaces entries, all in one transaction.
func (db *DB) PutEntries(ctx context.Context, entries []knowledge.Entry) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		for _, e := range entries {
			content, err := json.Marshal(e.Locales)
			if err != nil {
				return err
			}
			tags, err := json.Marshal(nonNil(e.Tags))
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, `INSERT INTO kb_entries (id, category, tags, essential, content, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)
				ON CONFLICT (id) DO UPDATE SET category = $2, tags = $3, essential = $4, content = $5, updated_at = $6`,
				e.ID, e.Category, string(tags), e.Essential, string(content), millis(e.UpdatedAt)); err != nil {
				return fmt.Errorf("put entry %s: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d entries: %w", len(entries), err)
	}
	return nil
}

// Entries returns every knowledge-base entry, ordered by category then id.
func (db *DB) Entries(ctx context.Context) ([]knowledge.Entry, error) {
	rows, err := db.queryContext(ctx, `SELECT id, category, tags, essential, content, created_at, updated_at
		FROM kb_entries ORDER BY category, id`)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Entry
	for rows.Next() {
		var (
			e                knowledge.Entry
			tags, content    string
			created, updated int64
		)
		if err := rows.Scan(&e.ID, &e.Category, &tags, &e.Essential, &content, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan entry: %w", err)
		}
		if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
			return nil, fmt.Errorf("decode tags of entry %s: %w", e.ID, err)
		}
		if err := json.Unmarshal([]byte(content), &e.Locales); err != nil {
			return nil, fmt.Errorf("decode content of entry %s: %w", e.ID, err)
		}
		e.CreatedAt, e.UpdatedAt = fromMillis(created), fromMillis(updated)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	return out, nil
}

// CountEntries returns the number of knowledge-base entries.
func (db *DB) CountEntries(ctx context.Context) (int, error) {
	var n int
	if err := db.queryRowContext(ctx, `SELECT COUNT(*) FROM kb_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count entries: %w", err)
	}
	return n, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
