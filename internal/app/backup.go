package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
)

// NewBackups is the backup service over Steward's stores, for the server
// and the backup commands. version goes into every manifest ("" for the
// binary's build information).
func NewBackups(version, pgBin string, logger *slog.Logger) *backup.Backups {
	return backup.New(backup.Options{Inspector: store.Inspector{}, Version: version, PGBin: pgBin, Logger: logger})
}

// runBackups starts the scheduled backups the backup block asks for, if
// any: each is verified (unless verify: false), old ones are pruned, and a
// failure raises the backup_failed alert and counts in
// steward_backup_failures_total.
//
// It runs on the leader only (App.lead starts and stops it): several
// nodes sharing one PostgreSQL database would otherwise each dump it.
func (a *App) runBackups(ctx context.Context, wg *sync.WaitGroup) {
	b := a.cfg.Backup
	if b.Schedule <= 0 {
		return
	}
	dir := b.DirOrDefault(a.cfg.DataDir)
	s := NewBackups(a.version, b.PGBin, a.logger).Scheduler(backup.Source{DB: a.db, DatabaseURL: a.cfg.Database}, backup.Schedule{
		Every: b.Schedule, Dir: dir, Keep: b.KeepOrDefault(), Verify: b.Verifies(),
		// The backup directory has room for a backup; the scratch copy of a
		// SQLite one goes there too (and a PostgreSQL one to the same server).
		Verification: backup.VerifyOptions{ServerURL: a.cfg.Database, ScratchDir: dir},
	}, a.crisis.backupDone)
	a.logger.Info("scheduled backups", "every", b.Schedule.String(), "dir", dir, "keep", b.KeepOrDefault(),
		"verify", b.Verifies())
	if b.Dir == "" && a.db.Clustered() {
		// Whichever node leads takes the backups, into its own data
		// directory by default: after a change of leader the series starts
		// again on another disk, and a lost host takes its backups along.
		a.logger.Warn("scheduled backups go to this node's data directory; with more than one node, set backup.dir "+
			"to storage every node shares", "dir", dir)
	}
	wg.Go(func() { s.Run(ctx) })
}

// backupDone records a scheduled backup's outcome for the rule and the
// metrics.
func (c *crisis) backupDone(o backup.Outcome) {
	if o.Found {
		// An earlier good backup: the last success is known again after a
		// restart; nothing ran, so nothing failed.
		c.metrics.ObserveBackup(true, o.At.Add(time.Duration(o.Seconds*float64(time.Second))), o.Seconds, o.Bytes)
		return
	}
	msg := ""
	if o.Err != nil {
		msg = o.Err.Error()
		if r := []rune(msg); len(r) > 400 {
			msg = string(r[:400]) + "…"
		}
	}
	c.facts.backup.set(msg)
	c.metrics.ObserveBackup(o.Err == nil, o.At.Add(time.Duration(o.Seconds*float64(time.Second))), o.Seconds, o.Bytes)
}

// backupStatus is the outcome of the last scheduled backup.
type backupStatus struct {
	mu      sync.Mutex
	failure string
}

func (s *backupStatus) set(failure string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = failure
}

var _ monitor.BackupFacts = (*facts)(nil)

// BackupFailure is why the last scheduled backup, or its verification,
// failed; "" when it succeeded or none has run.
func (f *facts) BackupFailure() string {
	f.backup.mu.Lock()
	defer f.backup.mu.Unlock()
	return f.backup.failure
}
