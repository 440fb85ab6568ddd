package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/backup"
)

// fakeDB is a live database whose every backup fails at once: enough to
// see when the scheduler tries one.
type fakeDB struct{}

func (fakeDB) Dialect() string { return backup.KindSQLite }
func (fakeDB) Snapshot(context.Context, string) error {
	return errors.New("fake: no snapshot")
}
func (fakeDB) Inspect(context.Context, func(context.Context, backup.View) error) error {
	return errors.New("fake: no view")
}

// The scheduler starts from the newest good backup's CreatedAt + Every. A
// backup dated in the future (taken while the clock was wrong, e.g. a VM
// that booted with its RTC a year ahead before NTP corrected it, or another
// node's clock on shared storage) counts as taken now: counted from its
// date, it postponed every scheduled backup until that date plus Every,
// after each restart.
func TestTheSchedulerIsNotPostponedByABackupDatedInTheFuture(t *testing.T) {
	dir := t.TempDir()
	handMade(t, dir, time.Now().Add(365*24*time.Hour), backup.KindSQLite, backup.FormatVersion, []byte("future"), nil)
	var (
		mu  sync.Mutex
		ran int
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := backups().Scheduler(backup.Source{DB: fakeDB{}}, backup.Schedule{Every: 200 * time.Millisecond, Dir: dir, Keep: 7,
		RetryAfter: time.Hour}, func(o backup.Outcome) {
		if !o.Found {
			mu.Lock()
			ran++
			mu.Unlock()
		}
	})
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	time.Sleep(3 * time.Second) // 15 periods
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if ran == 0 {
		t.Errorf("no backup tried in 3 s with a schedule of 200 ms: the scheduler waits for a backup dated a year ahead")
	}
}

// Go's timers do not advance while the machine is suspended
// (CLOCK_MONOTONIC on Linux, golang/go#24595), so after a suspend/resume (a
// laptop, a paused VM, a live-migrated guest) a scheduler sleeping on one
// timer until the next backup took a backup that fell due during the
// suspend only once the remaining awake time had passed: up to a whole
// period late. It looks at its clock (Options.Now) every second instead;
// simulated here by moving that clock past the due time.
func TestTheSchedulerNoticesAWallClockJump(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	handMade(t, dir, t0, backup.KindSQLite, backup.FormatVersion, []byte("last"), nil)
	var clock atomic.Int64
	clock.Store(t0.Add(time.Minute).UnixNano())
	b := backup.New(backup.Options{Inspector: storeInspector(), Version: "test", Logger: quiet(),
		Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	var ran atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := b.Scheduler(backup.Source{DB: fakeDB{}}, backup.Schedule{Every: time.Hour, Dir: dir, Keep: 7, RetryAfter: time.Hour},
		func(o backup.Outcome) {
			if !o.Found {
				ran.Add(1)
			}
		})
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	time.Sleep(200 * time.Millisecond)
	if ran.Load() != 0 {
		t.Fatalf("a backup was tried at %s, an hour before it was due", t0.Add(time.Minute).Format(time.TimeOnly))
	}
	// The machine slept for three hours: the 03:00 backup is two hours overdue.
	clock.Store(t0.Add(3 * time.Hour).UnixNano())
	deadline := time.Now().Add(3 * time.Second)
	for ran.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if ran.Load() == 0 {
		t.Errorf("the backup due at %s was not tried within 3 s of the clock reading %s; the timer still waits ~59 min",
			t0.Add(time.Hour).Format(time.TimeOnly), t0.Add(3*time.Hour).Format(time.TimeOnly))
	}
}

// A backup whose manifest cannot be read is not known bad: "cannot be
// read" includes a manifest of a newer format, i.e. every backup taken by
// a newer Steward before the binary was rolled back, and any I/O error
// other than ENOENT (EIO, ESTALE on the shared storage deploy.md asks a
// cluster to use, EMFILE). Those backups may be perfectly good; retention
// must not delete what it could not judge (it used to treat every
// manifest it could not read as a bad backup).
func TestPruneKeepsABackupItCannotRead(t *testing.T) {
	dir := t.TempDir()
	yes := true
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	handMade(t, dir, t0, backup.KindSQLite, backup.FormatVersion, []byte("one"), &yes)
	unreadable := handMade(t, dir, t0.Add(24*time.Hour), backup.KindSQLite, backup.FormatVersion+1, []byte("two"), &yes)
	handMade(t, dir, t0.Add(48*time.Hour), backup.KindSQLite, backup.FormatVersion, []byte("three"), &yes)
	removed, err := backup.Prune(dir, 7, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unreadable); err != nil {
		t.Errorf("retention (keep 7, 2 good backups) deleted a backup whose manifest it could not read: removed %v, left %v",
			removed, names(t, dir))
	}
}

// Retention tells a backup it cannot judge (kept, not counted as good)
// from one that is invalid (deleted like a failed one): a manifest that is
// not JSON is the latter; one that cannot be read (here a directory in its
// place) or is of a newer format the former. A verification of a backup
// of a newer format could not look: an error, not a failed check that
// would mark it bad.
func TestPruneTellsAnInvalidBackupFromOneItCannotRead(t *testing.T) {
	dir := t.TempDir()
	yes := true
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	invalid := handMade(t, dir, t0.Add(-24*time.Hour), backup.KindSQLite, backup.FormatVersion, []byte("zero"), nil)
	if err := os.WriteFile(filepath.Join(invalid, backup.ManifestFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	older := handMade(t, dir, t0, backup.KindSQLite, backup.FormatVersion, []byte("one"), &yes)
	good := handMade(t, dir, t0.Add(24*time.Hour), backup.KindSQLite, backup.FormatVersion, []byte("two"), &yes)
	ioError := handMade(t, dir, t0.Add(48*time.Hour), backup.KindSQLite, backup.FormatVersion, []byte("three"), &yes)
	mf := filepath.Join(ioError, backup.ManifestFile)
	if err := os.Remove(mf); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(mf, 0o750); err != nil {
		t.Fatal(err)
	}
	newer := handMade(t, dir, t0.Add(72*time.Hour), backup.KindSQLite, backup.FormatVersion+1, []byte("four"), nil)

	entries, err := backup.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if want := e.Path == ioError || e.Path == newer; e.Unjudged != want {
			t.Errorf("%s: unjudged %v (%s); want %v", e.Name, e.Unjudged, e.Problem, want)
		}
	}
	removed, err := backup.Prune(dir, 1, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{older, invalid}; !slices.Equal(removed, want) {
		t.Errorf("retention (keep 1) removed %v; want %v: the unreadable ones kept and not counted, the invalid one removed", removed, want)
	}
	for _, p := range []string{good, ioError, newer} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
	rep, err := backups().Verify(context.Background(), newer, backup.VerifyOptions{ScratchDir: t.TempDir()})
	if err == nil {
		t.Errorf("verifying a backup of a newer format: no error, report %+v", rep)
	}
}
