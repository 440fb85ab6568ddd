package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type failFirst struct {
	*busTransport
	n atomic.Int32
}

func (f *failFirst) Notify(ctx context.Context, ch, payload string) error {
	if f.n.Add(1) == 1 {
		return errors.New("connection reset")
	}
	return f.busTransport.Notify(ctx, ch, payload)
}

// The resync a node asks for after an event it could not send is not
// taken for a process's own by another process of the same node name (two
// machines cloned from one image): it carried no instance id, and the
// twin dropped it, so its consoles never caught up.
func TestATwinOfTheSameNameHearsTheResync(t *testing.T) {
	bus := &busTransport{}
	a := NewCluster("localhost:8080", &failFirst{busTransport: bus}, slog.New(slog.DiscardHandler))
	b := NewCluster("localhost:8080", bus, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ready := make(chan struct{}, 2)
	got := make(chan Remote, 16)
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
	a.Send(Remote{Kind: KindConversation, ID: "c_lost"}) // this notify fails: lost
	time.Sleep(500 * time.Millisecond)                   // a retries: resync alone
	a.Send(Remote{Kind: KindConversation, ID: "c_next"})
	var seen []Remote
	timeout := time.After(2 * time.Second)
loop:
	for {
		select {
		case ev := <-got:
			seen = append(seen, ev)
		case <-timeout:
			break loop
		}
	}
	for _, ev := range seen {
		if ev.Kind == KindResync {
			return
		}
	}
	t.Fatal("b never got the resync a sent after losing c_lost")
}
