// Package spool keeps the conversation path writing while the database is
// down: a write the store cannot take is appended to a local journal and
// fsynced, so the customer can still be answered, and is replayed into the
// store, in order and exactly once, when it is back.
//
// The product rule it serves: a message acknowledged to a customer is
// durable, and a database outage is no reason to answer a customer with an
// error.
package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
)

var _ conversation.Store = (*Store)(nil)

// ErrBehind is the cause OnSpool is given for a write that went to the
// journal only because earlier writes of its conversation are still there:
// a conversation's writes reach the store in order.
var ErrBehind = errors.New("earlier writes of the conversation are still spooled")

// Options configure a Store.
type Options struct {
	Logger *slog.Logger
	// RetryEvery is how often Run tries the store again (default 1s).
	RetryEvery time.Duration
	// OnSpool, if set, is called after a write went to the journal, with
	// the write's op ("create_conversation", "save_turn" or "add_ticket"),
	// how many customer messages it holds (an offline message is one) and
	// the store's error (or ErrBehind). It must not block.
	OnSpool func(op string, customer int, err error)
	// OnWrite, if set, is called once for each write as its caller saw
	// it: stored (true) or journalled (false); not for a write refused
	// for another reason, nor for replays. It must not block.
	OnWrite func(op string, stored bool)
	// OnDrain, if set, is called after a replay round with the number of
	// spooled writes that reached the store. It must not block.
	OnDrain func(n int)
	// OnLanded, if set, is called for each spooled write once it reached
	// the store, with the conversation as written and its messages: other
	// nodes, which read the store, hear of them only then. It must not
	// block.
	OnLanded func(c *conversation.Conversation, msgs []conversation.Message)
	// WriteTimeout, if positive, bounds a store write: a slower one is
	// treated as failed and spooled. It may still land later; replay notices
	// that and does not write it twice.
	WriteTimeout time.Duration
	// Tickets, if set, is the desk's store, which AddTicket writes to and
	// spooled offline messages are replayed into.
	Tickets TicketStore
	// OnTicketLanded, if set, is called for each spooled ticket once it
	// reached the store (the consoles list tickets from the store). It
	// must not block.
	OnTicketLanded func(conversationID string)
}

// Store is a conversation.Store that puts the writes its inner store fails
// in a journal and replays them. It owns no goroutine until Run.
type Store struct {
	inner    conversation.Store
	j        *journal
	rejected string // the side file of writes that can never be replayed
	logger   *slog.Logger
	opts     Options
	seq      atomic.Uint64 // numbers spooled writes

	mu      sync.Mutex
	backlog map[string]*backlog
	pending int // spooled writes not known to be in the store, including those being journaled

	writes  sync.WaitGroup // store writes abandoned after WriteTimeout
	failing bool           // the last replay round failed; Run's own

	rej rejectedCount // what Rejected last counted

	recent *recent // the conversations last read or written, for reads the store refuses
}

// rejectedCount caches the count of the rejected file's lines by its size
// and modification time, so that asking every second reads it only when
// it changed.
type rejectedCount struct {
	mu     sync.Mutex
	size   int64
	mod    time.Time
	writes int
}

// backlog is a conversation's spooled writes.
type backlog struct {
	recs     []*record // durable, in order, not yet known to be in the store
	reserved int       // writes being appended to the journal
	failed   bool      // the last replay attempt failed: others go first
}

// Open opens the journal at path (creating it) over inner. Writes a previous
// run spooled and did not replay are loaded: reads see them, and Run will
// replay them.
func Open(ctx context.Context, path string, inner conversation.Store, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = time.Second
	}
	logger := opts.Logger.With("component", "spool")
	j, recs, err := openJournal(path, logger)
	if err != nil {
		return nil, err
	}
	s := &Store{inner: inner, j: j, rejected: path + ".rejected", logger: logger, opts: opts,
		backlog: map[string]*backlog{}, recent: newRecent(recentConversations)}
	// Numbered from the highest on any line: a write numbered at or below
	// a "stored" marker of its conversation would be dropped at the next
	// open as already stored.
	last := j.lastSeq
	for _, r := range recs {
		b := s.backlog[r.ConversationID]
		if b == nil {
			b = &backlog{}
			s.backlog[r.ConversationID] = b
		}
		b.recs = append(b.recs, r)
		last = max(last, r.Seq)
	}
	s.pending = len(recs)
	s.seq.Store(last)
	if len(recs) > 0 {
		logger.Info("spooled writes to replay", "writes", len(recs), "conversations", len(s.backlog))
	}
	return s, nil
}

// Healthy returns why the journal cannot take writes (a failed fsync, a
// full disk), or nil: with the store away, this node can still take its
// customers' messages only while it can.
func (s *Store) Healthy() error {
	s.j.mu.Lock()
	defer s.j.mu.Unlock()
	if s.j.closed {
		return errJournalClosed
	}
	return s.j.broken
}

// Pending returns the number of spooled writes not yet known to be in the
// store.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Rejected returns how many writes the rejected file holds (writes that
// can never be replayed: customers were told they were kept, and they are
// not in the store) and its path. It is 0 once an operator has read the
// file and moved it away.
func (s *Store) Rejected() (int, string, error) {
	s.rej.mu.Lock()
	defer s.rej.mu.Unlock()
	fi, err := os.Stat(s.rejected)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.rej.size, s.rej.mod, s.rej.writes = 0, time.Time{}, 0
		return 0, s.rejected, nil
	case err != nil:
		return 0, s.rejected, fmt.Errorf("look at the rejected spool file: %w", err)
	case fi.Size() == s.rej.size && fi.ModTime().Equal(s.rej.mod):
		return s.rej.writes, s.rejected, nil
	}
	b, err := os.ReadFile(s.rejected)
	if err != nil {
		return 0, s.rejected, fmt.Errorf("read the rejected spool file: %w", err)
	}
	n := 0
	for line := range bytes.Lines(b) {
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	s.rej.size, s.rej.mod, s.rej.writes = fi.Size(), fi.ModTime(), n
	return n, s.rejected, nil
}

// Close closes the journal. Call it after Run has returned; writes after
// Close fail. It waits for store writes abandoned after WriteTimeout.
func (s *Store) Close() error {
	s.writes.Wait()
	if err := s.j.close(); err != nil {
		return fmt.Errorf("close spool journal: %w", err)
	}
	return nil
}

// CreateConversation stores c and its greeting, in the journal if the store
// cannot take them.
func (s *Store) CreateConversation(ctx context.Context, c *conversation.Conversation, greeting []conversation.Message) error {
	return s.write(ctx, opCreate, c, greeting, func(ctx context.Context) error {
		return s.inner.CreateConversation(ctx, c, greeting)
	})
}

// SaveTurn stores a turn, in the journal if the store cannot take it or the
// conversation has earlier writes there. A turn that assigns its
// conversation within a limit is the exception (assign).
func (s *Store) SaveTurn(ctx context.Context, t conversation.Turn) error {
	if t.AssigneeLimit > 0 {
		return s.assign(ctx, t)
	}
	return s.write(ctx, opTurn, t.Conversation, t.Messages, func(ctx context.Context) error {
		return s.inner.SaveTurn(ctx, t)
	})
}

// ErrAssignmentWaits refuses to assign a conversation while the store
// cannot take the assignment.
var ErrAssignmentWaits = errcode.Localized(errcode.Unavailable,
	"the conversation cannot be assigned while the database is unavailable; it stays in the queue, try again in a moment",
	"数据库暂不可用，会话暂时无法分配，仍在排队中，请稍后再试")

// assign stores a turn that assigns its conversation within the assignee's
// limit (Turn.AssigneeLimit). Only the store can count the assignee's
// conversations, in the assignment's own transaction, so such a turn is
// never spooled: replayed later it would skip that count and could pass
// the limit. It carries no customer message (claims and routing make it),
// so refusing it loses nothing: the conversation stays queued, and the
// router or the agent tries again. It is refused as well while the
// conversation has writes waiting in the journal, which must land first.
func (s *Store) assign(ctx context.Context, t conversation.Turn) error {
	if s.behind(t.Conversation.ID) {
		return ErrAssignmentWaits
	}
	// Its outcome is waited for, not abandoned after WriteTimeout as a
	// customer's turn is: abandoned, the write could still land, and the
	// conversation was assigned in the store while the router and the
	// desk heard it stayed queued, and nobody told the customer or the
	// agent. The write is still told to give up at WriteTimeout (a store
	// skips a write whose caller left), but the answer is the store's.
	wctx := ctx
	if s.opts.WriteTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, s.opts.WriteTimeout)
		defer cancel()
	}
	err := s.inner.SaveTurn(wctx, t)
	if err != nil && storeFault(err) && !errors.Is(ctx.Err(), context.Canceled) {
		s.logger.Warn("assignment refused: the store cannot take it", "conversation", t.Conversation.ID,
			"assignee", t.Conversation.Assignee, "error", err)
		return ErrAssignmentWaits
	}
	return s.noted(t.Conversation, t.Messages, err)
}

func (s *Store) write(ctx context.Context, op string, c *conversation.Conversation, msgs []conversation.Message,
	inner func(ctx context.Context) error) error {
	// A caller that went away (its context cancelled, not timed out) gets
	// no acknowledgement, so nothing is written for it, as the store's own
	// writer skips the requests of callers that left. Spooling it would
	// make a message nobody was told about, and a client that retries
	// would send it twice. A deadline, though, is the store being slow:
	// that is spooled like any other store failure, and the customer,
	// still waiting, gets an answer.
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return err
	}
	if s.reserveIfBehind(c.ID) {
		return s.noted(c, msgs, s.spool(op, c, msgs, ErrBehind))
	}
	err := s.innerWrite(ctx, inner)
	if err == nil || !storeFault(err) || errors.Is(ctx.Err(), context.Canceled) {
		if err == nil {
			s.wrote(op, true)
		}
		return s.noted(c, msgs, err)
	}
	s.reserve(c.ID)
	return s.noted(c, msgs, s.spool(op, c, msgs, err))
}

// noted remembers a write that was taken (err is nil), by the store or the
// journal, for reads the store refuses later (recent); it returns err.
func (s *Store) noted(c *conversation.Conversation, msgs []conversation.Message, err error) error {
	if err == nil {
		s.recent.conversation(c, msgs)
	}
	return err
}

// storeFault reports whether a failed write is the store's fault, and so
// goes to the journal: driver errors, timeouts, "database is locked", a
// refused connection, an injected fault, an error coded unavailable or
// internal. Errors that say the request itself is wrong (invalid,
// not_found, a conflict from SaveTurn's optimistic check, ...) would fail
// the same way on replay: they go back to the caller unchanged.
func storeFault(err error) bool {
	switch errcode.Code(err) {
	case errcode.Internal, errcode.Unavailable:
		return true
	}
	return false
}

// innerWrite runs a store write, bounded by WriteTimeout if set. The store
// may finish an abandoned write later; replay recognises it, and SaveTurn's
// optimistic check keeps it from landing out of order.
func (s *Store) innerWrite(ctx context.Context, write func(ctx context.Context) error) error {
	if s.opts.WriteTimeout <= 0 {
		return write(ctx)
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	done := make(chan error, 1)
	s.writes.Go(func() {
		defer cancel()
		done <- write(wctx)
	})
	select {
	case err := <-done:
		return err
	case <-wctx.Done():
		select {
		case err := <-done:
			return err
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("store write took longer than %s: %w", s.opts.WriteTimeout, context.DeadlineExceeded)
	}
}

// reserveIfBehind reserves a journal place for a write of conversation id
// if the conversation has spooled writes: its later writes must follow them.
func (s *Store) reserveIfBehind(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.backlog[id]
	if b == nil {
		return false
	}
	b.reserved++
	s.pending++
	return true
}

// behind reports whether conversation id has writes in the journal.
func (s *Store) behind(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backlog[id] != nil
}

func (s *Store) reserve(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.backlog[id]
	if b == nil {
		b = &backlog{}
		s.backlog[id] = b
	}
	b.reserved++
	s.pending++
}

// spool appends a write, whose place is reserved, to the journal and makes
// it visible to reads. cause is why it did not go to the store.
func (s *Store) spool(op string, c *conversation.Conversation, msgs []conversation.Message, cause error) error {
	return s.appendRecord(&record{V: journalVersion, Op: op, Seq: s.seq.Add(1), ConversationID: c.ID, At: time.Now().UTC(),
		Conversation: toJSON(c), Messages: messagesToJSON(msgs)}, cause)
}

// appendRecord appends rec, whose place is reserved, to the journal and to
// its conversation's backlog.
func (s *Store) appendRecord(rec *record, cause error) error {
	id, op := rec.ConversationID, rec.Op
	line, err := json.Marshal(rec)
	if err == nil {
		err = s.j.append(append(line, '\n'))
	}
	s.mu.Lock()
	b := s.backlog[id]
	b.reserved--
	if err != nil {
		s.pending--
		if len(b.recs) == 0 && b.reserved == 0 {
			delete(s.backlog, id)
		}
		s.mu.Unlock()
		s.logger.Error("cannot spool a write", "op", op, "conversation", id, "cause", cause, "error", err)
		return fmt.Errorf("%s %s: spool after %w: %w", op, id, cause, err)
	}
	first := len(b.recs) == 0
	b.recs = append(b.recs, rec)
	s.mu.Unlock()
	if first {
		s.logger.Warn("spooled a write", "op", op, "conversation", id, "messages", len(rec.Messages), "error", cause)
	} else {
		s.logger.Debug("spooled a write", "op", op, "conversation", id, "messages", len(rec.Messages), "error", cause)
	}
	s.wrote(op, false)
	if s.opts.OnSpool != nil {
		customer := 0
		for _, m := range rec.Messages {
			if m.Role == string(conversation.RoleCustomer) {
				customer++
			}
		}
		if rec.Ticket != nil {
			customer++
		}
		s.opts.OnSpool(op, customer, cause)
	}
	return nil
}

// wrote tells OnWrite of a write's outcome.
func (s *Store) wrote(op string, stored bool) {
	if s.opts.OnWrite != nil {
		s.opts.OnWrite(op, stored)
	}
}

// spooled returns a copy of conversation id's spooled writes.
func (s *Store) spooled(id string) []*record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.backlog[id]; b != nil {
		return slices.Clone(b.recs)
	}
	return nil
}

// Conversation returns a conversation. One with spooled writes is as its
// newest spooled write left it (every write carries the whole state), so a
// conversation created while the store was down is found.
//
// One the store cannot read (it is down) is as this node last read or wrote
// it, if it did recently (recent).
func (s *Store) Conversation(ctx context.Context, id string) (*conversation.Conversation, error) {
	if recs := states(s.spooled(id)); len(recs) > 0 {
		return recs[len(recs)-1].Conversation.conversation(), nil
	}
	c, err := s.inner.Conversation(ctx, id)
	if err == nil {
		s.recent.conversation(c, nil)
		return c, nil
	}
	if storeFault(err) {
		if c, ok := s.recent.get(id); ok {
			s.logger.Debug("the store cannot be read: serving the conversation as last seen here", "conversation", id, "error", err)
			return c, nil
		}
	}
	return nil, err
}

// states keeps the records that carry their conversation's state: all but
// tickets.
func states(recs []*record) []*record {
	return slices.DeleteFunc(recs, func(r *record) bool { return r.Conversation == nil })
}

// Moved notes that another node wrote to conversation id: what this node
// last saw of it is stale, and is not served when the store cannot be read.
// Served, a turn on this node during an outage was numbered after the
// stale last message, answered 200, and then refused at replay (the other
// node's messages held those numbers): a message the customer saw
// acknowledged was lost. Without the note the turn is a 503, and the
// chat page keeps the message to send again.
func (s *Store) Moved(id string) { s.recent.forget(id) }

// storedMessages reads messages from the store or, when it cannot be read,
// from those this node last saw, if they cover the request (recent).
func (s *Store) storedMessages(ctx context.Context, id string, afterSeq int64) ([]conversation.Message, error) {
	msgs, err := s.inner.Messages(ctx, id, afterSeq)
	if err == nil {
		s.recent.messages(id, msgs)
		return msgs, nil
	}
	if storeFault(err) {
		if msgs, ok := s.recent.after(id, afterSeq); ok {
			return msgs, nil
		}
	}
	return nil, err
}

// Messages returns a conversation's messages with seq > afterSeq, in order:
// the store's up to the first spooled write, then the spooled ones.
func (s *Store) Messages(ctx context.Context, conversationID string, afterSeq int64) ([]conversation.Message, error) {
	// The spooled writes are read before the store: a write replayed in
	// between is then seen twice (and kept once), never missed.
	recs := states(s.spooled(conversationID))
	if len(recs) == 0 {
		return s.storedMessages(ctx, conversationID, afterSeq)
	}
	var out []conversation.Message
	if from := recs[0].prevSeq(); afterSeq < from {
		stored, err := s.storedMessages(ctx, conversationID, afterSeq)
		if err != nil {
			return nil, err
		}
		for _, m := range stored {
			if m.Seq <= from {
				out = append(out, m)
			}
		}
	}
	for _, m := range messagesOf(recs) {
		if m.Seq > afterSeq {
			out = append(out, m)
		}
	}
	return out, nil
}
