package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
)

// backupCommand takes, verifies and lists backups.
type backupCommand struct{ env Env }

const backupUsage = "backup [--out DIR] [--json] [--config FILE] [--data-dir DIR | --database URL]\n" +
	"       steward backup verify BACKUP [--json] [--scratch DIR] [--database URL]\n" +
	"       steward backup list [--out DIR] [--json]"

func (c *backupCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return c.verify(ctx, args[1:])
		case "list":
			return c.list(ctx, args[1:])
		}
	}
	return c.create(ctx, args)
}

// backups is the backup service as the commands use it.
func (c *backupCommand) backups(cfg config.Config) *backup.Backups {
	return app.NewBackups(version(), cmp.Or(cfg.Backup.PGBin, c.env.Getenv("STEWARD_PG_BIN")), newLogger(cfg, c.env.Stderr))
}

// create is `steward backup`: a consistent backup of the configured
// database, taken while servers keep running.
func (c *backupCommand) create(ctx context.Context, args []string) error {
	fs := newFlagSet("backup", c.env, backupUsage)
	var db dbFlags
	db.register(fs)
	out := fs.String("out", "", "directory to put the backup in (default: backup.dir, or <data_dir>/backups)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("backup takes no arguments (but: backup verify BACKUP, backup list)")
	}
	cfg, err := db.load(fs, c.env, nil)
	if err != nil {
		return usagef("%v", err)
	}
	if cfg.Database == "" {
		// Backing up a database that is not there would create an empty one.
		path := filepath.Join(cfg.DataDir, app.SQLiteFile)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no database to back up at %s: %w", path, err)
		}
	}
	dir := *out
	if dir == "" {
		dir = cfg.Backup.DirOrDefault(cfg.DataDir)
	}
	// No migration and no schema check: a backup is what one takes before
	// migrating.
	st, err := app.OpenStore(ctx, cfg, newLogger(cfg, c.env.Stderr))
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	res, err := c.backups(cfg).Create(ctx, backup.Source{DB: st, DatabaseURL: cfg.Database}, dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, res)
	}
	m := res.Manifest
	fmt.Fprintf(c.env.Stdout, "backup %s\n  %s, schema %d, %s, %d tables, audit head %d, taken in %.2fs\n", res.Path,
		m.Store, m.SchemaVersion, humanBytes(res.Bytes), len(m.Tables), m.AuditHead.Seq, res.Seconds)
	return nil
}

// verify is `steward backup verify BACKUP`.
func (c *backupCommand) verify(ctx context.Context, args []string) error {
	fs := newFlagSet("backup verify", c.env, "backup verify BACKUP [--json] [--scratch DIR] [--database URL]\n\n"+
		"Restores the backup into a scratch location (a temporary SQLite file, or for a PostgreSQL backup a\n"+
		"scratch database created on the --database server and dropped afterwards) and checks it; exits 1\n"+
		"when a check fails.")
	var db dbFlags
	db.register(fs)
	scratch := fs.String("scratch", "", "directory for the scratch copy of a SQLite backup (default: the system's temporary directory)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give one backup: backup verify BACKUP (a directory that backup printed)")
	}
	cfg, err := db.load(fs, c.env, nil)
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := os.Stat(rest[0]); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no backup at %s: give a directory that 'steward backup' printed ('steward backup list' shows them)", rest[0])
	}
	if _, err := backup.ReadManifest(rest[0]); errcode.Code(err) == errcode.NotFound {
		// Not a backup (the backups' directory itself, say): nothing to
		// check, and no report to leave in it.
		return err
	}
	rep, err := c.backups(cfg).Verify(ctx, rest[0], backup.VerifyOptions{ServerURL: cfg.Database, ScratchDir: *scratch})
	if err != nil {
		return err
	}
	// backup list and retention go by the last verification, manual or
	// scheduled; a backup on read-only storage is verified all the same.
	if err := backup.KeepReport(rest[0], rep); err != nil {
		fmt.Fprintf(c.env.Stderr, "steward backup verify: the report is not kept beside the backup: %v\n", err)
	}
	if *asJSON {
		if err := writeJSONOut(c.env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printChecks(c.env.Stdout, rep.Checks)
		if rep.OK {
			fmt.Fprintf(c.env.Stdout, "backup verified: %d checks passed in %.2fs\n", len(rep.Checks), rep.Seconds)
		}
	}
	return checksFailed("backup verification", rep)
}

// checksFailed is the error of a report with failed checks.
func checksFailed(what string, rep backup.Report) error {
	if rep.OK {
		return nil
	}
	n := 0
	for _, ch := range rep.Checks {
		if !ch.OK {
			n++
		}
	}
	return fmt.Errorf("%s failed: %d of %d checks failed: %s", what, n, len(rep.Checks), rep.Failed())
}

// printChecks writes one line per check; the tables that match their
// manifest share one line (--json lists each).
func printChecks(w io.Writer, checks []backup.Check) {
	tw := newTable(w)
	tables, shown := 0, false
	for _, ch := range checks {
		if ch.OK && strings.HasPrefix(ch.Name, "table ") {
			tables++
		}
	}
	for _, ch := range checks {
		mark := "ok"
		if !ch.OK {
			mark = "FAIL"
		}
		if ch.OK && strings.HasPrefix(ch.Name, "table ") {
			if !shown {
				fmt.Fprintf(tw, "ok\ttables\t%d tables: rows and checksums match the manifest\n", tables)
				shown = true
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, ch.Name, ch.Detail)
	}
	tw.Flush()
}

// list is `steward backup list`.
func (c *backupCommand) list(ctx context.Context, args []string) error {
	fs := newFlagSet("backup list", c.env, "backup list [--out DIR] [--json] [--config FILE] [--data-dir DIR]")
	var db dbFlags
	db.register(fs)
	out := fs.String("out", "", "the backup directory (default: backup.dir, or <data_dir>/backups)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("backup list takes no arguments")
	}
	cfg, err := db.load(fs, c.env, nil)
	if err != nil {
		return usagef("%v", err)
	}
	dir := *out
	if dir == "" {
		dir = cfg.Backup.DirOrDefault(cfg.DataDir)
	}
	entries, err := backup.List(dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, map[string]any{"dir": dir, "backups": entries})
	}
	tw := newTable(c.env.Stdout)
	fmt.Fprintln(tw, "NAME\tSTORE\tSCHEMA\tSIZE\tVERIFIED")
	for _, e := range entries {
		if e.Manifest == nil {
			// Retention deletes an invalid backup, and keeps one it
			// cannot read: the list says which.
			state := "invalid"
			if e.Unjudged {
				state = "unreadable, kept"
			}
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s: %s\n", e.Name, state, e.Problem)
			continue
		}
		verified := "-"
		if e.Verified != nil {
			verified = map[bool]string{true: "ok", false: "FAILED"}[*e.Verified]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Name, e.Manifest.Store, e.Manifest.SchemaVersion,
			humanBytes(e.Manifest.PayloadBytes), verified)
	}
	return tw.Flush()
}

// restoreCommand is `steward restore --from BACKUP`.
type restoreCommand struct{ env Env }

func (c *restoreCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("restore", c.env, "restore --from BACKUP [--force] [--json] [--config FILE] [--data-dir DIR | --database URL]\n\n"+
		"Checks the backup as `backup verify` does, then restores it into the configured database. Stop every\n"+
		"server using it first. A SQLite database already there is refused without --force, and kept as\n"+
		"steward.db.pre-restore-<time> with it; a PostgreSQL database holding Steward's tables likewise.")
	var db dbFlags
	db.register(fs)
	from := fs.String("from", "", "the backup to restore (a directory that `steward backup` printed)")
	force := fs.Bool("force", false, "replace a database that is already there")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("restore takes no arguments: give the backup with --from")
	}
	if *from == "" {
		return usagef("give the backup to restore: --from BACKUP")
	}
	cfg, err := db.load(fs, c.env, nil)
	if err != nil {
		return usagef("%v", err)
	}
	target := backup.Target{DatabaseURL: cfg.Database}
	if cfg.Database == "" {
		target.SQLitePath = filepath.Join(cfg.DataDir, app.SQLiteFile)
		// A server still running on the directory would go on writing to
		// the database moved aside; none may start while this runs.
		lock, err := app.LockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	logger := newLogger(cfg, c.env.Stderr)
	res, err := app.NewBackups(version(), cmp.Or(cfg.Backup.PGBin, c.env.Getenv("STEWARD_PG_BIN")), logger).Restore(ctx, *from, target, *force)
	if err != nil {
		// Show the checks when they are why nothing was restored.
		switch {
		case res.OK:
		case *asJSON:
			_ = writeJSONOut(c.env.Stdout, map[string]any{"ok": false, "checks": res.Checks, "error": err.Error()})
		default:
			printChecks(c.env.Stdout, res.Checks)
		}
		return err
	}
	if err := recordRestore(ctx, cfg, c.env, res); err != nil {
		fmt.Fprintf(c.env.Stderr, "steward restore: warning: the restore is done, but it could not be audited: %v\n", err)
	}
	if warning := restoredKeys(ctx, cfg); warning != "" {
		fmt.Fprintf(c.env.Stderr, "steward restore: warning: %s\n", warning)
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, res)
	}
	printChecks(c.env.Stdout, res.Checks)
	fmt.Fprintf(c.env.Stdout, "restored %s (%s, taken %s) into %s in %.2fs\n", *from, res.Store,
		res.CreatedAt.Local().Format("2006-01-02 15:04:05"), res.Target, res.Seconds)
	if res.Replaced != "" {
		fmt.Fprintf(c.env.Stdout, "the database it replaced is kept at %s\n", res.Replaced)
	}
	return nil
}

// recordRestore writes the restore into the restored database's audit
// trail, after the checks: who restored which backup, taken when.
func recordRestore(ctx context.Context, cfg config.Config, env Env, res backup.Restored) error {
	st, err := app.OpenStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	op := operator(env)
	detail := map[string]any{"backup": filepath.Base(filepath.Clean(res.Backup)), "taken_at": res.CreatedAt,
		"store": res.Store}
	if res.Replaced != "" {
		detail["replaced_kept_at"] = res.Replaced
	}
	return audit.New(st, nil).Record(ctx, audit.Entry{Actor: op.ID, ActorName: op.Name, Action: "backup.restore",
		Object: "database", Detail: detail})
}

// humanBytes writes n in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}

var (
	_ command = (*backupCommand)(nil)
	_ command = (*restoreCommand)(nil)
)

// restoredKeys says what the restored database needs of the keys that seal
// personal data and the configuration does not give: the key file lives
// apart from the database (security.md), and a server started without it
// makes a new key that opens none of the records sealed before.
func restoredKeys(ctx context.Context, cfg config.Config) string {
	st, err := app.OpenStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return ""
	}
	defer st.Close(context.Background())
	counts, err := st.VaultKeyCounts(ctx)
	if err != nil || len(counts) == 0 {
		return ""
	}
	path := app.KeyFilePath(cfg)
	ring, _, err := guard.LoadKeyring(cfg.Privacy.Keys, path, false, time.Now())
	if err != nil {
		ids := make([]string, 0, len(counts))
		for id := range counts {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("the restored records of personal data are sealed under %s, and there is no key file at %s: put back the key file kept with this backup before starting the server",
				strings.Join(ids, ", "), path)
		}
		// The keys are there but cannot be used (a truncated copy, wrong
		// permissions, a bad STEWARD_PII_KEYS): telling the operator to
		// put back what is in place would hide what is wrong with it.
		return fmt.Sprintf("the restored records of personal data are sealed under %s, and the keys cannot be read: %v; fix them (or put back the key file kept with this backup) before starting the server",
			strings.Join(ids, ", "), err)
	}
	if missing := ring.Missing(counts); len(missing) > 0 {
		return fmt.Sprintf("the restored records of personal data are sealed under %s, which %s does not hold: add the keys of the key file kept with this backup with steward keys import FILE (copying it over %s would lose the keys made since)",
			strings.Join(missing, ", "), path, path)
	}
	return ""
}
