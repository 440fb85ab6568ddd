package spool

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// appendRecent, which reuses the noted messages' memory, keeps what joined
// (the version it replaced, a fresh copy every time) keeps, over random
// runs of notes: contiguous ones, ones that overlap or rewrite the end,
// ones after a gap, long ones.
func TestAppendRecentKeepsWhatJoinedKeeps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	run := func(from, n int) []conversation.Message {
		out := make([]conversation.Message, n)
		for i := range out {
			out[i] = conversation.Message{Seq: int64(from + i), Text: string(rune('a' + rng.IntN(26)))}
		}
		return out
	}
	for trial := range 2000 {
		var reused, fresh []conversation.Message
		next := 1
		for range 30 {
			from := next
			switch rng.IntN(4) {
			case 0: // back over the end
				from = max(1, next-rng.IntN(5))
			case 1: // after a gap
				from = next + 1 + rng.IntN(3)
			}
			msgs := run(from, 1+rng.IntN(recentMessages+4))
			reused = appendRecent(reused, msgs)
			fresh = joined(fresh, msgs)
			if !slices.EqualFunc(reused, fresh, func(a, b conversation.Message) bool { return a.Seq == b.Seq && a.Text == b.Text }) {
				t.Fatalf("trial %d: appendRecent kept %v, joined %v", trial, seqs(reused), seqs(fresh))
			}
			next = from + len(msgs)
		}
	}
}

func seqs(ms []conversation.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// joined is the copying version appendRecent replaced, as the reference.
func joined(have, msgs []conversation.Message) []conversation.Message {
	if len(msgs) == 0 {
		return have
	}
	i, _ := slices.BinarySearchFunc(have, msgs[0].Seq, func(m conversation.Message, seq int64) int {
		return int(m.Seq - seq)
	})
	keep := have[:i]
	if i > 0 && keep[i-1].Seq != msgs[0].Seq-1 {
		keep = nil
	}
	all := append(slices.Clone(keep), msgs...)
	if len(all) > recentMessages {
		all = all[len(all)-recentMessages:]
	}
	return all
}
