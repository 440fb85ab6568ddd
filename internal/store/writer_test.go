package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// batch submits each write from a goroutine of its own while the writer is
// held, each once the one before is queued, then lets the writer go: they
// are committed as one batch, in the order given. It returns their results.
func batch(t *testing.T, db *store.DB, writes ...func() error) []error {
	t.Helper()
	queued, release := db.HoldWriter(t)
	results := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, write := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = write()
		}()
		for deadline := time.Now().Add(10 * time.Second); queued() < i+1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("write %d of the batch was not queued", i)
			}
		}
	}
	release()
	wg.Wait()
	return results
}

func createConversation(t *testing.T, db *store.DB, id string) *conversation.Conversation {
	t.Helper()
	c := newConversation(id)
	if err := db.CreateConversation(context.Background(), c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
		t.Fatal(err)
	}
	return c
}

// A batch in which requests fail commits every other request exactly once,
// in order, with the results their callers were told: the failing ones
// undo only themselves, a request already running when its caller gave up
// still commits, one whose caller gave up before it ran does not, and
// what write functions keep outside the transaction (a count, a sequence
// number) is what was committed, not the sum of the runs.
func TestBatchWithFailingRequests(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, stale, last := createConversation(t, db, "first"), createConversation(t, db, "stale"), createConversation(t, db, "last")
		staleTurn := *stale
		staleTurn.LastSeq = 7
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, id := range []string{"f1", "f2"} {
			if err := db.AddFlag(ctx, &quality.Flag{ID: id, ConversationID: first.ID, MessageID: "m-" + id,
				Source: quality.SourceCustomer, Status: quality.FlagOpen, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		user := func(id string) *auth.User {
			return &auth.User{ID: id, Email: "ana@example.com", Name: "Ana", Role: auth.RoleAgent, CreatedAt: now, UpdatedAt: now}
		}
		if err := db.CreateUser(ctx, user("u1")); err != nil {
			t.Fatal(err)
		}
		entry := func(action string) *audit.Entry {
			return &audit.Entry{At: now, Actor: "system", Action: action, Object: "batch"}
		}
		note := func(id string) *desk.Note {
			return &desk.Note{ID: id, ConversationID: first.ID, AuthorID: "u1", AuthorName: "Ana", Text: id, CreatedAt: now}
		}

		gaveUp, giveUp := context.WithCancel(ctx)       // while its write runs
		tooLate, giveUpLater := context.WithCancel(ctx) // before its write runs
		var flagged int
		audited, audited2 := entry("one"), entry("two")
		results := batch(t, db,
			func() error { return db.SaveTurn(ctx, turn(first, "one")) },
			func() (err error) {
				flagged, err = db.UpdateFlags(ctx, []string{"f1", "f2"}, []quality.FlagStatus{quality.FlagOpen},
					quality.FlagUpdate{Status: quality.FlagFixing, HandledBy: "u1", At: now})
				return err
			},
			func() error { return db.AppendAudit(ctx, audited, audit.Hash) },
			func() error {
				return db.Update(gaveUp, func(ctx context.Context, t store.Tx) error {
					giveUp()
					giveUpLater()
					_, err := t.Exec(ctx, `INSERT INTO notes (id, conversation_id, author_id, author_name, text, created_at)
						VALUES ($1, $2, 'u1', 'Ana', 'ran', $3)`, "n-ran", first.ID, now.UnixMilli())
					return err
				})
			},
			func() error { return db.SaveTurn(ctx, turn(&staleTurn, "stale")) }, // a conflict: no SQL error
			func() error { return db.CreateUser(ctx, user("u2")) },              // a unique violation: a SQL error
			func() error { return db.AddNote(tooLate, note("n-late")) },
			func() error { return db.AppendAudit(ctx, audited2, audit.Hash) },
			func() error { return db.SaveTurn(ctx, turn(last, "last")) },
		)

		// What each caller hears: "" is success, canceled its context's end,
		// the rest an error code.
		for i, want := range []string{"", "", "", "", errcode.Conflict, errcode.Conflict, "canceled", "", ""} {
			got := results[i]
			if want == "canceled" && !errors.Is(got, context.Canceled) || want != "canceled" && errcode.Code(got) != want {
				t.Errorf("write %d: %v, want %q", i, got, want)
			}
		}
		for id, want := range map[string]int{"first": 3, "stale": 1, "last": 3} {
			if msgs, err := db.Messages(ctx, id, 0); err != nil || len(msgs) != want {
				t.Errorf("conversation %s has %d messages (%v), want %d", id, len(msgs), err, want)
			}
		}
		if flagged != 2 {
			t.Errorf("UpdateFlags reported %d flags, want 2", flagged)
		}
		if fixing, err := db.Flags(ctx, []quality.FlagStatus{quality.FlagFixing}, 10); err != nil || len(fixing) != 2 {
			t.Errorf("%d flags are being fixed (%v), want 2", len(fixing), err)
		}
		if audited.Seq != 1 || audited2.Seq != 2 {
			t.Errorf("audit entries got seq %d and %d, want 1 and 2", audited.Seq, audited2.Seq)
		}
		if rep, err := audit.VerifyChain(ctx, db, nil); err != nil || !rep.OK || rep.Entries != 2 {
			t.Errorf("audit chain after the batch: %+v, %v; want 2 entries, intact", rep, err)
		}
		notes, err := db.Notes(ctx, first.ID)
		if err != nil || len(notes) != 1 || notes[0].ID != "n-ran" {
			t.Errorf("notes = %+v (%v), want only n-ran", notes, err)
		}
		if u, err := db.UserByEmail(ctx, "ana@example.com"); err != nil || u.ID != "u1" {
			t.Errorf("user ana = %+v (%v), want u1", u, err)
		}
	})
}

// A batch in which every request succeeds runs each request once, with no
// savepoints: those are only for a batch that has a failing request.
func TestBatchWithoutFailuresUsesNoSavepoints(t *testing.T) {
	db := testutil.OpenStore(t, testutil.Backends()[0].Options(t))
	var savepoints atomic.Int64
	db.OnPrepare(t, func(action int, _, _ string) {
		if action == sqlite3.SQLITE_SAVEPOINT {
			savepoints.Add(1)
		}
	})
	ctx := context.Background()
	var runs [4]atomic.Int64
	golden := func(i int) func() error {
		return func() error {
			return db.Update(ctx, func(ctx context.Context, t store.Tx) error {
				runs[i].Add(1)
				_, err := t.Exec(ctx, `INSERT INTO kb_golden (id, question, locale, entry_id, created_by, created_at)
					VALUES ($1, 'q', 'en', 'e', 'u', 0)`, fmt.Sprint("g", i))
				return err
			})
		}
	}
	for i, err := range batch(t, db, golden(0), golden(1), golden(2)) {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i := range 3 {
		if n := runs[i].Load(); n != 1 {
			t.Errorf("write %d ran %d times, want once", i, n)
		}
	}
	if n := savepoints.Load(); n != 0 {
		t.Errorf("a batch without failures prepared %d savepoint statements, want none", n)
	}

	// With a failing request, the batch runs again with savepoints.
	refused := errors.New("refused")
	results := batch(t, db, golden(3), func() error {
		return db.Update(ctx, func(context.Context, store.Tx) error { return refused })
	})
	if results[0] != nil || !errors.Is(results[1], refused) {
		t.Fatalf("results %v, want success and %v", results, refused)
	}
	if savepoints.Load() == 0 {
		t.Error("a batch with a failing request used no savepoints")
	}
	if questions, err := db.GoldenQuestions(ctx); err != nil || len(questions) != 4 {
		t.Errorf("%d golden questions (%v), want 4, each once", len(questions), err)
	}
}

// The SQLite write connection prepares a statement once and runs it again
// from its cache, which is bounded: after WriteStatementCache other
// statements, the least recently used one has to be prepared again.
func TestWriteStatementsArePreparedOnce(t *testing.T) {
	db := testutil.OpenStore(t, testutil.Backends()[0].Options(t))
	ctx := context.Background()
	c := createConversation(t, db, "c")
	var prepared atomic.Int64 // statements prepared that insert notes
	db.OnPrepare(t, func(action int, table, _ string) {
		if action == sqlite3.SQLITE_INSERT && table == "notes" {
			prepared.Add(1)
		}
	})
	addNote := func(id string) {
		t.Helper()
		if err := db.AddNote(ctx, &desk.Note{ID: id, ConversationID: c.ID, AuthorID: "u1", Text: id}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		addNote(fmt.Sprint("n", i))
	}
	if n := prepared.Load(); n != 1 {
		t.Fatalf("10 notes prepared their INSERT %d times, want once", n)
	}

	err := db.Update(ctx, func(ctx context.Context, t store.Tx) error {
		for i := range store.WriteStatementCache {
			if _, err := t.Exec(ctx, fmt.Sprintf(`DELETE FROM notes WHERE id = $1 AND text = '%d'`, i), "none"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	addNote("n-pushed-out")
	if n := prepared.Load(); n != 2 {
		t.Fatalf("after %d other statements the INSERT was prepared %d times in all, want twice (the cache is bounded)",
			store.WriteStatementCache, n)
	}
	addNote("n-cached-again")
	if n := prepared.Load(); n != 2 {
		t.Fatalf("the INSERT was prepared %d times in all, want twice", n)
	}
}

// A turn reads its conversation on every message: each read connection
// prepares that query once and keeps it, and its cache is bounded too.
func TestReadStatementsArePreparedOnce(t *testing.T) {
	opts := testutil.Backends()[0].Options(t)
	opts.ReadConns = 1
	db := testutil.OpenStore(t, opts)
	ctx := context.Background()
	c := createConversation(t, db, "c")
	// SQLite asks the authorizer once per SELECT and once per column read
	// when it prepares a statement, never when it runs it again.
	var statements, columns atomic.Int64
	db.OnPrepareRead(t, func(action int, table, _ string) {
		switch {
		case action == sqlite3.SQLITE_SELECT:
			statements.Add(1)
		case action == sqlite3.SQLITE_READ && table == "conversations":
			columns.Add(1)
		}
	})
	read := func() {
		t.Helper()
		got, err := db.Conversation(ctx, c.ID)
		if err != nil || got.ID != c.ID {
			t.Fatalf("read conversation: %v, %v", got, err)
		}
	}
	for range 10 {
		read()
	}
	if n := statements.Load(); n != 1 {
		t.Fatalf("10 reads of a conversation prepared %d statements, want one", n)
	}
	if columns.Load() == 0 {
		t.Fatal("the authorizer saw no read of conversations: the test watches the wrong connection")
	}
	before := statements.Load()
	for i := range store.ReadStatementCache {
		if _, err := db.Conversation(ctx, fmt.Sprint("none-", i)); errcode.Code(err) != errcode.NotFound {
			t.Fatalf("read a missing conversation: %v, want not found", err)
		}
	}
	if n := statements.Load() - before; n != 0 {
		t.Fatalf("reading other ids prepared %d statements, want none (same query)", n)
	}
}
