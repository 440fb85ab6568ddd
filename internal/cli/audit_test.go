package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/store"
)

// auditFixture is a data directory whose audit chain has n entries.
func auditFixture(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, app.SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := audit.New(db, nil)
	for i := 1; i <= n; i++ {
		if err := log.Record(ctx, audit.Entry{Actor: "u_admin", ActorName: "Admin", Action: "user.role",
			Object: fmt.Sprintf("user:u%d", i), Detail: map[string]any{"from": "agent", "to": "supervisor", "n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tamper runs SQL on the data directory's database behind Steward's back,
// as someone with the file would.
func tamper(t *testing.T, dir, query string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, app.SQLiteFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows", query, n)
	}
}

// TestAuditVerify: `steward audit verify` (and the older `audit --verify`)
// passes an intact chain and names the entry of every kind of tampering,
// including the deletion of the newest entry, which leaves a chain that
// links perfectly: only the head checkpoint shows it.
func TestAuditVerify(t *testing.T) {
	headRE := regexp.MustCompile(`head (\d+):([0-9a-f]{64})`)
	cases := []struct {
		name   string
		tamper string
		seq    int64
		kind   string
		msg    string
	}{
		{"intact", "", 0, "", ""},
		{"detail edited", `UPDATE audit_log SET detail = '{"from":"agent","n":4,"to":"admin"}' WHERE seq = 4`, 4, "altered", "entry 4 has been altered"},
		{"actor edited", `UPDATE audit_log SET actor = 'u_someone_else' WHERE seq = 2`, 2, "altered", "entry 2 has been altered"},
		{"detail made unreadable", `UPDATE audit_log SET detail = 'not json' WHERE seq = 3`, 3, "altered", "entry 3 has been altered"},
		{"middle entry deleted", `DELETE FROM audit_log WHERE seq = 3`, 3, "missing", "entry 3 is missing (between 2 and 4)"},
		{"first entry deleted", `DELETE FROM audit_log WHERE seq = 1`, 1, "missing", "entries 1 to 1 are missing"},
		{"last entry deleted", `DELETE FROM audit_log WHERE seq = 6`, 6, "truncated", "entry 6, the newest, is missing"},
		{"the head moved back", `UPDATE audit_head SET seq = 5 WHERE id = 1`, 6, "head", "beyond the head"},
		{"hash recomputed by hand", `UPDATE audit_log SET hash = 'ab' || substr(hash, 3) WHERE seq = 5`, 5, "altered", "entry 5 has been altered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := auditFixture(t, 6)
			target := []string{"--data-dir", dir}
			if tc.tamper != "" {
				tamper(t, dir, tc.tamper)
			}
			for _, args := range [][]string{{"audit", "verify"}, {"audit", "--verify"}} {
				code, out, errs := run(t, "", nil, append(args, target...)...)
				if tc.tamper == "" {
					if code != 0 || !strings.Contains(out, "audit chain intact: 6 entries, head 6:") {
						t.Fatalf("%v: %d %q %q", args, code, out, errs)
					}
					continue
				}
				want := fmt.Sprintf("the audit chain is broken at entry %d (%s)", tc.seq, tc.kind)
				if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, tc.msg) {
					t.Fatalf("%v: %d %q %q, want exit 1 and %q, %q", args, code, out, errs, want, tc.msg)
				}
			}
			code, out, _ := run(t, "", nil, append([]string{"audit", "verify", "--json"}, target...)...)
			var rep audit.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("--json: %q: %v", out, err)
			}
			if tc.tamper == "" {
				if code != 0 || !rep.OK || rep.Entries != 6 || rep.Head.Seq != 6 || rep.Break != nil {
					t.Fatalf("--json: %d %+v", code, rep)
				}
				return
			}
			if code != 1 || rep.OK || rep.Break == nil || rep.Break.Seq != tc.seq || rep.Break.Kind != tc.kind {
				t.Fatalf("--json: %d %+v", code, rep)
			}
		})
	}

	// A head printed earlier and kept elsewhere catches what the head
	// checkpoint cannot: the newest entry deleted and the head row rewritten
	// to the entry before it.
	t.Run("anchor", func(t *testing.T) {
		dir := auditFixture(t, 6)
		target := []string{"--data-dir", dir}
		code, out, errs := run(t, "", nil, append([]string{"audit", "verify"}, target...)...)
		m := headRE.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("verify: %d %q %q", code, out, errs)
		}
		anchor := m[1] + ":" + m[2]
		if code, out, errs := run(t, "", nil, append([]string{"audit", "verify", "--head", anchor}, target...)...); code != 0 {
			t.Fatalf("verify against its own head: %d %q %q", code, out, errs)
		}
		var prevHash string
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, app.SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT hash FROM audit_log WHERE seq = 5`).Scan(&prevHash); err != nil {
			t.Fatal(err)
		}
		db.Close()
		tamper(t, dir, `DELETE FROM audit_log WHERE seq = 6`)
		tamper(t, dir, `UPDATE audit_head SET seq = 5, hash = '`+prevHash+`' WHERE id = 1`)
		if code, out, errs := run(t, "", nil, append([]string{"audit", "verify"}, target...)...); code != 0 {
			t.Fatalf("a rewritten head is consistent on its own: %d %q %q", code, out, errs)
		}
		code, _, errs = run(t, "", nil, append([]string{"audit", "verify", "--head", anchor}, target...)...)
		if code != 1 || !strings.Contains(errs, "broken at entry 6 (anchor)") {
			t.Fatalf("verify against the earlier head: %d %q", code, errs)
		}
		if code, _, errs := run(t, "", nil, append([]string{"audit", "verify", "--head", "6:abc"}, target...)...); code != 2 ||
			!strings.Contains(errs, "SEQ:HASH") {
			t.Fatalf("a malformed --head: %d %q", code, errs)
		}
	})
}

// The audit trail's table shows a detail that is an object (a posture
// change's from and to) as JSON, which a reader and a script can take
// apart, not as a Go map.
func TestAuditTableShowsObjectsAsJSON(t *testing.T) {
	dir := auditFixture(t, 1)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, app.SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.New(db, nil).Record(ctx, audit.Entry{Actor: "u_admin", ActorName: "Admin", Action: "incident.posture",
		Object: "posture", Detail: map[string]any{"to": map[string]any{"level": 2, "human": true}, "reason": "answers wrong"}}); err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)
	code, out, errs := run(t, "", nil, "audit", "--data-dir", dir, "--action", "incident.")
	if code != 0 || !strings.Contains(out, `to={"human":true,"level":2}`) || !strings.Contains(out, "reason=answers wrong") ||
		strings.Contains(out, "map[") {
		t.Fatalf("audit: %d %q %s", code, out, errs)
	}
}

// A flag of the other mode is refused, not ignored: --head without --verify
// used to list entries and exit 0, the anchor never checked.
func TestAuditRefusesTheOtherModesFlags(t *testing.T) {
	dir := auditFixture(t, 3)
	for _, args := range [][]string{
		{"audit", "--head", "2:" + strings.Repeat("a", 64)},
		{"audit", "--verify", "--action", "kb."},
		{"audit", "--verify", "--limit", "5"},
	} {
		if code, out, errs := run(t, "", nil, append(args, "--data-dir", dir)...); code != 2 || out != "" || !strings.Contains(errs, "--") {
			t.Errorf("%v: %d %q %q, want a usage error", args, code, out, errs)
		}
	}
	if code, _, errs := run(t, "", nil, "audit", "--verify", "--data-dir", dir); code != 0 {
		t.Fatalf("audit --verify: %d %q", code, errs)
	}
}
