package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

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
}

// startPG starts tool against databaseURL. The password is moved from the
// URL into PGPASSWORD, so that it shows in no process list.
func (b *Backups) startPG(ctx context.Context, tool, databaseURL string, args ...string) *pgProcess {
	ctx, cancel := context.WithCancel(ctx)
	p := &pgProcess{name: filepath.Base(tool), stderr: &bytes.Buffer{}, cancel: cancel}
	conn, password, err := splitPassword(databaseURL)
	if err != nil {
		p.err = err
		return p
	}
	p.cmd = exec.CommandContext(ctx, tool, append(args, "--dbname="+conn)...)
	p.cmd.Env = os.Environ()
	if password != "" {
		p.cmd.Env = append(p.cmd.Env, "PGPASSWORD="+password)
	}
	p.cmd.Stderr = p.stderr
	p.err = p.cmd.Start()
	return p
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
