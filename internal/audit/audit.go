// Package audit is the append-only record of who did what: each entry
// carries the hash of the one before it, so an edited or deleted entry
// breaks the chain and Verify says where.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Entry is one audited action.
type Entry struct {
	Seq       int64          `json:"seq"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`      // user id, or "cli:<name>" / "system"
	ActorName string         `json:"actor_name"` // display name at the time
	Action    string         `json:"action"`     // dotted verb: kb.release.activate
	Object    string         `json:"object"`     // what it acted on: release:3, entry:returns
	Detail    map[string]any `json:"detail,omitempty"`
	PrevHash  string         `json:"prev_hash"`
	Hash      string         `json:"hash"`
}

// Store appends entries under one lock: it sets e.Seq and e.PrevHash from
// the chain's head, then e.Hash = hash(e), in the same transaction.
type Store interface {
	AppendAudit(ctx context.Context, e *Entry, hash func(*Entry) string) error
	AuditEntries(ctx context.Context, q Query) ([]Entry, error)
}

// Query selects entries, newest first.
type Query struct {
	Action string // prefix match: "kb." for every knowledge action
	Object string // exact match
	Before int64  // entries with Seq below this; 0 for the newest
	Limit  int    // default 100, at most 1000
}

// Log writes the audit trail.
type Log struct {
	store  Store
	logger *slog.Logger
	now    func() time.Time
}

// New returns a log over store.
func New(store Store, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{store: store, logger: logger.With("component", "audit"), now: time.Now}
}

// Record appends e, stamping its time. A failure is returned and logged:
// the caller decides whether the action may stand without its record.
func (l *Log) Record(ctx context.Context, e Entry) error {
	e.At = l.now().UTC().Truncate(time.Millisecond)
	if err := l.store.AppendAudit(ctx, &e, Hash); err != nil {
		l.logger.Error("audit record lost", "action", e.Action, "object", e.Object, "actor", e.Actor, "error", err)
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Object, err)
	}
	return nil
}

// Entries returns audit entries, newest first.
func (l *Log) Entries(ctx context.Context, q Query) ([]Entry, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	return l.store.AuditEntries(ctx, q)
}

// Hash is the chain hash of e: SHA-256 over the previous hash and the
// entry's canonical JSON (its hash field left out).
func Hash(e *Entry) string {
	c := *e
	c.Hash = ""
	c.At = c.At.UTC()
	body, _ := json.Marshal(c) // map keys are sorted: canonical
	sum := sha256.Sum256(append([]byte(e.PrevHash+"\n"), body...))
	return hex.EncodeToString(sum[:])
}

// Verify checks a run of entries in ascending Seq order: each hash is right
// and links to the one before. It returns the first break.
func Verify(entries []Entry) error {
	for i := range entries {
		e := &entries[i]
		if i > 0 {
			prev := &entries[i-1]
			if e.Seq != prev.Seq+1 {
				return fmt.Errorf("entry %d follows %d: entries are missing", e.Seq, prev.Seq)
			}
			if e.PrevHash != prev.Hash {
				return fmt.Errorf("entry %d does not link to entry %d", e.Seq, prev.Seq)
			}
		}
		if Hash(e) != e.Hash {
			return fmt.Errorf("entry %d has been altered: its hash does not match", e.Seq)
		}
	}
	return nil
}
