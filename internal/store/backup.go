package store

// This file is what backups read: one consistent, read-only state of a
// database (the live one, a SQLite snapshot file, or a scratch database a
// backup was restored into), its tables' row counts and checksums, the
// SQLite snapshot itself, and the scratch databases verification uses.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/backup"
	"github.com/steward-cs/steward/internal/errcode"
)

var (
	_ backup.Database  = (*DB)(nil)
	_ backup.View      = (*View)(nil)
	_ backup.Inspector = Inspector{}
)

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// View is one consistent, read-only state of a database.
type View struct {
	q        querier
	d        dialect
	snapshot string
}

// Dialect is "sqlite" or "postgres".
func (v *View) Dialect() string { return v.d.name() }

// SnapshotID is the PostgreSQL snapshot the view's transaction exported
// (pg_dump --snapshot reads the same state); "" on SQLite.
func (v *View) SnapshotID() string { return v.snapshot }

// Tables lists the tables, sorted by name.
func (v *View) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if v.d.name() == "postgres" {
		q = `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := v.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// TableSum reads every row of table and returns their count and checksum:
// the lane-wise sum (mod 2^64) of each row's SHA-256 over its values in
// column order, hashed with the column names. Summing makes it independent
// of the order rows come back in, so no sort is needed on a large table.
func (v *View) TableSum(ctx context.Context, table string) (backup.TableSum, error) {
	sum := backup.TableSum{Name: table}
	if !identifier.MatchString(table) {
		return sum, errcode.Errorf(errcode.Invalid, "table name %q is not a plain identifier", table)
	}
	rows, err := v.q.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
	if err != nil {
		return sum, fmt.Errorf("read table %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return sum, fmt.Errorf("read table %s: %w", table, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		lanes [4]uint64
		buf   []byte
	)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return sum, fmt.Errorf("read table %s: %w", table, err)
		}
		buf = buf[:0]
		for _, val := range vals {
			buf = appendValue(buf, val)
		}
		h := sha256.Sum256(buf)
		for i := range lanes {
			lanes[i] += binary.LittleEndian.Uint64(h[i*8:])
		}
		sum.Rows++
	}
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("read table %s: %w", table, err)
	}
	final := sha256.New()
	final.Write([]byte(strings.Join(cols, ",") + "\n"))
	for _, l := range lanes {
		final.Write(binary.LittleEndian.AppendUint64(nil, l))
	}
	sum.Checksum = hex.EncodeToString(final.Sum(nil))
	return sum, nil
}

// appendValue writes one column value with a type tag and, for text and
// bytes, its length, so that no two rows encode alike.
func appendValue(buf []byte, val any) []byte {
	switch x := val.(type) {
	case nil:
		return append(buf, 'n')
	case int64:
		return binary.BigEndian.AppendUint64(append(buf, 'i'), uint64(x))
	case int32:
		return binary.BigEndian.AppendUint64(append(buf, 'i'), uint64(int64(x)))
	case float64:
		return binary.BigEndian.AppendUint64(append(buf, 'f'), math.Float64bits(x))
	case bool:
		if x {
			return append(buf, 'b', 1)
		}
		return append(buf, 'b', 0)
	case string:
		return append(binary.AppendUvarint(append(buf, 's'), uint64(len(x))), x...)
	case []byte:
		return append(binary.AppendUvarint(append(buf, 'x'), uint64(len(x))), x...)
	case time.Time:
		return binary.BigEndian.AppendUint64(append(buf, 't'), uint64(x.UnixNano()))
	default:
		s := fmt.Sprint(x)
		return append(binary.AppendUvarint(append(buf, '?'), uint64(len(s))), s...)
	}
}

// SchemaVersion is the highest migration applied, 0 for a database
// without Steward's tables.
func (v *View) SchemaVersion(ctx context.Context) (int, error) {
	tables, err := v.Tables(ctx)
	if err != nil {
		return 0, err
	}
	if i := sort.SearchStrings(tables, "schema_migrations"); i == len(tables) || tables[i] != "schema_migrations" {
		return 0, nil
	}
	var n int
	if err := v.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return n, nil
}

// AuditHead returns the audit chain's checkpoint as the view sees it.
func (v *View) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := v.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err != nil {
		return h, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// AuditRange returns up to limit audit entries after seq, oldest first.
func (v *View) AuditRange(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	rows, err := v.q.QueryContext(ctx, v.d.rebind(`SELECT seq, at, actor, actor_name, action, object, detail, prev_hash, hash
		FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries after %d: %w", after, err)
	}
	return scanAudit(rows)
}

// Inspect runs fn over one consistent state of the live database: a
// read-only REPEATABLE READ transaction whose snapshot is exported on
// PostgreSQL, a read transaction on SQLite. Writers go on meanwhile.
func (db *DB) Inspect(ctx context.Context, fn func(context.Context, backup.View) error) error {
	if db.d.name() == "postgres" {
		return inspectPostgres(ctx, db.read, true, fn)
	}
	t, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer t.Rollback()
	return fn(ctx, &View{q: t, d: db.d})
}

func inspectPostgres(ctx context.Context, pool *sql.DB, export bool, fn func(context.Context, backup.View) error) error {
	t, err := pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin snapshot transaction: %w", err)
	}
	defer t.Rollback()
	v := &View{q: t, d: postgresDialect{}}
	if export {
		if err := t.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&v.snapshot); err != nil {
			return fmt.Errorf("export snapshot: %w", err)
		}
	}
	return fn(ctx, v)
}

// Snapshot writes a consistent copy of the SQLite database to path (which
// must not exist) with VACUUM INTO, on a reader: in WAL mode writers go on
// while it runs. The copy is compact, in rollback-journal mode, and synced
// to disk.
func (db *DB) Snapshot(ctx context.Context, path string) error {
	if db.d.name() != "sqlite" {
		return errcode.Errorf(errcode.Invalid, "a snapshot file is taken of SQLite only; PostgreSQL is backed up with pg_dump")
	}
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("snapshot into %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync snapshot: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync snapshot: %w", err)
	}
	return nil
}

// Inspector opens what a backup is checked in, for package backup.
type Inspector struct{}

// KnownSchemaVersion implements backup.Inspector.
func (Inspector) KnownSchemaVersion(dialect string) (int, error) { return KnownSchemaVersion(dialect) }

// sqliteFileDSN opens a file that nobody writes: read-only and immutable,
// so SQLite takes no locks and never looks for a WAL.
func sqliteFileDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&immutable=1"
}

// InspectSQLite runs fn over the SQLite file at path, read-only.
func (Inspector) InspectSQLite(ctx context.Context, path string, fn func(context.Context, backup.View) error) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f, err := sql.Open("sqlite3", sqliteFileDSN(path))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	f.SetMaxOpenConns(1)
	return fn(ctx, &View{q: f, d: &sqliteDialect{}})
}

// InspectPostgres runs fn over one consistent state of the database at
// databaseURL.
func (Inspector) InspectPostgres(ctx context.Context, databaseURL string, fn func(context.Context, backup.View) error) error {
	pool, err := openPostgresURL(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return inspectPostgres(ctx, pool, false, fn)
}

// IntegrityCheck runs PRAGMA integrity_check on the SQLite file at path and
// returns its complaints (at most 100), none when the file is sound.
func (Inspector) IntegrityCheck(ctx context.Context, path string) ([]string, error) {
	f, err := sql.Open("sqlite3", sqliteFileDSN(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	rows, err := f.QueryContext(ctx, `PRAGMA integrity_check(100)`)
	if err != nil {
		return nil, fmt.Errorf("integrity_check %s: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("integrity_check %s: %w", path, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integrity_check %s: %w", path, err)
	}
	return problems, nil
}

// CreateDatabase creates the empty database name on the server of
// serverURL (connecting as its user, who needs CREATEDB) and returns its URL.
func (Inspector) CreateDatabase(ctx context.Context, serverURL, name string) (string, error) {
	if !identifier.MatchString(name) {
		return "", errcode.Errorf(errcode.Invalid, "database name %q is not a plain identifier", name)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errcode.Errorf(errcode.Invalid, "database URL must be postgres://...")
	}
	pool, err := openPostgresURL(ctx, serverURL)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if _, err := pool.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	c := *u
	c.Path, c.RawPath = "/"+name, ""
	return c.String(), nil
}

// DropDatabase drops the database name on the server of serverURL,
// disconnecting whoever is still in it.
func (Inspector) DropDatabase(ctx context.Context, serverURL, name string) error {
	if !identifier.MatchString(name) {
		return errcode.Errorf(errcode.Invalid, "database name %q is not a plain identifier", name)
	}
	pool, err := openPostgresURL(ctx, serverURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// IdleDatabases lists the databases on serverURL's server whose names
// begin with prefix (a plain identifier) and that no session is connected
// to, sorted.
func (Inspector) IdleDatabases(ctx context.Context, serverURL, prefix string) ([]string, error) {
	if !identifier.MatchString(prefix) {
		return nil, errcode.Errorf(errcode.Invalid, "database name prefix %q is not a plain identifier", prefix)
	}
	pool, err := openPostgresURL(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	rows, err := pool.QueryContext(ctx, `SELECT datname FROM pg_database d WHERE starts_with(datname, $1)
		AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname) ORDER BY datname`, prefix)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list databases: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// TablesNotIn lists the tables of Steward's schema (those its PostgreSQL
// migrations create) that the database at databaseURL holds and keep does
// not name, and the tables there that Steward did not make (foreign). It
// changes nothing: the restore drops the first in its own transaction.
func (Inspector) TablesNotIn(ctx context.Context, databaseURL string, keep []string) (ours, foreign []string, err error) {
	schema, err := postgresTables()
	if err != nil {
		return nil, nil, err
	}
	pool, err := openPostgresURL(ctx, databaseURL)
	if err != nil {
		return nil, nil, err
	}
	defer pool.Close()
	v := &View{q: pool, d: &postgresDialect{}}
	tables, err := v.Tables(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range tables {
		switch {
		case !schema[name]:
			foreign = append(foreign, name)
		case !slices.Contains(keep, name) && identifier.MatchString(name):
			ours = append(ours, name)
		}
	}
	return ours, foreign, nil
}

// createTable finds the tables a migration creates.
var createTable = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([a-z_][a-z0-9_]*)`)

// postgresTables are the tables of Steward's PostgreSQL schema: those its
// migrations create, and the migrations' own ledger.
func postgresTables() (map[string]bool, error) {
	names, err := fs.Glob(migrationFS, "migrations/postgres/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	out := map[string]bool{"schema_migrations": true}
	for _, name := range names {
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			out[strings.ToLower(m[1])] = true
		}
	}
	return out, nil
}

// openPostgresURL opens a small pool on databaseURL and checks it answers.
func openPostgresURL(ctx context.Context, databaseURL string) (*sql.DB, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errcode.Errorf(errcode.Invalid, "database URL must start with postgres:// or postgresql://")
	}
	pool, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(2)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("connect to postgres at %s: %w", redactURL(u), err)
	}
	return pool, nil
}
