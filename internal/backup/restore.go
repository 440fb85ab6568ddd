package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/dburl"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/fsown"
)

// Target is where a backup is restored: a SQLite file or a PostgreSQL
// database.
type Target struct {
	SQLitePath  string
	DatabaseURL string
}

// Restored is the outcome of a restore: the checks made of what was
// restored, and where an existing SQLite database was moved.
type Restored struct {
	Report
	Target string `json:"target"`
	// Replaced is where the SQLite database the restore replaced now is
	// (with its -wal file, if it had one).
	Replaced string `json:"replaced,omitempty"`
}

// Restore puts the backup at path into t, after checking it as Verify
// does; a backup that fails a check is refused and nothing changes.
// Without force it refuses a target that already holds a database.
//
// SQLite: the payload is copied next to the target under a temporary name,
// checked there, synced, and renamed into place; a database already there
// (with its -wal and -shm) is first moved aside to
// <file>.pre-restore-<time>. PostgreSQL: the backup is verified in a
// scratch database, then pg_restore --clean --if-exists loads it into the
// target in one transaction, together with dropping the tables of a newer
// schema the backup does not have, and the target is then checked against
// the manifest; a load that fails changes nothing.
// Stop every server using the target first.
func (b *Backups) Restore(ctx context.Context, path string, t Target, force bool) (Restored, error) {
	start := b.now()
	out := Restored{Report: Report{Backup: path, Checks: []Check{}}}
	m, err := ReadManifest(path)
	if err != nil {
		return out, err
	}
	out.Store, out.CreatedAt = m.Store, m.CreatedAt
	out.add("manifest", true, "format %d, %s, schema %d, taken %s by steward %s", m.Format, m.Store, m.SchemaVersion,
		m.CreatedAt.Format(time.RFC3339), m.StewardVersion)
	payload := filepath.Join(backupDir(path), m.Payload)
	// A backup of a newer Steward's schema restores, and then no server of
	// this version starts on it ("newer than this binary knows"): on the
	// day a restore is needed, that is found out after the old database
	// was replaced. It is refused before anything changes.
	if known, err := b.in.KnownSchemaVersion(m.Store); err != nil {
		return out, fmt.Errorf("restore: %w", err)
	} else if m.SchemaVersion > known {
		return out, errcode.Errorf(errcode.Invalid, "this backup's schema is version %d, newer than this steward knows (%d): "+
			"restore it with the steward that took it (%s) or a newer one", m.SchemaVersion, known, m.StewardVersion)
	}
	switch {
	case m.Store == KindSQLite && t.SQLitePath == "":
		return out, errcode.Errorf(errcode.Invalid, "this is a SQLite backup: restore it into a data directory (--data-dir), not PostgreSQL")
	case m.Store == KindPostgres && t.DatabaseURL == "":
		return out, errcode.Errorf(errcode.Invalid, "this is a PostgreSQL backup: restore it into a PostgreSQL database (--database postgres://...)")
	case m.Store == KindSQLite:
		err = b.restoreSQLite(ctx, m, payload, t.SQLitePath, force, &out)
	default:
		err = b.restorePostgres(ctx, m, payload, t.DatabaseURL, force, &out)
	}
	out.finish(start, b.now())
	if err == nil && !out.OK {
		err = errcode.Errorf(errcode.Invalid, "the restored database does not match the backup's manifest: %s", out.Failed())
	}
	return out, err
}

// restoreStamp is the time in the name of a SQLite restore's copy.
const restoreStamp = "20060102T150405Z"

// removeStaleCopies removes the copies of a backup that restores into
// target which died (a crash, a kill) left beside it, once staleAfter old:
// each is a whole database that nothing else removes. As dropStaleScratch
// does for PostgreSQL's scratch databases.
func (b *Backups) removeStaleCopies(target string) {
	old, _ := filepath.Glob(target + ".restore-*.tmp")
	for _, p := range old {
		made, err := time.Parse(restoreStamp, strings.TrimSuffix(strings.TrimPrefix(p, target+".restore-"), ".tmp"))
		if err != nil || b.now().Sub(made) < staleAfter {
			continue
		}
		if err := os.Remove(p); err == nil {
			b.logger.Info("removed a copy left by an earlier restore", "file", p)
		}
	}
}

func (b *Backups) restoreSQLite(ctx context.Context, m Manifest, payload, target string, force bool, out *Restored) error {
	out.Target = target
	exists := false
	for _, p := range []string{target, target + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			exists = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("look at the target: %w", err)
		}
	}
	if exists && !force {
		return errcode.Errorf(errcode.Conflict, "%s already exists: stop the server and give --force to replace it "+
			"(it is kept as %s.pre-restore-<time>)", target, filepath.Base(target))
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return fmt.Errorf("create the data directory: %w", err)
	}
	b.removeStaleCopies(target)
	stamp := b.now().UTC().Format(restoreStamp)
	tmp := target + ".restore-" + stamp + ".tmp"
	defer os.Remove(tmp)
	var checks Report
	if err := b.restoreSQLiteFile(ctx, m, payload, tmp, &checks); err != nil {
		return err
	}
	out.Checks = append(out.Checks, checks.Checks...)
	out.PayloadBytes = checks.PayloadBytes
	checks.finish(time.Time{}, time.Time{})
	if !checks.OK {
		return errcode.Errorf(errcode.Invalid, "the backup failed verification, nothing was restored: %s", checks.Failed())
	}
	// The server's user must read what root restores (the database it
	// replaces, or its data directory, says whose it is).
	if err := fsown.Like(tmp, target); err != nil {
		return err
	}
	if exists {
		aside, err := asideName(target, stamp)
		if err != nil {
			return err
		}
		// A database and its WAL move together, under names that keep
		// them a pair; the shared-memory index is rebuilt from the WAL.
		// Whatever fails from here on puts them back: a data directory
		// left without steward.db gets an empty one from the next serve.
		var moved []string
		for _, suffix := range []string{"", "-wal"} {
			err := os.Rename(target+suffix, aside+suffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return b.putBack(target, aside, moved, fmt.Errorf("move the existing database aside: %w", err), out)
			}
			moved = append(moved, suffix)
		}
		if err := os.Remove(target + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return b.putBack(target, aside, moved, fmt.Errorf("remove the existing database's shared memory file: %w", err), out)
		}
		if err := os.Rename(tmp, target); err != nil {
			return b.putBack(target, aside, moved, fmt.Errorf("move the restored database into place: %w", err), out)
		}
		out.Replaced = aside
	} else if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("move the restored database into place: %w", err)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return err
	}
	out.add("restore", true, "restored to %s", target)
	b.logger.Info("backup restored", "backup", out.Backup, "target", target, "replaced", out.Replaced)
	return nil
}

// asideName is where the database at target is moved by a restore at
// stamp: never onto a database kept aside before (a second restore in the
// same second replaced the first one's, the original, for good), nor onto
// a -wal or -shm file left of one, which the database's own would replace
// or fail to.
func asideName(target, stamp string) (string, error) {
	aside := target + ".pre-restore-" + stamp
	for i := 2; ; i++ {
		free := true
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Lstat(aside + suffix); err == nil {
				free = false
			} else if !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("look at %s: %w", aside+suffix, err)
			}
		}
		if free {
			return aside, nil
		}
		aside = fmt.Sprintf("%s.pre-restore-%s-%d", target, stamp, i)
	}
}

// putBack moves the files of the database at target that a failed
// restore had moved aside (the suffixes in moved) back, and returns cause
// saying where the database is.
func (b *Backups) putBack(target, aside string, moved []string, cause error, out *Restored) error {
	var errs []error
	for _, suffix := range slices.Backward(moved) {
		if err := os.Rename(aside+suffix, target+suffix); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		out.Replaced = aside
		b.logger.Error("a failed restore could not put the existing database back", "target", target, "aside", aside, "error", err)
		return fmt.Errorf("%w; the existing database could not be put back, and is at %s (with its -wal, if it had one): "+
			"move it back to %s before starting the server: %v", cause, aside, target, err)
	}
	if len(moved) == 0 {
		return cause
	}
	return fmt.Errorf("%w; the existing database, moved to %s, was put back: nothing changed", cause, aside)
}

func (b *Backups) restorePostgres(ctx context.Context, m Manifest, payload, target string, force bool, out *Restored) error {
	out.Target = redactedURL(target)
	var existing int
	err := b.in.InspectPostgres(ctx, target, func(ctx context.Context, v View) error {
		var err error
		existing, err = v.SchemaVersion(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("look at the target database: %w", err)
	}
	if existing > 0 && !force {
		return errcode.Errorf(errcode.Conflict, "the target database already holds Steward's tables (schema %d): "+
			"stop every server and give --force to replace its contents", existing)
	}
	rep, err := b.Verify(ctx, backupDirFor(payload), VerifyOptions{ServerURL: target})
	if err != nil {
		return err
	}
	out.PayloadBytes = rep.PayloadBytes
	if !rep.OK {
		out.Checks = rep.Checks
		return errcode.Errorf(errcode.Invalid, "the backup failed verification, nothing was restored: %s", rep.Failed())
	}
	out.add("verify", true, "restored into a scratch database and checked (%d checks, %.1fs)", len(rep.Checks), rep.Seconds)
	// pg_restore --clean drops only what the backup holds: a backup of an
	// older schema restored over a newer database leaves the newer tables
	// behind, with data of another time, and steward migrate could not
	// make them again. They go, so that the database is the backup's; and
	// they go first, since a newer table that refers to an older one (a
	// foreign key to users) keeps pg_restore from dropping the older one's
	// key, and the restore failed. Which they are is read here; they are
	// dropped in the load's own transaction, so that a load that fails
	// leaves them (and schema_migrations, which still counts them) as they
	// were.
	keep := make([]string, len(m.Tables))
	for i, t := range m.Tables {
		keep[i] = t.Name
	}
	newer, foreign, err := b.in.TablesNotIn(ctx, target, keep)
	if err != nil {
		return fmt.Errorf("look for the tables the backup's schema does not have: %w", err)
	}
	var drops strings.Builder
	for _, name := range newer {
		fmt.Fprintf(&drops, "DROP TABLE IF EXISTS %s CASCADE;\n", quoteIdentifier(name))
	}
	if err := b.loadPostgres(ctx, target, payload, drops.String()); err != nil {
		return fmt.Errorf("restore into the target database: %w", err)
	}
	if len(newer) > 0 {
		out.add("newer tables", true, "dropped %s, which the backup's schema %d does not have (steward migrate makes them again)",
			strings.Join(newer, ", "), m.SchemaVersion)
	}
	out.add("restore", true, "pg_restore --clean --if-exists into %s, in one transaction", out.Target)
	b.logger.Info("backup restored", "backup", out.Backup, "target", out.Target, "dropped_tables", newer)
	// Tables that are not Steward's were kept as they were: the check
	// leaves them out (it reported them, and the restore that had replaced
	// every table of Steward's, as failed).
	return b.in.InspectPostgres(ctx, target, func(ctx context.Context, v View) error {
		return checkView(ctx, v, m, &out.Report, foreign...)
	})
}

// quoteIdentifier quotes a PostgreSQL identifier.
func quoteIdentifier(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// backupDirFor is the backup directory holding payload.
func backupDirFor(payload string) string { return filepath.Dir(payload) }

// redactedURL is databaseURL without its password.
func redactedURL(databaseURL string) string {
	if _, _, err := splitPassword(databaseURL); err != nil {
		return "postgres:(unparseable)"
	}
	return dburl.Redact(databaseURL)
}
