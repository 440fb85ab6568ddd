package backup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/backup"
)

// fakeInspector hands out scratch PostgreSQL databases without a server;
// pg_restore (a script in PGBin) decides what happens to them.
type fakeInspector struct{}

func (fakeInspector) InspectSQLite(context.Context, string, func(context.Context, backup.View) error) error {
	return errors.New("fake: no sqlite")
}
func (fakeInspector) InspectPostgres(context.Context, string, func(context.Context, backup.View) error) error {
	return errors.New("fake: no postgres")
}
func (fakeInspector) IntegrityCheck(context.Context, string) ([]string, error) { return nil, nil }
func (fakeInspector) CreateDatabase(_ context.Context, _, name string) (string, error) {
	return "postgres://steward@127.0.0.1:5432/" + name + "?sslmode=disable", nil
}
func (fakeInspector) DropDatabase(context.Context, string, string) error { return nil }
func (fakeInspector) TablesNotIn(context.Context, string, []string) ([]string, []string, error) {
	return nil, nil, nil
}
func (fakeInspector) KnownSchemaVersion(store string) (int, error) { return 1 << 20, nil }
func (fakeInspector) IdleDatabases(context.Context, string, string) ([]string, error) {
	return nil, nil
}

// handMade writes a backup directory named after at, holding payload, with
// a matching manifest and, when verified is not nil, a verify.json.
func handMade(t *testing.T, dir string, at time.Time, store string, format int, payload []byte, verified *bool) string {
	t.Helper()
	p := filepath.Join(dir, "steward-"+at.UTC().Format("20060102T150405.000Z"))
	if err := os.MkdirAll(p, 0o750); err != nil {
		t.Fatal(err)
	}
	name := "steward.db"
	if store == backup.KindPostgres {
		name = "steward.dump"
	}
	if err := os.WriteFile(filepath.Join(p, name), payload, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	writeManifest(t, p, backup.Manifest{Format: format, Store: store, Payload: name, CreatedAt: at.UTC(),
		PayloadSHA256: hex.EncodeToString(sum[:]), PayloadBytes: int64(len(payload)), SchemaVersion: 11})
	if verified != nil {
		b, _ := json.Marshal(backup.Report{OK: *verified})
		if err := os.WriteFile(filepath.Join(p, backup.VerifyFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	items, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Name())
	}
	return out
}

// A pg_restore that cannot connect to the scratch database (too many
// clients, the server restarting), runs out of disk on the server, or is
// older than the archive says nothing about the backup: `steward backup
// verify` must not keep verify.json {ok:false} for it, which retention
// takes for a bad backup and deletes (every pg_restore failure used to be
// a failed "restore" check). The PostgreSQL twin of
// TestAScratchThatCannotBeWrittenIsNotABadBackup.
func TestAPostgresScratchThatCannotBeReachedIsNotABadBackup(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'pg_restore: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients already' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_restore"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b := backup.New(backup.Options{Inspector: fakeInspector{}, Version: "test", PGBin: bin, Logger: quiet()})
	dir := t.TempDir()
	yes := true
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	older := handMade(t, dir, t0, backup.KindPostgres, backup.FormatVersion, []byte("PGDMP archive one"), &yes)
	handMade(t, dir, t0.Add(24*time.Hour), backup.KindPostgres, backup.FormatVersion, []byte("PGDMP archive two"), &yes)

	// `steward backup verify OLDER --database URL`, at a moment the server is full.
	rep, err := b.Verify(context.Background(), older, backup.VerifyOptions{ServerURL: "postgres://steward@127.0.0.1:5432/steward"})
	if err == nil && !rep.OK {
		t.Errorf("a pg_restore that could not connect is reported as a bad backup: %s", rep.Failed())
		backup.KeepReport(older, rep) // what the CLI does with the report
	}
	if _, err := backup.Prune(dir, 2, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(older); err != nil {
		t.Errorf("retention (keep 2) deleted a sound backup after a verification that could not connect: %v", err)
	}
}

// What pg_restore says decides whether a verification that could not load
// the archive is a bad backup (a failed check) or could not look (an
// error): only the tool's own lines count, not the archive's rows quoted
// under them.
func TestAPostgresRestoreFailureIsTheArchivesOrTheServers(t *testing.T) {
	for _, tc := range []struct {
		name, stderr string
		bad          bool   // a failed check, not an error
		signal       string // the tool ends by this signal instead of exit 1
	}{
		// pg_restore crashes on some damaged archives: the archive's fault.
		{"crashed on the archive", `pg_restore: reading the archive`, true, "SEGV"},
		// Killed from outside (the out-of-memory killer, a shutdown): it did not judge the archive.
		{"killed", `pg_restore: reading the archive`, false, "KILL"},
		{"too many clients", `pg_restore: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many clients already`, false, ""},
		{"server stopping", `pg_restore: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  the database system is shutting down`, false, ""},
		{"disk full", `pg_restore: error: COPY failed for table "messages": ERROR:  could not extend file "base/16384/16400": No space left on device` +
			"\nHINT:  Check free disk space.", false, ""},
		{"archive newer than the tool", `pg_restore: error: unsupported version (1.16) in file header`, false, ""},
		{"not an archive", `pg_restore: error: did not find magic string in file header`, true, ""},
		{"bad row, whatever it says", `pg_restore: error: COPY failed for table "messages": ERROR:  invalid input syntax for type bigint: "x"` +
			"\nCONTEXT:  COPY messages, line 3, column seq: \"too many clients: no space left on device\"", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			end := "exit 1\n"
			if tc.signal != "" {
				end = "kill -" + tc.signal + " $$\n"
			}
			script := "#!/bin/sh\ncat >&2 <<'EOF'\n" + tc.stderr + "\nEOF\n" + end
			if err := os.WriteFile(filepath.Join(bin, "pg_restore"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			b := backup.New(backup.Options{Inspector: fakeInspector{}, Version: "test", PGBin: bin, Logger: quiet()})
			p := handMade(t, t.TempDir(), time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), backup.KindPostgres, backup.FormatVersion,
				[]byte("PGDMP archive"), nil)
			rep, err := b.Verify(context.Background(), p, backup.VerifyOptions{ServerURL: "postgres://steward@127.0.0.1:5432/steward"})
			c, failed := find(rep, "restore")
			switch {
			case tc.bad && (err != nil || !failed || c.OK || rep.OK):
				t.Errorf("a failure of the archive: %v, report %+v; want a failed restore check", err, rep.Checks)
			case !tc.bad && (err == nil || !strings.Contains(err.Error(), "could not verify")):
				t.Errorf("a failure of the server: %v, report %+v; want could not verify", err, rep.Checks)
			}
		})
	}
}
