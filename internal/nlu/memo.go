package nlu

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
)

// Memo remembers the last few models it trained, by a digest of their
// examples and options. Training is deterministic (seeded), so a
// remembered model is the one training again would build, and a trained
// model is never changed by the code that serves it, so it can be shared.
// A process that starts many servers over the same knowledge base (a test
// suite) trains each model once; a server alone gains nothing from one.
// Callers must not change a model the memo returns (SetThreshold).
//
// The zero Memo is ready to use; a nil *Memo trains every time.
type Memo struct {
	// Keep bounds how many models are remembered (default 4): a model of a
	// hundred entries holds tens of megabytes.
	Keep int

	mu    sync.Mutex
	calls map[[32]byte]*memoCall
	order [][32]byte // least recently used first
}

type memoCall struct {
	done  chan struct{}
	model *Model
	err   error
}

// Train returns the model Train(examples, opts) builds, training it only
// if the memo does not hold it. Concurrent calls for the same model wait
// for one training.
func (m *Memo) Train(examples []Example, opts TrainOptions) (*Model, error) {
	if m == nil {
		return Train(examples, opts)
	}
	key := digest(examples, opts)
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[[32]byte]*memoCall{}
	}
	c, ok := m.calls[key]
	if ok {
		m.touch(key)
		m.mu.Unlock()
		<-c.done
		return c.model, c.err
	}
	c = &memoCall{done: make(chan struct{})}
	m.calls[key] = c
	m.order = append(m.order, key)
	m.evict()
	m.mu.Unlock()

	c.model, c.err = Train(examples, opts)
	close(c.done)
	if c.err != nil {
		m.mu.Lock()
		if m.calls[key] == c {
			delete(m.calls, key)
			m.drop(key)
		}
		m.mu.Unlock()
	}
	return c.model, c.err
}

// touch moves key to the most recently used end. m.mu is held.
func (m *Memo) touch(key [32]byte) {
	m.drop(key)
	m.order = append(m.order, key)
}

// drop removes key from the order. m.mu is held.
func (m *Memo) drop(key [32]byte) {
	for i, k := range m.order {
		if k == key {
			m.order = append(m.order[:i], m.order[i+1:]...)
			return
		}
	}
}

// evict forgets the least recently used models beyond Keep. m.mu is held.
func (m *Memo) evict() {
	keep := m.Keep
	if keep <= 0 {
		keep = 4
	}
	for len(m.order) > keep {
		delete(m.calls, m.order[0])
		m.order = m.order[1:]
	}
}

// digest identifies a training run: every example's text and label, in
// order, and every option.
func digest(examples []Example, opts TrainOptions) [32]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	put := func(s string) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put(fmt.Sprintf("%#v", opts))
	for _, e := range examples {
		put(e.Text)
		put(e.Label)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
