package conversation

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Turns of different conversations never wait for each other, however
// many are under way; turns of one conversation run one at a time; a
// conversation's mutex leaves the table with its last turn.
func TestConversationLocksAreTheirOwn(t *testing.T) {
	l := newConvLocks()
	const n = 2000 // far more than any fixed set of stripes would keep apart
	done := make(chan []func())
	go func() {
		var unlocks []func()
		for i := range n {
			unlocks = append(unlocks, l.lock(fmt.Sprintf("conv-%d", i)))
		}
		done <- unlocks
	}()
	var unlocks []func()
	select {
	case unlocks = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("holding %d different conversations' locks at once blocked: two of them share a mutex", n)
	}
	if got := l.held(); got != n {
		t.Errorf("%d locks in the table while %d conversations hold one", got, n)
	}

	// One conversation: the second turn waits for the first.
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	first := l.lock("same")
	second := make(chan struct{})
	go func() {
		unlock := l.lock("same")
		note("second")
		unlock()
		close(second)
	}()
	time.Sleep(50 * time.Millisecond)
	note("first")
	first()
	<-second
	if fmt.Sprint(order) != "[first second]" {
		t.Errorf("turns of one conversation ran as %v, want the first to end before the second begins", order)
	}

	for _, u := range unlocks {
		u()
	}
	if got := l.held(); got != 0 {
		t.Errorf("%d locks left in the table after every turn ended", got)
	}
}
