// Package testutil gives tests real parts: a throwaway PostgreSQL cluster,
// fresh SQLite and PostgreSQL databases, and a running Steward on loopback.
package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Postgres is a throwaway PostgreSQL cluster on a loopback port, started from
// Debian's postgresql binaries (initdb, pg_ctl) in a temporary directory.
type Postgres struct {
	dir     string
	bin     string
	port    int
	extra   []string // server arguments, kept for Restart
	cred    *syscall.Credential
	created atomic.Int64
}

// ErrNoPostgres means no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("no PostgreSQL binaries (initdb, pg_ctl): apt-get install -y postgresql")

// findPostgresBin returns the directory holding initdb and pg_ctl:
// $STEWARD_PG_BIN, the newest /usr/lib/postgresql/*/bin, or $PATH.
func findPostgresBin() (string, error) {
	if d := os.Getenv("STEWARD_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartPostgres initialises and starts a cluster; extra are more server
// arguments ("-c", "name=value"). As root it runs the server as the
// postgres user, which PostgreSQL requires.
func StartPostgres(extra ...string) (*Postgres, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "steward-pg-")
	if err != nil {
		return nil, err
	}
	pg := &Postgres{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := pg.run("initdb", "-D", pg.dataDir(), "-U", "steward", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := pg.start(extra...); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return pg, nil
}

// start starts the server of an initialised data directory on a free port.
func (pg *Postgres) start(extra ...string) error {
	// A free port can be taken by someone else before the server binds it;
	// try a few.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		pg.port, err = freePort()
		if err != nil {
			break
		}
		pg.extra = extra
		if err = pg.startOnPort(); err == nil {
			return nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
	return fmt.Errorf("start postgres: %w\n%s", err, log)
}

func (pg *Postgres) startOnPort() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", pg.port, pg.dir)
	for _, e := range pg.extra {
		opts += " " + e
	}
	return pg.run("pg_ctl", "-D", pg.dataDir(), "-l", filepath.Join(pg.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// Crash stops the server at once, as a crash or a power cut would: its
// clients' connections break. Restart brings it back on the same port.
func (pg *Postgres) Crash() error {
	return pg.run("pg_ctl", "-D", pg.dataDir(), "-m", "immediate", "-w", "stop")
}

// Restart starts a crashed server again on its port (it recovers first).
func (pg *Postgres) Restart() error { return pg.startOnPort() }

func (pg *Postgres) dataDir() string { return filepath.Join(pg.dir, "data") }

func (pg *Postgres) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	cmd.Dir = pg.dir
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// URL returns the connection URL of the named database.
func (pg *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://steward@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (pg *Postgres) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), pg.created.Add(1))
	if err := pg.Exec(ctx, "postgres", "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return pg.URL(name), nil
}

// Stop shuts the cluster down at once and removes its files.
func (pg *Postgres) Stop() {
	_ = pg.Crash()
	os.RemoveAll(pg.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PostgresRequired reports whether a missing PostgreSQL must fail the tests
// rather than skip them: always in CI.
func PostgresRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv("STEWARD_REQUIRE_POSTGRES") != ""
}

// sharedPG is the cluster a test binary's TestMain started, if any.
var sharedPG atomic.Pointer[Postgres]

// MainWithPostgres runs a package's tests with a cluster started for them,
// and stops it afterwards. Use it from TestMain: os.Exit(testutil.MainWithPostgres(m)).
func MainWithPostgres(m *testing.M) int {
	pg, err := StartPostgres()
	switch {
	case err == nil:
		sharedPG.Store(pg)
		defer pg.Stop()
	case PostgresRequired():
		fmt.Fprintln(os.Stderr, "FAIL: PostgreSQL is required here (CI) but could not start:", err)
		return 1
	default:
		fmt.Fprintln(os.Stderr, "warning: PostgreSQL tests will be skipped:", err)
	}
	return m.Run()
}

// PostgresURL returns a fresh empty database on the package's cluster, or
// skips the test when no cluster could be started outside CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pg := sharedPG.Load()
	if pg == nil {
		if PostgresRequired() {
			t.Fatal("PostgreSQL is required but was not started (is TestMain using testutil.MainWithPostgres?)")
		}
		t.Skip("PostgreSQL not available: ", ErrNoPostgres)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
