package monitor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
)

// node is one Steward node's monitor and alert manager over a shared store.
type peerNode struct {
	mon    *monitor.Monitor
	alerts *monitor.Manager
	mu     sync.Mutex
	sent   []string // alert groups notified
}

func (n *peerNode) notified() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.sent...)
}

func startPeer(t *testing.T, ctx context.Context, db monitor.PeerStore, rollups monitor.RollupStore, name string, leads bool) *peerNode {
	n := &peerNode{}
	n.alerts = monitor.NewManager(monitor.ManagerOptions{
		Route:   monitor.AlertRoute{GroupWait: 10 * time.Millisecond},
		Leading: func() bool { return leads },
		Notify: func(g monitor.AlertGroup) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.sent = append(n.sent, g.Key)
		},
		Logger: quietLogger(),
	})
	n.mon = monitor.New(monitor.Options{Node: name, Peers: db, Rollups: rollups, Alerts: n.alerts,
		Rules: only(rule("bot_errors")), SLOs: []monitor.SLO{}, Logger: quietLogger(),
		Interval: 20 * time.Millisecond, ShareEvery: 20 * time.Millisecond, RollupEvery: 50 * time.Millisecond})
	var wg sync.WaitGroup
	rctx, cancel := context.WithCancel(ctx)
	wg.Go(func() { n.mon.Run(rctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func firing(m *monitor.Manager, name string) bool {
	for _, a := range m.Active() {
		if a.Name() == name {
			return true
		}
	}
	return false
}

// Errors on a follower alone raise the alert everywhere: every node adds
// the others' shared seconds to its windows, so every console lists it,
// and only the leader notifies. A node that joins later reads the history
// it needs at once, by the second and by the minute.
func TestPeersShareTheirSignals(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	leader := startPeer(t, ctx, db, db, "leader", true)
	follower := startPeer(t, ctx, db, db, "follower", false)

	at := time.Now()
	turns(follower.mon, at, 8, monitor.Signal{Outcome: "error", Failed: true})
	turns(follower.mon, at, 2, monitor.Signal{Outcome: "answer"})
	eventually(t, "the leader's window holds the follower's turns", func() bool {
		c := leader.mon.Window(time.Now(), 15*time.Second)
		return c.All.Turns == 10 && c.All.Errors == 8
	})
	eventually(t, "bot_errors fires on the leader", func() bool { return firing(leader.alerts, "bot_errors") })
	eventually(t, "bot_errors fires on the follower", func() bool { return firing(follower.alerts, "bot_errors") })
	eventually(t, "the leader notifies", func() bool { return len(leader.notified()) == 1 })
	if got := follower.notified(); len(got) != 0 {
		t.Fatalf("the follower notified %q: only the leader may", got)
	}
	// The leader's own signals are counted once, not again as a peer's.
	if c := leader.mon.Window(time.Now(), 15*time.Second); c.All.Turns != 10 {
		t.Fatalf("the leader's window holds %d turns, want 10", c.All.Turns)
	}

	late := startPeer(t, ctx, db, db, "late", false)
	eventually(t, "a node started later sees the history by the second", func() bool {
		return late.mon.Window(time.Now(), 10*time.Minute).All.Turns == 10
	})
	eventually(t, "and by the minute", func() bool {
		return late.mon.Window(time.Now(), 2*time.Hour).All.Errors == 8
	})
}
