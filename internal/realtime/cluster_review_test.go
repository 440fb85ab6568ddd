package realtime

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// busTransport is one PostgreSQL channel shared by every node: a
// notification reaches every listener, its sender's included.
type busTransport struct {
	mu        sync.Mutex
	listeners []func(string)
}

func (b *busTransport) Notify(_ context.Context, _, payload string) error {
	b.mu.Lock()
	ls := append([](func(string)){}, b.listeners...)
	b.mu.Unlock()
	for _, l := range ls {
		l(payload)
	}
	return nil
}

func (b *busTransport) Listen(ctx context.Context, _ string, ready func(), got func(string)) error {
	b.mu.Lock()
	b.listeners = append(b.listeners, got)
	b.mu.Unlock()
	ready()
	<-ctx.Done()
	return ctx.Err()
}

// Two processes whose default node names agree (config.NodeName is the
// host name and the port: two machines cloned from one image, both
// "localhost:8080") each take the other's events for their own and drop
// them: neither node's consoles ever hear of the other's conversations, and
// no resync says so.
func TestClusterDeliversEventsOfAnotherProcessWithTheSameNodeName(t *testing.T) {
	bus := &busTransport{}
	a := NewCluster("localhost:8080", bus, slog.New(slog.DiscardHandler))
	b := NewCluster("localhost:8080", bus, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	got := make(chan Remote, 16)
	ready := make(chan struct{}, 2)
	wg.Go(func() {
		a.Run(ctx, func(ev Remote) {
			if ev.Kind == KindResync && ev.Node == "" {
				ready <- struct{}{}
			}
		})
	})
	wg.Go(func() {
		b.Run(ctx, func(ev Remote) {
			if ev.Kind == KindResync && ev.Node == "" {
				ready <- struct{}{}
				return
			}
			got <- ev
		})
	})
	defer func() { cancel(); wg.Wait() }()
	<-ready
	<-ready
	a.Send(Remote{Kind: KindConversation, ID: "c_on_a", After: 3})
	select {
	case ev := <-got:
		if ev.ID != "c_on_a" {
			t.Fatalf("node b got %+v, want c_on_a", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("node b never heard of node a's conversation: it dropped the event as its own")
	}
}
