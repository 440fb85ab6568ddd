package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/errcode"
)

// Check is one thing verification looked at.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is the outcome of verifying a backup: OK when every check passed.
type Report struct {
	OK           bool      `json:"ok"`
	Backup       string    `json:"backup"`
	Store        string    `json:"store,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	PayloadBytes int64     `json:"payload_bytes"`
	Checks       []Check   `json:"checks"`
	Seconds      float64   `json:"seconds"`
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// finish sets OK: every check passed (and there was at least one).
func (r *Report) finish(start, now time.Time) {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
	r.Seconds = roundSeconds(now.Sub(start))
}

// Failed lists the checks that failed, for a one-line message.
func (r *Report) Failed() string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(out, "; ")
}

// scratchPrefix starts the name of a SQLite backup's scratch copy.
const scratchPrefix = ".steward-verify-"

// VerifyOptions say where a backup is restored to be checked.
type VerifyOptions struct {
	// ServerURL is a PostgreSQL database URL whose server receives a
	// scratch database for a PostgreSQL backup (its user needs CREATEDB).
	ServerURL string
	// ScratchDir receives the scratch copy of a SQLite backup (default:
	// the system's temporary directory).
	ScratchDir string
}

// Verify restores the backup at path into a scratch location and checks
// it: the payload's SHA-256 against the manifest, SQLite's
// integrity_check, the schema version, every table's rows and checksum,
// and the audit hash chain up to the head the manifest recorded. The
// scratch copy is removed afterwards. A backup that fails a check is a
// Report with OK false, not an error; errors are failures to look.
func (b *Backups) Verify(ctx context.Context, path string, opts VerifyOptions) (Report, error) {
	start := b.now()
	r := Report{Backup: path, Checks: []Check{}}
	m, err := ReadManifest(path)
	if err != nil {
		if errcode.Code(err) == errcode.Internal {
			return r, err
		}
		r.add("manifest", false, "%s", errMessage(err))
		r.finish(start, b.now())
		return r, nil
	}
	r.Store, r.CreatedAt = m.Store, m.CreatedAt
	r.add("manifest", true, "format %d, %s, schema %d, taken %s by steward %s", m.Format, m.Store, m.SchemaVersion,
		m.CreatedAt.Format(time.RFC3339), m.StewardVersion)
	payload := filepath.Join(backupDir(path), m.Payload)
	switch m.Store {
	case KindSQLite:
		dir := opts.ScratchDir
		if dir == "" {
			dir = os.TempDir()
		}
		scratch := filepath.Join(dir, scratchPrefix+randomSuffix()+".db")
		defer os.Remove(scratch)
		err = b.restoreSQLiteFile(ctx, m, payload, scratch, &r)
	case KindPostgres:
		err = b.verifyPostgres(ctx, m, payload, opts.ServerURL, &r)
	}
	if err != nil {
		return r, err
	}
	r.finish(start, b.now())
	return r, nil
}

// restoreSQLiteFile copies the payload to dst, hashing it on the way, and
// checks the copy. Errors are failures to look; a bad payload is a failed
// check.
func (b *Backups) restoreSQLiteFile(ctx context.Context, m Manifest, payload, dst string, r *Report) error {
	sum, n, err := copyHashed(ctx, dst, payload)
	if read, err := b.checkSum(ctx, m, sum, n, err, r); !read {
		return err
	}
	var (
		problems []string
		ierr     error
		done     = make(chan struct{})
	)
	// integrity_check reads the whole file, and so do the checksums: on
	// two cores they run side by side.
	go func() {
		defer close(done)
		problems, ierr = b.in.IntegrityCheck(ctx, dst)
	}()
	var checks Report
	verr := b.in.InspectSQLite(ctx, dst, func(ctx context.Context, v View) error { return checkView(ctx, v, m, &checks) })
	<-done
	switch {
	case ierr != nil:
		r.add("integrity_check", false, "%s", errMessage(ierr))
	case len(problems) > 0:
		r.add("integrity_check", false, "%s", strings.Join(problems, "; "))
	default:
		r.add("integrity_check", true, "ok")
	}
	r.Checks = append(r.Checks, checks.Checks...)
	if verr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.add("read", false, "%s", errMessage(verr))
	}
	return nil
}

// checkSum holds the payload's SHA-256 and size, as hashing it found them
// (or failed with readErr), to the manifest. read is false when the
// payload could not be read: a failed check, or err if ctx ended.
func (b *Backups) checkSum(ctx context.Context, m Manifest, sum string, n int64, readErr error, r *Report) (read bool, err error) {
	if readErr != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if _, ok := errors.AsType[*writeError](readErr); ok {
			// The copy could not be written (the scratch directory): the
			// verification could not look, which says nothing of the
			// backup, and must not mark it bad for retention to delete.
			return false, fmt.Errorf("verify: cannot write the scratch copy: %w", readErr)
		}
		r.add("payload_sha256", false, "%v", readErr)
		return false, nil
	}
	r.PayloadBytes = n
	if sum == m.PayloadSHA256 && n == m.PayloadBytes {
		r.add("payload_sha256", true, "%s (%d bytes)", sum, n)
	} else {
		r.add("payload_sha256", false, "the payload's SHA-256 is %s (%d bytes); the manifest says %s (%d bytes)", sum, n,
			m.PayloadSHA256, m.PayloadBytes)
	}
	return true, nil
}

// checkView holds a restored database to its manifest: schema version,
// the set of tables, each table's rows and checksum, the audit chain.
// Tables named in foreign are not Steward's, and are left out.
func checkView(ctx context.Context, v View, m Manifest, r *Report, foreign ...string) error {
	schema, err := v.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	r.add("schema_version", schema == m.SchemaVersion, "%d (manifest: %d)", schema, m.SchemaVersion)
	tables, err := v.Tables(ctx)
	if err != nil {
		return err
	}
	want := map[string]TableSum{}
	for _, t := range m.Tables {
		want[t.Name] = t
	}
	for _, name := range tables {
		w, listed := want[name]
		if !listed && slices.Contains(foreign, name) {
			r.add("table "+name, true, "not Steward's: kept as it was")
			continue
		}
		if !listed {
			r.add("table "+name, false, "the restored database has a table the manifest does not list")
			continue
		}
		delete(want, name)
		got, err := v.TableSum(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.add("table "+name, false, "%s", errMessage(err))
			continue
		}
		switch {
		case got.Rows != w.Rows:
			r.add("table "+name, false, "%d rows; the manifest says %d", got.Rows, w.Rows)
		case got.Checksum != w.Checksum:
			r.add("table "+name, false, "%d rows, but their checksum %.16s… differs from the manifest's %.16s…", got.Rows,
				got.Checksum, w.Checksum)
		default:
			r.add("table "+name, true, "%d rows, checksum matches", got.Rows)
		}
	}
	missing := make([]string, 0, len(want))
	for name := range want {
		missing = append(missing, name)
	}
	slices.Sort(missing)
	for _, name := range missing {
		r.add("table "+name, false, "missing from the restored database (the manifest lists %d rows)", want[name].Rows)
	}
	if !slices.Contains(tables, "audit_head") {
		r.add("audit_chain", m.AuditHead.Seq == 0, "the restored database has no audit trail")
		return nil
	}
	var anchor *audit.Head
	if m.AuditHead.Seq > 0 {
		anchor = &m.AuditHead
	}
	rep, err := audit.VerifyChain(ctx, v, anchor)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.add("audit_chain", false, "%s", errMessage(err))
	case !rep.OK:
		r.add("audit_chain", false, "broken at entry %d (%s): %s", rep.Break.Seq, rep.Break.Kind, rep.Break.Message)
	case rep.Head != m.AuditHead:
		r.add("audit_chain", false, "intact, but its head %d:%.12s… is not the manifest's %d:%.12s…", rep.Head.Seq,
			rep.Head.Hash, m.AuditHead.Seq, m.AuditHead.Hash)
	default:
		r.add("audit_chain", true, "%d entries, head %d:%s", rep.Entries, rep.Head.Seq, rep.Head.Hash)
	}
	return nil
}

// verifyPostgres restores the archive into a scratch database created on
// serverURL's server, checks it there and drops it.
func (b *Backups) verifyPostgres(ctx context.Context, m Manifest, payload, serverURL string, r *Report) error {
	sum, n, err := hashFile(ctx, payload)
	if read, err := b.checkSum(ctx, m, sum, n, err, r); !read {
		return err
	}
	if serverURL == "" {
		return errcode.Errorf(errcode.Invalid, "a PostgreSQL backup is verified by restoring it into a scratch database: "+
			"give a PostgreSQL server (--database postgres://...; its user needs CREATEDB)")
	}
	b.dropStaleScratch(ctx, serverURL)
	// The wall clock, not b.now: the name's time is how later verifications
	// (on any node) judge whether the database was left behind.
	name := scratchDBPrefix + time.Now().UTC().Format(scratchStamp) + "_" + randomSuffix()
	scratch, err := b.in.CreateDatabase(ctx, serverURL, name)
	if err != nil {
		return fmt.Errorf("create a scratch database: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := b.in.DropDatabase(dctx, serverURL, name); err != nil {
			b.logger.Warn("drop the scratch database", "database", name, "error", err)
		}
	}()
	if err := b.runPG(ctx, "pg_restore", scratch, "--no-owner", "--no-privileges", "--exit-on-error",
		"--single-transaction", payload); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errcode.Code(err) == errcode.Unavailable {
			return err
		}
		if environmentFailure(err) {
			// The scratch database's server could not take the archive (full
			// of clients, out of disk, restarting, a pg_restore older than
			// the archive): that says nothing of the backup, which a failed
			// check would mark bad, and retention would delete.
			return errcode.Errorf(errcode.Unavailable, "could not verify the backup: pg_restore could not load it into the scratch database "+
				"for a reason that lies with the server or the machine, not the backup: %v", err)
		}
		r.add("restore", false, "%s", errMessage(err))
		return nil
	}
	r.add("restore", true, "pg_restore into scratch database %s", name)
	return b.in.InspectPostgres(ctx, scratch, func(ctx context.Context, v View) error { return checkView(ctx, v, m, r) })
}

// Scratch databases are named scratchDBPrefix, the time they were made
// (scratchStamp, UTC) and a random suffix.
const (
	scratchDBPrefix = "steward_verify_"
	scratchStamp    = "20060102t150405"
	// staleAfter: a scratch database or restore file older than this was
	// left by a process that died (a verification takes minutes).
	staleAfter = 24 * time.Hour
)

// dropStaleScratch drops the scratch databases a verification that died
// (a crash, a kill, the machine losing power) left behind: each is a whole
// restored copy of the database, and nothing else would ever drop it.
// Only those nobody is connected to, and made more than staleAfter ago by
// the wall clock, are dropped: a verification still running (a very large
// one, or on a node whose clock is off) holds a connection to its own.
// Failures are logged only: they do not stop this one.
func (b *Backups) dropStaleScratch(ctx context.Context, serverURL string) {
	names, err := b.in.IdleDatabases(ctx, serverURL, scratchDBPrefix)
	if err != nil {
		b.logger.Warn("list scratch databases left by earlier verifications", "error", err)
		return
	}
	for _, name := range names {
		stamp, _, _ := strings.Cut(strings.TrimPrefix(name, scratchDBPrefix), "_")
		made, err := time.Parse(scratchStamp, stamp)
		if err != nil || time.Since(made) < staleAfter {
			continue
		}
		if err := b.in.DropDatabase(ctx, serverURL, name); err != nil {
			b.logger.Warn("drop a scratch database left by an earlier verification", "database", name, "error", err)
			continue
		}
		b.logger.Info("dropped a scratch database left by an earlier verification", "database", name, "made", made)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errMessage is an error as a check's detail: a coded error's message.
func errMessage(err error) string {
	if e, ok := errors.AsType[*errcode.Error](err); ok {
		return e.Message
	}
	return err.Error()
}
