package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Events leave in order, in notifications that each fit PostgreSQL's
// payload limit and parse as a JSON array.
func TestClusterBatchesFitOneNotification(t *testing.T) {
	c := NewCluster("n1", nil, nil)
	const events = 2000
	for i := range events {
		c.Send(Remote{Kind: KindConversation, ID: fmt.Sprintf("c_%08d", i), After: int64(i), Desk: i%2 == 0})
	}
	next, batches := 0, 0
	for {
		payload, n := c.nextBatch()
		if n == 0 {
			break
		}
		batches++
		if len(payload) > maxPayload {
			t.Fatalf("a notification of %d bytes (limit %d)", len(payload), maxPayload)
		}
		var got []Remote
		if err := json.Unmarshal([]byte(payload), &got); err != nil {
			t.Fatalf("payload is not a JSON array of events: %v", err)
		}
		if len(got) != n {
			t.Fatalf("payload holds %d events, nextBatch said %d", len(got), n)
		}
		for _, ev := range got {
			if want := fmt.Sprintf("c_%08d", next); ev.ID != want || ev.Node != "n1" {
				t.Fatalf("event %d is %+v, want id %s from n1", next, ev, want)
			}
			next++
		}
	}
	if next != events || batches < 2 {
		t.Fatalf("%d events in %d notifications, want %d in several", next, batches, events)
	}
}

// flakyTransport fails its first Notify and hands the later payloads on.
type flakyTransport struct {
	quietLink
	mu    sync.Mutex
	calls int
	sent  chan string
}

func (f *flakyTransport) Notify(_ context.Context, _, payload string) error {
	f.mu.Lock()
	f.calls++
	first := f.calls == 1
	f.mu.Unlock()
	if first {
		return errors.New("connection reset")
	}
	f.sent <- payload
	return nil
}

// quietLink is a transport's listening side that hears nothing: ready at
// once, then silent until its context ends.
type quietLink struct{}

func (quietLink) Listen(ctx context.Context, _ string, ready func(), _ func(string)) error {
	ready()
	<-ctx.Done()
	return ctx.Err()
}

// A batch this node could not notify is lost: the next one tells the other
// nodes to resynchronise. It used to be dropped without a word, and nodes
// whose own links were up never caught up.
func TestClusterAsksForAResyncAfterAFailedNotify(t *testing.T) {
	tr := &flakyTransport{sent: make(chan string, 8)}
	c := NewCluster("n1", tr, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, func(Remote) {}) }()
	defer func() { cancel(); <-done }()
	c.Send(Remote{Kind: KindConversation, ID: "c_lost"})
	select {
	case payload := <-tr.sent:
		var got []Remote
		if err := json.Unmarshal([]byte(payload), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].Kind != KindResync || got[0].Node != "n1" {
			t.Fatalf("after a failed notify the next batch is %+v, want a resync from n1 first", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was sent after the failed notify")
	}
}

// stallingTransport holds its first Notify until release is closed (or
// the caller gives up), and records the payloads that went through.
type stallingTransport struct {
	quietLink
	mu      sync.Mutex
	calls   int
	stalled chan struct{}
	release chan struct{}
	sent    []string
}

func (s *stallingTransport) Notify(ctx context.Context, _, payload string) error {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		close(s.stalled)
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, payload)
	s.mu.Unlock()
	return nil
}

// A node that stops passes on the batch under way and the events still
// pending (its last turns'): the stop cut the batch short, and the rest
// was dropped, so the other nodes' consoles missed them.
func TestClusterPassesOnPendingEventsWhenItStops(t *testing.T) {
	tr := &stallingTransport{stalled: make(chan struct{}), release: make(chan struct{})}
	c := NewCluster("n1", tr, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, func(Remote) {}) }()
	c.Send(Remote{Kind: KindConversation, ID: "c_first"})
	<-tr.stalled
	c.Send(Remote{Kind: KindConversation, ID: "c_last"})
	cancel()
	time.Sleep(50 * time.Millisecond) // the stop reaches the sender while the first batch is under way
	close(tr.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var got []string
	for _, p := range tr.sent {
		var batch []Remote
		if err := json.Unmarshal([]byte(p), &batch); err != nil {
			t.Fatal(err)
		}
		for _, ev := range batch {
			got = append(got, string(ev.Kind)+":"+ev.ID)
		}
	}
	if strings.Join(got, " ") != "conversation:c_first conversation:c_last" {
		t.Fatalf("sent at shutdown: %v, want c_first and c_last", got)
	}
}
