package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// TestBackupRestoreCommands: steward backup, backup verify, backup list and
// restore on both stores, with --json; a damaged backup makes verify exit 1
// naming the failed check, and restore refuse it; restore refuses an
// existing database without --force and audits itself in the restored one.
func TestBackupRestoreCommands(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			dir := t.TempDir()
			source := []string{"--data-dir", filepath.Join(dir, "data")}
			into := []string{"--data-dir", filepath.Join(dir, "restored")}
			if b == "postgres" {
				source = []string{"--database", testutil.PostgresURL(t)}
				into = []string{"--database", testutil.PostgresURL(t)}
			}
			must := func(stdin string, args ...string) string {
				t.Helper()
				code, out, errs := run(t, stdin, nil, args...)
				if code != 0 {
					t.Fatalf("steward %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
				}
				return out
			}
			must("", append([]string{"migrate"}, source...)...)
			must("Correct-horse-battery-9", append([]string{"user", "add", "--email", "ops@example.com", "--role", "admin",
				"--password-stdin"}, source...)...)
			out := must("", append([]string{"backup", "--json", "--out", filepath.Join(dir, "backups")}, source...)...)
			var res struct {
				Path     string  `json:"path"`
				Bytes    int64   `json:"bytes"`
				Seconds  float64 `json:"seconds"`
				Manifest struct {
					Store  string `json:"store"`
					Tables []struct {
						Name string `json:"name"`
						Rows int64  `json:"rows"`
					} `json:"tables"`
				} `json:"manifest"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Path == "" || res.Bytes == 0 || res.Manifest.Store != b {
				t.Fatalf("backup --json: %v %s", err, out)
			}
			verifyArgs := []string{"backup", "verify", res.Path, "--json"}
			if b == "postgres" {
				verifyArgs = append(verifyArgs, source...) // the server for the scratch database
			}
			var rep struct {
				OK     bool `json:"ok"`
				Checks []struct {
					Name   string `json:"name"`
					OK     bool   `json:"ok"`
					Detail string `json:"detail"`
				} `json:"checks"`
				Seconds *float64 `json:"seconds"`
			}
			if err := json.Unmarshal([]byte(must("", verifyArgs...)), &rep); err != nil || !rep.OK || len(rep.Checks) < 5 || rep.Seconds == nil {
				t.Fatalf("backup verify --json: %v %+v", err, rep)
			}
			if out := must("", "backup", "verify", res.Path, "--database", sourceURL(source)); !strings.Contains(out, "backup verified") {
				t.Fatalf("backup verify: %s", out)
			}
			// The manual verification is what backup list reports (it said "-" until a scheduled one ran).
			if out := must("", "backup", "list", "--out", filepath.Join(dir, "backups")); !strings.Contains(out, filepath.Base(res.Path)) ||
				!regexp.MustCompile(regexp.QuoteMeta(filepath.Base(res.Path))+`.*\sok\n`).MatchString(out) {
				t.Fatalf("backup list after a verification: %s", out)
			}

			restored := must("", append([]string{"restore", "--from", res.Path, "--json"}, into...)...)
			if !strings.Contains(restored, `"ok": true`) {
				t.Fatalf("restore: %s", restored)
			}
			code, _, errs := run(t, "", nil, append([]string{"restore", "--from", res.Path}, into...)...)
			if code != 1 || !strings.Contains(errs, "--force") {
				t.Fatalf("restore over a database without --force: %d %s", code, errs)
			}
			must("", append([]string{"restore", "--from", res.Path, "--force"}, into...)...)
			audited := must("", append([]string{"audit", "--action", "backup.restore", "--json"}, into...)...)
			if strings.Count(audited, `"action": "backup.restore"`) != 1 {
				t.Fatalf("the restored database's audit trail: %s", audited)
			}
			must("", append([]string{"audit", "verify"}, into...)...)
			if users := must("", append([]string{"user", "list"}, into...)...); !strings.Contains(users, "ops@example.com") {
				t.Fatalf("restored users: %s", users)
			}

			// A damaged payload: verify exits 1 and names the check; restore refuses.
			m, err := os.ReadFile(filepath.Join(res.Path, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			var manifest struct{ Payload string }
			json.Unmarshal(m, &manifest)
			payload := filepath.Join(res.Path, manifest.Payload)
			data, _ := os.ReadFile(payload)
			data[len(data)/2] ^= 0xff
			os.WriteFile(payload, data, 0o600)
			code, out, errs = run(t, "", nil, verifyArgs...)
			if code != 1 || !strings.Contains(out, `"ok": false`) || !strings.Contains(errs, "payload_sha256") {
				t.Fatalf("verify of a damaged backup: exit %d\n%s\n%s", code, out, errs)
			}
			fresh := []string{"--data-dir", filepath.Join(dir, "fresh")}
			if b == "postgres" {
				fresh = []string{"--database", testutil.PostgresURL(t)}
			}
			code, out, errs = run(t, "", nil, append([]string{"restore", "--from", res.Path}, fresh...)...)
			if code != 1 || !strings.Contains(errs, "failed verification") || !strings.Contains(out, "FAIL") {
				t.Fatalf("restore of a damaged backup: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}

// sourceURL is the --database of a command line, or "" for SQLite.
func sourceURL(args []string) string {
	if args[0] == "--database" {
		return args[1]
	}
	return ""
}

// TestBackupCommandUsage: mistakes are usage errors (exit 2) with a hint.
func TestBackupCommandUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"restore", "--data-dir", dir}, 2, "--from BACKUP"},
		{[]string{"backup", "verify"}, 2, "give one backup"},
		{[]string{"backup", "extra"}, 2, "takes no arguments"},
		{[]string{"backup", "--data-dir", dir}, 1, "no database to back up"},
		{[]string{"backup", "verify", dir}, 1, "has no manifest.json"},
		{[]string{"backup", "verify", filepath.Join(dir, "nonexistent")}, 1, "no backup at " + filepath.Join(dir, "nonexistent")},
	} {
		code, _, errs := run(t, "", nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("steward %s: exit %d %q; want %d and %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.want)
		}
	}
	// Verifying what is not a backup leaves no report in it.
	if _, err := os.Stat(filepath.Join(dir, "verify.json")); !os.IsNotExist(err) {
		t.Errorf("backup verify of a directory that is not a backup wrote a report there: %v", err)
	}
}

// A restore under a running server is refused: the server would go on
// writing to the database the restore moves aside, and lose those writes.
// A second server on the same data directory is refused likewise.
func TestRestoreRefusesARunningServersDirectory(t *testing.T) {
	run0 := testutil.Start(t, nil)
	out := t.TempDir()
	code, stdout, errs := run(t, "", nil, "backup", "--json", "--out", out, "--data-dir", run0.DataDir)
	var res struct {
		Path string `json:"path"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Path == "" {
		t.Fatalf("backup of the running server: %d %s %s", code, stdout, errs)
	}
	code, _, errs = run(t, "", nil, "restore", "--from", res.Path, "--force", "--data-dir", run0.DataDir)
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("a Steward server (pid %d) is using", os.Getpid())) {
		t.Fatalf("restore under a running server: %d %s", code, errs)
	}
	if matches, _ := filepath.Glob(filepath.Join(run0.DataDir, "steward.db.pre-restore-*")); len(matches) != 0 {
		t.Fatalf("the refused restore moved the database aside: %v", matches)
	}
	code, _, errs = run(t, "", map[string]string{"STEWARD_DATA_DIR": run0.DataDir, "STEWARD_ADDR": "127.0.0.1:0"}, "serve")
	if code != 1 || !strings.Contains(errs, "is using") {
		t.Fatalf("a second server on the directory: %d %s", code, errs)
	}
	// Stopped, the directory is free again.
	run0.Stop()
	if code, _, errs := run(t, "", nil, "restore", "--from", res.Path, "--force", "--data-dir", run0.DataDir); code != 0 {
		t.Fatalf("restore after the server stopped: %d %s", code, errs)
	}
}

// A database restored where its key file is not: the restore says which
// keys the sealed records need, and stops saying so once the key file is
// back.
func TestRestoreNamesTheKeysTheRecordsNeed(t *testing.T) {
	dir := t.TempDir()
	source, into := filepath.Join(dir, "data"), filepath.Join(dir, "restored")
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(source, "steward.db")})
	ring, _, err := guard.LoadKeyring("", filepath.Join(source, "pii-keys.json"), true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guard.NewVault(db, ring, 0, nil).Keep(context.Background(), "c1", "note:a", "手机 13812345678", time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close(context.Background())
	code, out, errs := run(t, "", nil, "backup", "--json", "--out", filepath.Join(dir, "backups"), "--data-dir", source)
	var res struct {
		Path string `json:"path"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	code, _, errs = run(t, "", nil, "restore", "--from", res.Path, "--data-dir", into)
	if code != 0 || !strings.Contains(errs, "sealed under "+ring.Active()) || !strings.Contains(errs, "no key file at "+filepath.Join(into, "pii-keys.json")) {
		t.Fatalf("restore without the key file: %d %s", code, errs)
	}
	key, err := os.ReadFile(filepath.Join(source, "pii-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(into, "pii-keys.json"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = run(t, "", nil, "restore", "--from", res.Path, "--data-dir", into, "--force"); code != 0 || strings.Contains(errs, "warning") {
		t.Fatalf("restore with the key file back: %d %s", code, errs)
	}
}
