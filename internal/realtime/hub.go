// Package realtime delivers events to live subscribers: the customer's chat
// stream now, agents' consoles and other nodes later. A subscriber that
// cannot keep up is dropped rather than allowed to slow the publisher.
package realtime

import (
	"sync"
)

// Event is one thing that happened on a topic.
type Event struct {
	Topic string
	Data  any
}

// Subscription receives a topic's events until it is closed or dropped.
type Subscription struct {
	// C carries the events, except to a subscriber with a wake function
	// (SubscribeFunc), which takes them with Take.
	C       <-chan Event
	c       chan Event
	hub     *Hub
	topic   string
	dropped chan struct{}
	once    sync.Once
	// wake, if set, is called after each event queued and when the
	// subscriber is dropped; the events wait in queue, which holds no
	// memory while it is empty.
	wake   func()
	buffer int
	mu     sync.Mutex
	queue  []Event
}

// Take returns the events queued for a subscriber with a wake function,
// oldest first, and makes room for as many more.
func (s *Subscription) Take() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// offer queues ev for a subscriber with a wake function, unless buffer
// events wait already.
func (s *Subscription) offer(ev Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= s.buffer {
		return false
	}
	s.queue = append(s.queue, ev)
	return true
}

// Dropped is closed when the hub gave up on a slow subscriber; the
// subscriber should resynchronise from the store.
func (s *Subscription) Dropped() <-chan struct{} { return s.dropped }

// Close unsubscribes.
func (s *Subscription) Close() { s.hub.remove(s) }

// Hub is an in-process publish/subscribe switch.
type Hub struct {
	mu     sync.Mutex
	topics map[string]map[*Subscription]struct{}
	buffer int
}

// NewHub returns a hub whose subscribers may fall buffer events behind.
func NewHub(buffer int) *Hub {
	if buffer <= 0 {
		buffer = 64
	}
	return &Hub{topics: map[string]map[*Subscription]struct{}{}, buffer: buffer}
}

// Subscribe starts receiving events on topic.
func (h *Hub) Subscribe(topic string) *Subscription { return h.subscribe(topic, h.buffer, nil) }

// SubscribeBuffered starts receiving events on topic with room for buffer
// events: for a subscriber that hears of many things at once, such as a
// console following the whole desk.
func (h *Hub) SubscribeBuffered(topic string, buffer int) *Subscription {
	return h.subscribe(topic, buffer, nil)
}

// SubscribeFunc is SubscribeBuffered (buffer 0: the hub's) for a subscriber
// with no goroutine waiting for events while it is idle, and no channel:
// the hub calls wake after it queues each event and when it drops the
// subscriber, and the subscriber then takes the events with Take (or sees
// Dropped) without blocking. wake runs under the hub's lock, so it must
// return at once and must not call the hub.
func (h *Hub) SubscribeFunc(topic string, buffer int, wake func()) *Subscription {
	if buffer <= 0 {
		buffer = h.buffer
	}
	return h.subscribe(topic, buffer, wake)
}

func (h *Hub) subscribe(topic string, buffer int, wake func()) *Subscription {
	s := &Subscription{hub: h, topic: topic, dropped: make(chan struct{}), wake: wake, buffer: max(buffer, 1)}
	if wake == nil {
		s.c = make(chan Event, s.buffer)
		s.C = s.c
	}
	h.mu.Lock()
	subs := h.topics[topic]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.topics[topic] = subs
	}
	subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Publish sends ev to every subscriber of its topic without blocking.
func (h *Hub) Publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.topics[ev.Topic] {
		if s.wake != nil {
			if s.offer(ev) {
				s.wake()
			} else {
				h.dropLocked(s)
			}
			continue
		}
		select {
		case s.c <- ev:
		default:
			h.dropLocked(s)
		}
	}
}

// Subscribers returns how many subscribers topic has.
func (h *Hub) Subscribers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics[topic])
}

func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if subs, ok := h.topics[s.topic]; ok {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.topics, s.topic)
		}
	}
}

func (h *Hub) dropLocked(s *Subscription) {
	if subs, ok := h.topics[s.topic]; ok {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.topics, s.topic)
		}
	}
	s.once.Do(func() {
		close(s.dropped)
		if s.wake != nil {
			s.wake()
		}
	})
}

// Drop drops the subscribers of topics, as DropAll does everyone's: each
// resynchronises from the store. It follows an event this node could not
// follow.
func (h *Hub) Drop(topics ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range topics {
		for s := range h.topics[t] {
			h.dropLocked(s)
		}
	}
}

// DropAll drops every subscriber, as if each had fallen behind: each
// resynchronises from the store. It follows a gap in the events from other
// nodes.
func (h *Hub) DropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.topics {
		for s := range subs {
			h.dropLocked(s)
		}
	}
}
