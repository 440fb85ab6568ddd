package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// An entry whose detail holds a struct hashes the same after a trip
// through the store (JSON), where the struct becomes a map whose keys
// marshal in another order: before canonical, every posture change failed
// verification.
func TestHashSurvivesTheStore(t *testing.T) {
	type posture struct {
		Level  int       `json:"level"`
		Manual bool      `json:"manual"`
		Since  time.Time `json:"since"`
		Banner string    `json:"banner,omitempty"`
	}
	e := Entry{Seq: 7, At: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Actor: "u1", Action: "incident.posture",
		Object: "posture", PrevHash: "ab", Detail: map[string]any{"to": posture{Level: 2, Manual: true,
			Since: time.Date(2026, 11, 21, 11, 59, 0, 123456789, time.UTC)}, "id": int64(1) << 40, "reason": "<b>x</b>"}}
	e.Hash = Hash(&e)
	b, err := json.Marshal(e.Detail)
	if err != nil {
		t.Fatal(err)
	}
	read := e
	read.Detail = nil
	if err := json.Unmarshal(b, &read.Detail); err != nil {
		t.Fatal(err)
	}
	if Hash(&read) != e.Hash {
		t.Fatal("the hash of an entry read back from the store differs")
	}
	if err := Verify([]Entry{read}); err == nil {
		t.Fatal("entry 7 as the first entry should be reported: entries 1 to 6 are missing")
	} else if b, ok := err.(*Break); !ok || b.Seq != 1 || b.Kind != BreakMissing {
		t.Fatalf("Verify: %v", err)
	} else if b.MessageZH != "第 1 至 6 条缺失：现存最早的是第 7 条" {
		// The audit page on a Chinese console said it in English.
		t.Errorf("the break in Chinese: %q", b.MessageZH)
	}
}

// chainReader is a chain in memory whose head can move on between reads,
// as a live server's does while it is verified.
type chainReader struct {
	entries []Entry
	heads   []Head // the head each AuditHead call returns, the last one again after
	calls   int
}

func (r *chainReader) AuditRange(_ context.Context, after int64, limit int) ([]Entry, error) {
	var out []Entry
	for _, e := range r.entries {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (r *chainReader) AuditHead(context.Context) (Head, error) {
	h := r.heads[min(r.calls, len(r.heads)-1)]
	r.calls++
	return h, nil
}

func chain(n int) []Entry {
	var out []Entry
	prev := ""
	for i := 1; i <= n; i++ {
		e := Entry{Seq: int64(i), At: time.Date(2026, 11, 23, 10, 0, i, 0, time.UTC), Actor: "u1", Action: "auth.login",
			Object: "user:u1", PrevHash: prev}
		e.Hash = Hash(&e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

// Entries appended while the chain is verified (staff logging in on a live
// server) are not a rewritten head: it used to say so, a false alarm of
// tampering. Entries beyond a head that does not cover them still are.
func TestVerifyWhileEntriesAreAppended(t *testing.T) {
	ctx := context.Background()
	es := chain(5)
	head3, head5 := Head{Seq: 3, Hash: es[2].Hash}, Head{Seq: 5, Hash: es[4].Hash}
	rep, err := VerifyChain(ctx, &chainReader{entries: es, heads: []Head{head3, head5}}, nil)
	if err != nil || !rep.OK || rep.Entries != 3 {
		t.Fatalf("verifying while 4 and 5 were appended: %+v, %v; want OK up to the head read (3 entries)", rep, err)
	}
	rep, err = VerifyChain(ctx, &chainReader{entries: es, heads: []Head{head3}}, nil)
	if err != nil || rep.OK || rep.Break == nil || rep.Break.Kind != BreakHead || rep.Break.Seq != 4 {
		t.Fatalf("entries beyond a head that stays behind: %+v, %v; want a head break at 4", rep, err)
	}
}

// ctxStore records whether the context of each append had ended.
type ctxStore struct {
	Store
	ended []bool
}

func (s *ctxStore) AppendAudit(ctx context.Context, e *Entry, hash func(*Entry) string) error {
	s.ended = append(s.ended, ctx.Err() != nil)
	return nil
}

// An action's entry is written though its caller has gone: a client that
// hung up between the action and its entry (the role change committed)
// left the action with no entry, the store skipping a write whose caller
// had left.
func TestAnEntryIsWrittenWhenTheCallerHasGone(t *testing.T) {
	st := &ctxStore{}
	l := New(st, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Record(ctx, Entry{Actor: "u1", Action: "user.role", Object: "user:u2"}); err != nil {
		t.Fatal(err)
	}
	if len(st.ended) != 1 || st.ended[0] {
		t.Fatalf("the store was handed an ended context: %v", st.ended)
	}
}
