package spool

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
)

// Run replays spooled writes into the store, each conversation's in order,
// trying again every RetryEvery, until ctx is done. When every write is in
// the store the journal is emptied.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.RetryEvery)
	defer t.Stop()
	for {
		s.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain runs one replay round. It stops at the first conversation the
// store fails: the store is most likely still down. A conversation that
// failed goes after the others next round, so one write the store keeps
// refusing does not hold the rest back.
func (s *Store) drain(ctx context.Context) {
	n := 0
	var err error
	for _, id := range s.replayOrder() {
		var k int
		k, err = s.replay(ctx, id)
		n += k
		if err != nil {
			break
		}
	}
	if err != nil && ctx.Err() == nil {
		if !s.failing {
			s.logger.Warn("the store does not take spooled writes yet", "pending", s.Pending(), "error", err)
		}
		s.failing = true
	} else if err == nil {
		s.failing = false
	}
	if n > 0 {
		s.logger.Info("replayed spooled writes", "writes", n, "pending", s.Pending())
		if s.opts.OnDrain != nil {
			s.opts.OnDrain(n)
		}
	}
	if err == nil {
		if err := s.j.rotateIfEmpty(func() bool { return s.Pending() == 0 }); err != nil {
			s.logger.Error("cannot empty the spool journal", "error", err)
		}
	}
}

// replayOrder lists the conversations with spooled writes, those whose last
// attempt failed last, then by their oldest write.
func (s *Store) replayOrder() []string {
	type item struct {
		id     string
		failed bool
		first  uint64
	}
	s.mu.Lock()
	items := make([]item, 0, len(s.backlog))
	for id, b := range s.backlog {
		if len(b.recs) > 0 {
			items = append(items, item{id, b.failed, b.recs[0].Seq})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b item) int {
		if a.failed != b.failed {
			if a.failed {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.first, b.first)
	})
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	return ids
}

// replay writes conversation id's spooled writes to the store in order and
// returns how many reached it. Writes that reached it (or were set aside as
// rejected) are then marked applied in the journal, and only after that
// leave the backlog: until then the conversation's new writes keep going to
// the journal, so a restart never mistakes an old write for a pending one.
func (s *Store) replay(ctx context.Context, id string) (int, error) {
	recs := s.spooled(id)
	done := 0
	var landed []*record
	var err error
	for _, rec := range recs {
		var ok bool
		if ok, err = s.apply(ctx, rec); err != nil {
			break
		}
		done++
		if ok {
			landed = append(landed, rec)
		}
	}
	reached := len(landed)
	if done > 0 {
		if merr := s.markApplied(id, recs[done-1].Seq); merr != nil {
			// Not marked: the writes stay pending and are found in the
			// store (and skipped) next round.
			return 0, merr
		}
	}
	if s.opts.OnLanded != nil {
		for _, rec := range landed {
			if msgs := messagesOf([]*record{rec}); len(msgs) > 0 {
				s.opts.OnLanded(rec.Conversation.conversation(), msgs)
			}
		}
	}
	s.mu.Lock()
	b := s.backlog[id]
	b.recs = b.recs[done:]
	b.failed = err != nil
	s.pending -= done
	if len(b.recs) == 0 && b.reserved == 0 {
		delete(s.backlog, id)
	}
	s.mu.Unlock()
	return reached, err
}

func (s *Store) markApplied(id string, seq uint64) error {
	line, err := json.Marshal(record{V: journalVersion, Op: opApplied, Seq: seq, ConversationID: id, At: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("mark %s applied: %w", id, err)
	}
	if err := s.j.append(append(line, '\n')); err != nil {
		return fmt.Errorf("mark %s applied: %w", id, err)
	}
	return nil
}

// apply brings one spooled write into the store unless it is there already
// (it landed before a crash, or after its caller had stopped waiting). It
// reports whether the write is in the store now; false with a nil error
// means it was rejected: set aside in the rejected file because the store's
// conversation went another way (written by another node meanwhile, or the
// database restored from an older backup).
func (s *Store) apply(ctx context.Context, rec *record) (bool, error) {
	if rec.Op == opTicket {
		return s.applyTicket(ctx, rec)
	}
	c := rec.Conversation.conversation()
	msgs := messagesOf([]*record{rec})
	for attempt := 0; ; attempt++ {
		cur, err := s.inner.Conversation(ctx, rec.ConversationID)
		if err != nil && !errcode.Is(err, errcode.NotFound) {
			return false, err
		}
		missing := err != nil
		if rec.Op == opCreate {
			if !missing {
				return true, nil // created before
			}
			err := s.innerWrite(ctx, func(ctx context.Context) error { return s.inner.CreateConversation(ctx, c, msgs) })
			if err == nil {
				return true, nil
			}
			if storeFault(err) {
				// Also a duplicate key, should the creation have landed
				// meanwhile: next round finds it there.
				return false, err
			}
			return false, s.reject(rec, err.Error())
		}
		if missing {
			return false, s.reject(rec, "conversation is not in the store")
		}
		prev := rec.prevSeq()
		switch {
		case cur.LastSeq == prev:
			err := s.innerWrite(ctx, func(ctx context.Context) error {
				return s.inner.SaveTurn(ctx, conversation.Turn{Conversation: c, Messages: msgs})
			})
			if err == nil {
				return true, nil
			}
			if errcode.Is(err, errcode.Conflict) && attempt == 0 {
				continue // someone wrote meanwhile (the write itself, landing late?): look again
			}
			if storeFault(err) || errcode.Is(err, errcode.Conflict) {
				return false, err
			}
			return false, s.reject(rec, err.Error())
		case len(msgs) == 0 && cur.LastSeq > prev:
			return true, nil // a turn without messages that the store has moved past
		case cur.LastSeq >= c.LastSeq:
			// The store is past this write: it landed if its first message is
			// the store's message at that seq.
			stored, err := s.inner.Messages(ctx, rec.ConversationID, prev)
			if err != nil {
				return false, err
			}
			if len(stored) > 0 && stored[0].Seq == prev+1 && stored[0].ID == msgs[0].ID {
				return true, nil
			}
			return false, s.reject(rec, fmt.Sprintf("the store has other messages from seq %d", prev+1))
		default:
			return false, s.reject(rec, fmt.Sprintf("the store is at seq %d, the write follows seq %d", cur.LastSeq, prev))
		}
	}
}

// reject sets a write aside in the rejected file, with an error in the log:
// it cannot be replayed, and must not block its conversation forever.
//
// The rejected file stays until an operator removes it, past any retention
// period of personal data: it keeps the masked text and the kinds of data
// masked, never the sealed original (which is then lost with the write).
func (s *Store) reject(rec *record, reason string) error {
	kept := *rec
	kept.Messages = slices.Clone(rec.Messages)
	for i := range kept.Messages {
		kept.Messages[i].Sealed = nil
	}
	if rec.Ticket != nil {
		t := *rec.Ticket
		t.Originals = slices.Clone(t.Originals)
		for i := range t.Originals {
			t.Originals[i].Sealed = guard.Sealed{} // the kinds masked stay
		}
		kept.Ticket = &t
	}
	line, err := json.Marshal(&kept)
	if err != nil {
		return fmt.Errorf("reject spooled write: %w", err)
	}
	if err := appendRejected(s.rejected, append(line, '\n')); err != nil {
		return err
	}
	var lastSeq int64
	if rec.Conversation != nil {
		lastSeq = rec.Conversation.LastSeq
	}
	s.logger.Error("a spooled write cannot be replayed; kept in the rejected file", "op", rec.Op,
		"conversation", rec.ConversationID, "last_seq", lastSeq, "messages", len(rec.Messages),
		"file", s.rejected, "reason", reason)
	return nil
}
