package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
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

// A database restored without its key file, after a server started since
// made a new one: `steward keys import OLD` adds the old keys to the new
// file, so that the originals sealed under either key can be revealed. The
// active key stays; a file whose key id clashes with a different secret is
// refused and changes nothing.
func TestKeysImport(t *testing.T) {
	dir := t.TempDir()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(dir, "steward.db")})
	ctx := context.Background()
	oldFile := filepath.Join(t.TempDir(), "old-keys.json") // the backup of the key file
	oldRing, _, err := guard.LoadKeyring("", oldFile, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guard.NewVault(db, oldRing, 0, nil).Keep(ctx, "c1", "note:old", "手机 13812345678", time.Now()); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "pii-keys.json") // the one a server made on finding none
	newRing, _, err := guard.LoadKeyring("", keyFile, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guard.NewVault(db, newRing, 0, nil).Keep(ctx, "c1", "note:new", "mail a@b.co", time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "", nil, "keys", "list", "--data-dir", dir); code != 1 || !strings.Contains(errOut, "steward keys import") {
		t.Fatalf("keys list does not point at keys import: %d %s", code, errOut)
	}

	code, out, errOut := run(t, "", nil, "keys", "import", oldFile, "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("keys import: %d %s %s", code, out, errOut)
	}
	var rep struct {
		Active   string
		Imported []string
		Keys     []string
		Missing  []string `json:"missing_keys"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Active != newRing.Active() || len(rep.Imported) != 1 || rep.Imported[0] != oldRing.Active() ||
		len(rep.Keys) != 2 || len(rep.Missing) != 0 {
		t.Fatalf("import: %+v", rep)
	}
	ring, _, err := guard.LoadKeyring("", keyFile, false, time.Now())
	if err != nil || ring.Active() != newRing.Active() {
		t.Fatalf("key file after import: active %v, %v", ring, err)
	}
	vault := guard.NewVault(db, ring, 0, nil)
	for note, want := range map[string]string{"note:old": "手机 13812345678", "note:new": "mail a@b.co"} {
		if text, _, err := vault.Reveal(ctx, "c1", note); err != nil || text != want {
			t.Fatalf("reveal %s after import: %q %v", note, text, err)
		}
	}
	if code, out, _ := run(t, "", nil, "keys", "list", "--data-dir", dir); code != 0 || strings.Contains(out, "MISSING") {
		t.Fatalf("keys list after import: %d %s", code, out)
	}
	code, out, _ = run(t, "", nil, "audit", "--data-dir", dir, "--action", "keys.", "--json")
	if code != 0 || !strings.Contains(out, `"keys.import"`) || !strings.Contains(out, oldRing.Active()) {
		t.Fatalf("import not audited: %d %s", code, out)
	}
	// Again: nothing to add, nothing written, not an error.
	if code, out, errOut := run(t, "", nil, "keys", "import", oldFile, "--data-dir", dir); code != 0 || !strings.Contains(out, "already holds") {
		t.Fatalf("second import: %d %s %s", code, out, errOut)
	}

	// A file with the same key id and another secret is refused whole.
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := guard.ReadKeyFile(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	kf.Keys[0].Secret = make([]byte, 32)
	kf.Keys = append(kf.Keys, guard.NewKey(time.Now()))
	clash := filepath.Join(t.TempDir(), "clash.json")
	if err := kf.Write(clash); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "", nil, "keys", "import", clash, "--data-dir", dir); code != 1 || !strings.Contains(errOut, "different secrets") {
		t.Fatalf("clashing import: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(keyFile); string(after) != string(before) {
		t.Fatal("a refused import changed the key file")
	}
	// Clear errors for a missing argument and an unreadable file.
	if code, _, errOut := run(t, "", nil, "keys", "import", "--data-dir", dir); code != 2 || !strings.Contains(errOut, "one argument") {
		t.Fatalf("import without a file: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", nil, "keys", "import", filepath.Join(dir, "nope.json"), "--data-dir", dir); code != 1 || !strings.Contains(errOut, "nope.json") {
		t.Fatalf("import of a missing file: %d %s", code, errOut)
	}
}

// A rotation that stops partway (the database refuses one record's new
// seal) is still audited: by then the new key is in the key file and
// active, and records are sealed under it. It was audited only when every
// record had been re-sealed, so the log never heard of the new key.
func TestAKeyRotationThatStopsPartwayIsAudited(t *testing.T) {
	dir := t.TempDir()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(dir, "steward.db")})
	ctx := context.Background()
	ring, _, err := guard.LoadKeyring("", filepath.Join(dir, "pii-keys.json"), true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vault := guard.NewVault(db, ring, 0, nil)
	for i, text := range []string{"手机 13812345678", "mail a@b.co", "卡 6222021234567890128"} {
		if _, err := vault.Keep(ctx, "c1", "note:"+string(rune('a'+i)), text, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// The database itself refuses the last record's update, as a full
	// disk or a constraint would.
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, app.SQLiteFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse_reseal BEFORE UPDATE ON pii_vault WHEN OLD.ref = 'note:c'
		BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", nil, "keys", "rotate", "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, "disk full") {
		t.Fatalf("keys rotate with a record refused: %d %s %s", code, out, errOut)
	}
	code, out, _ = run(t, "", nil, "audit", "--data-dir", dir, "--action", "keys.rotate", "--json")
	if code != 0 || !strings.Contains(out, `"keys.rotate"`) || !strings.Contains(out, "disk full") {
		t.Fatalf("the partial rotation is not audited with its error: %d %s", code, out)
	}
}
