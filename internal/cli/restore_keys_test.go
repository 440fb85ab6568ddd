package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A key file that is there but cannot be read or parsed (a truncated
// copy, wrong permissions, a bad STEWARD_PII_KEYS) is not missing: restore
// used to throw LoadKeyring's error away and say "there is no key file at
// <path>", telling the operator to put back the key file already in place
// instead of what is wrong with it.
func TestRestoreSaysWhyTheKeyFileCannotBeUsed(t *testing.T) {
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
	// The key file was copied back, but truncated on the way.
	key, err := os.ReadFile(filepath.Join(source, "pii-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(into, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(into, "pii-keys.json"), key[:len(key)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "", nil, "restore", "--from", res.Path, "--data-dir", into)
	if code != 0 {
		t.Fatalf("restore: %d %s", code, errs)
	}
	if strings.Contains(errs, "there is no key file at") {
		t.Errorf("the key file is there but unreadable, and restore says it is missing:\n%s", errs)
	}
	if !strings.Contains(errs, "the keys cannot be read") || !strings.Contains(errs, filepath.Join(into, "pii-keys.json")) {
		t.Errorf("restore does not say what is wrong with the key file:\n%s", errs)
	}
}
