package backup

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
)

// VerifyFile is the report of the backup's last verification (scheduled,
// or `steward backup verify`), kept in the backup's directory: retention
// counts only the backups that passed.
const VerifyFile = "verify.json"

// Entry is one backup in a directory.
type Entry struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Manifest *Manifest `json:"manifest,omitempty"` // nil when unreadable
	Problem  string    `json:"problem,omitempty"`  // why the manifest could not be read
	// Unjudged marks a backup whose manifest could not be read (an I/O
	// error) or is of a newer format than this binary reads: it may be
	// sound, and retention keeps it without counting it as good. A
	// manifest that is missing or invalid makes a backup known bad.
	Unjudged bool `json:"unjudged,omitempty"`
	// Verified is the outcome of the last verification (nil: none ran).
	Verified *bool `json:"verified,omitempty"`
}

// KeepReport records rep as the verification of the backup at path (its
// directory or its manifest, as Verify takes it), for List and retention.
func KeepReport(path string, rep Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(backupDir(path), VerifyFile), append(data, '\n'))
}

// isBackupName reports whether name is a backup directory's: the prefix and
// a UTC time. Anything else in the directory (an operator's steward-keys/
// kept beside the backups) is not Steward's to list or prune.
func isBackupName(name string) bool {
	t, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return false
	}
	_, err := time.Parse(nameLayout, t)
	return err == nil
}

// failed reports whether the backup is known to be bad.
func (e Entry) failed() bool {
	return (e.Manifest == nil && !e.Unjudged) || (e.Verified != nil && !*e.Verified)
}

// List returns the backups in dir, newest first.
func List(dir string) ([]Entry, error) {
	items, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	out := []Entry{}
	for _, it := range items {
		if !it.IsDir() || !isBackupName(it.Name()) {
			continue
		}
		e := Entry{Name: it.Name(), Path: filepath.Join(dir, it.Name())}
		if m, err := ReadManifest(e.Path); err == nil {
			e.Manifest = &m
		} else {
			e.Problem = errMessage(err)
			e.Unjudged = errors.Is(err, errNewerFormat) || errcode.Code(err) == errcode.Internal
		}
		if b, err := os.ReadFile(filepath.Join(e.Path, VerifyFile)); err == nil {
			var r Report
			if json.Unmarshal(b, &r) == nil {
				e.Verified = &r.OK
			}
		}
		out = append(out, e)
	}
	// Names carry the UTC time: newest first is the reverse name order.
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out, nil
}

// future reports whether the backup is dated after now (its name says when
// it was taken).
func (e Entry) future(now time.Time) bool {
	t, err := time.Parse(nameLayout, strings.TrimPrefix(e.Name, namePrefix))
	return err == nil && t.After(now)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// good reports whether the backup counts as good: read, not known bad,
// and, when verified ones are asked for, verified.
func (e Entry) good(verifiedOnly bool) bool {
	return e.Manifest != nil && !e.failed() && (!verifiedOnly || e.Verified != nil)
}

// Prune keeps the keep newest good backups in dir and removes the rest: a
// backup is good unless its manifest is missing or invalid or its last
// verification failed, and, with verifiedOnly (a schedule that verifies),
// only if it was verified. An unverified backup (a `steward backup` from
// cron into the same directory) then neither counts nor pushes a verified
// one out: it is kept while newer than the keep-th good one, and removed
// after. A bad backup newer than every good one is kept for inspection.
// A backup whose manifest cannot be read, or is of a newer format, is kept
// and not counted: it cannot be judged. Unfinished backups and scratch
// copies older than a day go too. It returns the paths removed.
func Prune(dir string, keep int, now time.Time, verifiedOnly bool) ([]string, error) {
	removed, _, err := prune(dir, keep, now, verifiedOnly)
	return removed, err
}

// prune is Prune, which also returns the backups it kept because it could
// not judge them.
func prune(dir string, keep int, now time.Time, verifiedOnly bool) (removed []string, unjudged []Entry, _ error) {
	if keep < 1 {
		keep = 1
	}
	entries, err := List(dir)
	if err != nil {
		return nil, nil, err
	}
	// A backup dated after now was taken while a clock was wrong: it is
	// not the newest (every backup was taken by now), and counted first it
	// pushed each new backup out as soon as it was taken. It goes last,
	// as if it were the oldest.
	slices.SortStableFunc(entries, func(a, b Entry) int {
		return cmp.Compare(boolInt(a.future(now)), boolInt(b.future(now)))
	})
	var (
		errs       []error
		good       int
		keptFailed bool
	)
	remove := func(p string) {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove old backup: %w", err))
			return
		}
		removed = append(removed, p)
	}
	for _, e := range entries {
		switch {
		case e.Unjudged && !e.failed(): // a failed verification still judges it
			// Unjudged: an I/O error on the backups' storage, or a backup
			// taken by a newer Steward before a rollback. It may be sound.
			unjudged = append(unjudged, e)
		case e.failed() && good == 0 && !keptFailed:
			// The newest, and newer than every good backup: keep it to
			// look at. One is enough: a verification that fails every
			// hour kept them all, and filled the disk.
			keptFailed = true
		case e.failed():
			remove(e.Path)
		case !e.good(verifiedOnly) && good < keep:
			// Unverified, newer than the oldest good backup kept. (A
			// scheduled run whose verification could not look leaves one
			// too; it also raises backup_failed, so one that never can is
			// heard of long before the disk fills.)
		case !e.good(verifiedOnly):
			remove(e.Path)
		case good < keep:
			good++
		default:
			remove(e.Path)
		}
	}
	items, _ := os.ReadDir(dir)
	for _, it := range items {
		unfinished := it.IsDir() && strings.HasPrefix(it.Name(), tmpPrefix+namePrefix)
		scratch := !it.IsDir() && strings.HasPrefix(it.Name(), scratchPrefix) // a verification that was cut short
		if !unfinished && !scratch {
			continue
		}
		if info, err := it.Info(); err == nil && now.Sub(info.ModTime()) > 24*time.Hour {
			remove(filepath.Join(dir, it.Name()))
		}
	}
	return removed, unjudged, errors.Join(errs...)
}

// Schedule says how often the server takes a backup, where it keeps them,
// how many, and whether it verifies each.
type Schedule struct {
	Every  time.Duration
	Dir    string
	Keep   int
	Verify bool
	// RetryAfter is how soon a failed backup is tried again (default 5
	// minutes), doubling with each failure in a row, never later than
	// Every: a nightly backup that failed at 03:00 (a full disk, the
	// database restarting) is not left until the next night.
	RetryAfter time.Duration
	// Verification is where a backup is restored to be checked.
	Verification VerifyOptions
}

// Outcome is one scheduled backup.
type Outcome struct {
	At      time.Time
	Path    string
	Bytes   int64
	Seconds float64 // taking and verifying it
	// Report is the verification's (nil when it was not verified).
	Report *Report
	Pruned []string
	// Err is why the backup, or its verification, failed; nil when both
	// succeeded.
	Err error
	// Found marks the newest good backup already in the directory when
	// the scheduler starts (nothing was taken): a restarted server, or a
	// new leader, knows when the last good backup was made.
	Found bool
}

// Scheduler takes backups on a schedule. On several nodes sharing one
// PostgreSQL database only one of them may run it (the caller decides
// which).
type Scheduler struct {
	b      *Backups
	src    Source
	s      Schedule
	onDone func(Outcome)
}

// Scheduler returns a scheduler of backups of src; onDone, if not nil, is
// told the outcome of every run.
func (b *Backups) Scheduler(src Source, s Schedule, onDone func(Outcome)) *Scheduler {
	return &Scheduler{b: b, src: src, s: s, onDone: onDone}
}

// Run takes a backup whenever one is due until ctx ends: the first when
// the newest backup in the directory is Every old (at once if there is
// none), then every Every; a failed one is tried again sooner (RetryAfter).
func (s *Scheduler) Run(ctx context.Context) {
	failures := 0
	now := s.b.now()
	next := now
	if entries, err := List(s.s.Dir); err == nil {
		for _, e := range entries {
			if e.Manifest != nil && e.good(s.s.Verify) {
				last := e.Manifest.CreatedAt
				if last.After(now) {
					// Taken while a clock was wrong (a machine that booted a
					// year ahead, another node's clock on shared storage):
					// counting from its date would postpone every backup
					// until then. It was taken at the latest now.
					s.b.logger.Warn("the newest backup is dated in the future: the schedule counts from now",
						"path", e.Path, "created_at", last.Format(time.RFC3339), "now", now.Format(time.RFC3339))
					last = now
				}
				next = last.Add(s.s.Every)
				if s.onDone != nil {
					// At now at the latest: a last success in the future
					// kept the backup-stale alert from ever firing.
					s.onDone(Outcome{At: last, Path: e.Path, Bytes: e.Manifest.PayloadBytes,
						Seconds: e.Manifest.Seconds, Found: true})
				}
				break
			}
		}
	}
	for {
		if wait := next.Sub(s.b.now()); wait > 0 {
			// Not one long sleep: Go's timers stand still while the machine
			// is suspended (a laptop, a paused or migrated VM), and a backup
			// that fell due meanwhile would wait out the whole sleep after
			// resuming. The clock is looked at again every clockCheck.
			timer := time.NewTimer(min(wait, clockCheck))
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		start := s.b.now()
		o := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		next = start.Add(s.s.Every)
		if o.Err == nil {
			failures = 0
			continue
		}
		failures++
		retry := s.s.RetryAfter
		if retry <= 0 {
			retry = DefaultRetryAfter
		}
		retry <<= min(failures-1, 16)
		if retry < s.s.Every {
			next = start.Add(retry)
			s.b.logger.Warn("scheduled backup failed: trying again", "in", retry.String(), "failures", failures)
		}
	}
}

// clockCheck is how often a waiting scheduler looks at the clock: a
// backup due while the machine was suspended is taken this long after it
// resumes, at the latest.
const clockCheck = time.Second

// DefaultRetryAfter is Schedule.RetryAfter's default.
const DefaultRetryAfter = 5 * time.Minute

// RunOnce takes a backup, verifies it if the schedule says so, prunes old
// ones, and reports the outcome.
func (s *Scheduler) RunOnce(ctx context.Context) Outcome {
	start := s.b.now()
	o := Outcome{At: start}
	res, err := s.b.Create(ctx, s.src, s.s.Dir)
	switch {
	case err != nil:
		o.Err = fmt.Errorf("take the backup: %w", err)
	case s.s.Verify:
		o.Path, o.Bytes = res.Path, res.Bytes
		rep, err := s.b.Verify(ctx, res.Path, s.s.Verification)
		if err != nil {
			o.Err = fmt.Errorf("verify backup %s: %w", res.Path, err)
			// A failed check is in the report; an error is a verification
			// that could not look (a scratch copy that cannot be written,
			// a server that refused the scratch database) or was cut
			// short (a shutdown, leadership lost): that says nothing of
			// the backup. It is left without a report, unverified:
			// retention does not count it as good, and does not delete it
			// as bad either (recorded as failed, a sound backup was
			// deleted at each such run; docs/deploy.md).
			s.b.logger.Warn("the backup could not be verified; it is kept, unverified", "path", res.Path, "error", err)
			break
		}
		o.Report = &rep
		if werr := KeepReport(res.Path, rep); werr != nil {
			s.b.logger.Warn("keep the verification report", "path", res.Path, "error", werr)
		}
		if !rep.OK {
			o.Err = fmt.Errorf("backup %s failed verification: %s", res.Path, rep.Failed())
		}
	default:
		o.Path, o.Bytes = res.Path, res.Bytes
	}
	if ctx.Err() != nil {
		return o
	}
	pruned, unjudged, err := prune(s.s.Dir, s.s.Keep, s.b.now(), s.s.Verify)
	o.Pruned = pruned
	if err != nil {
		s.b.logger.Warn("prune old backups", "dir", s.s.Dir, "error", err)
	}
	for _, e := range unjudged {
		s.b.logger.Warn("a backup whose manifest cannot be read is kept, and not counted as good", "path", e.Path,
			"problem", e.Problem)
	}
	o.Seconds = roundSeconds(s.b.now().Sub(start))
	if o.Err != nil {
		s.b.logger.Error("scheduled backup failed", "error", o.Err)
	} else {
		s.b.logger.Info("scheduled backup done", "path", o.Path, "bytes", o.Bytes, "seconds", o.Seconds,
			"verified", o.Report != nil, "pruned", len(pruned))
	}
	if s.onDone != nil {
		s.onDone(o)
	}
	return o
}
