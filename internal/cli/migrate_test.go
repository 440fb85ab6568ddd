package cli_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/app"
)

// `steward migrate` on a database a newer steward migrated has nothing to
// apply, and that is not success: the runbook's next step (roll the nodes
// onto this binary) would find every node refusing to start. It said
// "applied 0 migration(s)" and exited 0.
func TestMigrateRefusesANewerSchema(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := run(t, "", nil, "migrate", "--data-dir", dir); code != 0 {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, app.SQLiteFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "", nil, "migrate", "--data-dir", dir)
	if code == 0 || !strings.Contains(errs, "newer than this binary knows") {
		t.Fatalf("migrate on a newer schema: exit %d, stdout %q, stderr %q; want a failure that says so", code, out, errs)
	}
}
