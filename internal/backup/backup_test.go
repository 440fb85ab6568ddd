package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func backups() *backup.Backups { return app.NewBackups("test", "", quiet()) }

// target is where a test's database lives.
type target struct {
	name   string
	sqlite string // path of the SQLite file
	url    string // PostgreSQL URL
}

func (tg target) options() store.Options {
	return store.Options{SQLitePath: tg.sqlite, DatabaseURL: tg.url, Logger: quiet()}
}

func (tg target) restoreTarget() backup.Target {
	return backup.Target{SQLitePath: tg.sqlite, DatabaseURL: tg.url}
}

// freshTarget is an empty database of the backend: a file not yet made, or
// a new database on the package's cluster.
func freshTarget(t *testing.T, backend string) target {
	if backend == "postgres" {
		return target{name: backend, url: testutil.PostgresURL(t)}
	}
	return target{name: backend, sqlite: filepath.Join(t.TempDir(), app.SQLiteFile)}
}

func open(t *testing.T, tg target) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), tg.options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// checkNames are the names of the checks in a report, failed ones marked.
func failedChecks(r backup.Report) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func find(r backup.Report, name string) (backup.Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return backup.Check{}, false
}

// TestBackupRoundTrip: a running Steward holds conversations, messages and
// audit entries; a backup is taken while customers keep talking; it
// verifies, restores into a new database that verifies again, and every
// message acknowledged before the backup began is in the restored copy,
// with the audit chain intact up to the manifest's head.
func TestBackupRoundTrip(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			live := freshTarget(t, backend)
			run := testutil.Start(t, func(c *config.Config) {
				if live.url != "" {
					c.Database = live.url
				} else {
					live.sqlite = filepath.Join(c.DataDir, app.SQLiteFile)
				}
			})
			client := &testutil.Client{T: t, Base: run.URL}
			questions := []string{"运费多少", "how do I return an item", "我的订单什么时候发货", "can I change my address"}
			var before []testutil.Conversation
			for i := range 8 {
				conv := client.Start([]string{"zh-CN", "en"}[i%2])
				for _, q := range questions[:1+i%len(questions)] {
					client.Say(conv, q)
				}
				before = append(before, client.Get(conv))
			}
			// Customers keep talking while the backup is taken.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var during atomic.Int64
			wg.Go(func() {
				conv := client.Start("en")
				for {
					select {
					case <-stop:
						return
					default:
					}
					client.Say(conv, "how much is shipping")
					during.Add(1)
				}
			})
			db := open(t, live)
			dir := t.TempDir()
			res, err := backups().Create(ctx, backup.Source{DB: db, DatabaseURL: live.url}, dir)
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			t.Logf("backup %s: %d bytes in %.2fs; %d turns during it", res.Path, res.Bytes, res.Seconds, during.Load())
			if m.Store != backend || m.SchemaVersion == 0 || m.AuditHead.Seq == 0 || m.PayloadBytes != res.Bytes {
				t.Fatalf("manifest: %+v", m)
			}
			rows := map[string]int64{}
			for _, tb := range m.Tables {
				rows[tb.Name] = tb.Rows
			}
			if rows["conversations"] < 8 || rows["messages"] < 16 || rows["audit_log"] != m.AuditHead.Seq {
				t.Fatalf("manifest rows %v, audit head %d", rows, m.AuditHead.Seq)
			}

			rep, err := backups().Verify(ctx, res.Path, backup.VerifyOptions{ServerURL: live.url, ScratchDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK {
				t.Fatalf("verify failed: %s", rep.Failed())
			}
			want := []string{"manifest", "payload_sha256", "schema_version", "table messages", "table audit_log", "audit_chain"}
			if backend == "sqlite" {
				want = append(want, "integrity_check")
			} else {
				want = append(want, "restore")
			}
			for _, name := range want {
				if _, ok := find(rep, name); !ok {
					t.Errorf("verify made no %q check: %+v", name, rep.Checks)
				}
			}

			into := freshTarget(t, backend)
			restored, err := backups().Restore(ctx, res.Path, into.restoreTarget(), false)
			if err != nil {
				t.Fatal(err)
			}
			if !restored.OK || restored.Replaced != "" {
				t.Fatalf("restore: %+v", restored)
			}
			rdb := open(t, into)
			if err := rdb.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
			for _, conv := range before {
				msgs, err := rdb.Messages(ctx, conv.ID, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) != len(conv.Messages) {
					t.Fatalf("conversation %s: %d messages restored, %d acknowledged before the backup", conv.ID, len(msgs), len(conv.Messages))
				}
				for i, msg := range msgs {
					if msg.ID != conv.Messages[i].ID || msg.Text != conv.Messages[i].Text {
						t.Fatalf("conversation %s message %d: restored %q, acknowledged %q", conv.ID, i+1, msg.Text, conv.Messages[i].Text)
					}
				}
			}
			arep, err := audit.New(rdb, nil).Verify(ctx, &m.AuditHead)
			if err != nil || !arep.OK || arep.Head != m.AuditHead {
				t.Fatalf("restored audit chain: %+v %v (manifest head %+v)", arep, err, m.AuditHead)
			}
			// The restored database takes a backup that matches the first.
			again, err := backups().Create(ctx, backup.Source{DB: rdb, DatabaseURL: into.url}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for i, tb := range again.Manifest.Tables {
				if tb != m.Tables[i] {
					t.Errorf("table %s after the round trip: %+v, before: %+v", tb.Name, tb, m.Tables[i])
				}
			}
		})
	}
}

// TestRestoreRefusesAnExistingDatabase: without --force a database that is
// there stays; with it, a SQLite one is moved aside, not deleted.
func TestRestoreRefusesAnExistingDatabase(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			src := seeded(t, backend, 3)
			res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			other := seeded(t, backend, 1)
			if _, err := backups().Restore(ctx, res.Path, other.restoreTarget(), false); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("restore over a database without --force: %v", err)
			}
			out, err := backups().Restore(ctx, res.Path, other.restoreTarget(), true)
			if err != nil {
				t.Fatal(err)
			}
			if backend == "sqlite" {
				if _, err := os.Stat(out.Replaced); err != nil {
					t.Fatalf("the replaced database is not kept: %v", err)
				}
			}
			n, err := open(t, other).ConversationsIn(ctx, conversation.StateBot)
			if err != nil || len(n) != 3 {
				t.Fatalf("after the restore: %d conversations, %v; want the backup's 3", len(n), err)
			}
		})
	}
}

// seeded is a database of the backend holding n conversations of three
// messages with distinctive text, and audit entries.
func seeded(t *testing.T, backend string, n int) target {
	t.Helper()
	ctx := context.Background()
	tg := freshTarget(t, backend)
	db, err := store.Open(ctx, tg.options())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range n {
		c := &conversation.Conversation{ID: fmt.Sprintf("c%04d", i), TokenHash: []byte("hash"), State: conversation.StateBot,
			Locale: "zh-CN", LastSeq: 1, CreatedAt: now, UpdatedAt: now, Source: "web"}
		msg := func(seq int64, role conversation.Role, text string) conversation.Message {
			return conversation.Message{ID: fmt.Sprintf("m%04d_%d", i, seq), ConversationID: c.ID, Seq: seq, Role: role,
				Text: text, Locale: "zh-CN", CreatedAt: now}
		}
		if err := db.CreateConversation(ctx, c, []conversation.Message{msg(1, conversation.RoleBot, "您好，有什么可以帮您？")}); err != nil {
			t.Fatal(err)
		}
		c.LastSeq = 3
		if err := db.SaveTurn(ctx, conversation.Turn{Conversation: c, Messages: []conversation.Message{
			msg(2, conversation.RoleCustomer, fmt.Sprintf("MARKER-%04d 我的订单什么时候发货", i)),
			msg(3, conversation.RoleBot, "付款后 48 小时内发货。"),
		}}); err != nil {
			t.Fatal(err)
		}
	}
	log := audit.New(db, nil)
	for i := range 5 {
		if err := log.Record(ctx, audit.Entry{Actor: "u_admin", ActorName: "Admin", Action: "user.role",
			Object: fmt.Sprintf("user:u%d", i), Detail: map[string]any{"to": "agent"}}); err != nil {
			t.Fatal(err)
		}
	}
	return tg
}

// copyBackup copies a backup directory, so that each case damages its own.
func copyBackup(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func readManifest(t *testing.T, dir string) backup.Manifest {
	t.Helper()
	m, err := backup.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeManifest(t *testing.T, dir string, m backup.Manifest) {
	t.Helper()
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, backup.ManifestFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// resum gives the manifest the payload's real SHA-256, as a forger would.
func resum(t *testing.T, dir string) {
	t.Helper()
	m := readManifest(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, m.Payload))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	m.PayloadSHA256, m.PayloadBytes = hex.EncodeToString(sum[:]), int64(len(b))
	writeManifest(t, dir, m)
}

// patchPayload rewrites bytes of the payload in place.
func patchPayload(t *testing.T, dir string, fn func(b []byte)) {
	t.Helper()
	p := filepath.Join(dir, readManifest(t, dir).Payload)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fn(b)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sqlitePayload opens a backup's SQLite payload for writing, behind
// Steward's back.
func sqlitePayload(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(dir, readManifest(t, dir).Payload))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBackupVerifyDetectsCorruption: every kind of damage to a backup fails
// the check that should see it, and leaves the others passing: a flipped
// byte the SHA-256; a manifest whose counts disagree the table; a payload
// edited and its SHA-256 recomputed the checksum (a message's text),
// integrity_check (a damaged index page) or the audit chain (an entry
// rewritten with every table checksum recomputed too).
func TestBackupVerifyDetectsCorruption(t *testing.T) {
	cases := []struct {
		name     string
		backends []string
		damage   func(t *testing.T, dir string)
		fail     []string // exactly the checks that must fail
		pass     []string // checks that must still pass
	}{
		{name: "a byte of the payload flipped", backends: []string{"sqlite", "postgres"},
			damage: func(t *testing.T, dir string) {
				patchPayload(t, dir, func(b []byte) { b[len(b)/2] ^= 0x5a })
			}, fail: []string{"payload_sha256"}, pass: []string{"manifest"}},
		{name: "the manifest's row count disagrees", backends: []string{"sqlite", "postgres"},
			damage: func(t *testing.T, dir string) {
				m := readManifest(t, dir)
				for i := range m.Tables {
					if m.Tables[i].Name == "messages" {
						m.Tables[i].Rows++
					}
				}
				writeManifest(t, dir, m)
			}, fail: []string{"table messages"}, pass: []string{"payload_sha256", "table conversations", "audit_chain"}},
		{name: "the manifest is not JSON", backends: []string{"sqlite", "postgres"},
			damage: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, backup.ManifestFile), []byte("{not json"), 0o600)
			}, fail: []string{"manifest"}},
		{name: "a message's text altered, SHA-256 recomputed", backends: []string{"sqlite"},
			damage: func(t *testing.T, dir string) {
				patchPayload(t, dir, func(b []byte) {
					// Every copy: a page's free space may hold a stale one.
					n := 0
					for i := bytes.Index(b, []byte("MARKER-0002")); i >= 0; i = bytes.Index(b, []byte("MARKER-0002")) {
						b[i], n = 'N', n+1
					}
					if n == 0 {
						t.Fatal("marker not in the payload")
					}
				})
				resum(t, dir)
			}, fail: []string{"table messages"}, pass: []string{"payload_sha256", "integrity_check", "table conversations"}},
		{name: "an index page damaged, SHA-256 recomputed", backends: []string{"sqlite"},
			damage: func(t *testing.T, dir string) {
				var root int64
				if err := sqlitePayload(t, dir).QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name LIMIT 1`).Scan(&root); err != nil {
					t.Fatal(err)
				}
				patchPayload(t, dir, func(b []byte) {
					pageSize := int64(binary.BigEndian.Uint16(b[16:18]))
					b[(root-1)*pageSize] = 0x0b // not a b-tree page type
				})
				resum(t, dir)
			}, fail: []string{"integrity_check"}, pass: []string{"payload_sha256", "table messages"}},
		{name: "an audit entry rewritten, every checksum recomputed", backends: []string{"sqlite"},
			damage: func(t *testing.T, dir string) {
				if _, err := sqlitePayload(t, dir).Exec(`UPDATE audit_log SET detail = '{"to":"admin"}' WHERE seq = 3`); err != nil {
					t.Fatal(err)
				}
				m := readManifest(t, dir)
				err := store.Inspector{}.InspectSQLite(context.Background(), filepath.Join(dir, m.Payload),
					func(ctx context.Context, v backup.View) error {
						for i := range m.Tables {
							s, err := v.TableSum(ctx, m.Tables[i].Name)
							if err != nil {
								return err
							}
							m.Tables[i] = s
						}
						return nil
					})
				if err != nil {
					t.Fatal(err)
				}
				writeManifest(t, dir, m)
				resum(t, dir)
			}, fail: []string{"audit_chain"}, pass: []string{"payload_sha256", "integrity_check", "table audit_log"}},
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			src := seeded(t, backend, 40)
			res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			verify := func(dir string) backup.Report {
				rep, err := backups().Verify(ctx, dir, backup.VerifyOptions{ServerURL: src.url, ScratchDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			if rep := verify(res.Path); !rep.OK {
				t.Fatalf("the undamaged backup fails: %s", rep.Failed())
			}
			for _, tc := range cases {
				if !slices.Contains(tc.backends, backend) {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					dir := copyBackup(t, res.Path)
					tc.damage(t, dir)
					rep := verify(dir)
					failed := failedChecks(rep)
					if rep.OK || len(failed) == 0 {
						t.Fatalf("verify passed a damaged backup: %+v", rep.Checks)
					}
					for _, name := range tc.fail {
						if !slices.Contains(failed, name) {
							t.Errorf("check %q passed; failed: %v", name, failed)
						}
					}
					for _, name := range tc.pass {
						if c, ok := find(rep, name); !ok || !c.OK {
							t.Errorf("check %q should pass: %+v (failed: %v)", name, c, failed)
						}
					}
					for _, c := range rep.Checks {
						if !c.OK {
							t.Logf("%s: %s", c.Name, c.Detail)
						}
					}
					// Restore refuses it and leaves the target alone.
					into := freshTarget(t, backend)
					if _, err := backups().Restore(ctx, dir, into.restoreTarget(), false); err == nil {
						t.Fatal("restore took a damaged backup")
					}
					if into.sqlite != "" {
						if entries, _ := os.ReadDir(filepath.Dir(into.sqlite)); len(entries) != 0 {
							t.Fatalf("a refused restore left files: %v", entries)
						}
					}
				})
			}
		})
	}
}

// metric reads one series' value from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// TestBackupScheduled: with a one-second schedule the server takes backups,
// verifies each and keeps the newest two; a backup that fails its
// verification (the live audit trail was edited behind Steward's back)
// raises the backup_failed alert, counts in steward_backup_failures_total
// and is kept for inspection without costing a good backup.
func TestBackupScheduled(t *testing.T) {
	dir := t.TempDir()
	run := testutil.Start(t, func(c *config.Config) {
		c.Backup = config.Backup{Schedule: time.Second, Dir: dir, Keep: 2}
	})
	seen := map[string]bool{}
	wait := func(what string, done func(entries []backup.Entry) bool) []backup.Entry {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			entries, err := backup.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				seen[e.Name] = true
			}
			if done(entries) {
				return entries
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30s; backups now %+v", what, entries)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	verified := func(e backup.Entry, ok bool) bool { return e.Verified != nil && *e.Verified == ok }
	wait("three backups taken, two kept, both verified", func(entries []backup.Entry) bool {
		return len(seen) >= 3 && len(entries) == 2 && verified(entries[0], true) && verified(entries[1], true)
	})
	if v := metric(t, run.URL, "steward_backup_last_success_timestamp_seconds"); time.Since(time.Unix(int64(v), 0)) > time.Minute {
		t.Fatalf("steward_backup_last_success_timestamp_seconds = %v", v)
	}
	if v := metric(t, run.URL, "steward_backup_failures_total"); v != 0 {
		t.Fatalf("steward_backup_failures_total = %v before any failure", v)
	}

	live, err := sql.Open("sqlite3", "file:"+filepath.Join(run.DataDir, app.SQLiteFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := live.Exec(`UPDATE audit_log SET actor = 'someone_else' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	entries := wait("a backup failing its verification", func(entries []backup.Entry) bool {
		return len(entries) > 0 && verified(entries[0], false)
	})
	good := 0
	for _, e := range entries[1:] {
		if verified(e, true) {
			good++
		}
	}
	if good != 2 {
		t.Fatalf("after a failed backup: %+v; want the two good ones kept", entries)
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var alerts struct{ Firing []monitor.Alert }
		admin.Must(http.StatusOK, "GET", "/api/v1/alerts", nil, &alerts)
		i := slices.IndexFunc(alerts.Firing, func(a monitor.Alert) bool { return a.Name() == "backup_failed" })
		if i >= 0 {
			a := alerts.Firing[i]
			if a.Labels["component"] != "backup" || !strings.Contains(a.Summary, "audit_chain") ||
				!strings.Contains(a.SummaryZH, "定时备份失败") {
				t.Fatalf("alert: %+v", a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backup_failed alert within 15s: %+v", alerts.Firing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := metric(t, run.URL, "steward_backup_failures_total"); v < 1 {
		t.Fatalf("steward_backup_failures_total = %v after a failure", v)
	}
}

// TestBackupPrune: retention keeps the newest good backups, a failed one
// only while it is newer than every good one, and clears leftovers of runs
// cut short once they are a day old.
func TestBackupPrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	mk := func(name string, verified *bool, manifest bool) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		if manifest {
			writeManifest(t, p, backup.Manifest{Format: backup.FormatVersion, Store: backup.KindSQLite, Payload: "steward.db",
				PayloadSHA256: strings.Repeat("0", 64)})
		}
		if verified != nil {
			b, _ := json.Marshal(backup.Report{OK: *verified})
			os.WriteFile(filepath.Join(p, backup.VerifyFile), b, 0o600)
		}
	}
	yes, no := true, false
	mk("steward-20250101T000000.000Z", &yes, true)
	mk("steward-20250102T000000.000Z", nil, true) // verification off: good
	mk("steward-20250103T000000.000Z", &no, true) // failed, older than a good one
	mk("steward-20250104T000000.000Z", &yes, true)
	mk("steward-20250105T000000.000Z", nil, false) // no manifest
	mk("steward-20250106T000000.000Z", &yes, true)
	mk("steward-20250107T000000.000Z", &no, true) // failed, newest: kept to look at
	mk("unrelated", nil, false)
	mk(".tmp-steward-20250108T000000.000Z", nil, false)
	mk(".tmp-steward-20240101T000000.000Z", nil, false)
	os.WriteFile(filepath.Join(dir, ".steward-verify-1a2b3c4d.db"), []byte("x"), 0o600)
	old := now.Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, ".tmp-steward-20240101T000000.000Z"), old, old)
	os.Chtimes(filepath.Join(dir, ".steward-verify-1a2b3c4d.db"), old, old)

	removed, err := backup.Prune(dir, 2, now, false)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	items, _ := os.ReadDir(dir)
	for _, it := range items {
		left = append(left, it.Name())
	}
	want := []string{".tmp-steward-20250108T000000.000Z", "steward-20250104T000000.000Z", "steward-20250106T000000.000Z",
		"steward-20250107T000000.000Z", "unrelated"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v (removed %v); want %v", left, removed, want)
	}
}

// Backups that keep failing verification (a user without CREATEDB, a full
// scratch directory) do not pile up: the newest is kept to look at, and the
// good one before them.
func TestBackupPruneKeepsOneFailedBackup(t *testing.T) {
	dir := t.TempDir()
	for i, ok := range []bool{true, false, false, false} {
		p := filepath.Join(dir, fmt.Sprintf("steward-2025010%dT000000.000Z", i+1))
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, p, backup.Manifest{Format: backup.FormatVersion, Store: backup.KindSQLite, Payload: "steward.db",
			PayloadSHA256: strings.Repeat("0", 64)})
		b, _ := json.Marshal(backup.Report{OK: ok})
		if err := os.WriteFile(filepath.Join(p, backup.VerifyFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := backup.Prune(dir, 2, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	var left []string
	items, _ := os.ReadDir(dir)
	for _, it := range items {
		left = append(left, it.Name())
	}
	if want := []string{"steward-20250101T000000.000Z", "steward-20250104T000000.000Z"}; !slices.Equal(left, want) {
		t.Fatalf("left %v; want %v", left, want)
	}
}

// A scheduled backup whose verification could not run (no scratch space,
// a PostgreSQL user without CREATEDB) is not counted as good: retention
// used to count it, and could prune verified backups for it. It is not
// marked failed either: that says nothing of the backup (docs/deploy.md),
// and retention deleted it as bad at the next run. It stays unverified.
func TestUnverifiableBackupIsNotGood(t *testing.T) {
	src := freshTarget(t, "postgres")
	db := open(t, src)
	dir := t.TempDir()
	// The server that would receive the scratch database cannot be reached.
	s := backups().Scheduler(backup.Source{DB: db, DatabaseURL: src.url}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 1,
		Verify: true, Verification: backup.VerifyOptions{ServerURL: "postgres://steward@127.0.0.1:1/steward?sslmode=disable&connect_timeout=2"}}, nil)
	o := s.RunOnce(context.Background())
	if o.Err == nil || o.Path == "" {
		t.Fatalf("a backup whose verification cannot run: %+v, want an error", o)
	}
	entries, err := backup.List(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("backups %+v (%v), want the one taken", entries, err)
	}
	if v := entries[0].Verified; v != nil {
		t.Fatalf("the unverifiable backup is listed as verified=%v, want unverified (no report)", *v)
	}
}

// Runs whose verification cannot look (a scratch directory that is gone)
// leave their backups unverified: a verified one is not pushed out by
// them, and none of them is deleted as bad by the next run. Each run used
// to mark its sound backup failed, and the next run deleted it.
func TestVerificationsThatCannotLookDeleteNothing(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 2)
	db := open(t, src)
	dir := t.TempDir()
	good := backups().Scheduler(backup.Source{DB: db}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 2, Verify: true,
		Verification: backup.VerifyOptions{ScratchDir: t.TempDir()}}, nil)
	first := good.RunOnce(ctx)
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	blind := backups().Scheduler(backup.Source{DB: db}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 2, Verify: true,
		Verification: backup.VerifyOptions{ScratchDir: filepath.Join(t.TempDir(), "gone")}}, nil)
	var paths []string
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		o := blind.RunOnce(ctx)
		if o.Err == nil {
			t.Fatal("a verification without its scratch directory succeeded")
		}
		paths = append(paths, o.Path)
	}
	for _, p := range append([]string{first.Path}, paths...) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("retention deleted %s: %v", p, err)
		}
	}
	entries, err := backup.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Path != first.Path && e.Verified != nil {
			t.Errorf("%s is listed as verified=%v, want unverified", e.Path, *e.Verified)
		}
	}
}

// A backup of an older schema restored over a newer PostgreSQL database
// (rolling an upgrade back) leaves the database at the backup's schema:
// the tables the backup does not have are dropped, the restore checks
// out, and steward migrate brings it up to date again. A table that is
// not Steward's is left alone.
func TestRestoreAnOlderSchemaOverANewerDatabase(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "postgres", 2)
	old, err := sql.Open("pgx", src.url)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// The schema as migration 5 left it: what 6 to 11 made is undone.
	for _, q := range []string{`DROP TABLE login_failures`, `DROP TABLE metric_seconds`, `DROP INDEX tickets_conversation`, `DROP INDEX conversations_closed`,
		`DROP INDEX conversations_created`, `DROP INDEX ratings_created`, `ALTER TABLE kb_entries DROP COLUMN search`,
		`DELETE FROM schema_migrations WHERE version >= 6`} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.SchemaVersion != 5 {
		t.Fatalf("the older backup is at schema %d, want 5", res.Manifest.SchemaVersion)
	}

	newer := seeded(t, "postgres", 1)
	other, err := sql.Open("pgx", newer.url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	out, err := backups().Restore(ctx, res.Path, newer.restoreTarget(), true)
	if err != nil {
		t.Fatalf("restore: %v (failed checks %v)", err, failedChecks(out.Report))
	}
	// login_failures refers to users: with it still there, pg_restore
	// could not drop users' key and the restore failed.
	if c, ok := find(out.Report, "newer tables"); !ok || !strings.Contains(c.Detail, "metric_seconds") || !strings.Contains(c.Detail, "login_failures") {
		t.Fatalf("the report does not name the dropped table: %+v", out.Report.Checks)
	}
	db := open(t, newer)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate after restoring the older schema: %v", err)
	}
	convs, err := db.ConversationsIn(ctx, conversation.StateBot)
	if err != nil || len(convs) != 2 {
		t.Fatalf("after the restore and migrate: %d conversations, %v; want the backup's 2", len(convs), err)
	}

	// Only Steward's tables are ever dropped.
	if _, err := other.ExecContext(ctx, `CREATE TABLE someone_elses (id INT)`); err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, tb := range res.Manifest.Tables {
		keep = append(keep, tb.Name)
	}
	ours, foreign, err := store.Inspector{}.TablesNotIn(ctx, newer.url, keep)
	if err != nil || !slices.Equal(ours, []string{"login_failures", "metric_seconds"}) || !slices.Equal(foreign, []string{"someone_elses"}) {
		t.Fatalf("to drop %v, to keep as not Steward's %v, %v; want only login_failures and metric_seconds, and someone_elses kept", ours, foreign, err)
	}
	out, err = backups().Restore(ctx, res.Path, newer.restoreTarget(), true)
	if err != nil {
		t.Fatalf("restore again over the migrated database: %v (failed checks %v)", err, failedChecks(out.Report))
	}
	if c, ok := find(out.Report, "newer tables"); !ok || strings.Contains(c.Detail, "someone_elses") {
		t.Fatalf("the second restore's newer tables: %+v", out.Report.Checks)
	}
	var n int
	if err := other.QueryRowContext(ctx, `SELECT COUNT(*) FROM someone_elses`).Scan(&n); err != nil {
		t.Fatalf("a table that is not Steward's was touched: %v", err)
	}
}

// A schedule that verifies keeps its keep newest verified backups: backups
// nobody verified (a `steward backup` from cron into the same directory)
// neither count nor push a verified one out, and go once older than the
// oldest verified one kept.
func TestBackupPruneCountsOnlyVerifiedWhenVerifying(t *testing.T) {
	dir := t.TempDir()
	yes := true
	for _, b := range []struct {
		name     string
		verified bool
	}{
		{"steward-20250101T000000.000Z", true}, {"steward-20250101T120000.000Z", false},
		{"steward-20250102T000000.000Z", true}, {"steward-20250103T000000.000Z", true},
		{"steward-20250104T000000.000Z", false}, {"steward-20250105T000000.000Z", false},
		{"steward-20250106T000000.000Z", false},
	} {
		p := filepath.Join(dir, b.name)
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, p, backup.Manifest{Format: backup.FormatVersion, Store: backup.KindSQLite, Payload: "steward.db",
			PayloadSHA256: strings.Repeat("0", 64)})
		if b.verified {
			j, _ := json.Marshal(backup.Report{OK: yes})
			if err := os.WriteFile(filepath.Join(p, backup.VerifyFile), j, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := backup.Prune(dir, 2, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	var left []string
	items, _ := os.ReadDir(dir)
	for _, it := range items {
		left = append(left, it.Name())
	}
	want := []string{"steward-20250102T000000.000Z", "steward-20250103T000000.000Z", "steward-20250104T000000.000Z",
		"steward-20250105T000000.000Z", "steward-20250106T000000.000Z"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v; want %v", left, want)
	}
}

// A scheduler that starts (a restart, a new leader) tells of the newest
// good backup already in its directory, so that the last success is known
// without waiting a whole period for the next backup.
func TestSchedulerTellsOfTheNewestGoodBackupAtStart(t *testing.T) {
	dir := t.TempDir()
	made := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	for i, verified := range []bool{true, false} { // the newer one unverified
		at := made.Add(time.Duration(i) * time.Minute)
		p := filepath.Join(dir, "steward-"+at.Format("20060102T150405.000Z"))
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, p, backup.Manifest{Format: backup.FormatVersion, Store: backup.KindSQLite, Payload: "steward.db",
			PayloadSHA256: strings.Repeat("0", 64), CreatedAt: at, PayloadBytes: 1234})
		if verified {
			j, _ := json.Marshal(backup.Report{OK: true})
			if err := os.WriteFile(filepath.Join(p, backup.VerifyFile), j, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []backup.Outcome
	ctx, cancel := context.WithCancel(context.Background())
	s := backups().Scheduler(backup.Source{}, backup.Schedule{Every: 24 * time.Hour, Dir: dir, Keep: 7, Verify: true},
		func(o backup.Outcome) { got = append(got, o); cancel() })
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("the scheduler told nothing at start")
	}
	if len(got) != 1 || !got[0].Found || !got[0].At.Equal(made) || got[0].Bytes != 1234 || got[0].Err != nil {
		t.Fatalf("outcomes at start: %+v; want the verified backup made at %s", got, made)
	}
}

// On PostgreSQL, whichever node leads takes the scheduled backups: left in
// the default directory, on the leader's own disk, they would be scattered
// over the nodes and lost with a host, so the leader says so at WARN. An
// explicit backup.dir (storage the nodes share) quiets it, and SQLite (one
// node) never hears it.
func TestClusteredBackupsAskForSharedStorage(t *testing.T) {
	const warning = "set backup.dir to storage every node shares"
	for _, tc := range []struct {
		name    string
		backend string
		dir     bool
		warned  bool
	}{
		{"postgres, default dir", "postgres", false, true},
		{"postgres, backup.dir set", "postgres", true, false},
		{"sqlite, default dir", "sqlite", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := freshTarget(t, tc.backend)
			var log testutil.SyncBuffer
			testutil.StartLogging(t, func(c *config.Config) {
				c.Database = live.url
				c.Backup = config.Backup{Schedule: time.Hour}
				if tc.dir {
					c.Backup.Dir = t.TempDir()
				}
			}, &log)
			// The leader starts its backups as it takes the lead, just
			// after the server is ready.
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(log.String(), "scheduled backups") && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(log.String(), "scheduled backups") {
				t.Fatalf("no scheduled backups in the log:\n%s", log.String())
			}
			if got := strings.Contains(log.String(), warning); got != tc.warned {
				t.Fatalf("warned %v, want %v:\n%s", got, tc.warned, log.String())
			}
		})
	}
}

// A restore over a database that also holds a table that is not Steward's
// keeps that table, and checks out: the check after the restore reported
// it as a table the manifest does not list, and the restore, which had
// replaced every table of Steward's, as failed (and went unaudited).
func TestRestoreOverADatabaseWithAForeignTableChecksOut(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "postgres", 3)
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other := seeded(t, "postgres", 1)
	raw, err := sql.Open("pgx", other.url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE TABLE someone_elses (id INT)`); err != nil {
		t.Fatal(err)
	}
	out, err := backups().Restore(ctx, res.Path, other.restoreTarget(), true)
	if err != nil {
		t.Fatalf("restore: %v (failed checks %v)", err, failedChecks(out.Report))
	}
	if c, ok := find(out.Report, "table someone_elses"); !ok || !c.OK {
		t.Fatalf("the report on the foreign table: %+v (found %v)", c, ok)
	}
	convs, err := open(t, other).ConversationsIn(ctx, conversation.StateBot)
	if err != nil || len(convs) != 3 {
		t.Fatalf("after the restore: %d conversations, %v; want the backup's 3", len(convs), err)
	}
}

// A backup taken by a newer Steward (its schema has migrations this binary
// does not know) is refused before anything changes: restored, the
// database was replaced and then no server of this version would start on
// it ("newer than this binary knows"), found out on the day a restore was
// needed.
func TestRestoreRefusesABackupOfANewerSchema(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			src := seeded(t, backend, 1)
			db := open(t, src)
			known, err := store.KnownSchemaVersion(backend)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(map[string]string{"sqlite": "sqlite3", "postgres": "pgx"}[backend], map[string]string{
				"sqlite": src.sqlite, "postgres": src.url}[backend])
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			q := `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future.sql', 0)`
			if backend == "sqlite" {
				q = strings.ReplaceAll(q, "$1", "?")
			}
			if _, err := raw.ExecContext(ctx, q, known+1); err != nil {
				t.Fatal(err)
			}
			res, err := backups().Create(ctx, backup.Source{DB: db, DatabaseURL: src.url}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if res.Manifest.SchemaVersion != known+1 {
				t.Fatalf("the backup is at schema %d, want %d", res.Manifest.SchemaVersion, known+1)
			}
			into := seeded(t, backend, 3)
			_, err = backups().Restore(ctx, res.Path, into.restoreTarget(), true)
			if err == nil || !strings.Contains(err.Error(), "newer than this steward knows") {
				t.Fatalf("restoring a newer schema's backup: %v, want it refused", err)
			}
			// Nothing changed: the target still has its own three conversations.
			convs, err := open(t, into).ConversationsIn(ctx, conversation.StateBot)
			if err != nil || len(convs) != 3 {
				t.Fatalf("after the refused restore: %d conversations, %v; want the target's own 3", len(convs), err)
			}
		})
	}
}

// A verification or a restore that died (a crash, a kill, power) left its
// scratch copy behind: on PostgreSQL a whole restored database, on SQLite
// a copy of the backup beside the target. Nothing ever removed them; the
// next verification (or restore) now does, for those over a day old, and
// leaves younger ones (another may be using them) alone.
func TestLeftoverScratchCopiesAreRemoved(t *testing.T) {
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		src := seeded(t, "postgres", 1)
		res, err := backups().Create(ctx, backup.Source{DB: open(t, src), DatabaseURL: src.url}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		in := store.Inspector{}
		stale := "steward_verify_20200101t000000_deadbeef"
		young := "steward_verify_" + time.Now().UTC().Add(-time.Hour).Format("20060102t150405") + "_cafef00d"
		// Named long ago, but a verification is connected to it (a very
		// long one, or one from a node whose clock is off): left alone.
		busy := "steward_verify_20200101t000000_0badcafe"
		urls := map[string]string{}
		for _, name := range []string{stale, young, busy} {
			u, err := in.CreateDatabase(ctx, src.url, name)
			if err != nil {
				t.Fatal(err)
			}
			urls[name] = u
		}
		t.Cleanup(func() {
			in.DropDatabase(context.Background(), src.url, young)
			in.DropDatabase(context.Background(), src.url, busy)
		})
		conn, err := sql.Open("pgx", urls[busy])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := backups().Verify(ctx, res.Path, backup.VerifyOptions{ServerURL: src.url})
		if err != nil || !rep.OK {
			t.Fatalf("verify: %v, %+v", err, failedChecks(rep))
		}
		var left []string
		rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, 'steward_verify_') ORDER BY datname`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			left = append(left, name)
		}
		rows.Close()
		if !slices.Equal(left, []string{busy, young}) {
			t.Errorf("scratch databases after the verification: %v, want the busy one %s and the young one %s", left, busy, young)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		src := seeded(t, "sqlite", 1)
		res, err := backups().Create(ctx, backup.Source{DB: open(t, src)}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		into := freshTarget(t, "sqlite")
		stale := into.sqlite + ".restore-20200101T000000Z.tmp"
		young := into.sqlite + ".restore-" + time.Now().UTC().Add(-time.Hour).Format("20060102T150405Z") + ".tmp"
		for _, p := range []string{stale, young} {
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("a copy of a backup"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := backups().Restore(ctx, res.Path, into.restoreTarget(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the stale copy is still there: %v", err)
		}
		if _, err := os.Stat(young); err != nil {
			t.Errorf("the young copy was removed: %v", err)
		}
	})
}

// A backup taken while the clock was a year ahead is not the newest: it
// sorted first by its name, counted as the one good backup to keep, and
// each new backup was pruned as soon as it was verified. A scheduler that
// starts does not report it as a success in the future either, which kept
// the backup-stale alert from ever firing.
func TestAFutureDatedBackupPushesNothingOut(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 2)
	db := open(t, src)
	dir := t.TempDir()
	clock := time.Now().Add(365 * 24 * time.Hour)
	b := backup.New(backup.Options{Inspector: store.Inspector{}, Version: "test", Logger: quiet(),
		Now: func() time.Time { return clock }})
	sched := func() *backup.Scheduler {
		return b.Scheduler(backup.Source{DB: db}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 1, Verify: true,
			Verification: backup.VerifyOptions{ScratchDir: t.TempDir()}}, nil)
	}
	if o := sched().RunOnce(ctx); o.Err != nil {
		t.Fatal(o.Err)
	}
	clock = time.Now()
	for i := range 2 {
		clock = clock.Add(time.Second)
		o := sched().RunOnce(ctx)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if slices.Contains(o.Pruned, o.Path) {
			t.Fatalf("run %d pruned the backup it had just taken (%s)", i, o.Path)
		}
		if _, err := os.Stat(o.Path); err != nil {
			t.Fatalf("run %d: its backup is gone: %v", i, err)
		}
	}
	var found []backup.Outcome
	runCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	b.Scheduler(backup.Source{DB: db}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 1, Verify: true},
		func(o backup.Outcome) { found = append(found, o) }).Run(runCtx)
	if len(found) != 1 || found[0].At.After(clock) {
		t.Fatalf("a starting scheduler reported %+v; want one outcome, not dated after now (%s)", found, clock)
	}
}
