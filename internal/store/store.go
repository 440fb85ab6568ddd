// Package store holds all of Steward's SQL, written once for SQLite and
// PostgreSQL. Writes go through one writer that commits concurrent requests
// together (group commit); reads use a pool.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"github.com/mattn/go-sqlite3"    // registers the "sqlite3" database/sql driver

	"github.com/steward-cs/steward/internal/dburl"
	"github.com/steward-cs/steward/internal/errcode"
)

// Options says which database to open.
type Options struct {
	// DatabaseURL is a postgres:// URL; empty means the embedded SQLite file.
	DatabaseURL string
	// SQLitePath is the SQLite file, used when DatabaseURL is empty.
	SQLitePath string
	// Synchronous is SQLite's synchronous pragma: FULL (default) makes every
	// commit survive power loss, NORMAL only a process crash.
	Synchronous string
	// MaxBatch bounds how many writes share one transaction (default 256).
	MaxBatch int
	// ReadConns is the size of the read pool (default 8).
	ReadConns int
	// LockConns bounds the PostgreSQL connections that hold advisory locks:
	// conversation turns in progress and the leader's lease (default 32).
	LockConns int
	// WriteTimeout bounds one group commit on PostgreSQL (default 30 s): a
	// server that vanished without a word (power, network) fails the
	// writes of that batch after it, with 503 unavailable, instead of
	// stalling every write of the node for the kernel's TCP timeout.
	WriteTimeout time.Duration
	// BusyTimeout is how long a SQLite statement waits for a lock another
	// process holds (a `steward` command writing to the same file) before
	// it fails with 503 unavailable (default 10 s).
	BusyTimeout time.Duration
	Logger      *slog.Logger
}

// defaultWriteTimeout is Options.WriteTimeout's default: far beyond any
// batch's time (a knowledge release's model, tens of megabytes, included).
const defaultWriteTimeout = 30 * time.Second

// DB is an open Steward database.
type DB struct {
	d         dialect
	write     *sql.DB // SQLite: a single connection; PostgreSQL: the shared pool
	read      *sql.DB
	w         *writer
	logger    *slog.Logger
	url       string // PostgreSQL only: for LISTEN and the lock connections
	idleConns int    // PostgreSQL only: the pool's idle connections
	// generation counts dropConnections (PostgreSQL only): a connection made
	// before the last one is not used again.
	generation atomic.Int64
	locks      *sql.DB // PostgreSQL only: connections that hold advisory locks
	lockConns  int     // the lock pool's size, to reset its idle connections with
}

// Open connects to the database described by opts. It does not migrate; call
// Migrate or CheckSchema next.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 8
	}
	if opts.LockConns <= 0 {
		opts.LockConns = 32
	}
	db := &DB{logger: opts.Logger.With("component", "store")}
	var err error
	if opts.DatabaseURL != "" {
		err = db.openPostgres(ctx, opts)
	} else {
		err = db.openSQLite(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	w := &writer{db: db.write, maxBatch: opts.MaxBatch, logger: db.logger}
	if db.d.name() == "postgres" {
		w.transient, w.onTransient = transient, db.onTransient
		w.timeout = cmp.Or(opts.WriteTimeout, defaultWriteTimeout)
	}
	db.w = w.start()
	return db, nil
}

func (db *DB) openPostgres(ctx context.Context, opts Options) error {
	u, err := url.Parse(opts.DatabaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("database URL must start with postgres:// or postgresql://")
	}
	cfg, err := pgx.ParseConfig(opts.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open postgres at %s: %w", redactURL(u), err)
	}
	// Each connection remembers the pool's generation when it was made; one
	// from before dropConnections is discarded when it comes back, not only
	// those idle at the time (a connection busy through a failover, a
	// backup's snapshot say, went on reading from the fenced old primary).
	pool := stdlib.OpenDB(*cfg,
		stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
			c.PgConn().CustomData()[generationKey] = db.generation.Load()
			return nil
		}),
		stdlib.OptionResetSession(func(_ context.Context, c *pgx.Conn) error {
			if g, _ := c.PgConn().CustomData()[generationKey].(int64); g < db.generation.Load() {
				return driver.ErrBadConn
			}
			// A server that turned read-only (fenced, or a standby now)
			// says so to every session (PostgreSQL 14 reports both settings):
			// nothing fails on it for reads, which would go on coming from
			// the old primary while the writes go to the new one.
			pc := c.PgConn()
			if pc.ParameterStatus("default_transaction_read_only") == "on" || pc.ParameterStatus("in_hot_standby") == "on" {
				return driver.ErrBadConn
			}
			return nil
		}))
	pool.SetMaxOpenConns(opts.ReadConns + 2)
	pool.SetMaxIdleConns(opts.ReadConns + 2)
	db.idleConns = opts.ReadConns + 2
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to postgres at %s: %w", redactURL(u), err)
	}
	db.d = postgresDialect{}
	db.write, db.read = pool, pool
	db.url = opts.DatabaseURL
	// Advisory locks live as long as the session that took them, so they
	// get connections of their own: a turn holding a conversation's lock
	// must never wait for a connection that another lock holder keeps.
	if db.locks, err = sql.Open("pgx", opts.DatabaseURL); err != nil {
		pool.Close()
		return fmt.Errorf("open postgres lock pool: %w", err)
	}
	db.locks.SetMaxOpenConns(opts.LockConns)
	db.locks.SetMaxIdleConns(opts.LockConns)
	db.lockConns = opts.LockConns
	db.locks.SetConnMaxIdleTime(5 * time.Minute)
	return nil
}

// generationKey is where a PostgreSQL connection keeps its generation.
const generationKey = "steward.generation"

// writeStatementCache is how many prepared statements the SQLite write
// connection keeps for the next call of the same query (mattn/go-sqlite3's
// _stmt_cache_size; the least recently used goes first). The store has
// about sixty distinct writes, so each is prepared once rather than on every
// call, which was a quarter of the writer's time. A statement is taken out
// of the cache while it runs, so no two calls share one.
const writeStatementCache = 128

// readStatementCache is the same cache on each SQLite read connection: a
// turn's read of its conversation spent half its time preparing the query.
// The store has about a hundred distinct reads; the ones a turn makes are
// kept by every connection.
const readStatementCache = 64

func (db *DB) openSQLite(ctx context.Context, opts Options) error {
	if opts.SQLitePath == "" {
		return errors.New("no database: give a SQLite path or a postgres:// URL")
	}
	if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return fmt.Errorf("sqlite synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	// busy_timeout first, as PocketBase does: every other pragma may need to wait.
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	base := "file:" + (&url.URL{Path: opts.SQLitePath}).EscapedPath() + "?_busy_timeout=" + strconv.FormatInt(busy.Milliseconds(), 10) +
		"&_foreign_keys=on"
	w, err := sql.Open("sqlite3", base+"&_journal_mode=WAL&_synchronous="+sync+"&_txlock=immediate"+
		"&_stmt_cache_size="+strconv.Itoa(writeStatementCache))
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", opts.SQLitePath, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("open sqlite %s: %w", opts.SQLitePath, err)
	}
	r, err := sql.Open("sqlite3", base+"&mode=ro&_stmt_cache_size="+strconv.Itoa(readStatementCache))
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite readers %s: %w", opts.SQLitePath, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	db.d = &sqliteDialect{}
	db.write, db.read = w, r
	return nil
}

// Dialect names the database engine: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name() }

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.d.name(), err)
	}
	return nil
}

// Close stops the writer after it has committed what it holds, then closes
// the connections.
func (db *DB) Close(ctx context.Context) error {
	db.w.stop(ctx)
	var errs []error
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.locks != nil {
		errs = append(errs, db.locks.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// queryContext runs a read. On PostgreSQL a read that failed for a reason
// that passes (a lost connection, a restarting or demoted server: see
// transient) is tried again on a fresh pool as writes are, for about a
// second and a half; a read changes nothing, so every try is safe. Past
// that the error says the database is unavailable (503, try again).
func (db *DB) queryContext(ctx context.Context, q string, args ...any) (*rows, error) {
	q = db.d.rebind(q)
	for try := 1; ; try++ {
		sqlRows, err := db.read.QueryContext(ctx, q, args...)
		if err == nil {
			return &rows{Rows: sqlRows, db: db}, nil
		}
		if err := db.tryAgain(ctx, try, err); err != nil {
			return nil, err
		}
	}
}

// tryAgain judges the try-th failure, err, of a read or of a transaction
// that cannot have committed: nil, once the pool has started afresh and
// the wait before the next try is over, when it should run again;
// otherwise the error for the caller (err itself when it does not pass,
// "unavailable" when it outlasted the tries).
func (db *DB) tryAgain(ctx context.Context, try int, err error) error {
	if db.w.transient == nil || !db.w.transient(err) || ctx.Err() != nil {
		return busy(err)
	}
	if try == tries {
		return unreachable(err)
	}
	db.onTransient(err)
	select {
	case <-ctx.Done():
		return unreachable(err)
	case <-time.After(retryWait(try)):
		return nil
	}
}

// rows is sql.Rows whose Err says "unavailable" (503) when the connection
// was lost while the rows were being read: the query passed, but its
// answer was cut off by a server restarting or moving, as a failover does.
// Any other error passes unchanged.
type rows struct {
	*sql.Rows
	db *DB
}

func (r *rows) Err() error { return r.db.cutOff(r.Rows.Err()) }

// resultRows is what scanning functions need of rows, ours or sql's.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// cutOff marks a transient failure to read a query's answer as the
// database being unavailable, and starts the pool afresh: the connection
// it came on is gone, and its sisters most likely with it.
func (db *DB) cutOff(err error) error {
	if err == nil || db.w.transient == nil || !db.w.transient(err) {
		return busy(err)
	}
	db.onTransient(err)
	return unreachable(err)
}

// queryRowContext is QueryRowContext over queryContext, for its retries.
func (db *DB) queryRowContext(ctx context.Context, q string, args ...any) *row {
	rows, err := db.queryContext(ctx, q, args...)
	return &row{db: db, ctx: ctx, q: q, args: args, rows: rows, err: err}
}

// row is sql.Row's behaviour over rows already queried.
type row struct {
	db   *DB
	ctx  context.Context
	q    string
	args []any
	rows *rows
	err  error
}

// Scan copies the first row's columns into dest and closes the rows;
// sql.ErrNoRows if there is none. A connection lost while the row was
// being read (after the query itself passed) means the query runs again,
// as queryContext runs a failed one again: a read is safe to repeat.
func (r *row) Scan(dest ...any) error {
	for try := 1; ; try++ {
		if r.err != nil {
			return r.err // queryContext has tried what can be tried
		}
		err := r.scanOnce(dest...)
		if err == nil {
			return nil
		}
		if err := r.db.tryAgain(r.ctx, try, err); err != nil {
			return err
		}
		r.rows, r.err = r.db.queryContext(r.ctx, r.q, r.args...)
	}
}

// scanOnce is one Scan of the rows queried; its errors are the driver's,
// not yet judged by cutOff.
func (r *row) scanOnce(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// unreachable marks a database error that outlasted the retries: callers
// hear "unavailable" (HTTP 503: try again), the log keeps the cause.
func unreachable(err error) error {
	return fmt.Errorf("%w: %w", errcode.Errorf(errcode.Unavailable, "the database cannot be reached; try again in a moment"), err)
}

// busy marks SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED),
// which comes once the busy timeout has passed with another process (a
// `steward` command on the same file) holding the lock, as the database
// being unavailable: 503, try again, as PostgreSQL's equivalents are, not
// a 500 logged as a failure of Steward's own. Other errors pass unchanged.
func busy(err error) error {
	if se, ok := errors.AsType[sqlite3.Error](err); ok && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return fmt.Errorf("%w: %w", errcode.Errorf(errcode.Unavailable, "the database is busy; try again in a moment"), err)
	}
	return err
}

// tx is a transaction handed to write functions; it rebinds queries.
type tx struct {
	sqlTx *sql.Tx
	d     dialect
}

func (t tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.sqlTx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.sqlTx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

func (t tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.sqlTx.QueryContext(ctx, t.d.rebind(q), args...)
}

// update runs fn in a transaction shared with other concurrent writes and
// returns once it has been committed (or has failed). fn may run more than
// once before the run that counts: the writer runs a batch again when a
// neighbour fails, and PostgreSQL retries a failure that passes. So fn sets,
// never accumulates, what it keeps outside the transaction (a count is reset
// at its start, a slice truncated).
func (db *DB) update(ctx context.Context, fn func(ctx context.Context, t tx) error) error {
	return db.w.do(ctx, func(ctx context.Context, sqlTx *sql.Tx) error {
		return fn(ctx, tx{sqlTx: sqlTx, d: db.d})
	})
}

// RedactURL is a database URL for a message: without its password.
func RedactURL(raw string) string { return dburl.Redact(raw) }

// redactURL is u for a log or an error: without the user's password, and
// with password parameters of the query (password=, sslpassword=) hidden.
func redactURL(u *url.URL) string { return dburl.RedactURL(u) }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
