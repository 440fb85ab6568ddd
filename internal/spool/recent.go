package spool

import (
	"container/list"
	"slices"
	"sync"

	"github.com/steward-cs/steward/internal/conversation"
)

// The journal keeps the conversation path writing while the database is
// down; recent keeps it reading. A conversation created during the outage
// lives in the journal, but one already under way when the database went
// away could not even be read: its customer's next message got a 503 for
// as long as the outage lasted, level 3 or not. So the store remembers the
// conversations this node last read or wrote, each with its newest
// messages, and serves them when the database cannot be read.
//
// It is a fallback, never a cache in front of the store: every read asks
// the store first. What it serves is what this node last saw; on several
// nodes another node may have moved the conversation on since. So each
// event of another node's write to a conversation drops it here (Moved):
// served stale, a turn numbered after its last message was acknowledged,
// then refused at replay by the store's conditional write (REST calls
// need no sticky sessions, so a customer's turns do alternate between
// nodes). What is left is a write whose event had not arrived when the
// database went away: refused at replay and kept in the rejected file
// (spool_rejected).

// Recent-conversation bounds: how many conversations are remembered, and
// how many of each one's newest messages (the engine reads back at most
// recentForRetry = 12 for a turn).
const (
	recentConversations = 4096
	recentMessages      = 16
)

// recent remembers recently seen conversations, least recently used
// first out.
type recent struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element
	order *list.List // of *seen, most recent at the front
}

// seen is a conversation as this node last saw it, with its newest
// messages: contiguous, in seq order, ending at the conversation's LastSeq
// (or empty).
type seen struct {
	conv conversation.Conversation
	msgs []conversation.Message
}

func newRecent(max int) *recent {
	return &recent{max: max, items: map[string]*list.Element{}, order: list.New()}
}

// entry returns id's entry, making one if need be, moved to the front; r.mu
// is held.
func (r *recent) entry(id string) *seen {
	if el, ok := r.items[id]; ok {
		r.order.MoveToFront(el)
		return el.Value.(*seen)
	}
	s := &seen{}
	r.items[id] = r.order.PushFront(s)
	if r.order.Len() > r.max {
		last := r.order.Back()
		r.order.Remove(last)
		delete(r.items, last.Value.(*seen).conv.ID)
	}
	return s
}

// conversation notes c as read or written, with the messages written with
// it (none for a read). Messages that no longer end at its LastSeq (it
// moved on without them) are dropped.
func (r *recent) conversation(c *conversation.Conversation, msgs []conversation.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.entry(c.ID)
	s.conv = *c
	s.msgs = appendRecent(s.msgs, msgs)
	if n := len(s.msgs); n > 0 && s.msgs[n-1].Seq != c.LastSeq {
		s.msgs = nil
	}
}

// messages notes msgs read from conversation id, if they end where the
// conversation as noted does.
func (r *recent) messages(id string, msgs []conversation.Message) {
	if len(msgs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.items[id]
	if !ok {
		return // its conversation was not noted: nothing to serve them with
	}
	s := el.Value.(*seen)
	// On a copy: kept only if it ends where the conversation does.
	if all := appendRecent(slices.Clone(s.msgs), msgs); all[len(all)-1].Seq == s.conv.LastSeq {
		s.msgs = all
	}
}

// appendRecent is msgs after the part of have that runs on into them (all
// of have, when msgs follow it; none, when there is a gap), the newest
// recentMessages of them, in have's own memory: a turn's note used to copy
// the conversation's sixteen messages into a new slice every time (3 % of
// the server's CPU under load). have must be no one else's: readers get
// copies (after).
func appendRecent(have, msgs []conversation.Message) []conversation.Message {
	if len(msgs) == 0 {
		return have
	}
	if len(msgs) >= recentMessages {
		return append(have[:0], msgs[len(msgs)-recentMessages:]...)
	}
	i, _ := slices.BinarySearchFunc(have, msgs[0].Seq, func(m conversation.Message, seq int64) int {
		return int(m.Seq - seq)
	})
	keep := have[:i]
	if i > 0 && keep[i-1].Seq != msgs[0].Seq-1 {
		keep = have[:0]
	}
	if over := len(keep) + len(msgs) - recentMessages; over > 0 {
		keep = keep[:copy(keep, keep[over:])]
	}
	return append(keep, msgs...)
}

// forget drops conversation id.
func (r *recent) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.items[id]; ok {
		r.order.Remove(el)
		delete(r.items, id)
	}
}

// get returns conversation id as last noted.
func (r *recent) get(id string) (*conversation.Conversation, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.items[id]
	if !ok {
		return nil, false
	}
	c := el.Value.(*seen).conv
	return &c, true
}

// after returns the messages of conversation id with seq > afterSeq, if
// those remembered cover them all.
func (r *recent) after(id string, afterSeq int64) ([]conversation.Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.items[id]
	if !ok {
		return nil, false
	}
	s := el.Value.(*seen)
	if afterSeq >= s.conv.LastSeq {
		return []conversation.Message{}, true
	}
	if len(s.msgs) == 0 || s.msgs[0].Seq > afterSeq+1 {
		return nil, false
	}
	var out []conversation.Message
	for _, m := range s.msgs {
		if m.Seq > afterSeq {
			out = append(out, m)
		}
	}
	return out, true
}
