package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/guard"
)

// journalVersion is the "v" of every line this package writes and the only
// one it reads.
const journalVersion = 1

// The ops of journal lines: the two writes a conversation.Store takes, an
// offline message (a ticket, with its sealed originals), and the marker
// that says a conversation's writes reached the store.
const (
	opCreate  = "create_conversation"
	opTurn    = "save_turn"
	opTicket  = "add_ticket"
	opApplied = "applied"
)

// record is one line of the journal. For a write, Seq numbers it (writes of
// one conversation get increasing numbers) and Conversation and Messages
// hold everything needed to replay it. For an opApplied marker, Seq is the
// last write of ConversationID that is in the store: on Open, that write and
// the conversation's earlier ones are not loaded again.
type record struct {
	V              int               `json:"v"`
	Op             string            `json:"op"`
	Seq            uint64            `json:"seq"`
	ConversationID string            `json:"conversation_id"`
	At             time.Time         `json:"at"`
	Conversation   *conversationJSON `json:"conversation,omitempty"`
	Messages       []messageJSON     `json:"messages,omitempty"`
	// Ticket is an opTicket's offline message; such a line has no
	// Conversation: reads of the conversation skip it (stateOf).
	Ticket *ticketJSON `json:"ticket,omitempty"`
}

// prevSeq is the conversation's last_seq before the write: what SaveTurn's
// optimistic check expects to find in the store (0 for a creation).
func (r *record) prevSeq() int64 {
	if r.Op == opCreate {
		return 0
	}
	return r.Conversation.LastSeq - int64(len(r.Messages))
}

// conversationJSON is conversation.Conversation as the journal spells it;
// the journal's field names do not follow renames of the Go fields.
type conversationJSON struct {
	ID            string                `json:"id"`
	TokenHash     []byte                `json:"token_hash"`
	State         string                `json:"state"`
	Locale        string                `json:"locale"`
	Customer      conversation.Customer `json:"customer"`
	Unresolved    int                   `json:"unresolved"`
	LastSeq       int64                 `json:"last_seq"`
	HandoffReason string                `json:"handoff_reason,omitempty"`
	Category      string                `json:"category,omitempty"`
	Priority      int                   `json:"priority,omitempty"`
	Assignee      string                `json:"assignee,omitempty"`
	QueuedAt      time.Time             `json:"queued_at,omitzero"`
	AssignedAt    time.Time             `json:"assigned_at,omitzero"`
	ClosedAt      time.Time             `json:"closed_at,omitzero"`
	CreatedAt     time.Time             `json:"created_at"`
	UpdatedAt     time.Time             `json:"updated_at"`
	Source        string                `json:"source,omitempty"`
}

// messageJSON is conversation.Message as the journal spells it.
type messageJSON struct {
	ID             string                 `json:"id"`
	ConversationID string                 `json:"conversation_id"`
	Seq            int64                  `json:"seq"`
	Role           string                 `json:"role"`
	Text           string                 `json:"text"`
	Outcome        string                 `json:"outcome,omitempty"`
	Confidence     float64                `json:"confidence,omitempty"`
	Entry          *conversation.EntryRef `json:"entry,omitempty"`
	Choices        []conversation.Choice  `json:"choices,omitempty"`
	Intent         string                 `json:"intent,omitempty"`
	Author         *conversation.Author   `json:"author,omitempty"`
	Locale         string                 `json:"locale,omitempty"`
	CreatedAt      time.Time              `json:"created_at"`
	// PII and Sealed carry the kinds of personal data masked in Text and
	// the encrypted original (ciphertext only: the journal never holds
	// it in the clear), so a message spooled during an outage can still
	// be revealed once it lands.
	PII      []string      `json:"pii,omitempty"`
	Sealed   *guard.Sealed `json:"sealed,omitempty"`
	ClientID string        `json:"client_id,omitempty"`
}

func toJSON(c *conversation.Conversation) *conversationJSON {
	return &conversationJSON{ID: c.ID, TokenHash: bytes.Clone(c.TokenHash), State: string(c.State), Locale: c.Locale,
		Customer: c.Customer, Unresolved: c.Unresolved, LastSeq: c.LastSeq, HandoffReason: string(c.HandoffReason),
		Category: c.Category, Priority: c.Priority, Assignee: c.Assignee, QueuedAt: c.QueuedAt,
		AssignedAt: c.AssignedAt, ClosedAt: c.ClosedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Source: c.Source}
}

// conversation returns a fresh copy of the conversation the record holds.
func (c *conversationJSON) conversation() *conversation.Conversation {
	return &conversation.Conversation{ID: c.ID, TokenHash: bytes.Clone(c.TokenHash), State: conversation.State(c.State),
		Locale: c.Locale, Customer: c.Customer, Unresolved: c.Unresolved, LastSeq: c.LastSeq,
		HandoffReason: conversation.HandoffReason(c.HandoffReason), Category: c.Category, Priority: c.Priority,
		Assignee: c.Assignee, QueuedAt: c.QueuedAt, AssignedAt: c.AssignedAt, ClosedAt: c.ClosedAt,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Source: c.Source}
}

// messagesToJSON copies msgs: a record never shares memory with its caller.
func messagesToJSON(msgs []conversation.Message) []messageJSON {
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = messageJSON{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Role: string(m.Role), Text: m.Text,
			Outcome: string(m.Outcome), Confidence: m.Confidence, Entry: clonePtr(m.Entry), Choices: slices.Clone(m.Choices),
			Intent: m.Intent, Author: clonePtr(m.Author), Locale: m.Locale, CreatedAt: m.CreatedAt,
			PII: slices.Clone(m.PII), Sealed: cloneSealed(m.Sealed), ClientID: m.ClientID}
	}
	return out
}

func cloneSealed(s *guard.Sealed) *guard.Sealed {
	if s == nil {
		return nil
	}
	return &guard.Sealed{KeyID: s.KeyID, Data: bytes.Clone(s.Data)}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (m *messageJSON) message() conversation.Message {
	out := conversation.Message{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Role: conversation.Role(m.Role),
		Text: m.Text, Outcome: conversation.Outcome(m.Outcome), Confidence: m.Confidence, Intent: m.Intent,
		Locale: m.Locale, CreatedAt: m.CreatedAt, Entry: clonePtr(m.Entry), Author: clonePtr(m.Author),
		Choices: slices.Clone(m.Choices), PII: slices.Clone(m.PII), Sealed: cloneSealed(m.Sealed), ClientID: m.ClientID}
	return out
}

func messagesOf(recs []*record) []conversation.Message {
	var out []conversation.Message
	for _, r := range recs {
		for i := range r.Messages {
			out = append(out, r.Messages[i].message())
		}
	}
	return out
}

// errJournalClosed is returned for appends after close.
var errJournalClosed = errors.New("spool journal is closed")

// journal is the append-only file of spooled writes. Appends are group
// committed: lines that arrive while an fsync is in flight are written and
// synced together by the next one, and each append returns once its line
// is durable.
type journal struct {
	path string

	mu      sync.Mutex
	cond    sync.Cond // signalled when a batch finishes
	f       *os.File  // replaced only by rotate, which waits until nobody syncs
	size    int64     // bytes of whole, synced lines in f
	cur     *batch    // lines waiting for the next write
	syncing bool      // a leader is writing a batch outside mu
	dirty   bool      // the directory entry of f may not be durable yet
	broken  error     // sticky: after a failed fsync the file cannot be trusted
	closed  bool
	// lastSeq is the highest write number on any line found at open,
	// "stored" markers included: new writes are numbered above it.
	lastSeq uint64
}

type batch struct {
	buf  []byte
	done bool
	err  error
}

// openJournal opens (creating) the journal at path and returns the writes
// it holds that are not yet marked applied, in file order. A torn last line
// (the process died while writing it) is cut off with a warning; any other
// line that cannot be read is an error naming it.
func openJournal(path string, logger *slog.Logger) (*journal, []*record, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nil, fmt.Errorf("create spool directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open spool journal: %w", err)
	}
	recs, good, lastSeq, err := readJournal(f, path, logger)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat spool journal: %w", err)
	} else if st.Size() != good {
		// Cut the torn tail so the next line does not glue onto it.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate torn spool journal: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("sync spool journal: %w", err)
		}
	}
	j := &journal{path: path, f: f, size: good, dirty: true, lastSeq: lastSeq}
	j.cond.L = &j.mu
	return j, recs, nil
}

// readJournal parses the journal and returns its unapplied writes, the
// length of its whole lines and the highest write number on any of them.
func readJournal(f *os.File, path string, logger *slog.Logger) (_ []*record, good int64, lastSeq uint64, _ error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read spool journal %s: %w", path, err)
	}
	var (
		recs    []*record
		applied = map[string]uint64{} // conversation → its last write known to be in the store
	)
	for lineNo := 1; len(data) > 0; lineNo++ {
		n := bytes.IndexByte(data, '\n') + 1
		if n == 0 {
			n = len(data)
		}
		line := data[:n]
		data = data[n:]
		rec, err := parseLine(line)
		if len(data) == 0 && (errors.Is(err, errGarbled) || line[len(line)-1] != '\n') {
			// The process died while writing the last line. It was never
			// acknowledged: an append returns only once its whole line is synced.
			logger.Warn("spool journal ends with a torn line; dropping it", "path", path, "line", lineNo, "bytes", len(line))
			break
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("spool journal %s line %d: %w", path, lineNo, err)
		}
		good += int64(len(line))
		if rec != nil {
			lastSeq = max(lastSeq, rec.Seq)
		}
		switch {
		case rec == nil: // a blank line
		case rec.Op == opApplied:
			applied[rec.ConversationID] = max(applied[rec.ConversationID], rec.Seq)
		default:
			recs = append(recs, rec)
		}
	}
	pending := recs[:0]
	for _, rec := range recs {
		if rec.Seq > applied[rec.ConversationID] {
			pending = append(pending, rec)
		}
	}
	return pending, good, lastSeq, nil
}

// errGarbled marks a line that is not JSON: at the end of the journal, the
// sign of a crash mid-write.
var errGarbled = errors.New("not a JSON object")

// parseLine decodes and checks one journal line; a blank line is nil.
func parseLine(line []byte) (*record, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	var rec record
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, fmt.Errorf("%w: %w", errGarbled, err)
	}
	if rec.V != journalVersion {
		return nil, fmt.Errorf("journal version %d, this binary reads version %d", rec.V, journalVersion)
	}
	if rec.ConversationID == "" || rec.Seq == 0 {
		return nil, errors.New("no conversation id or seq")
	}
	switch rec.Op {
	case opApplied:
	case opTicket:
		if rec.Ticket == nil || rec.Ticket.ConversationID != rec.ConversationID {
			return nil, fmt.Errorf("%s of %s without its ticket", rec.Op, rec.ConversationID)
		}
	case opCreate, opTurn:
		if rec.Conversation == nil || rec.Conversation.ID != rec.ConversationID {
			return nil, fmt.Errorf("%s of %s without its conversation", rec.Op, rec.ConversationID)
		}
	default:
		return nil, fmt.Errorf("unknown op %q", rec.Op)
	}
	return &rec, nil
}

// append writes line (which ends in '\n') and returns once it is durable.
func (j *journal) append(line []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errJournalClosed
	}
	if j.broken != nil {
		return j.broken
	}
	if j.cur == nil {
		j.cur = &batch{}
	}
	b := j.cur
	b.buf = append(b.buf, line...)
	for !b.done {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		// Lead: b is still j.cur, since only a leader takes a batch away
		// and finishes it before giving up the lead.
		j.syncing, j.cur = true, nil
		err := j.broken
		if j.closed {
			err = errJournalClosed
		}
		if err == nil {
			j.mu.Unlock()
			err = j.write(b.buf)
			j.mu.Lock()
		}
		b.done, b.err, j.syncing = true, err, false
		j.cond.Broadcast()
	}
	return b.err
}

// write appends buf to the file and syncs it. Only the leader calls it, so
// f, size and dirty are its own until it gives up the lead.
func (j *journal) write(buf []byte) error {
	if _, err := j.f.Write(buf); err != nil {
		return j.undo(fmt.Errorf("write spool journal: %w", err))
	}
	if err := j.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the pages:
		// nothing more is acknowledged from this file.
		return j.setBroken(fmt.Errorf("sync spool journal: %w", err))
	}
	if j.dirty {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			return j.undo(err)
		}
		j.dirty = false
	}
	j.size += int64(len(buf))
	return nil
}

// undo cuts a failed batch off the file so that a caller told "failed" never
// finds the write replayed; if that fails too, the journal is broken.
func (j *journal) undo(err error) error {
	if terr := j.f.Truncate(j.size); terr != nil {
		return j.setBroken(errors.Join(err, fmt.Errorf("truncate spool journal: %w", terr)))
	}
	return err
}

func (j *journal) setBroken(err error) error {
	j.mu.Lock()
	j.broken = err
	j.mu.Unlock()
	return err
}

// rotateIfEmpty replaces the journal with an empty file when empty() says
// no write is pending, atomically: a new empty file is synced and renamed
// over the old one. A crash before the rename leaves the old journal, whose
// writes are all in the store and are skipped on replay; after it, the
// empty one.
func (j *journal) rotateIfEmpty(empty func() bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.syncing {
		j.cond.Wait()
	}
	if j.closed || j.broken != nil || j.size == 0 || !empty() {
		return nil
	}
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create new spool journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync new spool journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close new spool journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("replace spool journal: %w", err)
	}
	nf, err := os.OpenFile(j.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		// f points at the replaced file: appends there would be lost.
		err = fmt.Errorf("reopen spool journal: %w", err)
		j.broken = err
		return err
	}
	old := j.f
	j.f, j.size = nf, 0
	old.Close()
	// Until the directory is synced the rename may not survive a crash;
	// the next append syncs it before acknowledging anything.
	j.dirty = true
	if err := syncDir(filepath.Dir(j.path)); err == nil {
		j.dirty = false
	}
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.syncing {
		j.cond.Wait()
	}
	if j.closed {
		return nil
	}
	j.closed = true
	return j.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	return nil
}

// appendRejected keeps a write that can never be replayed (its conversation
// went another way in the store) in a side file next to the journal, so
// that an acknowledged message is never silently dropped.
func appendRejected(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open rejected spool file: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("write rejected spool file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync rejected spool file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close rejected spool file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}
