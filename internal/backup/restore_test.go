package backup_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/backup"
)

// A restore over a newer database drops the tables the backup's schema
// does not have. When the load then fails (here: an operator's reporting
// view on conversations keeps pg_restore --clean from dropping that table;
// equally a lost connection, a lock, a full disk), the drops must roll back
// with it: schema_migrations still says the newer version, and with
// login_failures and metric_seconds gone `steward migrate` would believe
// the schema complete. (They were dropped in a transaction of their own,
// which had committed.) deploy.md promises "nothing changes then".
func TestAFailedPostgresRestoreChangesNothing(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "postgres", 2)
	old, err := sql.Open("pgx", src.url)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// The schema as migration 5 left it (as TestRestoreAnOlderSchemaOverANewerDatabase).
	for _, q := range []string{`DROP TABLE login_failures`, `DROP TABLE metric_seconds`, `DROP INDEX tickets_conversation`, `DROP INDEX conversations_closed`,
		`DROP INDEX conversations_created`, `DROP INDEX ratings_created`, `ALTER TABLE kb_entries DROP COLUMN search`,
		`DELETE FROM schema_migrations WHERE version >= 6`} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	newer := seeded(t, "postgres", 1)
	raw, err := sql.Open("pgx", newer.url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE VIEW someone_report AS SELECT id FROM conversations`); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := raw.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	out, err := backups().Restore(ctx, res.Path, newer.restoreTarget(), true)
	if err == nil {
		t.Fatalf("the restore succeeded (%v); this test needs the load to fail", failedChecks(out.Report))
	}
	t.Logf("restore failed as expected: %.200s", err)
	var after int
	if err := raw.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"login_failures", "metric_seconds"} {
		var exists bool
		if err := raw.QueryRowContext(ctx, `SELECT to_regclass('public.`+table+`') IS NOT NULL`).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			t.Errorf("after a restore that failed, table %s is gone while schema_migrations still says version %d (was %d): "+
				"the database is half-replaced and migrate will not make it again", table, after, before)
		}
	}
}

// pgClientDir is where the package finds the real PostgreSQL client
// programs when Options.PGBin is not set.
func pgClientDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("STEWARD_PG_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "psql")); err == nil {
			return d
		}
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("no psql")
	}
	return filepath.Dir(p)
}

// The load's script is cut short (pg_restore failing half way through an
// archive it cannot read, or killed): what psql already ran, here the
// newer tables' drops and the script's own DROP of conversations, must
// not be committed by the end of psql's input.
func TestAPostgresRestoreCutShortChangesNothing(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "postgres", 2)
	old, err := sql.Open("pgx", src.url)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// A table the backup does not have, and the live database does: it is
	// dropped in the load's transaction.
	if _, err := old.ExecContext(ctx, `DROP TABLE metric_seconds`); err != nil {
		t.Fatal(err)
	}
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := pgClientDir(t)
	bin := t.TempDir()
	// pg_restore as itself, except when it writes the script: then the
	// first statements, and a failure.
	script := "#!/bin/sh\nfor a; do if [ \"$a\" = --file=- ]; then\n" +
		"echo 'SET statement_timeout = 0;'\necho 'BEGIN;'\necho 'DROP TABLE IF EXISTS public.conversations CASCADE;'\n" +
		"echo 'pg_restore: error: could not read from input file: end of file' >&2\nexit 1\nfi; done\n" +
		"exec " + filepath.Join(real, "pg_restore") + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_restore"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "psql"), filepath.Join(bin, "psql")); err != nil {
		t.Fatal(err)
	}
	live := seeded(t, "postgres", 1)
	raw, err := sql.Open("pgx", live.url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	b := backup.New(backup.Options{Inspector: storeInspector(), Version: "test", PGBin: bin, Logger: quiet()})
	_, err = b.Restore(ctx, res.Path, live.restoreTarget(), true)
	if err == nil || !strings.Contains(err.Error(), "could not read from input file") {
		t.Fatalf("restore: %v; want pg_restore's failure", err)
	}
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after a restore whose script was cut short: %d conversations, %v; want the database's 1", n, err)
	}
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM metric_seconds`).Scan(&n); err != nil {
		t.Fatalf("after a restore whose script was cut short, the newer table is gone: %v", err)
	}
}

// restoreSQLite moves the live database aside first and the restored copy
// in last. When a step in between fails (here: the old -shm cannot be
// removed, a non-empty directory in its place), the original and its -wal
// must be put back: without a rollback the data directory was left without
// steward.db (the next `steward serve` makes an empty one), the original's
// -wal could be left behind unpaired, and the verified copy was deleted by
// the deferred os.Remove(tmp). The error says where the original was.
func TestAFailedSQLiteRestoreLeavesTheDatabaseInPlace(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 2)
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src)}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	live := seeded(t, "sqlite", 1)
	orig, err := os.ReadFile(live.sqlite)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live.sqlite+"-wal", []byte("wal"), 0o600); err != nil { // a WAL beside it
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(live.sqlite+"-shm", "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	b := backup.New(backup.Options{Inspector: storeInspector(), Version: "test", Logger: quiet(),
		Now: func() time.Time { return at }})
	out, err := b.Restore(ctx, res.Path, live.restoreTarget(), true)
	if err == nil {
		t.Fatalf("the restore succeeded; this test needs the -shm removal to fail")
	}
	t.Logf("restore failed: %v (replaced %q)", err, out.Replaced)
	got, rerr := os.ReadFile(live.sqlite)
	switch {
	case rerr != nil:
		t.Errorf("after a failed restore there is no database at %s (%v); left in the directory: %v", live.sqlite, rerr,
			names(t, filepath.Dir(live.sqlite)))
	case string(got) != string(orig):
		t.Errorf("after a failed restore %s is neither the original nor reported as restored", live.sqlite)
	}
	if wal, err := os.ReadFile(live.sqlite + "-wal"); err != nil || string(wal) != "wal" {
		t.Errorf("after a failed restore the original's -wal is not beside it: %q, %v", wal, err)
	}
	if out.Replaced == "" && !strings.Contains(err.Error(), ".pre-restore-") {
		t.Errorf("the error does not say where the original database went: %v", err)
	}
}

// A leftover <aside>-wal (its database deleted by hand) is not a free
// name to move the live database aside to: renaming the live -wal onto it
// failed (a directory), or replaced it (a file), pairing the original
// database with another's WAL.
func TestASQLiteRestoreMovesTheDatabaseClearOfALeftoverWAL(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 2)
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src)}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	live := seeded(t, "sqlite", 1)
	orig, err := os.ReadFile(live.sqlite)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live.sqlite+"-wal", nil, 0o600); err != nil { // an (empty) WAL beside it
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	leftover := live.sqlite + ".pre-restore-" + at.Format("20060102T150405Z")
	if err := os.WriteFile(leftover+"-wal", []byte("another database's WAL"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := backup.New(backup.Options{Inspector: storeInspector(), Version: "test", Logger: quiet(),
		Now: func() time.Time { return at }})
	out, err := b.Restore(ctx, res.Path, live.restoreTarget(), true)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if out.Replaced == leftover {
		t.Fatalf("the original database was moved to %s, beside another database's -wal", leftover)
	}
	if got, err := os.ReadFile(out.Replaced); err != nil || string(got) != string(orig) {
		t.Errorf("the original database is not at %s: %v", out.Replaced, err)
	}
	if got, err := os.ReadFile(leftover + "-wal"); err != nil || string(got) != "another database's WAL" {
		t.Errorf("the leftover -wal was replaced: %q, %v", got, err)
	}
}
