package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/store"
)

// A verification that cannot write its scratch copy (a --scratch directory
// that is missing, read-only or full) has failed to look; it has not found
// the backup bad. Verify reported it as a failed payload_sha256 check,
// which `steward backup verify` kept as verify.json {ok:false}; retention
// then deleted the (sound) backup as failed. Now it is an error.
func TestAScratchThatCannotBeWrittenIsNotABadBackup(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 2)
	db := open(t, src)
	dir := t.TempDir()
	var paths []string
	for range 2 {
		res, err := backups().Create(ctx, backup.Source{DB: db}, dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := backups().Verify(ctx, res.Path, backup.VerifyOptions{ScratchDir: t.TempDir()})
		if err != nil || !rep.OK {
			t.Fatalf("verify: %v %+v", err, rep)
		}
		if err := backup.KeepReport(res.Path, rep); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, res.Path)
		time.Sleep(5 * time.Millisecond)
	}
	// The operator re-verifies the older backup with a scratch directory
	// that cannot be written (as `steward backup verify --scratch DIR` does).
	rep, err := backups().Verify(ctx, paths[0], backup.VerifyOptions{ScratchDir: filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "cannot write the scratch copy") {
		t.Errorf("a scratch directory that is missing: %v, want an error that says the copy could not be written", err)
	}
	if err == nil && !rep.OK {
		t.Errorf("a scratch copy that could not be written is reported as a bad backup: %s", rep.Failed())
		// What the CLI then does with the report:
		backup.KeepReport(paths[0], rep)
	}
	if _, err := backup.Prune(dir, 2, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths[0]); err != nil {
		t.Errorf("retention (keep 2) deleted a sound backup after a verification that could not run: %v", err)
	}
}

// restore --force keeps the database it replaces as
// steward.db.pre-restore-<time>, "never deleted" (docs/deploy.md). The
// name has one-second resolution and os.Rename replaces: a second restore
// within the same second (a script, a small database) moved the first
// restore's result over the original, which was then gone.
func TestASecondRestoreInTheSameSecondKeepsTheOriginal(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 3)
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src)}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	live := seeded(t, "sqlite", 1) // the operator's current database
	orig, err := os.ReadFile(live.sqlite)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	b := backup.New(backup.Options{Inspector: storeInspector(), Version: "test", Logger: quiet(),
		Now: func() time.Time { at = at.Add(100 * time.Millisecond); return at }})
	first, err := b.Restore(ctx, res.Path, live.restoreTarget(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Restore(ctx, res.Path, live.restoreTarget(), true); err != nil {
		t.Fatal(err)
	}
	kept, err := os.ReadFile(first.Replaced)
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(live.sqlite + ".pre-restore-*")
	if string(kept) != string(orig) {
		t.Errorf("the original database kept at %s was overwritten by the second restore (pre-restore files: %v)", first.Replaced, matches)
	}
}

func storeInspector() backup.Inspector { return store.Inspector{} }

// ReadManifest, Verify and Restore take a backup as its directory or its
// manifest.json; `steward backup verify .../manifest.json` verified it, but
// the report could not be kept (KeepReport joined verify.json onto the file
// path), so list and retention never saw that verification.
func TestKeepReportAcceptsTheManifestPath(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, "sqlite", 1)
	res, err := backups().Create(ctx, backup.Source{DB: open(t, src)}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(res.Path, backup.ManifestFile)
	rep, err := backups().Verify(ctx, mf, backup.VerifyOptions{ScratchDir: t.TempDir()})
	if err != nil || !rep.OK {
		t.Fatalf("verify via manifest path: %v %+v", err, rep)
	}
	if err := backup.KeepReport(mf, rep); err != nil {
		t.Errorf("KeepReport(%s): %v", mf, err)
	}
	entries, _ := backup.List(filepath.Dir(res.Path))
	if len(entries) != 1 || entries[0].Verified == nil {
		t.Errorf("the verification is not recorded for list/retention: %+v", entries)
	}
}

// Retention deleted whatever directory in backup.dir starts with
// "steward-" and has no readable manifest, whether or not its name is a
// backup's (steward-<UTC time>): an operator's steward-pii-keys/ or
// steward-config/ kept beside the backups (deploy.md asks for the keys to
// be backed up apart from the database) was removed by the next scheduled
// run. Only backup names are Steward's now.
func TestPruneLeavesDirectoriesThatAreNotBackups(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"steward-pii-keys", "steward-config"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "precious"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := backup.Prune(dir, 7, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) > 0 {
		t.Errorf("retention removed directories that are not backups: %v", removed)
	}
}

// A failed scheduled backup is tried again soon, backing off, instead of
// at the next period: a nightly backup that failed at 03:00 left the
// service without one for a day.
func TestAFailedScheduledBackupIsRetriedSoon(t *testing.T) {
	db := open(t, freshTarget(t, "sqlite"))
	// The backup directory cannot be made (a file is in its way, as a
	// full or read-only disk would refuse it): every backup fails.
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []backup.Outcome
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := backups().Scheduler(backup.Source{DB: db}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 3,
		RetryAfter: 100 * time.Millisecond}, func(o backup.Outcome) {
		mu.Lock()
		got = append(got, o)
		mu.Unlock()
	})
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backups tried in 10 s with a retry after 100 ms, want 3 (the next try was an hour away)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for i, o := range got {
		if o.Err == nil {
			t.Fatalf("try %d succeeded without a directory", i)
		}
	}
	// Backing off: the second wait is longer than the first.
	if a, b := got[1].At.Sub(got[0].At), got[2].At.Sub(got[1].At); b < a+50*time.Millisecond {
		t.Errorf("waits between tries %s then %s, want the second about twice the first", a, b)
	}
}
