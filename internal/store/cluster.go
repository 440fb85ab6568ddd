package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/steward-cs/steward/internal/errcode"
)

// Several Steward nodes may share one PostgreSQL database. What they must
// agree on goes through PostgreSQL itself: advisory locks serialise a
// conversation's turns and elect the one node that runs the background
// controllers, and LISTEN/NOTIFY carries live events between nodes. On
// SQLite there is one node, and each of these is a no-op.

// Advisory lock spaces: the first key of pg_advisory_lock(int4, int4), so
// that Steward's locks never collide with another application's on the
// same database.
const (
	lockSpaceConversation int32 = 0x5354_0001
	lockSpaceLeader       int32 = 0x5354_0002
	lockSpaceAdmins       int32 = 0x5354_0003 // changes that take an admin away
	lockSpaceAgent        int32 = 0x5354_0004 // assignments to one agent, within their limit
	lockSpaceTickets      int32 = 0x5354_0005 // offline messages of one conversation, within their limit
	lockSpaceKnowledge    int32 = 0x5354_0006 // entry writes, releases and activations
)

// LockWait bounds how long a turn waits for another node's turn on the same
// conversation.
const LockWait = 10 * time.Second

// Clustered reports whether several nodes may share this database.
func (db *DB) Clustered() bool { return db.locks != nil }

// ClockOffset is how far this node's clock is ahead of the database
// server's (negative: behind), the round trip's midpoint against the
// server's clock_timestamp(). Nodes that share a database compare times
// each of them wrote (when a conversation started waiting, a leader's
// lease, a second of signals), so their clocks must agree. On SQLite, where
// the database is this machine's file, it is 0.
func (db *DB) ClockOffset(ctx context.Context) (time.Duration, error) {
	if db.d.name() != "postgres" {
		return 0, nil
	}
	var server time.Time
	t0 := time.Now()
	if err := db.queryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&server); err != nil {
		return 0, fmt.Errorf("read the database server's clock: %w", err)
	}
	mid := t0.Add(time.Since(t0) / 2)
	return mid.Sub(server), nil
}

// LockConversation takes the cluster-wide lock on a conversation's turns and
// returns its release. On SQLite it does nothing: the engine's own lock
// serialises turns within the one node.
func (db *DB) LockConversation(ctx context.Context, id string) (release func(), err error) {
	if db.locks == nil {
		return func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, LockWait)
	defer cancel()
	key := lockKey(id)
	conn, err := db.advisoryLock(ctx, lockSpaceConversation, key)
	if err != nil {
		return nil, fmt.Errorf("lock conversation %s: %w", id, err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var ok bool
		if err := conn.QueryRowContext(uctx, `SELECT pg_advisory_unlock($1, $2)`, lockSpaceConversation, key).Scan(&ok); err != nil || !ok {
			// The session may still hold the lock: end it rather than hand
			// a locked connection to the next turn.
			db.logger.Warn("unlock conversation: dropping its connection", "conversation", id, "error", err)
			discard(conn)
			return
		}
		conn.Close()
	}, nil
}

// lockMigrations serialises migrations between nodes.
func (db *DB) lockMigrations(ctx context.Context) (func(), error) {
	if db.locks == nil {
		return func() {}, nil
	}
	conn, err := db.advisoryLock(ctx, lockSpaceLeader, lockKey("migrations"))
	if err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	return func() { discard(conn) }, nil // ending the session releases the lock
}

// advisoryLock waits for the session-level advisory lock (space, key) on a
// lock connection of its own and returns that connection, which holds the
// lock until it is unlocked or the session ends.
//
// The lock is taken only on a server that takes writes: after a failover
// that left the old primary up and fenced read-only, the pool's
// connections stayed on it (nothing resets this pool) and took the lock
// there while the other nodes took it on the new primary, so it locked
// nothing across nodes until a restart. A connection found on a read-only
// server is dropped with the pool's idle ones, and a fresh one tried.
func (db *DB) advisoryLock(ctx context.Context, space, key int32) (*sql.Conn, error) {
	for attempt := 0; ; attempt++ {
		conn, err := db.locks.Conn(ctx)
		if err != nil {
			return nil, err
		}
		var readOnly bool
		if err := conn.QueryRowContext(ctx, `SELECT `+readOnlySQL+` FROM (SELECT pg_advisory_lock($1, $2)) AS l`,
			space, key).Scan(&readOnly); err != nil {
			discard(conn)
			return nil, err
		}
		if !readOnly {
			return conn, nil
		}
		discard(conn) // ending the session releases the lock it took there
		db.locks.SetMaxIdleConns(0)
		db.locks.SetMaxIdleConns(db.lockConns)
		if attempt == 2 {
			return nil, errcode.Errorf(errcode.Unavailable, "the database server is read-only (a standby, or a fenced old primary)")
		}
	}
}

// lockKey maps an id to the second key of an advisory lock. Two ids that
// share a key only wait for each other now and then.
func lockKey(id string) int32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int32(h.Sum32())
}

// discard closes a connection for good instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// Lease is leadership held by one node: the advisory lock lives as long as
// the connection that took it, so a node that dies or loses the database
// gives it up, and another node takes over.
type Lease struct {
	conn    *sql.Conn
	lost    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// Lost is closed when the lease ended: the connection failed or Release
// was called. The holder must stop acting as leader.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Release gives leadership up.
func (l *Lease) Release() {
	l.once.Do(func() { close(l.stop) })
	<-l.stopped
}

// TryLead tries once to become the leader named name. It returns nil and
// no error when another node leads. On SQLite the one node always leads.
func (db *DB) TryLead(ctx context.Context, name string, check time.Duration) (*Lease, error) {
	l := &Lease{lost: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
	if db.locks == nil {
		go func() {
			defer close(l.stopped)
			<-l.stop
			close(l.lost)
		}()
		return l, nil
	}
	conn, err := db.locks.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("try to lead %s: %w", name, err)
	}
	// Only a writable server is led from: a node whose pooled connection
	// is still on a fenced old primary must not take a lock nobody holds
	// there while another node leads on the new one.
	var readOnly, got bool
	if err := conn.QueryRowContext(ctx, `SELECT ro, CASE WHEN ro THEN false ELSE pg_try_advisory_lock($1, $2) END
		FROM (SELECT `+readOnlySQL+` AS ro) AS s`, lockSpaceLeader, lockKey(name)).Scan(&readOnly, &got); err != nil {
		discard(conn)
		return nil, fmt.Errorf("try to lead %s: %w", name, err)
	}
	if readOnly {
		discard(conn) // the next try connects afresh, to the server that takes writes
		return nil, nil
	}
	if !got {
		conn.Close()
		return nil, nil
	}
	// Should this host vanish (power, network), the server notices within
	// seconds and frees the lock, instead of after the kernel's two hours
	// of keepalive. Unsupported settings (a Unix socket) are ignored.
	for _, set := range []string{"SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2",
		"SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 10000"} {
		_, _ = conn.ExecContext(ctx, set)
	}
	l.conn = conn
	go l.hold(check)
	return l, nil
}

// readOnlySQL is true on a server that takes no writes: a standby, or an
// old primary fenced read-only after a failover.
const readOnlySQL = `(pg_is_in_recovery() OR current_setting('default_transaction_read_only') = 'on')`

// hold checks the lease's connection every interval; a failed check ends
// the lease (the database or the network is gone, and with it the lock).
func (l *Lease) hold(every time.Duration) {
	defer close(l.stopped)
	defer close(l.lost)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			discard(l.conn) // ends the session, and the lock with it
			return
		case <-t.C:
			// The connection must work, and its server still take writes:
			// fenced read-only after a failover, it leads nothing (the other
			// nodes write to the new primary, where the lock is free).
			ctx, cancel := context.WithTimeout(context.Background(), every)
			var readOnly bool
			err := l.conn.QueryRowContext(ctx, `SELECT `+readOnlySQL).Scan(&readOnly)
			cancel()
			if err != nil || readOnly {
				discard(l.conn)
				return
			}
		}
	}
}

// Notify sends payload to every node listening on channel, once the
// current transaction (none here) commits.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.locks == nil {
		return nil
	}
	if _, err := db.write.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// ErrNotClustered is returned by Listen on a database that only one node
// uses.
var ErrNotClustered = errors.New("the database is not shared between nodes")

// Listen receives the notifications on channel until ctx ends or the
// connection fails, which it returns; ready is called once listening, so
// that the caller can catch up on what it may have missed before.
func (db *DB) Listen(ctx context.Context, channel string, ready func(), got func(payload string)) error {
	if db.locks == nil {
		return ErrNotClustered
	}
	cfg, err := pgx.ParseConfig(db.url)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	// A wait cut short by its deadline leaves the connection usable (the
	// default handler would send the server a cancel request).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil {
			got(n.Payload)
			continue
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("listen on %s: %w", channel, err)
		}
		// Quiet for a while: is this still the server the others write to?
		// After a failover that fences the old primary read-only, this
		// connection would hear nothing, and no error would say so; ending
		// it makes the caller listen again on the new primary and resync.
		// Bounded: a server that vanished without a word would otherwise
		// hold the check for the kernel's TCP timeout, minutes in which
		// the other nodes' events go unheard.
		var readOnly bool
		cctx, cancel := context.WithTimeout(ctx, listenCheck)
		err = conn.QueryRow(cctx, `SELECT `+readOnlySQL).Scan(&readOnly)
		cancel()
		if err != nil {
			return fmt.Errorf("listen on %s: %w", channel, err)
		}
		if readOnly {
			return fmt.Errorf("listen on %s: the server is read-only now (a failover?)", channel)
		}
	}
}

// listenCheck is how long a quiet listener waits before checking its server.
const listenCheck = 5 * time.Second

// transient reports whether a PostgreSQL error left the transaction
// uncommitted and may pass on another try: a lost or refused connection,
// a server shutting down or starting up, a read-only server (a demoted
// primary), a serialisation failure or deadlock. Context errors are the
// caller's and never transient.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "25006", "40001", "40P01", "57P01", "57P02", "57P03":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err)
}

// onTransient reacts to a transient write error before the retry. A
// read-only server means the pool's connections lead to an old primary; a
// lost connection means the server restarted or moved, and its sisters in
// the pool are most likely dead too. Either way the pool starts afresh, or
// every retry would meet another stale connection.
func (db *DB) onTransient(err error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
		return // a conflict between transactions: the connection is fine
	}
	db.dropConnections(err)
}

// dropConnections closes the pool's idle connections so that the next
// query connects again (cause is logged). A connection to a primary that was demoted, or
// fenced read-only while its standby was promoted, survives the promotion;
// a new one follows the URL's target_session_attrs=read-write to whichever
// server now takes writes. Connections in use are closed as they come back
// (their generation is older: openPostgres).
func (db *DB) dropConnections(cause error) {
	db.logger.Warn("reconnecting to the database to find the primary", "cause", cause)
	db.generation.Add(1)
	db.write.SetMaxIdleConns(0)
	db.write.SetMaxIdleConns(db.idleConns)
}
