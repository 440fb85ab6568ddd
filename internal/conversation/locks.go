package conversation

import (
	"context"
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
	// ch holds one token while a turn holds the lock. A channel rather
	// than a sync.Mutex: its waiters are served in the order they came (a
	// mutex lets a newcomer barge ahead, so a customer's second message
	// could be taken before their first), and a waiter whose request ended
	// stops waiting instead of running its turn for nobody.
	ch   chan struct{}
	refs int // turns holding or waiting for it; at 0 it leaves the table
}

func newConvLocks() *convLocks { return &convLocks{seed: maphash.MakeSeed()} }

// lock waits for conversation id's lock, in turn, and returns the function
// that releases it; or ctx's error if ctx ends first.
func (l *convLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	s := &l.shards[maphash.String(l.seed, id)%uint64(len(l.shards))]
	s.mu.Lock()
	c := s.m[id]
	if c == nil {
		if s.m == nil {
			s.m = make(map[string]*convLock)
		}
		c = &convLock{ch: make(chan struct{}, 1)}
		s.m[id] = c
	}
	c.refs++
	s.mu.Unlock()
	drop := func() {
		s.mu.Lock()
		if c.refs--; c.refs == 0 {
			delete(s.m, id)
		}
		s.mu.Unlock()
	}
	select {
	case c.ch <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	return func() {
		<-c.ch
		drop()
	}, nil
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
