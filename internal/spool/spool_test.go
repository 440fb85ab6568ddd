package spool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/spool"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// errLocked is the fault the tests inject: an uncoded error, like a driver's.
func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

var errLocked = errors.New("injected fault: database is locked")

// faults wraps a real store and fails or delays its calls on demand.
type faults struct {
	conversation.Store
	failWrites   atomic.Bool
	failReads    atomic.Bool
	landThenFail atomic.Bool                  // the write is made, then reported failed
	failWith     atomic.Pointer[error]        // the error failing writes return (default errLocked)
	slowWrites   atomic.Int64                 // nanoseconds a write waits first, whatever its context says
	failFor      sync.Map                     // conversation ids whose writes fail
	writes       atomic.Int64                 // writes that reached the real store
	onWrite      atomic.Pointer[func(string)] // called before each write with the conversation id
}

// before runs the faults of a write and returns the context to write with:
// a slow store finishes what it started, whatever its caller does.
func (f *faults) before(ctx context.Context, id string) (context.Context, error) {
	if fn := f.onWrite.Load(); fn != nil {
		(*fn)(id)
	}
	if d := f.slowWrites.Load(); d > 0 {
		time.Sleep(time.Duration(d))
		ctx = context.WithoutCancel(ctx)
	}
	_, failing := f.failFor.Load(id)
	if f.failWrites.Load() || failing {
		if err := f.failWith.Load(); err != nil {
			return nil, *err
		}
		return nil, errLocked
	}
	return ctx, nil
}

func (f *faults) CreateConversation(ctx context.Context, c *conversation.Conversation, greeting []conversation.Message) error {
	ctx, err := f.before(ctx, c.ID)
	if err != nil {
		return err
	}
	if err := f.Store.CreateConversation(ctx, c, greeting); err != nil {
		return err
	}
	return f.after()
}

func (f *faults) SaveTurn(ctx context.Context, t conversation.Turn) error {
	ctx, err := f.before(ctx, t.Conversation.ID)
	if err != nil {
		return err
	}
	if err := f.Store.SaveTurn(ctx, t); err != nil {
		return err
	}
	return f.after()
}

func (f *faults) after() error {
	f.writes.Add(1)
	if f.landThenFail.Load() {
		return errLocked
	}
	return nil
}

func (f *faults) Conversation(ctx context.Context, id string) (*conversation.Conversation, error) {
	if f.failReads.Load() {
		return nil, errLocked
	}
	return f.Store.Conversation(ctx, id)
}

func (f *faults) Messages(ctx context.Context, id string, afterSeq int64) ([]conversation.Message, error) {
	if f.failReads.Load() {
		return nil, errLocked
	}
	return f.Store.Messages(ctx, id, afterSeq)
}

// logBuffer collects a test's log lines, safely from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t      *testing.T
	db     *store.DB
	inner  *faults
	path   string
	log    *logBuffer
	spools atomic.Int64 // OnSpool calls
	drains atomic.Int64 // writes reported by OnDrain
	opts   spool.Options
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "steward.db")})
	e := &env{t: t, db: db, inner: &faults{Store: db}, path: filepath.Join(t.TempDir(), "data", "spool.jsonl"), log: &logBuffer{}}
	e.opts = spool.Options{
		Logger:     slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryEvery: 5 * time.Millisecond,
		OnSpool:    func(string, int, error) { e.spools.Add(1) },
		OnDrain:    func(n int) { e.drains.Add(int64(n)) },
	}
	return e
}

// open opens a spool over the env's store; it is closed when the test ends.
func (e *env) open() *spool.Store {
	e.t.Helper()
	s, err := spool.Open(context.Background(), e.path, e.inner, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

// run runs s.Run until stop is called or the test ends.
func (e *env) run(s *spool.Store) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	e.t.Cleanup(stop)
	return stop
}

// drained waits until s has nothing pending and its journal is empty.
func (e *env) drained(s *spool.Store) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := os.Stat(e.path)
		if err != nil {
			e.t.Fatal(err)
		}
		if s.Pending() == 0 && st.Size() == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("not drained after 10s: %d pending, journal %d bytes", s.Pending(), st.Size())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newConversation(id string) *conversation.Conversation {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &conversation.Conversation{ID: id, TokenHash: []byte{1, 2, 3}, State: conversation.StateBot, Locale: "zh-CN",
		Customer: conversation.Customer{ExternalID: "u-" + id, Name: "李雷"}, LastSeq: 1, CreatedAt: now, UpdatedAt: now}
}

func msg(c *conversation.Conversation, seq int64, role conversation.Role, text string) conversation.Message {
	return conversation.Message{ID: fmt.Sprintf("%s-m%d", c.ID, seq), ConversationID: c.ID, Seq: seq, Role: role,
		Text: text, Locale: c.Locale, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
}

func greeting(c *conversation.Conversation) []conversation.Message {
	return []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}
}

// turn advances c by a customer message and a bot reply, as the engine
// does, and returns the turn (which holds a copy of c).
func turn(c *conversation.Conversation, text string) conversation.Turn {
	cm := msg(c, c.LastSeq+1, conversation.RoleCustomer, text)
	bm := msg(c, c.LastSeq+2, conversation.RoleBot, "re: "+text)
	bm.Outcome, bm.Confidence = conversation.OutcomeAnswer, 0.9
	bm.Entry = &conversation.EntryRef{ID: "e1", Category: "shipping", Title: "运费"}
	bm.Choices = []conversation.Choice{{EntryID: "e2", Title: "退货"}}
	c.LastSeq += 2
	c.Unresolved++
	c.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	next := *c
	return conversation.Turn{Conversation: &next, Messages: []conversation.Message{cm, bm}}
}

// wantTranscript checks that got holds exactly the messages with seq 1..n,
// each once, in order, with the ids msg gives them.
func wantTranscript(t *testing.T, id string, got []conversation.Message, n int64) {
	t.Helper()
	if int64(len(got)) != n {
		t.Fatalf("%s: %d messages, want %d: %v", id, len(got), n, seqs(got))
	}
	for i, m := range got {
		if m.Seq != int64(i+1) || m.ID != fmt.Sprintf("%s-m%d", id, i+1) || m.ConversationID != id {
			t.Fatalf("%s: message %d is seq %d id %s, want seq %d: %v", id, i, m.Seq, m.ID, i+1, seqs(got))
		}
	}
}

func seqs(msgs []conversation.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOutageIsSpooledReadableAndReplayed(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()

	// b exists before the outage; a is created during it.
	b := newConversation("cb")
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	must(t, s.SaveTurn(ctx, turn(b, "before")))

	e.inner.failWrites.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	for i := range 3 {
		must(t, s.SaveTurn(ctx, turn(a, fmt.Sprintf("a secret text %d", i))))
		must(t, s.SaveTurn(ctx, turn(b, fmt.Sprintf("b secret text %d", i))))
	}
	if got := s.Pending(); got != 7 {
		t.Fatalf("pending = %d, want 7", got)
	}
	if got := e.spools.Load(); got != 7 {
		t.Fatalf("OnSpool called %d times, want 7", got)
	}

	// Reads see the spooled writes; a is only in the spool.
	if _, err := e.db.Conversation(ctx, "ca"); !errcode.Is(err, errcode.NotFound) {
		t.Fatalf("store has ca during the outage: %v", err)
	}
	for _, c := range []*conversation.Conversation{a, b} {
		got, err := s.Conversation(ctx, c.ID)
		must(t, err)
		if got.LastSeq != c.LastSeq || got.Unresolved != c.Unresolved || got.Customer != c.Customer ||
			!bytes.Equal(got.TokenHash, c.TokenHash) || !got.CreatedAt.Equal(c.CreatedAt) || !got.UpdatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("conversation %s = %+v, want %+v", c.ID, got, c)
		}
		msgs, err := s.Messages(ctx, c.ID, 0)
		must(t, err)
		wantTranscript(t, c.ID, msgs, c.LastSeq)
		if m := msgs[c.LastSeq-1]; m.Entry == nil || m.Entry.Title != "运费" || len(m.Choices) != 1 || m.Outcome != conversation.OutcomeAnswer {
			t.Fatalf("%s: last message lost its details: %+v", c.ID, m)
		}
		for after := int64(0); after <= c.LastSeq; after++ {
			msgs, err := s.Messages(ctx, c.ID, after)
			must(t, err)
			if want := c.LastSeq - after; int64(len(msgs)) != want || (want > 0 && msgs[0].Seq != after+1) {
				t.Fatalf("%s after %d: %v", c.ID, after, seqs(msgs))
			}
		}
	}
	// With reads failing too, what the spool holds is still readable; other
	// conversations report the store's error.
	e.inner.failReads.Store(true)
	if _, err := s.Conversation(ctx, "ca"); err != nil {
		t.Fatalf("spooled conversation with reads failing: %v", err)
	}
	if msgs, err := s.Messages(ctx, "cb", 3); err != nil || len(msgs) != 6 {
		t.Fatalf("spooled messages of cb with reads failing: %v, %v", seqs(msgs), err)
	}
	// cb's stored messages were written through this spool, which
	// remembers them (TestAConversationUnderWayGoesOnWhenTheStoreCannotBeRead);
	// d's were written by another node, and a read that needs them fails.
	if msgs, err := s.Messages(ctx, "cb", 0); err != nil {
		t.Fatalf("messages of cb with reads failing: %v", err)
	} else {
		wantTranscript(t, "cb", msgs, b.LastSeq)
	}
	e.inner.failReads.Store(false)
	e.inner.failWrites.Store(false)
	d := newConversation("cd")
	must(t, e.db.CreateConversation(ctx, d, greeting(d)))
	must(t, e.db.SaveTurn(ctx, turn(d, "elsewhere")))
	e.inner.failReads.Store(true)
	e.inner.failWrites.Store(true)
	must(t, s.SaveTurn(ctx, turn(d, "here")))
	if _, err := s.Messages(ctx, "cd", 0); !errors.Is(err, errLocked) {
		t.Fatalf("messages cd needs from the store with reads failing: err = %v", err)
	}
	if _, err := s.Conversation(ctx, "other"); !errors.Is(err, errLocked) {
		t.Fatalf("unspooled conversation with reads failing: err = %v", err)
	}
	e.inner.failReads.Store(false)

	// The store is back: everything lands once, in order.
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	for _, c := range []*conversation.Conversation{a, b, d} {
		msgs, err := e.db.Messages(ctx, c.ID, 0)
		must(t, err)
		wantTranscript(t, c.ID, msgs, c.LastSeq)
		got, err := e.db.Conversation(ctx, c.ID)
		must(t, err)
		if got.LastSeq != c.LastSeq || got.Unresolved != c.Unresolved {
			t.Fatalf("stored %s = %+v", c.ID, got)
		}
	}
	if got := e.drains.Load(); got != 8 {
		t.Fatalf("OnDrain reported %d writes, want 8 (7, and d's)", got)
	}
	// Later writes go straight to the store.
	writes := e.inner.writes.Load()
	must(t, s.SaveTurn(ctx, turn(a, "after")))
	if e.inner.writes.Load() != writes+1 || s.Pending() != 0 {
		t.Fatalf("a write after the replay did not go to the store")
	}
	if strings.Contains(e.log.String(), "secret") {
		t.Fatalf("the log holds message text:\n%s", e.log.String())
	}
}

func TestWhichErrorsAreSpooled(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		name  string
		err   error
		ctx   context.Context
		spool bool
	}{
		{name: "driver error", err: errLocked, spool: true},
		{name: "wrapped driver error", err: fmt.Errorf("save turn: %w", errors.New("dial tcp: connection refused")), spool: true},
		{name: "unavailable", err: errcode.Errorf(errcode.Unavailable, "drill: store down"), spool: true},
		{name: "deadline of the caller", err: nil, ctx: expired, spool: true},
		{name: "conflict", err: fmt.Errorf("save turn: %w", errcode.Errorf(errcode.Conflict, "changed concurrently"))},
		{name: "invalid", err: errcode.Errorf(errcode.Invalid, "bad")},
		{name: "not found", err: errcode.Errorf(errcode.NotFound, "no such conversation")},
		{name: "caller went away", err: nil, ctx: cancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.open()
			ctx := context.Background()
			c := newConversation("c1")
			must(t, s.CreateConversation(ctx, c, greeting(c)))
			if tc.err != nil {
				e.inner.failWrites.Store(true)
				e.inner.failWith.Store(&tc.err)
			}
			if tc.ctx != nil {
				ctx = tc.ctx
			}
			err := s.SaveTurn(ctx, turn(c, "hello"))
			if tc.spool {
				if err != nil || s.Pending() != 1 {
					t.Fatalf("err = %v, pending = %d; want spooled", err, s.Pending())
				}
				return
			}
			if err == nil || s.Pending() != 0 {
				t.Fatalf("err = %v, pending = %d; want the error back", err, s.Pending())
			}
			if tc.err != nil && !errors.Is(err, tc.err) && errcode.Code(err) != errcode.Code(tc.err) {
				t.Fatalf("err = %v, want %v unchanged", err, tc.err)
			}
		})
	}
}

func TestConflictFromTheStorePassesThrough(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	c := newConversation("c1")
	must(t, s.CreateConversation(ctx, c, greeting(c)))
	stale := *c
	must(t, s.SaveTurn(ctx, turn(c, "first")))
	if err := s.SaveTurn(ctx, turn(&stale, "second")); !errcode.Is(err, errcode.Conflict) {
		t.Fatalf("stale turn: err = %v, want conflict", err)
	}
	if s.Pending() != 0 {
		t.Fatalf("a conflict was spooled")
	}
}

func TestCrashThenReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	e.inner.failWrites.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.SaveTurn(ctx, turn(a, "one")))
	must(t, s.SaveTurn(ctx, turn(a, "two")))
	must(t, s.Close()) // the process dies before any replay

	s2 := e.open()
	if s2.Pending() != 3 {
		t.Fatalf("pending after restart = %d, want 3", s2.Pending())
	}
	got, err := s2.Conversation(ctx, "ca")
	must(t, err)
	if got.LastSeq != 5 {
		t.Fatalf("conversation after restart = %+v", got)
	}
	e.inner.failWrites.Store(false)
	e.run(s2)
	e.drained(s2)
	msgs, err := e.db.Messages(ctx, "ca", 0)
	must(t, err)
	wantTranscript(t, "ca", msgs, 5)
}

func TestTornLastLine(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	e.inner.failWrites.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.SaveTurn(ctx, turn(a, "one")))
	must(t, s.Close())

	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.WriteString(`{"v":1,"op":"save_turn","seq":3,"conversation_id":"ca","conversation":{"id":"ca","last_s`)
	must(t, err)
	must(t, f.Close())

	s2 := e.open()
	if s2.Pending() != 2 {
		t.Fatalf("pending = %d, want 2", s2.Pending())
	}
	if !strings.Contains(e.log.String(), "torn line") {
		t.Fatalf("no warning about the torn line:\n%s", e.log.String())
	}
	// The torn tail is gone: a new write does not glue onto it.
	must(t, s2.SaveTurn(ctx, turn(a, "two")))
	must(t, s2.Close())
	s3 := e.open()
	if s3.Pending() != 3 {
		t.Fatalf("pending after another restart = %d, want 3", s3.Pending())
	}
	e.inner.failWrites.Store(false)
	e.run(s3)
	e.drained(s3)
	msgs, err := e.db.Messages(ctx, "ca", 0)
	must(t, err)
	wantTranscript(t, "ca", msgs, 5)
}

func TestCorruptJournalIsAnError(t *testing.T) {
	good := `{"v":1,"op":"create_conversation","seq":1,"conversation_id":"ca","at":"2025-01-01T00:00:00Z","conversation":{"id":"ca","last_seq":1}}` + "\n"
	for _, tc := range []struct {
		name, journal, want string
	}{
		{name: "garbage in the middle", journal: good + "not json\n" + good, want: "line 2"},
		{name: "newer version", journal: good + `{"v":2,"op":"save_turn"}` + "\n", want: "line 2: journal version 2"},
		{name: "unknown op", journal: `{"v":1,"op":"delete","seq":1,"conversation_id":"ca"}` + "\n" + good, want: "line 1: unknown op"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			must(t, os.MkdirAll(filepath.Dir(e.path), 0o750))
			must(t, os.WriteFile(e.path, []byte(tc.journal), 0o600))
			_, err := spool.Open(context.Background(), e.path, e.inner, e.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// A write can land and still be reported failed (a lost connection at
// commit, a timeout): replay must find it there and not write it twice.
func TestReplaySkipsWritesThatLanded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	a, b := newConversation("ca"), newConversation("cb")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	e.inner.landThenFail.Store(true)
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	must(t, s.SaveTurn(ctx, turn(a, "one")))
	must(t, s.SaveTurn(ctx, turn(a, "two"))) // spooled behind the first: never tried on the store
	if s.Pending() != 3 || e.inner.writes.Load() != 3 {
		t.Fatalf("pending = %d, store writes = %d; want 3, 3", s.Pending(), e.inner.writes.Load())
	}
	e.inner.landThenFail.Store(false)
	e.run(s)
	e.drained(s)
	for id, n := range map[string]int64{"ca": 5, "cb": 1} {
		msgs, err := e.db.Messages(ctx, id, 0)
		must(t, err)
		wantTranscript(t, id, msgs, n)
	}
	if got := e.drains.Load(); got != 3 {
		t.Fatalf("OnDrain reported %d, want 3", got)
	}
}

// With WriteTimeout, a slow store write is spooled at once; the write lands
// later anyway, and replay does not repeat it.
func TestSlowWriteIsSpooledAndNotDuplicated(t *testing.T) {
	e := newEnv(t)
	e.opts.WriteTimeout = 100 * time.Millisecond
	ctx := context.Background()
	s := e.open()
	a := newConversation("ca")
	must(t, e.db.CreateConversation(ctx, a, greeting(a)))
	e.inner.slowWrites.Store(int64(500 * time.Millisecond))
	start := time.Now()
	must(t, s.SaveTurn(ctx, turn(a, "slow")))
	if d := time.Since(start); d > 400*time.Millisecond || s.Pending() != 1 {
		t.Fatalf("slow write took %s, pending %d; want spooled after the timeout", d, s.Pending())
	}
	must(t, s.SaveTurn(ctx, turn(a, "behind")))
	time.Sleep(600 * time.Millisecond) // the slow write lands
	e.inner.slowWrites.Store(0)
	e.run(s)
	e.drained(s)
	msgs, err := e.db.Messages(ctx, "ca", 0)
	must(t, err)
	wantTranscript(t, "ca", msgs, 5)
}

// A restart after a partial replay must not bring back writes that reached
// the store: the conversation went on without the spool since.
func TestRestartAfterPartialReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	a, b := newConversation("ca"), newConversation("cb")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	e.inner.failWrites.Store(true)
	must(t, s.SaveTurn(ctx, turn(a, "a1")))
	must(t, s.SaveTurn(ctx, turn(b, "b1")))
	e.inner.failWrites.Store(false)
	e.inner.failFor.Store("cb", true) // b's writes keep failing
	stop := e.run(s)
	deadline := time.Now().Add(10 * time.Second)
	for s.Pending() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d, want 1", s.Pending())
		}
		time.Sleep(2 * time.Millisecond)
	}
	must(t, s.SaveTurn(ctx, turn(a, "a2"))) // straight to the store
	if s.Pending() != 1 {
		t.Fatalf("a's write after its replay was spooled")
	}
	stop()
	must(t, s.Close())

	s2 := e.open()
	if s2.Pending() != 1 {
		t.Fatalf("pending after restart = %d, want 1 (b's turn)", s2.Pending())
	}
	got, err := s2.Conversation(ctx, "ca")
	must(t, err)
	if got.LastSeq != 5 {
		t.Fatalf("ca after restart has last_seq %d, want the store's 5", got.LastSeq)
	}
	e.inner.failFor.Delete("cb")
	e.run(s2)
	e.drained(s2)
	for _, id := range []string{"ca", "cb"} {
		msgs, err := e.db.Messages(ctx, id, 0)
		must(t, err)
		wantTranscript(t, id, msgs, int64(map[string]int{"ca": 5, "cb": 3}[id]))
	}
}

// A spooled turn whose conversation went another way in the store (another
// node answered meanwhile) is set aside, not lost, and does not block the
// journal.
func TestDivergedWriteIsRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	other := *a
	e.inner.failWrites.Store(true)
	spooled := turn(a, "spooled")
	spooled.Messages[0].PII = []string{"cn_mobile"}
	spooled.Messages[0].Sealed = &guard.Sealed{KeyID: "k-test", Data: []byte("sealed-original")}
	must(t, s.SaveTurn(ctx, spooled))
	ot := turn(&other, "elsewhere")
	for i := range ot.Messages {
		ot.Messages[i].ID += "-other"
	}
	must(t, e.db.SaveTurn(ctx, ot))
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	data, err := os.ReadFile(e.path + ".rejected")
	must(t, err)
	if n := bytes.Count(data, []byte("\n")); n != 1 || !bytes.Contains(data, []byte(`"ca-m2"`)) {
		t.Fatalf("rejected file holds %d lines: %s", n, data)
	}
	// It outlives any retention period: the kinds of data masked stay,
	// the sealed original does not.
	if !bytes.Contains(data, []byte(`"cn_mobile"`)) || bytes.Contains(data, []byte(`"sealed"`)) || bytes.Contains(data, []byte("k-test")) {
		t.Fatalf("rejected file: %s", data)
	}
	if !strings.Contains(e.log.String(), "cannot be replayed") {
		t.Fatalf("no error logged for the rejected write")
	}
	// Rejected counts what the file holds, for the spool_rejected alert,
	// until an operator moves the file away.
	if n, path, err := s.Rejected(); err != nil || n != 1 || path != e.path+".rejected" {
		t.Fatalf("Rejected() = %d, %q, %v; want 1 write in %s", n, path, err, e.path+".rejected")
	}
	must(t, os.Rename(e.path+".rejected", e.path+".rejected.read"))
	if n, _, err := s.Rejected(); err != nil || n != 0 {
		t.Fatalf("after the file was moved away Rejected() = %d, %v; want 0", n, err)
	}
}

func TestConcurrentConversations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	e.run(s) // replay runs while the writes go on
	const convs, turns = 8, 12
	// The store fails writes in bursts.
	var n atomic.Int64
	flaky := func(string) { e.inner.failWrites.Store(n.Add(1)%7 < 3) }
	e.inner.onWrite.Store(&flaky)
	var wg sync.WaitGroup
	for i := range convs {
		wg.Go(func() {
			c := newConversation(fmt.Sprintf("c%d", i))
			if err := s.CreateConversation(ctx, c, greeting(c)); err != nil {
				t.Error(err)
				return
			}
			for j := range turns {
				// Read back as the engine does before each turn.
				got, err := s.Conversation(ctx, c.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if got.LastSeq != c.LastSeq {
					t.Errorf("%s: read last_seq %d, want %d", c.ID, got.LastSeq, c.LastSeq)
					return
				}
				if msgs, err := s.Messages(ctx, c.ID, 0); err != nil || int64(len(msgs)) != c.LastSeq {
					t.Errorf("%s: read %v, %v; want %d messages", c.ID, seqs(msgs), err, c.LastSeq)
					return
				}
				if err := s.SaveTurn(ctx, turn(c, fmt.Sprintf("turn %d", j))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	e.inner.onWrite.Store(nil)
	e.inner.failWrites.Store(false)
	e.drained(s)
	for i := range convs {
		id := fmt.Sprintf("c%d", i)
		msgs, err := e.db.Messages(ctx, id, 0)
		must(t, err)
		wantTranscript(t, id, msgs, 1+2*turns)
	}
	if e.spools.Load() == 0 {
		t.Fatal("no write was spooled: the test tested nothing")
	}
}

var (
	demoOnce  sync.Once
	demoIndex *knowledge.Index
	demoBuilt *conversation.Builtin
	demoErr   error
)

func demo(t testing.TB) (*knowledge.Index, *conversation.Builtin) {
	t.Helper()
	demoOnce.Do(func() {
		var entries []knowledge.Entry
		if entries, demoErr = knowledge.DemoEntries(); demoErr != nil {
			return
		}
		if demoBuilt, demoErr = conversation.LoadBuiltin(); demoErr != nil {
			return
		}
		demoIndex, demoErr = knowledge.BuildIndex(entries, demoBuilt.Examples())
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoIndex, demoBuilt
}

// The engine keeps answering through a store outage, and afterwards the
// store holds every message exactly once, in order.
func TestEngineThroughOutage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	ix, builtin := demo(t)
	eng := conversation.NewEngine(s, conversation.Options{Builtin: builtin, Logger: e.opts.Logger})
	eng.SetIndex(ix)

	type chat struct {
		id, token string
		sent      []conversation.Message // every message the customer was shown
	}
	start := func() *chat {
		c, tok, greet, err := eng.Start(ctx, conversation.StartRequest{Locale: knowledge.LocaleZH})
		must(t, err)
		return &chat{id: c.ID, token: tok, sent: greet}
	}
	say := func(ch *chat, text string) {
		t.Helper()
		res, err := eng.Handle(ctx, ch.id, ch.token, conversation.Input{Text: text})
		if err != nil {
			t.Fatalf("handle %q: %v", text, err)
		}
		if len(res.Replies) == 0 || res.Replies[0].Text == "" {
			t.Fatalf("no reply to %q", text)
		}
		ch.sent = append(ch.sent, res.Customer)
		ch.sent = append(ch.sent, res.Replies...)
	}
	before := start()
	say(before, "运费多少钱")

	e.inner.failWrites.Store(true)
	during := start()
	for _, text := range []string{"怎么退货", "你好", "运费多少钱", "我要找人工客服"} {
		say(before, text)
		say(during, text)
	}
	if s.Pending() == 0 {
		t.Fatal("nothing was spooled")
	}
	if _, err := eng.Authorize(ctx, during.id, during.token); err != nil {
		t.Fatalf("authorize a conversation started during the outage: %v", err)
	}
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	for _, ch := range []*chat{before, during} {
		stored, err := e.db.Messages(ctx, ch.id, 0)
		must(t, err)
		if len(stored) != len(ch.sent) {
			t.Fatalf("%s: store holds %v, the customer was shown %v", ch.id, seqs(stored), seqs(ch.sent))
		}
		for i, m := range stored {
			if m.Seq != int64(i+1) || m.ID != ch.sent[i].ID || m.Text != ch.sent[i].Text {
				t.Fatalf("%s: stored message %d = seq %d id %s, shown seq %d id %s", ch.id, i, m.Seq, m.ID, ch.sent[i].Seq, ch.sent[i].ID)
			}
		}
		c, err := e.db.Conversation(ctx, ch.id)
		must(t, err)
		if c.LastSeq != int64(len(stored)) || !slices.Contains([]conversation.State{conversation.StateQueued, conversation.StateBot}, c.State) {
			t.Fatalf("%s stored as %+v", ch.id, c)
		}
	}
}

// A customer message spooled during an outage keeps the kinds of personal
// data masked in it and its sealed original, across a restart and into
// the store, so the desk can still reveal it (it used to land with
// neither: the journal's record had no place for them).
func TestSpooledMessageKeepsItsSealedOriginal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	e.inner.failWrites.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	tu := turn(a, "call me on 138****5678")
	sealed := guard.Sealed{KeyID: "k1", Data: []byte{9, 8, 7, 6}}
	tu.Messages[0].PII, tu.Messages[0].Sealed = []string{"cn_mobile"}, &sealed
	must(t, s.SaveTurn(ctx, tu))
	sealed.Data[0] = 0 // the spool keeps its own copy
	must(t, s.Close())

	s2 := e.open()
	msgs, err := s2.Messages(ctx, "ca", 1)
	must(t, err)
	if len(msgs) != 2 || !slices.Equal(msgs[0].PII, []string{"cn_mobile"}) {
		t.Fatalf("spooled messages after a restart: %+v, want the customer's with PII [cn_mobile]", msgs)
	}
	e.inner.failWrites.Store(false)
	e.run(s2)
	e.drained(s2)
	stored, err := e.db.Messages(ctx, "ca", 1)
	must(t, err)
	if len(stored) != 2 || !slices.Equal(stored[0].PII, []string{"cn_mobile"}) {
		t.Fatalf("stored messages: %+v, want the customer's with PII [cn_mobile]", stored)
	}
	rec, err := e.db.VaultRecord(ctx, stored[0].ID)
	if err != nil {
		t.Fatalf("the sealed original did not reach the vault: %v", err)
	}
	if rec.Sealed.KeyID != "k1" || !bytes.Equal(rec.Sealed.Data, []byte{9, 8, 7, 6}) || !slices.Equal(rec.Kinds, []string{"cn_mobile"}) {
		t.Fatalf("vault record %+v", rec)
	}
}

// Each spooled write that reaches the store is reported with its
// conversation and messages, so that other nodes, which read the store,
// hear of it then (they heard nothing they could read while it was
// spooled).
func TestLandedWritesAreReported(t *testing.T) {
	e := newEnv(t)
	type landed struct {
		id    string
		state conversation.State
		seqs  []int64
	}
	var mu sync.Mutex
	var got []landed
	e.opts.OnLanded = func(c *conversation.Conversation, msgs []conversation.Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, landed{c.ID, c.State, seqs(msgs)})
	}
	s := e.open()
	ctx := context.Background()
	e.inner.failWrites.Store(true)
	a := newConversation("ca")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.SaveTurn(ctx, turn(a, "one")))
	mu.Lock()
	if len(got) != 0 {
		t.Fatalf("reported %v before anything reached the store", got)
	}
	mu.Unlock()
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	mu.Lock()
	defer mu.Unlock()
	want := []landed{{"ca", conversation.StateBot, []int64{1}}, {"ca", conversation.StateBot, []int64{2, 3}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
}

// The write numbers go on from the journal's highest, markers included: a
// restart that started them again from the highest pending write (b's,
// older than a's replayed ones) numbered a's next spooled writes at or
// below a's "stored" marker, and the restart after that dropped them as
// already stored.
func TestWriteNumbersSurviveRestartsBehindAStuckConversation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	a, b := newConversation("ca"), newConversation("cb")
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.CreateConversation(ctx, b, greeting(b)))
	e.inner.failWrites.Store(true)
	must(t, s.SaveTurn(ctx, turn(b, "b1"))) // write 1: stuck
	must(t, s.SaveTurn(ctx, turn(a, "a1"))) // 2
	must(t, s.SaveTurn(ctx, turn(a, "a2"))) // 3
	e.inner.failWrites.Store(false)
	e.inner.failFor.Store("cb", true)
	stop := e.run(s)
	deadline := time.Now().Add(10 * time.Second)
	for s.Pending() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d, want 1 (b's turn)", s.Pending())
		}
		time.Sleep(2 * time.Millisecond)
	}
	stop()
	must(t, s.Close())

	s2 := e.open()
	e.inner.failWrites.Store(true)
	must(t, s2.SaveTurn(ctx, turn(a, "a3"))) // acknowledged to the customer
	must(t, s2.SaveTurn(ctx, turn(a, "a4")))
	must(t, s2.Close())

	s3 := e.open()
	if s3.Pending() != 3 {
		t.Fatalf("pending after the second restart = %d, want 3 (b1, a3, a4)", s3.Pending())
	}
	e.inner.failWrites.Store(false)
	e.inner.failFor.Delete("cb")
	e.run(s3)
	e.drained(s3)
	for id, last := range map[string]int64{"ca": 9, "cb": 3} {
		msgs, err := e.db.Messages(ctx, id, 0)
		must(t, err)
		wantTranscript(t, id, msgs, last)
	}
}

// assignTurn assigns c to agent, within a limit of limit conversations.
func assignTurn(c *conversation.Conversation, agent string, limit int) conversation.Turn {
	m := msg(c, c.LastSeq+1, conversation.RoleSystem, agent+" joined")
	c.LastSeq++
	c.State, c.Assignee = conversation.StateAssigned, agent
	c.AssignedAt = time.Now().UTC().Truncate(time.Millisecond)
	next := *c
	return conversation.Turn{Conversation: &next, Messages: []conversation.Message{m}, AssigneeLimit: limit}
}

// An assignment within a limit is never spooled: replayed, it would skip
// the store's count of the assignee's conversations. While the store
// fails, or the conversation has writes in the journal, it is refused as
// unavailable and nothing is written; once the store takes writes again,
// it lands, and the limit holds.
func TestAssignmentsAreNotSpooled(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	c1, c2 := newConversation("c1"), newConversation("c2")
	must(t, s.CreateConversation(ctx, c1, greeting(c1)))
	must(t, s.CreateConversation(ctx, c2, greeting(c2)))

	e.inner.failWrites.Store(true)
	stale := *c1
	if err := s.SaveTurn(ctx, assignTurn(&stale, "agent-1", 1)); !errors.Is(err, spool.ErrAssignmentWaits) {
		t.Fatalf("assignment while the store fails: err = %v, want ErrAssignmentWaits", err)
	}
	if s.Pending() != 0 {
		t.Fatalf("assignment spooled: %d pending", s.Pending())
	}
	// A customer's message is spooled as ever; the conversation is then
	// behind, and an assignment must wait for the journal even once the
	// store is back.
	must(t, s.SaveTurn(ctx, turn(c2, "还在吗")))
	e.inner.failWrites.Store(false)
	behind := *c2
	if err := s.SaveTurn(ctx, assignTurn(&behind, "agent-1", 1)); !errors.Is(err, spool.ErrAssignmentWaits) {
		t.Fatalf("assignment behind the journal: err = %v, want ErrAssignmentWaits", err)
	}
	if s.Pending() != 1 {
		t.Fatalf("%d pending, want the customer's turn alone", s.Pending())
	}
	e.run(s)
	e.drained(s)

	must(t, s.SaveTurn(ctx, assignTurn(c1, "agent-1", 1)))
	if err := s.SaveTurn(ctx, assignTurn(c2, "agent-1", 1)); !errors.Is(err, conversation.ErrAssigneeFull) {
		t.Fatalf("second assignment past a limit of 1: err = %v, want ErrAssigneeFull", err)
	}
	got1, err := e.db.Conversation(ctx, "c1")
	must(t, err)
	got2, err := e.db.Conversation(ctx, "c2")
	must(t, err)
	if got1.Assignee != "agent-1" || got2.Assignee != "" || got2.LastSeq != 3 {
		t.Fatalf("stored: c1 assignee %q, c2 assignee %q at seq %d; want c1 agent-1, c2 unassigned at seq 3",
			got1.Assignee, got2.Assignee, got2.LastSeq)
	}
}

type groundFunc func(ctx context.Context, q llm.Question) (string, error)

func (f groundFunc) Answer(ctx context.Context, q llm.Question) (string, error) { return f(ctx, q) }

// On PostgreSQL a language-model answer holding a NUL made the turn fail in
// the store; the spool took it (an internal error), acknowledged it to the
// customer, and could never replay it: the customer's message never reached
// the database, and every later turn of the conversation queued behind it
// in the journal. The engine now stores the answer printable.
func TestAModelAnswerWithANULDoesNotWedgeTheSpool(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{DatabaseURL: testutil.PostgresURL(t)})
	e := newEnv(t)
	e.inner.Store = db
	s := e.open()
	e.run(s)
	ix, builtin := demo(t)
	eng := conversation.NewEngine(s, conversation.Options{Builtin: builtin, Logger: e.opts.Logger,
		LLM: groundFunc(func(context.Context, llm.Question) (string, error) {
			return "Refunds go back to your card.\x00", nil
		})})
	eng.SetIndex(ix)
	c, tok, _, err := eng.Start(ctx, conversation.StartRequest{Locale: "en"})
	must(t, err)
	res, err := eng.Handle(ctx, c.ID, tok, conversation.Input{Text: "the jacket I sent back weeks ago, where is my money"})
	if err != nil {
		t.Fatalf("turn refused: %v", err)
	}
	if len(res.Replies) == 0 || res.Replies[0].Intent != conversation.IntentGenerated {
		t.Fatalf("the model was not asked: %+v", res.Replies)
	}
	// The customer was answered (200). A second, ordinary message:
	if _, err := eng.Handle(ctx, c.ID, tok, conversation.Input{Text: "how much is shipping"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // replay runs every 5 ms
	stored, err := db.Messages(ctx, c.ID, 0)
	must(t, err)
	if s.Pending() != 0 || len(stored) != 5 { // the greeting and two turns of two
		t.Fatalf("after 1 s of replay: %d writes still spooled, the database holds %d of the 5 acknowledged messages",
			s.Pending(), len(stored))
	}
}

// An assignment the store is slow to take is waited for: abandoned after
// WriteTimeout, it was answered "stays queued" (ErrAssignmentWaits) while
// the write went on and landed, so the conversation was assigned in the
// store and nobody heard of it (the engine publishes only on success).
func TestASlowAssignmentIsAnsweredWithWhatTheStoreDid(t *testing.T) {
	e := newEnv(t)
	e.opts.WriteTimeout = 50 * time.Millisecond
	s := e.open()
	ctx := context.Background()
	c := newConversation("c1")
	must(t, s.CreateConversation(ctx, c, greeting(c)))
	e.inner.slowWrites.Store(int64(200 * time.Millisecond))
	err := s.SaveTurn(ctx, assignTurn(c, "agent-1", 3))
	time.Sleep(300 * time.Millisecond) // an abandoned write would land by now
	got, gerr := e.db.Conversation(ctx, "c1")
	must(t, gerr)
	assigned := got.State == conversation.StateAssigned
	if (err == nil) != assigned {
		t.Fatalf("the assignment answered %v, while the store has the conversation %s (assignee %q)", err, got.State, got.Assignee)
	}
	if !assigned {
		t.Fatalf("a slow store that finishes its write: %v, want the assignment made", err)
	}
}

// A conversation under way when the store stopped answering reads goes on:
// its customer's next message was refused (the conversation could not be
// read) for as long as the outage lasted, though the journal would have
// taken it. Now the conversation and its newest messages are served as this
// node last read or wrote them, the turn is spooled, and it lands once the
// store is back.
func TestAConversationUnderWayGoesOnWhenTheStoreCannotBeRead(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	a := newConversation("ca") // written through this store
	must(t, s.CreateConversation(ctx, a, greeting(a)))
	must(t, s.SaveTurn(ctx, turn(a, "运费多少")))
	// b was written by another node: this one only read it.
	b := newConversation("cb")
	must(t, e.db.CreateConversation(ctx, b, greeting(b)))
	must(t, e.db.SaveTurn(ctx, turn(b, "怎么退货")))
	if _, err := s.Conversation(ctx, "cb"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages(ctx, "cb", 0); err != nil {
		t.Fatal(err)
	}
	// c is long: only its newest messages are remembered.
	c := newConversation("cc")
	must(t, s.CreateConversation(ctx, c, greeting(c)))
	for i := range 12 {
		must(t, s.SaveTurn(ctx, turn(c, fmt.Sprint("问题 ", i))))
	}

	e.inner.failReads.Store(true)
	e.inner.failWrites.Store(true)
	for _, conv := range []*conversation.Conversation{a, b} {
		got, err := s.Conversation(ctx, conv.ID)
		if err != nil || got.LastSeq != conv.LastSeq {
			t.Fatalf("%s with the store unreadable: %+v, %v; want it at seq %d", conv.ID, got, err, conv.LastSeq)
		}
		msgs, err := s.Messages(ctx, conv.ID, 0)
		if err != nil {
			t.Fatalf("%s's messages with the store unreadable: %v", conv.ID, err)
		}
		wantTranscript(t, conv.ID, msgs, conv.LastSeq)
		// The next turn: spooled, and readable at once.
		must(t, s.SaveTurn(ctx, turn(conv, "还在吗")))
		msgs, err = s.Messages(ctx, conv.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantTranscript(t, conv.ID, msgs, conv.LastSeq)
	}
	// The newest messages of the long one are there; its beginning is not,
	// and a read that needs it still fails.
	if msgs, err := s.Messages(ctx, "cc", c.LastSeq-12); err != nil || len(msgs) != 12 {
		t.Fatalf("the long conversation's last 12 messages: %d, %v", len(msgs), err)
	}
	if _, err := s.Messages(ctx, "cc", 0); err == nil {
		t.Fatal("the whole of a long conversation was served though only its newest messages are remembered")
	}
	// One never seen here is not made up.
	if _, err := s.Conversation(ctx, "cz"); err == nil {
		t.Fatal("a conversation never seen was served with the store unreadable")
	}
	// The store is back: the spooled turns land.
	e.inner.failReads.Store(false)
	e.inner.failWrites.Store(false)
	e.run(s)
	e.drained(s)
	for _, conv := range []*conversation.Conversation{a, b} {
		msgs, err := e.db.Messages(ctx, conv.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantTranscript(t, conv.ID, msgs, conv.LastSeq)
	}
}
