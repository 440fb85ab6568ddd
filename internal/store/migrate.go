package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (db *DB) migrations() ([]migration, error) { return migrationsOf(db.d.name()) }

// KnownSchemaVersion is the highest migration this binary knows for a
// dialect ("sqlite" or "postgres"): a database at a higher version was
// made by a newer Steward.
func KnownSchemaVersion(dialect string) (int, error) {
	ms, err := migrationsOf(dialect)
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, fmt.Errorf("no migrations for %q", dialect)
	}
	return ms[len(ms)-1].version, nil
}

func migrationsOf(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	files, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, f := range files {
		num, _, ok := strings.Cut(f.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", f.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(dir, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", f.Name(), err)
		}
		ms = append(ms, migration{version: v, name: f.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrationSteps are the parts of migrations that SQL cannot do, by
// version: each runs in its migration's transaction, after its SQL.
var migrationSteps = map[int]func(context.Context, tx) error{
	10: fillKBSearch,
}

// SchemaVersion returns the highest applied migration (0 for an empty
// database) and the highest this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	ms, err := db.migrations()
	if err != nil {
		return 0, 0, err
	}
	known = ms[len(ms)-1].version
	if err := db.ensureMigrationTable(ctx); err != nil {
		return 0, 0, err
	}
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return applied, known, nil
}

// SettledSchemaVersion is SchemaVersion read once no migration is running:
// it waits for the migrations lock, so that a node starting while another
// migrates a new PostgreSQL database reads where the migration ended, not
// a step in the middle (which would read as a stale schema), and so that
// nodes never create the migrations table at the same moment.
func (db *DB) SettledSchemaVersion(ctx context.Context) (applied, known int, err error) {
	release, err := db.lockMigrations(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	return db.SchemaVersion(ctx)
}

func (db *DB) ensureMigrationTable(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction, and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	// Nodes that start together on a new PostgreSQL database take turns:
	// the first migrates, the others then find nothing left to do.
	release, err := db.lockMigrations(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	applied, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	ms, err := db.migrations()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if m.version <= applied {
			continue
		}
		done, err := db.applyMigration(ctx, m)
		if err != nil {
			return n, err
		}
		if done {
			db.logger.Info("applied migration", "version", m.version, "name", m.name)
			n++
		}
	}
	return n, nil
}

// applyMigration applies m in one transaction and reports whether it did:
// another process (a server and a command started together on one SQLite
// file, where lockMigrations does nothing) may have applied it since the
// version was read, and the transaction, holding the write lock, checks.
func (db *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer t.Rollback()
	// SQLite's write connection begins IMMEDIATE: the check below reads
	// under the write lock.
	var already int
	if err := t.QueryRowContext(ctx, db.d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = $1`),
		m.version).Scan(&already); err != nil {
		return false, fmt.Errorf("migration %s: check: %w", m.name, err)
	}
	if already > 0 {
		return false, nil
	}
	if _, err := t.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(ctx, tx{sqlTx: t, d: db.d}); err != nil {
			return false, fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if _, err := t.ExecContext(ctx, db.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`),
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := t.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return true, nil
}

// CheckSchema returns an unavailable error unless the schema is exactly the
// one this binary knows.
func (db *DB) CheckSchema(ctx context.Context) error {
	applied, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case applied < known:
		return errcode.Errorf(errcode.Unavailable, "database schema is at version %d, this binary needs %d: run `steward migrate`", applied, known)
	case applied > known:
		return errcode.Errorf(errcode.Unavailable, "database schema is at version %d, newer than this binary knows (%d): upgrade steward", applied, known)
	}
	return nil
}
