package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/store"
)

// An entry whose time was edited into something that is not a whole number
// of milliseconds (SQLite keeps whatever is written: text, a fraction) is an
// edited entry like any other: audit verify names it as altered, and the
// trail can still be listed. It used to fail the whole read ("Scan error on
// column index 1"), naming no entry, with no report for --json, and
// `steward audit` could list nothing near it.
func TestAuditVerifyNamesAnEntryWhoseTimeWasEdited(t *testing.T) {
	for _, edit := range []string{
		`UPDATE audit_log SET at = 'yesterday' WHERE seq = 3`,
		`UPDATE audit_log SET at = at + 0.5 WHERE seq = 3`,
	} {
		t.Run(edit, func(t *testing.T) {
			dir := auditFixture(t, 6)
			tamper(t, dir, edit)
			code, _, errs := run(t, "", nil, "audit", "verify", "--data-dir", dir)
			if code != 1 || !strings.Contains(errs, "broken at entry 3 (altered)") {
				t.Errorf("audit verify: exit %d, %q; want exit 1 and entry 3 named as altered", code, errs)
			}
			code, out, errs := run(t, "", nil, "audit", "verify", "--json", "--data-dir", dir)
			var rep audit.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Break == nil || rep.Break.Seq != 3 {
				t.Errorf("audit verify --json: exit %d, %q %q; want a report breaking at 3", code, out, errs)
			}
			if code, out, errs := run(t, "", nil, "audit", "--data-dir", dir); code != 0 || !strings.Contains(out, "user:u6") {
				t.Errorf("audit (the list): exit %d, %q %q; want the entries listed", code, out, errs)
			}
		})
	}
}

// Deleting the head checkpoint row is tampering with the chain like
// deleting an entry: audit verify reports a break (kind head) in its report,
// rather than failing to read ("sql: no rows in result set"), which left
// --json with no report at all.
func TestAuditVerifyReportsADeletedHead(t *testing.T) {
	dir := auditFixture(t, 4)
	tamper(t, dir, `DELETE FROM audit_head WHERE id = 1`)
	code, out, errs := run(t, "", nil, "audit", "verify", "--json", "--data-dir", dir)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.OK || rep.Break == nil || rep.Break.Kind != audit.BreakHead {
		t.Fatalf("audit verify --json with the head row deleted: exit %d, %q %q; want a report with a head break", code, out, errs)
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
}

// One entry is one line of `steward audit`: a detail (a reason typed by a
// supervisor, a user's name) that holds a line break or a tab must not
// start a line of its own, where it reads as another entry of the trail.
func TestAuditTableKeepsEachEntryOnOneLine(t *testing.T) {
	dir := auditFixture(t, 1)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, app.SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	forged := "2026-01-01 09:00:00\tAlice Admin\tuser.role\tuser:u_mallory\temail=mallory@example.com from=agent to=admin"
	if err := audit.New(db, nil).Record(ctx, audit.Entry{Actor: "u_sup", ActorName: "Sam\n41\t" + forged, Action: "kb.rollback",
		Object: "release:3", Detail: map[string]any{"reason": "bad release\n40\t" + forged}}); err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)
	code, out, errs := run(t, "", nil, "audit", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("audit: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 { // the header and two entries
		t.Fatalf("2 entries printed as %d lines (forged entries among them):\n%s", len(lines)-1, out)
	}
}

// A --head whose hash is not hex (a mistyped or mangled copy) is a usage
// error, as the API's ?head= is: it used to be held against the chain and
// reported as a rewritten chain, a false tamper alarm with exit 1.
func TestAuditVerifyRefusesAHeadThatIsNotHex(t *testing.T) {
	dir := auditFixture(t, 3)
	bad := "2:" + strings.Repeat("z", 64)
	code, _, errs := run(t, "", nil, "audit", "verify", "--head", bad, "--data-dir", dir)
	if code != 2 || !strings.Contains(errs, "SEQ:HASH") {
		t.Fatalf("audit verify --head %s: exit %d, %q; want a usage error (2), not a tamper alarm", bad, code, errs)
	}
}

// A row slipped into the audit table below the chain's first entry (seq 0
// or negative) is listed by `steward audit` like any entry (and found by
// --object), yet audit verify never read it and said the chain was intact:
// every row of the trail must be part of the chain, or be reported.
func TestAuditVerifyReportsARowBelowTheChain(t *testing.T) {
	for _, seq := range []string{"0", "-1"} {
		t.Run("seq "+seq, func(t *testing.T) {
			dir := auditFixture(t, 3)
			tamper(t, dir, `INSERT INTO audit_log (seq, at, actor, actor_name, action, object, detail, prev_hash, hash)
				VALUES (`+seq+`, 1795500000000, 'u_alice', 'Alice Admin', 'user.role', 'user:u_mallory',
				'{"from":"agent","to":"admin"}', '', '`+strings.Repeat("0", 64)+`')`)
			// The forged row is in the trail an auditor reads.
			if code, out, _ := run(t, "", nil, "audit", "--object", "u_mallory", "--data-dir", dir); code != 0 ||
				!strings.Contains(out, "Alice Admin") {
				t.Fatalf("the forged row is not listed (%d %q): the test does not show what it means to", code, out)
			}
			code, out, errs := run(t, "", nil, "audit", "verify", "--data-dir", dir)
			if code != 1 || !strings.Contains(errs, "broken at entry "+seq) {
				t.Fatalf("audit verify with a forged row at seq %s: exit %d, %q %q; want exit 1 naming entry %s", seq, code, out, errs, seq)
			}
		})
	}
}
