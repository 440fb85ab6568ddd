package conversation

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustLock(t *testing.T, l *convLocks, id string) func() {
	unlock, err := l.lock(context.Background(), id)
	if err != nil {
		t.Error(err)
		return func() {}
	}
	return unlock
}

// waitersParked waits until n goroutines are parked in convLocks.lock.
func waitersParked(t *testing.T, n int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); ; {
		stacks := string(buf[:runtime.Stack(buf, true)])
		parked := 0
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "[select") && strings.Contains(g, "(*convLocks).lock") {
				parked++
			}
		}
		if parked == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d turns parked waiting for the lock, want %d", parked, n)
		}
		time.Sleep(time.Millisecond)
	}
}

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
			unlocks = append(unlocks, mustLock(t, l, fmt.Sprintf("conv-%d", i)))
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
	first := mustLock(t, l, "same")
	second := make(chan struct{})
	go func() {
		unlock := mustLock(t, l, "same")
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

// A conversation's turns take its lock in the order they came (a mutex let
// a newcomer barge ahead of those already waiting), and a turn whose
// request ended stops waiting (it waited on, to run for nobody) without
// taking a place from those behind it.
func TestConversationLockIsInOrderAndLetsAWaiterGo(t *testing.T) {
	l := newConvLocks()
	holder := mustLock(t, l, "c")
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	const n = 8
	gone, leave := context.WithCancel(context.Background())
	defer leave()
	left := make(chan error, 1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := mustLock(t, l, "c")
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			unlock()
		}()
		waitersParked(t, i+1)
		if i == 3 {
			// A customer who went away, in the middle of the line.
			go func() {
				_, err := l.lock(gone, "c")
				left <- err
			}()
			waitersParked(t, i+2)
			leave()
			if err := <-left; !errors.Is(err, context.Canceled) {
				t.Fatalf("a waiter whose request ended: %v, want context.Canceled", err)
			}
		}
	}
	holder()
	wg.Wait()
	if fmt.Sprint(order) != "[0 1 2 3 4 5 6 7]" {
		t.Errorf("turns took the lock in the order %v, want the order they came", order)
	}
	if got := l.held(); got != 0 {
		t.Errorf("%d locks left in the table", got)
	}
}
