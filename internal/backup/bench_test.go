package backup_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/store"
)

// BenchmarkBackupVerify measures a backup and its verification of a SQLite
// database of STEWARD_BENCH_BACKUP_MB megabytes (default 64) of
// conversations, messages and a valid audit chain. The target is a
// 1 GB database verified in at most 2 minutes:
//
//	STEWARD_BENCH_BACKUP_MB=1024 go test ./internal/backup -run '^$' -bench BackupVerify -benchtime 1x -timeout 30m
func BenchmarkBackupVerify(b *testing.B) {
	mb := 64
	if v := os.Getenv("STEWARD_BENCH_BACKUP_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("STEWARD_BENCH_BACKUP_MB must be a positive number of megabytes, not %q", v)
		}
		mb = n
	}
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "steward.db")
	start := time.Now()
	rows := buildLarge(b, path, int64(mb)<<20)
	b.Logf("built a %d MB database (%d messages) in %.1fs", mb, rows, time.Since(start).Seconds())
	db, err := store.Open(ctx, store.Options{SQLitePath: path, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	var created, verified time.Duration
	var size int64
	for b.Loop() {
		t0 := time.Now()
		res, err := backups().Create(ctx, backup.Source{DB: db}, filepath.Join(dir, "backups"))
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		rep, err := backups().Verify(ctx, res.Path, backup.VerifyOptions{ScratchDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK {
			b.Fatalf("verify failed: %s", rep.Failed())
		}
		created, verified, size = created+t1.Sub(t0), verified+time.Since(t1), res.Bytes
		os.RemoveAll(res.Path)
	}
	n := float64(b.N)
	b.ReportMetric(created.Seconds()/n, "backup-s")
	b.ReportMetric(verified.Seconds()/n, "verify-s")
	b.ReportMetric(float64(size)/(1<<20), "MB")
	b.Logf("payload %d MB: backup %.1fs, verify %.1fs", size>>20, created.Seconds()/n, verified.Seconds()/n)
}

// buildLarge makes a migrated Steward database at path of at least size
// bytes: conversations of ten messages of bilingual text, and an audit
// chain of one entry per thousand messages. It writes with plain SQL in
// large transactions, which is what makes a gigabyte take a minute.
func buildLarge(b *testing.B, path string, size int64) int64 {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: path, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	db.Close(ctx)
	raw, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	texts := []string{
		"您好，我想问一下我上周三下的订单到现在还没有发货，订单号是 2024%07d，请帮我查一下物流信息，谢谢。",
		"Hello, I ordered a pair of running shoes last Wednesday (order 2024%07d) and it still shows as processing. Could you check the shipping status for me?",
		"已为您查询：订单 2024%07d 已于今天上午出库，预计 2-3 个工作日送达。您可以在「我的订单」中查看物流详情。",
		"Your order 2024%07d left our warehouse this morning and should arrive within 2-3 business days. You can follow it under My Orders.",
		"退货需要在签收后 7 天内申请，商品保持完好、配件齐全。申请通过后我们会安排快递上门取件（订单 2024%07d）。",
	}
	var (
		msgs int64
		conv int64
		head audit.Head
		now  = time.Now().UTC().Truncate(time.Millisecond)
	)
	for {
		var pages, pageSize int64
		raw.QueryRow(`PRAGMA page_count`).Scan(&pages)
		raw.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
		if pages*pageSize >= size {
			break
		}
		tx, err := raw.Begin()
		if err != nil {
			b.Fatal(err)
		}
		insConv, _ := tx.Prepare(`INSERT INTO conversations (id, token_hash, state, locale, last_seq, created_at, updated_at, source)
			VALUES (?, ?, 'closed', ?, 10, ?, ?, 'web')`)
		insMsg, _ := tx.Prepare(`INSERT INTO messages (id, conversation_id, seq, role, text, outcome, confidence, entry_id, intent, locale, meta, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)`)
		insAudit, _ := tx.Prepare(`INSERT INTO audit_log (seq, at, actor, actor_name, action, object, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		for range 5000 {
			conv++
			id := fmt.Sprintf("c%012d", conv)
			locale := []string{"zh-CN", "en"}[conv%2]
			ms := now.Add(time.Duration(conv) * time.Second).UnixMilli()
			if _, err := insConv.Exec(id, []byte(id), locale, ms, ms); err != nil {
				b.Fatal(err)
			}
			for seq := int64(1); seq <= 10; seq++ {
				msgs++
				role, outcome := "customer", ""
				if seq%2 == 1 {
					role, outcome = "bot", "answer"
				}
				text := fmt.Sprintf(texts[msgs%int64(len(texts))], msgs)
				if _, err := insMsg.Exec(fmt.Sprintf("m%013d", msgs), id, seq, role, text, outcome, 0.87, "shipping-status",
					"shipping", locale, ms); err != nil {
					b.Fatal(err)
				}
				if msgs%1000 == 0 {
					e := audit.Entry{Seq: head.Seq + 1, At: time.UnixMilli(ms).UTC(), Actor: "u_admin", ActorName: "Admin",
						Action: "conversation.close", Object: "conversation:" + id, PrevHash: head.Hash}
					e.Hash = audit.Hash(&e)
					if _, err := insAudit.Exec(e.Seq, ms, e.Actor, e.ActorName, e.Action, e.Object, "{}", e.PrevHash, e.Hash); err != nil {
						b.Fatal(err)
					}
					head = audit.Head{Seq: e.Seq, Hash: e.Hash}
				}
			}
		}
		if _, err := tx.Exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, head.Seq, head.Hash); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	return msgs
}
