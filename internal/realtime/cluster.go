package realtime

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// Remote is an event that crosses nodes. It says what changed, not the
// change itself: a notification's payload is small (PostgreSQL's limit is
// 8,000 bytes), and the receiving node reads the change from the shared
// store, where it is durable before the event is sent.
type Remote struct {
	Node string `json:"n"`
	// Instance tells this process from another with the same node name
	// (two machines cloned from one image, both "localhost:8080"): events
	// are told apart by it, not by the name, which dropped each other's.
	Instance string `json:"i,omitempty"`
	// Kind is what changed: KindConversation, KindQueue, KindNote,
	// KindPosture, KindTickets, KindRating, or KindResync (made up locally
	// after a reconnect).
	Kind string `json:"k"`
	ID   string `json:"id,omitempty"` // the conversation
	// After is the sequence number the new messages follow.
	After int64 `json:"a,omitempty"`
	// Desk says the desk's consoles care about the change.
	Desk bool   `json:"d,omitempty"`
	Ref  string `json:"r,omitempty"` // the note
}

// Kinds of remote events.
const (
	KindConversation = "conversation"
	KindQueue        = "queue"
	KindNote         = "note"
	KindPosture      = "posture"
	// KindTickets: an offline-message ticket was resolved (the consoles'
	// lists and counts read the tickets again).
	KindTickets = "tickets"
	// KindRating: the customer rated conversation ID (a console that has
	// it open shows the rating).
	KindRating = "rating"
	// KindResync is delivered after the link to the other nodes was down:
	// events may have been missed, so everything live must catch up.
	KindResync = "resync"
)

// Transport carries payloads between nodes: PostgreSQL's NOTIFY and LISTEN.
type Transport interface {
	Notify(ctx context.Context, channel, payload string) error
	// Listen blocks, calling ready once listening and got for each
	// payload, until ctx ends or the link fails.
	Listen(ctx context.Context, channel string, ready func(), got func(payload string)) error
}

// Channel is the notification channel the nodes share.
const Channel = "steward_events"

// maxPayload keeps a notification under PostgreSQL's 8,000-byte limit.
const maxPayload = 7000

// Cluster links this node to the others: Send passes an event on, Run
// receives theirs. Sending never blocks the caller: events wait in a
// bounded queue, and a full queue drops the oldest and tells the others to
// resynchronise.
type Cluster struct {
	node     string
	instance string // random, this process's
	t        Transport
	logger   *slog.Logger
	twin     sync.Once // warned of another process with this node's name

	mu      sync.Mutex
	pending []Remote
	lost    bool // events were dropped: the next batch asks for a resync
	wake    chan struct{}
}

// maxPending bounds the events waiting to be sent.
const maxPending = 10000

// NewCluster returns the link of node to the others over t.
func NewCluster(node string, t Transport, logger *slog.Logger) *Cluster {
	if logger == nil {
		logger = slog.Default()
	}
	return &Cluster{node: node, instance: rand.Text(), t: t, logger: logger.With("component", "cluster", "node", node),
		wake: make(chan struct{}, 1)}
}

// Node returns this node's name.
func (c *Cluster) Node() string { return c.node }

// Send queues ev for the other nodes.
func (c *Cluster) Send(ev Remote) {
	if c == nil {
		return
	}
	ev.Node, ev.Instance = c.node, c.instance
	c.mu.Lock()
	if len(c.pending) >= maxPending {
		c.pending = c.pending[1:]
		c.lost = true
	}
	c.pending = append(c.pending, ev)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run sends this node's events and delivers the others' to deliver until
// ctx ends, reconnecting when the link fails. After every (re)connection
// deliver gets a KindResync event: whatever happened while the link was
// down must be read from the store.
func (c *Cluster) Run(ctx context.Context, deliver func(Remote)) {
	var wg sync.WaitGroup
	wg.Go(func() { c.sendLoop(ctx) })
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.t.Listen(ctx, Channel, func() {
			backoff = 100 * time.Millisecond
			deliver(Remote{Kind: KindResync})
		}, func(payload string) {
			var batch []Remote
			if err := json.Unmarshal([]byte(payload), &batch); err != nil {
				c.logger.Warn("a malformed event from another node", "error", err)
				return
			}
			for _, ev := range batch {
				if c.own(ev) {
					continue
				}
				if ev.Node == c.node {
					c.twin.Do(func() {
						c.logger.Warn("another process uses this node's name; give each node its own (node in the configuration, or STEWARD_NODE)")
					})
				}
				deliver(ev)
			}
		})
		if ctx.Err() != nil {
			break
		}
		c.logger.Warn("lost the link to the other nodes; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	wg.Wait()
}

// own reports whether ev is this process's own event, come back. One from
// a version that did not send the instance is told by the node's name.
func (c *Cluster) own(ev Remote) bool {
	if ev.Instance == "" {
		return ev.Node == c.node
	}
	return ev.Instance == c.instance
}

// sendLoop sends pending events in batches, each batch one notification.
func (c *Cluster) sendLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			c.flush(ctx)
			return
		case <-c.wake:
		}
		for {
			payload, n := c.nextBatch()
			if n == 0 {
				break
			}
			// A batch under way when the node stops still goes: its own
			// bound, not the workers' context, ends it.
			nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
			err := c.t.Notify(nctx, Channel, payload)
			cancel()
			if err != nil {
				// The batch is lost. What the events stood for is durable
				// in the store, but the other nodes' links may be up (only
				// this node's notify failed): the next batch tells them to
				// resynchronise, as a full queue does.
				c.mu.Lock()
				c.lost = true
				c.mu.Unlock()
				c.logger.Warn("could not pass events to the other nodes", "events", n, "error", err)
				if ctx.Err() != nil {
					c.flush(ctx)
					return
				}
				select {
				case <-ctx.Done():
					c.flush(ctx)
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}
	}
}

// notifyTimeout bounds one notification; flushFor the last ones a stopping
// node sends (on top of serve's shutdown_timeout).
const (
	notifyTimeout = 5 * time.Second
	flushFor      = 2 * time.Second
)

// flush passes on what is still pending when the node stops (ctx has
// ended): the events of its last turns, which the HTTP server finished
// before the workers stopped. Dropped, they reached the other nodes'
// consoles only at their next resync, or never.
func (c *Cluster) flush(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushFor)
	defer cancel()
	for {
		payload, n := c.nextBatch()
		if n == 0 {
			return
		}
		if err := c.t.Notify(fctx, Channel, payload); err != nil {
			c.logger.Warn("could not pass the last events to the other nodes at shutdown", "events", n, "error", err)
			return
		}
	}
}

// nextBatch takes as many pending events as fit in one notification.
func (c *Cluster) nextBatch() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lost {
		c.lost = false
		c.pending = append([]Remote{{Node: c.node, Instance: c.instance, Kind: KindResync}}, c.pending...)
	}
	// The payload is a JSON array, built from each event's encoding as it
	// is measured.
	payload := []byte{'['}
	n := 0
	for _, ev := range c.pending {
		b, _ := json.Marshal(ev)
		if n > 0 && len(payload)+len(b)+2 > maxPayload {
			break
		}
		if n > 0 {
			payload = append(payload, ',')
		}
		payload = append(payload, b...)
		n++
	}
	c.pending = c.pending[n:]
	if n == 0 {
		return "", 0
	}
	return string(append(payload, ']')), n
}
