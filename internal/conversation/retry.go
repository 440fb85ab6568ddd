package conversation

import (
	"slices"
	"sync"
)

// retryKeys remembers, for the conversations whose turns this engine
// stored, the client keys of their latest keyed messages and the last seq
// it saw. A keyed turn looks its key up here: when the conversation has
// not moved since (its LastSeq is the one noted), what this engine knows is
// all there is, and a key it does not hold is new without reading the
// store. Otherwise (another node or a desk action wrote since, a restart,
// an entry evicted) the store's recent messages decide. Reading them on
// every keyed turn cost the stream's turns almost half their rate.
type retryKeys struct {
	mu     sync.Mutex
	byConv map[string]*convKeys
}

type convKeys struct {
	lastSeq int64
	keys    []keyAt // the newest last, within the latest recentForRetry messages
}

// keyAt is a customer message's client key and seq.
type keyAt struct {
	key string
	seq int64
}

// maxRetryConvs bounds the conversations remembered; one evicted only
// sends its next keyed turn to the store.
const maxRetryConvs = 50000

// lookup reports whether conversation id (now at lastSeq) has a message
// keyed key among those noted, and whether the notes are complete.
func (r *retryKeys) lookup(id string, lastSeq int64, key string) (known, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ck := r.byConv[id]
	if ck == nil {
		return false, false
	}
	known = slices.ContainsFunc(ck.keys, func(k keyAt) bool { return k.key == key && k.seq > lastSeq-recentForRetry })
	return known, ck.lastSeq == lastSeq
}

// seed records the keys of conversation id's recent messages, read from
// the store at lastSeq: from here the notes are complete.
func (r *retryKeys) seed(id string, lastSeq int64, keys []keyAt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byConv == nil {
		r.byConv = map[string]*convKeys{}
	}
	if _, ok := r.byConv[id]; !ok && len(r.byConv) >= maxRetryConvs {
		for k := range r.byConv { // map order is random: evicts an arbitrary one
			delete(r.byConv, k)
			break
		}
	}
	r.byConv[id] = &convKeys{lastSeq: lastSeq, keys: keys}
}

// note records a turn of conversation id that moved it from prevSeq to
// lastSeq, keyed key ("": none). Notes that were not complete at prevSeq
// are dropped: the next keyed turn reads the store.
func (r *retryKeys) note(id string, prevSeq, lastSeq int64, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ck := r.byConv[id]
	if ck == nil {
		return
	}
	if ck.lastSeq != prevSeq {
		delete(r.byConv, id)
		return
	}
	ck.lastSeq = lastSeq
	if key != "" {
		ck.keys = append(ck.keys, keyAt{key, prevSeq + 1}) // the customer's message comes first
	}
	// Keys that left the window the store would be read in go.
	ck.keys = slices.DeleteFunc(ck.keys, func(k keyAt) bool { return k.seq <= lastSeq-recentForRetry })
}
