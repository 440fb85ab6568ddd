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

// `steward keys rotate` adds a key to the key file, re-seals every original
// under it, audits the rotation, and leaves every original revealable.
func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	// A directory without a database is not taken for one with no keys.
	if code, _, errOut := run(t, "", nil, "keys", "list", "--data-dir", dir); code != 1 || !strings.Contains(errOut, "no Steward database") {
		t.Fatalf("keys list in a directory without a database: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "steward.db")); !os.IsNotExist(err) {
		t.Fatalf("keys list created a database: %v", err)
	}
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(dir, "steward.db")})
	if code, _, errOut := run(t, "", nil, "keys", "list", "--data-dir", dir); code != 1 || !strings.Contains(errOut, "no key file") {
		t.Fatalf("keys list without a key file: %d %s", code, errOut)
	}
	ctx := context.Background()
	keyFile := filepath.Join(dir, "pii-keys.json")
	ring, _, err := guard.LoadKeyring("", keyFile, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Active()
	vault := guard.NewVault(db, ring, 0, nil)
	for i, text := range []string{"手机 13812345678", "mail a@b.co", "卡 6222021234567890128"} {
		if _, err := vault.Keep(ctx, "c1", "note:"+string(rune('a'+i)), text, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := run(t, "", nil, "keys", "rotate", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("keys rotate: %d %s %s", code, out, errOut)
	}
	var rep struct {
		Active, Added string
		Resealed      int
		Keys          []string
		RecordsByKey  map[string]int64 `json:"records_by_key"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Added == "" || rep.Active != rep.Added || rep.Active == first || rep.Resealed != 3 ||
		rep.RecordsByKey[rep.Active] != 3 || rep.RecordsByKey[first] != 0 || len(rep.Keys) != 2 {
		t.Fatalf("rotation: %+v", rep)
	}
	kf, err := guard.ReadKeyFile(keyFile)
	if err != nil || kf.Active != rep.Active {
		t.Fatalf("key file after rotation: %+v %v", kf, err)
	}
	// The old ring learns the new key from the file and still reveals.
	if text, _, err := vault.Reveal(ctx, "c1", "note:c"); err != nil || text != "卡 6222021234567890128" {
		t.Fatalf("reveal after rotation: %q %v", text, err)
	}
	code, out, _ = run(t, "", nil, "audit", "--data-dir", dir, "--action", "keys.", "--json")
	if code != 0 || !strings.Contains(out, `"keys.rotate"`) || !strings.Contains(out, rep.Active) {
		t.Fatalf("rotation not audited: %d %s", code, out)
	}
	if code, out, _ := run(t, "", nil, "keys", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, rep.Active+"\t3 records") {
		t.Fatalf("keys list: %d %s", code, out)
	}
	// The key file lost (a database restored without it, a new file made
	// by a server started since): the records' key is named as missing,
	// and the command fails, rather than listing only the keys it has.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if _, _, err := guard.LoadKeyring("", keyFile, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "", nil, "keys", "list", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, rep.Active+"\t3 records\tMISSING") || !strings.Contains(errOut, "sealed under "+rep.Active) {
		t.Fatalf("keys list with the records' key missing: %d %q %s", code, out, errOut)
	}
	code, out, _ = run(t, "", nil, "keys", "list", "--data-dir", dir, "--json")
	if code != 1 || !strings.Contains(out, `"missing_keys": [`) || !strings.Contains(out, rep.Active) {
		t.Fatalf("keys list --json with the records' key missing: %d %s", code, out)
	}
}
