package conversation

import (
	"hash/maphash"
	"sync"
)

// convLocks gives each conversation a mutex of its own while some turn of
// it holds or waits for it, so that turns of one conversation run one at a
// time and turns of different conversations never wait for each other.
// (A fixed array of 256 mutexes chosen by hash did that for one
// conversation, but at 256 open conversations a third of them shared a
// mutex with another, and a turn waited for its neighbour's durable commit:
// docs/performance.md.) The table is sharded so that taking a lock is not
// itself a point of contention.
type convLocks struct {
	seed   maphash.Seed
	shards [64]lockShard
}

type lockShard struct {
	mu sync.Mutex
	m  map[string]*convLock
}

type convLock struct {
	sync.Mutex
	refs int // turns holding or waiting for it; at 0 it leaves the table
}

func newConvLocks() *convLocks { return &convLocks{seed: maphash.MakeSeed()} }

// lock waits for conversation id's mutex and returns the function that
// releases it.
func (l *convLocks) lock(id string) (unlock func()) {
	s := &l.shards[maphash.String(l.seed, id)%uint64(len(l.shards))]
	s.mu.Lock()
	c := s.m[id]
	if c == nil {
		if s.m == nil {
			s.m = make(map[string]*convLock)
		}
		c = &convLock{}
		s.m[id] = c
	}
	c.refs++
	s.mu.Unlock()
	c.Lock()
	return func() {
		c.Unlock()
		s.mu.Lock()
		if c.refs--; c.refs == 0 {
			delete(s.m, id)
		}
		s.mu.Unlock()
	}
}

// held is the number of conversations whose mutex is in the table (for
// tests).
func (l *convLocks) held() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
