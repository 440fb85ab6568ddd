package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --data-dir DIR | --database URL: an explicit --data-dir on the command
// line was ignored when the environment (or the config file) named a
// PostgreSQL database, and the command silently went to PostgreSQL: a
// restore meant for a scratch directory (`steward restore --config
// /etc/steward/steward.yaml --data-dir /tmp/check --from B --force`)
// landed in the production database instead. Both flags at once are a
// usage error.
func TestDataDirFlagWinsOverADatabaseFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "data")
	if code, out, errs := run(t, "", nil, "migrate", "--data-dir", src); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	code, out, errs := run(t, "", nil, "backup", "--json", "--out", filepath.Join(dir, "backups"), "--data-dir", src)
	var res struct {
		Path string `json:"path"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	// The server's environment names its PostgreSQL database (unreachable here).
	env := map[string]string{"STEWARD_DATABASE": "postgres://steward@127.0.0.1:1/steward?sslmode=disable&connect_timeout=2"}
	scratch := filepath.Join(dir, "scratch")
	code, out, errs = run(t, "", env, "restore", "--from", res.Path, "--data-dir", scratch)
	if code != 0 {
		t.Errorf("restore --data-dir %s with STEWARD_DATABASE set: exit %d\n%s%s", scratch, code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(scratch, "steward.db")); err != nil {
		t.Errorf("nothing was restored into the --data-dir given: %v", err)
	}
	code, _, errs = run(t, "", nil, "restore", "--from", res.Path, "--data-dir", scratch, "--database", "postgres://steward@127.0.0.1:1/steward")
	if code != 2 || !strings.Contains(errs, "not both") {
		t.Errorf("restore with --data-dir and --database: exit %d, %s; want a usage error", code, errs)
	}
}
