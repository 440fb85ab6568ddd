package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/steward-cs/steward/internal/errcode"
)

// pgTool finds a PostgreSQL client program: in Options.PGBin, else in the
// newest /usr/lib/postgresql/*/bin (where Debian puts them; the newest
// dumps every older server), else on PATH.
func (b *Backups) pgTool(name string) (string, error) {
	if b.pgBin != "" {
		p := filepath.Join(b.pgBin, name)
		if _, err := os.Stat(p); err != nil {
			return "", errcode.Errorf(errcode.Unavailable, "%s is not in %s", name, b.pgBin)
		}
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int { v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return v }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", errcode.Errorf(errcode.Unavailable, "%s not found in /usr/lib/postgresql/*/bin or on PATH: apt-get install -y postgresql-client", name)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// toolVersion is the first line of `tool --version`.
func toolVersion(ctx context.Context, tool string) (string, error) {
	out, err := exec.CommandContext(ctx, tool, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", tool, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}

// pgProcess is a running pg_dump or pg_restore.
type pgProcess struct {
	name   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	cancel context.CancelFunc
	err    error // from starting it
	// expected is a line of stderr that is no part of a failure.
	expected string
}

// startPG starts tool against databaseURL. The password is moved from the
// URL into PGPASSWORD, so that it shows in no process list.
func (b *Backups) startPG(ctx context.Context, tool, databaseURL string, args ...string) *pgProcess {
	p := b.newPG(ctx, tool, databaseURL, args...)
	p.start()
	return p
}

// newPG prepares tool against databaseURL ("": a tool that connects to no
// database), for the caller to connect its input or output before start.
func (b *Backups) newPG(ctx context.Context, tool, databaseURL string, args ...string) *pgProcess {
	ctx, cancel := context.WithCancel(ctx)
	p := &pgProcess{name: filepath.Base(tool), stderr: &bytes.Buffer{}, cancel: cancel}
	var password string
	if databaseURL != "" {
		conn, pw, err := splitPassword(databaseURL)
		if err != nil {
			p.err = err
			return p
		}
		args, password = append(args, "--dbname="+conn), pw
	}
	p.cmd = exec.CommandContext(ctx, tool, args...)
	// What the tools print is read (verification tells a server it could
	// not use from an archive that is bad: environmentFailure), so it is in
	// English whatever the operator's locale. The server's own messages
	// follow its lc_messages.
	p.cmd.Env = append(os.Environ(), "LC_ALL=C")
	if password != "" {
		p.cmd.Env = append(p.cmd.Env, "PGPASSWORD="+password)
	}
	p.cmd.Stderr = p.stderr
	return p
}

// start starts the process newPG prepared.
func (p *pgProcess) start() {
	if p.err == nil {
		p.err = p.cmd.Start()
	}
}

// wait waits for the process and describes its failure with the end of
// what it printed.
func (p *pgProcess) wait() error {
	defer p.cancel()
	if p.err != nil {
		return fmt.Errorf("start %s: %w", p.name, p.err)
	}
	if err := p.cmd.Wait(); err != nil {
		msg := strings.TrimSpace(p.stderr.String())
		if p.expected != "" {
			lines := strings.Split(msg, "\n")
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, p.expected) })
			msg = strings.Join(lines, "\n")
		}
		if len(msg) > 2000 {
			msg = "…" + msg[len(msg)-2000:]
		}
		return fmt.Errorf("%s: %w: %s", p.name, err, msg)
	}
	return nil
}

// runPG runs tool against databaseURL to its end.
func (b *Backups) runPG(ctx context.Context, name, databaseURL string, args ...string) error {
	tool, err := b.pgTool(name)
	if err != nil {
		return err
	}
	return b.startPG(ctx, tool, databaseURL, args...).wait()
}

// splitPassword returns databaseURL without its password, and the password:
// the user's (postgres://u:PASSWORD@host) or, failing that, the query's
// (?password=PASSWORD), which libpq takes as well.
func splitPassword(databaseURL string) (string, string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("database URL must start with postgres:// or postgresql://")
	}
	var password string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			password = p
			u.User = url.User(u.User.Username())
		}
	}
	if q := u.Query(); q.Has("password") {
		if password == "" {
			password = q.Get("password")
		}
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String(), password, nil
}

// loadPostgres replaces the database at databaseURL's contents with the
// archive's: pg_restore --clean writes the archive as an SQL script, and
// psql runs the statements in prologue and then that script in one
// transaction, so that a failure anywhere leaves the database as it was.
//
// pg_restore --single-transaction alone cannot do it: whatever must go
// before the load (prologue: the tables a newer schema added) would be
// committed on its own, and stay when the load failed. The transaction is
// opened here, before prologue, and only the script's COMMIT, its last
// statement, closes it: a script cut short (pg_restore failing, this
// process killed) ends psql's input without a COMMIT, and PostgreSQL rolls
// everything back when psql disconnects. (psql --single-transaction would
// commit at the end of its input, however early that came.) The script's
// own BEGIN, inside this transaction, is only warned about; with
// --single-transaction pg_restore writes no other BEGIN or COMMIT, not even
// around large objects.
func (b *Backups) loadPostgres(ctx context.Context, databaseURL, payload, prologue string) error {
	pgRestore, err := b.pgTool("pg_restore")
	if err != nil {
		return err
	}
	// psql is taken from beside pg_restore: the script may use meta-commands
	// (\restrict) only the same version knows.
	psql, err := b.pgToolBeside(pgRestore, "psql")
	if err != nil {
		return err
	}
	in, script, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer script.Close()
	load := b.newPG(ctx, psql, databaseURL, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-")
	load.cmd.Stdin = in
	load.expected = "WARNING:  there is already a transaction in progress"
	load.start()
	in.Close()
	dump := b.newPG(ctx, pgRestore, "", "--clean", "--if-exists", "--no-owner", "--no-privileges",
		"--single-transaction", "--file=-", payload)
	out, err := dump.cmd.StdoutPipe()
	if err != nil {
		dump.err = err
	}
	dump.start()
	var src io.Reader = strings.NewReader("BEGIN;\n" + prologue)
	if dump.err == nil {
		src = io.MultiReader(src, out)
	}
	w := &recordingWriter{w: script}
	_, cerr := io.Copy(w, src)
	if w.err != nil {
		// psql stopped reading (it stopped at an error): pg_restore would
		// wait on a full pipe.
		dump.cancel()
	}
	derr := dump.wait()
	if derr != nil || cerr != nil {
		// The script is incomplete: psql must not get to the end of it.
		load.cancel()
	}
	script.Close()
	lerr := load.wait()
	switch {
	case w.err != nil && lerr != nil:
		return lerr // why psql stopped
	case derr != nil:
		return derr
	case cerr != nil:
		return fmt.Errorf("pass pg_restore's script to psql: %w", cerr)
	}
	return lerr
}

// recordingWriter remembers the error its writer returned, which io.Copy
// does not tell from its reader's.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// pgToolBeside is the program name in the directory of tool, found as
// pgTool finds it when tool came from PATH.
func (b *Backups) pgToolBeside(tool, name string) (string, error) {
	if p := filepath.Join(filepath.Dir(tool), name); isExecutable(p) {
		return p, nil
	}
	return b.pgTool(name)
}

// environmentFailures are what PostgreSQL's client tools and server say
// when the failure lies with the server or the machine, not with the
// archive being loaded: the server cannot be reached or is full, stopping
// or short of disk or memory, the statement was cancelled, the tool is
// older than the archive, or the user may not do what the archive asks.
var environmentFailures = []string{
	"could not connect to server", "connection to server", "could not translate host name",
	"server closed the connection unexpectedly", "could not receive data from server", "could not send data to server",
	"ssl syscall error", "ssl error", "terminating connection",
	"too many clients", "remaining connection slots are reserved", "too many connections",
	"the database system is starting up", "the database system is shutting down", "the database system is in recovery mode",
	"the database system is not yet accepting connections", "the database system is not accepting connections",
	"authentication failed", "no pg_hba.conf entry", "permission denied", "could not open extension control file",
	"no space left on device", "disk quota exceeded", "could not extend file", "out of memory", "out of shared memory",
	"canceling statement due to", "deadlock detected", "could not serialize access",
	"unsupported version",
}

// environmentFailure reports whether err, from a pg_restore that loaded an
// archive into a database, lies with the server or the machine rather than
// with the archive. Only the tool's own lines are read: the DETAIL,
// CONTEXT and "Command was" lines under them quote the archive's rows and
// statements, which may say anything. A pg_restore killed from outside
// (the out-of-memory killer, a shutdown) did not judge the archive either;
// one that crashed (a segmentation fault) did: pg_restore crashes on some
// damaged archives, and such a backup must be reported bad, not kept.
func environmentFailure(err error) bool {
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && !ee.Exited() {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() {
			return true
		}
		switch ws.Signal() {
		case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT:
			return true
		}
		return false
	}
	for line := range strings.Lines(strings.ToLower(err.Error())) {
		if !strings.HasPrefix(line, "pg_restore:") {
			continue
		}
		if slices.ContainsFunc(environmentFailures, func(s string) bool { return strings.Contains(line, s) }) {
			return true
		}
	}
	return false
}
