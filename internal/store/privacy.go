package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/guard"
)

var _ guard.VaultStore = (*DB)(nil)

func putVault(ctx context.Context, t tx, r guard.VaultRecord) error {
	_, err := t.exec(ctx, `INSERT INTO pii_vault (ref, conversation_id, kinds, key_id, sealed, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ref) DO NOTHING`,
		r.Ref, r.ConversationID, strings.Join(r.Kinds, ","), r.Sealed.KeyID, r.Sealed.Data, millis(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("seal original of %s: %w", r.Ref, err)
	}
	return nil
}

// PutVault stores sealed originals (one that exists already is kept).
func (db *DB) PutVault(ctx context.Context, recs ...guard.VaultRecord) error {
	return db.update(ctx, func(ctx context.Context, t tx) error {
		for _, r := range recs {
			if err := putVault(ctx, t, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func scanVault(row rowScanner) (*guard.VaultRecord, error) {
	var (
		r       guard.VaultRecord
		kinds   string
		created int64
	)
	if err := row.Scan(&r.Ref, &r.ConversationID, &kinds, &r.Sealed.KeyID, &r.Sealed.Data, &created); err != nil {
		return nil, err
	}
	if kinds != "" {
		r.Kinds = strings.Split(kinds, ",")
	}
	r.CreatedAt = fromMillis(created)
	return &r, nil
}

const vaultColumns = `ref, conversation_id, kinds, key_id, sealed, created_at`

// VaultRecord returns the sealed original of ref.
func (db *DB) VaultRecord(ctx context.Context, ref string) (*guard.VaultRecord, error) {
	r, err := scanVault(db.queryRowContext(ctx, `SELECT `+vaultColumns+` FROM pii_vault WHERE ref = $1`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, guard.ErrErased
	}
	if err != nil {
		return nil, fmt.Errorf("read sealed original %s: %w", ref, err)
	}
	return r, nil
}

// VaultBatch returns records not sealed with keyID, after afterRef.
func (db *DB) VaultBatch(ctx context.Context, notKeyID, afterRef string, limit int) ([]guard.VaultRecord, error) {
	rows, err := db.queryContext(ctx, `SELECT `+vaultColumns+` FROM pii_vault
		WHERE key_id <> $1 AND ref > $2 ORDER BY ref LIMIT $3`, notKeyID, afterRef, limit)
	if err != nil {
		return nil, fmt.Errorf("list sealed originals: %w", err)
	}
	defer rows.Close()
	var out []guard.VaultRecord
	for rows.Next() {
		r, err := scanVault(rows)
		if err != nil {
			return nil, fmt.Errorf("list sealed originals: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// ResealVault replaces a record's ciphertext if it is still under oldKeyID.
func (db *DB) ResealVault(ctx context.Context, ref, oldKeyID string, s guard.Sealed) error {
	return db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `UPDATE pii_vault SET key_id = $1, sealed = $2 WHERE ref = $3 AND key_id = $4`,
			s.KeyID, s.Data, ref, oldKeyID)
		return err
	})
}

// EraseVault deletes the originals created before cutoff.
func (db *DB) EraseVault(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `DELETE FROM pii_vault WHERE created_at < $1`, millis(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// VaultKeyCounts counts the records under each key.
func (db *DB) VaultKeyCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := db.queryContext(ctx, `SELECT key_id, COUNT(*) FROM pii_vault GROUP BY key_id`)
	if err != nil {
		return nil, fmt.Errorf("count sealed originals: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
