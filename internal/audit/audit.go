// Package audit is the append-only record of who did what: each entry
// carries the hash of the one before it, so an edited or deleted entry
// breaks the chain and Verify says where.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
// the chain's head, then e.Hash = hash(e), and moves the head to e, in the
// same transaction.
type Store interface {
	AppendAudit(ctx context.Context, e *Entry, hash func(*Entry) string) error
	AuditEntries(ctx context.Context, q Query) ([]Entry, error)
	Reader
}

// Reader is what verifying the chain reads: a live store, or a backup
// restored somewhere else.
type Reader interface {
	// AuditRange returns up to limit entries with Seq above after, oldest first.
	AuditRange(ctx context.Context, after int64, limit int) ([]Entry, error)
	// AuditHead is the chain's checkpoint: the Seq and Hash of the last
	// entry appended, kept apart from the entries themselves.
	AuditHead(ctx context.Context) (Head, error)
}

// Head is the chain's checkpoint. It is written in the same transaction as
// every entry, in its own row, so that deleting the newest entries (which
// leaves a chain that links perfectly) still shows: the entries end before
// the head does.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Query selects entries, newest first.
type Query struct {
	Action string // prefix match: "kb." for every knowledge action
	// Object matches exactly ("entry:gift-wrap"); without a type ("gift-wrap")
	// it matches that id under any type.
	Object string
	Before int64 // entries with Seq below this; 0 for the newest
	Limit  int   // default 100, at most 1000
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
//
// The entry is written whether or not ctx's caller is still there: an
// action is recorded after it is done, and a client that hung up in
// between (or a flaky network) left a role change, a posture or a release
// with no entry, the store's writer skipping the write of a caller that
// left. It is bounded by recordTimeout instead.
func (l *Log) Record(ctx context.Context, e Entry) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	e.At = l.now().UTC().Truncate(time.Millisecond)
	e.Detail = canonical(e.Detail)
	if err := l.store.AppendAudit(ctx, &e, Hash); err != nil {
		l.logger.Error("audit record lost", "action", e.Action, "object", e.Object, "actor", e.Actor, "error", err)
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Object, err)
	}
	return nil
}

// recordTimeout bounds writing one audit entry.
const recordTimeout = 10 * time.Second

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
	c.Detail = canonical(c.Detail)
	body, _ := json.Marshal(c) // map keys are sorted: canonical
	sum := sha256.Sum256(append([]byte(e.PrevHash+"\n"), body...))
	return hex.EncodeToString(sum[:])
}

// canonical is detail as it reads back from the store: JSON objects, with
// their keys sorted when marshalled. A struct in a detail (a posture, say)
// marshals its fields in declaration order, but reads back as a map whose
// keys marshal sorted: hashing the detail as given would make every such
// entry fail verification.
func canonical(detail map[string]any) map[string]any {
	if detail == nil {
		return nil
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return detail
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return detail
	}
	return out
}

// Verify checks a run of entries in ascending Seq order: each hash is right
// and links to the one before. It returns the first break, a *Break.
func Verify(entries []Entry) error {
	for i := range entries {
		var prev *Entry
		if i > 0 {
			prev = &entries[i-1]
		}
		if b := check(prev, &entries[i]); b != nil {
			return b
		}
	}
	return nil
}

// The kinds of Break.
const (
	BreakAltered   = "altered"   // an entry's content no longer matches its hash
	BreakUnlinked  = "unlinked"  // an entry does not link to the one before it
	BreakMissing   = "missing"   // entries are missing between two others, or before the first
	BreakTruncated = "truncated" // the newest entries are missing: the head is further on
	BreakHead      = "head"      // the head checkpoint itself disagrees with the entries
	BreakAnchor    = "anchor"    // an entry no longer has the hash an earlier verification saw
)

// Break is where the chain is broken: the first entry found wrong (or
// missing) and how.
type Break struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// MessageZH is Message in Chinese: the audit page said it in English on
	// a Chinese console.
	MessageZH string `json:"message_zh"`
}

func (b *Break) Error() string { return b.Message }

func breakf(seq int64, kind, format, formatZH string, args ...any) *Break {
	return &Break{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...), MessageZH: fmt.Sprintf(formatZH, args...)}
}

// ErrNoHead is a store's answer when the head checkpoint row is gone:
// only an edit outside Steward deletes it.
var ErrNoHead = errors.New("the audit head checkpoint is missing")

// check verifies e against the entry before it (nil for the first entry).
func check(prev, e *Entry) *Break {
	switch {
	case e.Seq < 1:
		// Not written by Steward, whose chain starts at 1, yet listed
		// with the trail: it must be reported, not skipped.
		return breakf(e.Seq, BreakUnlinked, "entry %d is not part of the chain, which starts at entry 1: it was added outside Steward", "第 %d 条不属于这条哈希链（链从第 1 条开始）：它是在 Steward 之外添加的", e.Seq)
	case prev == nil && e.Seq != 1:
		return breakf(1, BreakMissing, "entries 1 to %d are missing: the oldest entry is %d", "第 1 至 %d 条缺失：现存最早的是第 %d 条", e.Seq-1, e.Seq)
	case prev == nil && e.PrevHash != "":
		return breakf(e.Seq, BreakUnlinked, "entry %d is the first but links to an earlier one", "第 %d 条是第一条，却链接到更早的一条", e.Seq)
	case prev != nil && e.Seq != prev.Seq+1:
		if e.Seq == prev.Seq+2 {
			return breakf(prev.Seq+1, BreakMissing, "entry %d is missing (between %d and %d)", "第 %d 条缺失（在第 %d 条与第 %d 条之间）", prev.Seq+1, prev.Seq, e.Seq)
		}
		return breakf(prev.Seq+1, BreakMissing, "entries %d to %d are missing (between %d and %d)", "第 %d 至 %d 条缺失（在第 %d 条与第 %d 条之间）", prev.Seq+1, e.Seq-1,
			prev.Seq, e.Seq)
	case Hash(e) != e.Hash:
		return breakf(e.Seq, BreakAltered, "entry %d has been altered: its hash does not match its content", "第 %d 条已被篡改：其哈希与内容不符", e.Seq)
	case prev != nil && e.PrevHash != prev.Hash:
		return breakf(e.Seq, BreakUnlinked, "entry %d does not link to entry %d: one of them was rewritten", "第 %d 条没有链接到第 %d 条：其中一条被改写过", e.Seq, prev.Seq)
	}
	return nil
}

// Report is the outcome of verifying the whole chain.
type Report struct {
	OK      bool   `json:"ok"`
	Entries int64  `json:"entries"` // how many entries were checked
	Head    Head   `json:"head"`    // the checkpoint the entries were held against
	Break   *Break `json:"break,omitempty"`
}

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 1000

// Verify walks the whole chain from its first entry, a page at a time, and
// holds its end against the head checkpoint. With anchor (a head printed by
// an earlier verification and kept elsewhere), it also checks that entry
// anchor.Seq still has the hash it had then: that catches even a rewrite of
// the entries and the head together. A broken chain is a Report with OK
// false and the first Break, not an error; errors are failures to read.
func (l *Log) Verify(ctx context.Context, anchor *Head) (Report, error) {
	return VerifyChain(ctx, l.store, anchor)
}

// VerifyChain is Verify over any reader of a chain: `steward backup
// verify` holds a restored backup to the same checks as the live trail.
func VerifyChain(ctx context.Context, store Reader, anchor *Head) (Report, error) {
	head, err := store.AuditHead(ctx)
	noHead := errors.Is(err, ErrNoHead)
	if err != nil && !noHead {
		return Report{}, fmt.Errorf("read the audit head: %w", err)
	}
	rep := Report{Head: head}
	fail := func(b *Break) (Report, error) {
		rep.Break = b
		return rep, nil
	}
	var (
		prev     *Entry
		after    int64 = math.MinInt64 // every row, those below the chain too
		anchored       = anchor == nil
		done     bool  // the entries after the head read were appended since
	)
	for !done {
		page, err := store.AuditRange(ctx, after, verifyPage)
		if err != nil {
			return Report{}, fmt.Errorf("read the audit trail after %d: %w", after, err)
		}
		for i := range page {
			e := &page[i]
			if b := check(prev, e); b != nil {
				return fail(b)
			}
			if e.Seq > head.Seq && !noHead {
				// Appended since the head was read (a login, on a live
				// server) if the head covers it now: the chain is verified
				// up to the head as it was read. Otherwise the head was
				// rewritten behind the entries.
				fresh, err := store.AuditHead(ctx)
				if err != nil {
					return Report{}, fmt.Errorf("read the audit head: %w", err)
				}
				if fresh.Seq < e.Seq {
					return fail(breakf(e.Seq, BreakHead, "entry %d lies beyond the head checkpoint (%d): the head was rewritten", "第 %d 条在链头检查点（第 %d 条）之后：链头被改写过", e.Seq, fresh.Seq))
				}
				done = true
				break
			}
			if anchor != nil && e.Seq == anchor.Seq {
				if e.Hash != anchor.Hash {
					return fail(breakf(e.Seq, BreakAnchor, "entry %d no longer has the hash it had when anchored (%.12s…): the chain was rewritten up to it", "第 %d 条的哈希已不同于锚定时（%.12s…）：哈希链被改写至此", e.Seq, anchor.Hash))
				}
				anchored = true
			}
			rep.Entries++
			c := *e
			prev = &c
		}
		if done || len(page) < verifyPage {
			break
		}
		after = page[len(page)-1].Seq
	}
	last := int64(0)
	if prev != nil {
		last = prev.Seq
	}
	switch {
	case noHead:
		return fail(breakf(last, BreakHead, "the head checkpoint is missing (the entries end at %d): it was deleted outside Steward", "链头检查点缺失（记录止于第 %d 条）：它是在 Steward 之外被删除的", last))
	case last < head.Seq && last+1 == head.Seq:
		return fail(breakf(head.Seq, BreakTruncated, "entry %d, the newest, is missing: the head checkpoint is at %d but the entries end at %d", "最新的第 %d 条缺失：链头检查点在第 %d 条，记录却止于第 %d 条", head.Seq, head.Seq, last))
	case last < head.Seq:
		return fail(breakf(last+1, BreakTruncated, "entries %d to %d, the newest, are missing: the head checkpoint is at %d but the entries end at %d", "最新的第 %d 至 %d 条缺失：链头检查点在第 %d 条，记录却止于第 %d 条", last+1, head.Seq, head.Seq, last))
	case prev != nil && prev.Hash != head.Hash:
		return fail(breakf(last, BreakHead, "entry %d, the newest, does not match the head checkpoint's hash", "最新的第 %d 条与链头检查点的哈希不符", last))
	case !anchored:
		return fail(breakf(anchor.Seq, BreakAnchor, "entry %d, the anchor, is not in the chain (it ends at %d)", "锚定的第 %d 条不在链中（链止于第 %d 条）", anchor.Seq, last))
	}
	rep.OK = true
	return rep, nil
}
