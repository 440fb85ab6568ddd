package monitor

import (
	"context"
	"time"
)

// With several nodes on one database, each node records only its own
// signals. To judge the service as a whole, every node shares its
// per-second counts through the store (PeerStore) and reads the others'
// back: every ShareEvery it saves the seconds that changed and replaces
// its copy of the other nodes' recent seconds, and every RollupEvery their
// recent minutes (the rollups they write anyway). On its first exchange it
// reads all it can hold: a node that takes the lead judges with the same
// history as the one it replaces.

// peerLag is how far back each exchange rereads the other nodes' seconds:
// a node shares a second up to ShareEvery after it began, and may share it
// again if a late signal changed it.
const peerLag = 15 * time.Second

// shareTimeout bounds one exchange, so a hanging database delays the
// sharing, never the rules (which run in Run's loop).
const shareTimeout = 2 * time.Second

// exchange is the sharing loop's memory between rounds.
type exchange struct {
	loaded    bool      // the full history has been read once
	minutesAt time.Time // the peers' minutes were last read then
	failing   bool      // the last round failed (logged once)
}

// share exchanges counts with the other nodes until ctx is done.
func (m *Monitor) share(ctx context.Context) {
	tick := time.NewTicker(m.opts.ShareEvery)
	defer tick.Stop()
	var x exchange
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, shareTimeout)
		err := m.push(sctx)
		if err == nil {
			err = m.pull(sctx, m.opts.Now(), &x)
		}
		cancel()
		switch {
		case err != nil && !x.failing && ctx.Err() == nil:
			m.logger.Warn("cannot exchange signals with the other nodes: the rules see this node's alone", "error", err)
			x.failing = true
		case err == nil && x.failing:
			m.logger.Info("exchanging signals with the other nodes again")
			x.failing = false
		}
	}
}

// push saves this node's seconds that changed since the last push.
func (m *Monitor) push(ctx context.Context) error {
	return m.saveChanged(m.local.seconds[:], time.Second, func(changed []Sample) error {
		return m.opts.Peers.SaveSeconds(ctx, m.opts.Node, changed)
	})
}

// pull replaces this node's copy of the other nodes' recent counts.
func (m *Monitor) pull(ctx context.Context, now time.Time, x *exchange) error {
	after := now.Add(-peerLag)
	if !x.loaded {
		after = now.Add(-(secondBuckets - 2) * time.Second)
	}
	seconds, err := m.opts.Peers.PeerSeconds(ctx, m.opts.Node, after)
	if err != nil {
		return err
	}
	var minutes []Rollup
	if m.opts.Rollups != nil && (!x.loaded || now.Sub(x.minutesAt) >= m.opts.RollupEvery) {
		from := now.Add(-3 * time.Minute)
		if !x.loaded {
			from = now.Add(-(minuteBuckets - 2) * time.Minute)
		}
		rows, err := m.opts.Rollups.Rollups(ctx, from.Truncate(time.Minute), now.Add(time.Minute))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Node != m.opts.Node {
				minutes = append(minutes, r)
			}
		}
		x.minutesAt = now
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range seconds {
		p := m.peer(s.Node)
		sec := s.At.Unix()
		if b := &p.seconds[sec%secondBuckets]; b.at <= sec {
			*b = bucket{at: sec, counts: s.Counts}
		}
		p.latest = max(p.latest, sec)
	}
	for _, r := range minutes {
		p := m.peer(r.Node)
		mi := r.Minute.Unix() / 60
		if b := &p.minutes[mi%minuteBuckets]; b.at <= mi {
			*b = bucket{at: mi, counts: r.Counts}
		}
		p.latest = max(p.latest, mi*60)
	}
	// A node gone for longer than the longest window is forgotten, so
	// nodes that come and go (new names at each deployment) cost nothing.
	for name, p := range m.peers {
		if now.Unix()-p.latest > int64((minuteBuckets-2)*60) {
			delete(m.peers, name)
		}
	}
	x.loaded = true
	return nil
}

// peer returns the rings of node, made on first use; m.mu is held.
func (m *Monitor) peer(node string) *rings {
	p := m.peers[node]
	if p == nil {
		p = &rings{}
		m.peers[node] = p
	}
	return p
}
