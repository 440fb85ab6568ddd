// Package limit holds Steward's rate limits: token buckets kept per key
// (a client address, a conversation) in bounded memory, counters of open
// connections per key, and the client address of a request behind trusted
// proxies. It knows nothing of HTTP routes; httpapi decides what to charge.
package limit

import (
	"math"
	"sync"
	"time"
)

// Rate is a token bucket: it holds up to Burst tokens and gains PerSecond
// tokens a second. A request takes one token or more.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultMaxKeys bounds how many keys a Buckets remembers when its options
// do not say: 100,000 buckets of 50-byte keys take about 20 MB.
const DefaultMaxKeys = 100_000

// Buckets is a token bucket per key, kept in bounded memory. A key whose
// bucket has filled up again is forgotten (a new bucket would be the same),
// and when MaxKeys keys are remembered the least recently used one is
// forgotten to make room. Forgetting runs as keys are used: there is no
// background goroutine.
//
// The zero value is not usable; call NewBuckets.
type Buckets struct {
	rate    Rate
	maxKeys int

	mu   sync.Mutex
	keys map[string]*bucket
	// head is the most recently used bucket, tail the least; they link a
	// ring through prev and next, so eviction and expiry are O(1).
	head *bucket
}

type bucket struct {
	key string
	Bucket
	prev, next *bucket
}

// Bucket is one token bucket, for one goroutine (a connection's reader);
// Buckets keeps many under a lock.
type Bucket struct {
	tokens float64 // may be negative: a debt from Charge
	last   time.Time
}

// NewBucket returns a full bucket.
func NewBucket(r Rate) *Bucket { return &Bucket{tokens: float64(max(r.Burst, 1))} }

// Allow takes n tokens if the bucket holds them at now; otherwise it takes
// nothing and returns how long until it will hold them (n above the burst
// counts as the burst).
func (k *Bucket) Allow(r Rate, n int, now time.Time) (bool, time.Duration) {
	burst := max(r.Burst, 1)
	need := float64(min(max(n, 0), burst))
	k.refill(r, now)
	if k.tokens >= need {
		k.tokens -= need
		return true, 0
	}
	wait := (need - k.tokens) / r.PerSecond
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}

// refill adds what the bucket gained since it was last used.
func (k *Bucket) refill(r Rate, now time.Time) {
	k.tokens = k.at(r, now)
	if now.After(k.last) {
		k.last = now
	}
}

// at is what the bucket holds at now.
func (k *Bucket) at(r Rate, now time.Time) float64 {
	elapsed := now.Sub(k.last).Seconds()
	if elapsed <= 0 {
		return k.tokens
	}
	return min(k.tokens+elapsed*r.PerSecond, float64(max(r.Burst, 1)))
}

// NewBuckets returns a bucket per key, each of the given rate, remembering
// at most maxKeys keys (DefaultMaxKeys if maxKeys ≤ 0). Rate.PerSecond must
// be positive and Rate.Burst at least 1.
func NewBuckets(r Rate, maxKeys int) *Buckets {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if r.Burst < 1 {
		r.Burst = 1
	}
	return &Buckets{rate: r, maxKeys: maxKeys, keys: map[string]*bucket{}}
}

// Rate returns the buckets' rate.
func (b *Buckets) Rate() Rate { return b.rate }

// Allow takes n tokens from key's bucket if it holds them. Otherwise it
// takes nothing and returns how long until the bucket will hold n tokens
// (n above the burst counts as the burst).
func (b *Buckets) Allow(key string, n int) (bool, time.Duration) {
	return b.allowAt(key, n, time.Now())
}

// Charge takes n tokens from key's bucket even when that leaves it in debt:
// the key is refused until the bucket has refilled past the debt. It is for
// costs known only after a request was allowed.
func (b *Buckets) Charge(key string, n int) { b.chargeAt(key, n, time.Now()) }

// Len returns how many keys are remembered.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.keys)
}

func (b *Buckets) allowAt(key string, n int, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.use(key, now).Allow(b.rate, n, now)
}

func (b *Buckets) chargeAt(key string, n int, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.use(key, now)
	k.refill(b.rate, now)
	k.tokens -= float64(max(n, 0))
}

// use returns key's bucket as the most recently used one,
// after forgetting a few buckets that are full again or over the bound.
func (b *Buckets) use(key string, now time.Time) *bucket {
	b.expire(now, 2)
	k, ok := b.keys[key]
	if ok {
		b.unlink(k)
	} else {
		for len(b.keys) >= b.maxKeys {
			b.drop(b.head.prev)
		}
		k = &bucket{key: key, Bucket: Bucket{tokens: float64(b.rate.Burst), last: now}}
		b.keys[key] = k
	}
	b.pushFront(k)
	return k
}

// expire forgets up to n of the least recently used buckets that have
// refilled completely.
func (b *Buckets) expire(now time.Time, n int) {
	for range n {
		if b.head == nil {
			return
		}
		tail := b.head.prev
		if tail.at(b.rate, now) < float64(b.rate.Burst) {
			return
		}
		b.drop(tail)
	}
}

func (b *Buckets) drop(k *bucket) {
	b.unlink(k)
	delete(b.keys, k.key)
}

func (b *Buckets) pushFront(k *bucket) {
	if b.head == nil {
		k.prev, k.next = k, k
	} else {
		k.next, k.prev = b.head, b.head.prev
		b.head.prev.next = k
		b.head.prev = k
	}
	b.head = k
}

func (b *Buckets) unlink(k *bucket) {
	if k.next == k {
		b.head = nil
	} else {
		k.prev.next, k.next.prev = k.next, k.prev
		if b.head == k {
			b.head = k.next
		}
	}
	k.prev, k.next = nil, nil
}

// Slots counts what each key holds open (WebSockets per client address)
// against a cap. Keys holding nothing are forgotten, so its memory follows
// the number of open things.
type Slots struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

// NewSlots returns a counter allowing max open slots per key.
func NewSlots(max int) *Slots { return &Slots{max: max, open: map[string]int{}} }

// Acquire takes a slot for key if it has fewer than the cap open; the
// caller must Release it.
func (s *Slots) Acquire(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[key] >= s.max {
		return false
	}
	s.open[key]++
	return true
}

// Release returns a slot taken by Acquire.
func (s *Slots) Release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[key] <= 1 {
		delete(s.open, key)
		return
	}
	s.open[key]--
}

// Max returns the cap of open slots per key.
func (s *Slots) Max() int { return s.max }
