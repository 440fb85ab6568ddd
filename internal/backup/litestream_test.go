package backup_test

import (
	"context"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// litestreamVersion is the version scripts/deps.sh installs and
// docs/deploy.md describes.
const litestreamVersion = "v0.5.18"

// litestream finds the litestream binary: on PATH, or where go install
// puts it.
func litestream(t *testing.T) string {
	if p, err := exec.LookPath("litestream"); err == nil {
		return p
	}
	dir := os.Getenv("GOBIN")
	if dir == "" {
		dir = filepath.Join(build.Default.GOPATH, "bin")
	}
	if p := filepath.Join(dir, "litestream"); isExecutable(p) {
		return p
	}
	t.Skipf("litestream is not on PATH nor in %s, so the Litestream steps of docs/deploy.md are not tested here: "+
		"go install github.com/benbjohnson/litestream/cmd/litestream@%s (scripts/deps.sh does)", dir, litestreamVersion)
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// TestLitestreamReplicaRestores runs the steps of docs/deploy.md's
// "Continuous replication (single node, SQLite)" against a running
// Steward: Litestream replicates its database to a file replica while
// customers talk; `litestream restore` brings back every acknowledged
// message, and the restored database passes integrity_check, the audit
// chain, and a Steward backup of it verifies.
func TestLitestreamReplicaRestores(t *testing.T) {
	bin := litestream(t)
	ctx := context.Background()
	run := testutil.Start(t, nil)
	live := filepath.Join(run.DataDir, app.SQLiteFile)
	work := t.TempDir()
	config := filepath.Join(work, "litestream.yml")
	// The configuration of docs/deploy.md, with this test's paths.
	if err := os.WriteFile(config, fmt.Appendf(nil, `dbs:
  - path: %s
    replica:
      type: file
      path: %s
`, live, filepath.Join(work, "replica")), 0o600); err != nil {
		t.Fatal(err)
	}
	replicate := exec.Command(bin, "replicate", "-config", config)
	logf, err := os.Create(filepath.Join(work, "litestream.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	replicate.Stdout, replicate.Stderr = logf, logf
	if err := replicate.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- replicate.Wait() }()
	defer func() {
		replicate.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			replicate.Process.Kill()
			<-exited
		}
	}()

	client := &testutil.Client{T: t, Base: run.URL}
	var acked []testutil.Conversation
	for i := range 6 {
		conv := client.Start([]string{"zh-CN", "en"}[i%2])
		client.Say(conv, "运费多少")
		client.Say(conv, "how do I return an item")
		acked = append(acked, client.Get(conv))
	}

	// Restore until the replica has caught up with every acknowledged
	// message (Litestream syncs every second).
	var restored string
	deadline := time.Now().Add(45 * time.Second)
	for attempt := 1; ; attempt++ {
		restored = filepath.Join(work, fmt.Sprintf("restore-%d", attempt), app.SQLiteFile)
		out, err := exec.Command(bin, "restore", "-config", config, "-o", restored, live).CombinedOutput()
		if err == nil && holdsAll(t, restored, acked) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("the replica did not hold every acknowledged message within 45s (last restore: %v %s)\nlitestream log:\n%s",
				err, out, log)
		}
		time.Sleep(time.Second)
	}
	problems, err := store.Inspector{}.IntegrityCheck(ctx, restored)
	if err != nil || len(problems) > 0 {
		t.Fatalf("integrity_check of the restored database: %v %v", problems, err)
	}
	db, err := store.Open(ctx, store.Options{SQLitePath: restored, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := audit.New(db, nil).Verify(ctx, nil); err != nil || !rep.OK || rep.Entries == 0 {
		t.Fatalf("the restored audit chain: %+v %v", rep, err)
	}
	// The documented check: a Steward backup of the restored database verifies.
	res, err := backups().Create(ctx, backup.Source{DB: db}, filepath.Join(work, "check"))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := backups().Verify(ctx, res.Path, backup.VerifyOptions{ScratchDir: work}); err != nil || !rep.OK {
		t.Fatalf("steward backup verify of the restored database: %v %s", err, rep.Failed())
	}
}

// holdsAll reports whether the SQLite file at path holds every message of
// the conversations.
func holdsAll(t *testing.T, path string, convs []testutil.Conversation) bool {
	t.Helper()
	ctx := context.Background()
	// Look at a copy: opening a file as Steward does changes it (WAL mode).
	check := filepath.Dir(path) + ".check"
	if err := os.CopyFS(check, os.DirFS(filepath.Dir(path))); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(check, filepath.Base(path)), Logger: quiet()})
	if err != nil {
		return false
	}
	defer db.Close(ctx)
	for _, c := range convs {
		msgs, err := db.Messages(ctx, c.ID, 0)
		if err != nil || len(msgs) != len(c.Messages) {
			return false
		}
		for i := range msgs {
			if msgs[i].ID != c.Messages[i].ID || msgs[i].Text != c.Messages[i].Text {
				t.Fatalf("conversation %s message %d restored as %q, acknowledged as %q", c.ID, i+1, msgs[i].Text, c.Messages[i].Text)
			}
		}
	}
	return true
}
