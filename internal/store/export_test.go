package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// What the writer's tests (writer_test.go, package store_test) reach
// inside the store for. Test files only: nothing here is built into Steward.

// Tx is the transaction a write function gets.
type Tx = tx

// Exec runs a statement in the transaction.
func (t tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.exec(ctx, q, args...)
}

// Update runs fn through the writer, as every write method does.
func (db *DB) Update(ctx context.Context, fn func(ctx context.Context, t Tx) error) error {
	return db.update(ctx, fn)
}

// HoldWriter keeps the writer busy, after what it is committing now, until
// release is called (at the latest when the test ends). Writes submitted
// meanwhile wait in its queue, in the order they arrive, and are committed
// as one batch after release; queued says how many wait.
func (db *DB) HoldWriter(t testing.TB) (queued func() int, release func()) {
	held, hold := make(chan struct{}), make(chan struct{})
	go db.update(context.Background(), func(context.Context, tx) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return func() int { return len(db.w.reqs) }, release
}

// WriteStatementCache is how many prepared statements the SQLite write
// connection keeps.
const WriteStatementCache = writeStatementCache

// OnPrepare calls fn with the action and its arguments (a table, …) of
// every statement prepared on the SQLite write connection from now on:
// SQLite asks its authorizer about a statement when it prepares it, not
// when it runs it again.
func (db *DB) OnPrepare(t testing.TB, fn func(action int, arg1, arg2 string)) {
	t.Helper()
	onPrepare(t, db.write, fn)
}

// OnPrepareRead is OnPrepare for one connection of the read pool: open the
// store with ReadConns 1 to watch every read.
func (db *DB) OnPrepareRead(t testing.TB, fn func(action int, arg1, arg2 string)) {
	t.Helper()
	onPrepare(t, db.read, fn)
}

// ReadStatementCache is how many prepared statements each SQLite read
// connection keeps.
const ReadStatementCache = readStatementCache

func onPrepare(t testing.TB, pool *sql.DB, fn func(action int, arg1, arg2 string)) {
	t.Helper()
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		dc.(*sqlite3.SQLiteConn).RegisterAuthorizer(func(action int, arg1, arg2, _ string) int {
			fn(action, arg1, arg2)
			return sqlite3.SQLITE_OK
		})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// LockMigrations holds the migrations lock as a migrating node does.
func (db *DB) LockMigrations(ctx context.Context) (func(), error) { return db.lockMigrations(ctx) }

// KnowledgeLock is the advisory lock's pair of keys that knowledge writes
// take on PostgreSQL, for tests that act as another node writing by hand.
var KnowledgeLock = [2]int32{lockSpaceKnowledge, 0}
