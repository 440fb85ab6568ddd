package monitor

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Ring sizes: one-second buckets for the short windows, one-minute
// buckets for the SLO windows (6 h) and the rollups.
const (
	secondBuckets = 15 * 60
	minuteBuckets = 7 * 60
)

type bucket struct {
	at     int64 // unix second (or minute) the bucket holds; 0 if empty
	dirty  bool  // minute buckets: changed since the last rollup
	counts Counts
}

// rings hold one node's signals: one-second buckets for the short windows,
// one-minute buckets for the SLO windows and the rollups.
type rings struct {
	seconds [secondBuckets]bucket
	minutes [minuteBuckets]bucket
	latest  int64 // peers: the unix second of the newest count received
}

// sum adds the buckets in (from, to] to c: by the second or by the minute.
func (r *rings) sum(c *Counts, from, to time.Time, bySecond bool) {
	if bySecond {
		lo, hi := from.Unix(), to.Unix()
		for s := lo + 1; s <= hi; s++ {
			if b := &r.seconds[s%secondBuckets]; b.at == s {
				c.Add(&b.counts)
			}
		}
		return
	}
	lo, hi := from.Unix()/60, to.Unix()/60
	for mi := lo + 1; mi <= hi; mi++ {
		if b := &r.minutes[mi%minuteBuckets]; b.at == mi {
			c.Add(&b.counts)
		}
	}
}

// Rollup is one node's counts of one minute, as stored.
type Rollup struct {
	Minute time.Time `json:"minute"`
	Node   string    `json:"node"`
	Counts Counts    `json:"counts"`
}

// RollupStore keeps the per-minute history.
type RollupStore interface {
	SaveRollups(ctx context.Context, rollups []Rollup) error
	Rollups(ctx context.Context, from, to time.Time) ([]Rollup, error)
}

// Sample is one node's counts of one second, as shared with the others.
type Sample struct {
	At     time.Time `json:"at"`
	Node   string    `json:"node"`
	Counts Counts    `json:"counts"`
}

// PeerStore shares the nodes' per-second counts. With several nodes, each
// saves its seconds there and reads the others', so that the rules (and
// the console's figures) cover every node's signals whichever node
// evaluates them; the minutes come from the rollups.
type PeerStore interface {
	SaveSeconds(ctx context.Context, node string, seconds []Sample) error
	// PeerSeconds returns the seconds after after of the nodes but node.
	PeerSeconds(ctx context.Context, node string, after time.Time) ([]Sample, error)
}

// Prober checks one component; an error (or exceeding its timeout) fails it.
type Prober func(ctx context.Context) error

// Options configure a Monitor.
type Options struct {
	Node    string
	Rollups RollupStore // optional
	Rules   []Rule      // nil: DefaultRules
	SLOs    []SLO       // nil: DefaultSLOs
	Probes  map[string]Prober
	Facts   Facts
	Alerts  *Manager // optional: receives every evaluation
	// Peers, if set, shares this node's signals with the other nodes and
	// adds theirs to every window (several nodes on one database). Every
	// node then evaluates the same rules over the same figures; only the
	// leader's alert manager notifies (ManagerOptions.Leading).
	Peers PeerStore
	// Interval between rule evaluations (default 1s); RollupEvery between
	// rollup writes (default 10s); ProbeTimeout per probe (default 2s);
	// ShareEvery between exchanges with the peers (default 1s).
	Interval, RollupEvery, ProbeTimeout, ShareEvery time.Duration
	Metrics                                         *Metrics // optional
	Logger                                          *slog.Logger
	Now                                             func() time.Time
}

// Monitor records signals and evaluates rules over them.
type Monitor struct {
	opts   Options
	logger *slog.Logger
	mu     sync.Mutex
	local  rings
	peers  map[string]*rings // by node name
	// probing marks the probes running, by name: a probe stuck past its
	// timeout is not started again on top of itself every tick.
	probing sync.Map // string → *probeRun
	// floods holds, by flood rule, the sources flooding at the last
	// evaluation and the limit each passed (Rule.evalFlood). Under mu.
	floods map[string]map[string]float64
	// suspects holds, by rule and category, the release an answer-quality
	// alert firing at the last evaluation blamed (Rule.releaseLabels).
	// Under mu.
	suspects map[string]int64
}

// floodLimits returns rule's flooding sources as of the last evaluation
// and, if next is not nil, replaces them with next.
func (m *Monitor) floodLimits(rule string, next map[string]float64) map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.floods[rule]
	if next != nil {
		if m.floods == nil {
			m.floods = map[string]map[string]float64{}
		}
		m.floods[rule] = next
	}
	return prev
}

// New returns a Monitor; Run starts its loop.
func New(opts Options) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.RollupEvery <= 0 {
		opts.RollupEvery = 10 * time.Second
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 2 * time.Second
	}
	if opts.ShareEvery <= 0 {
		opts.ShareEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Rules == nil {
		opts.Rules = DefaultRules()
	}
	if opts.SLOs == nil {
		opts.SLOs = DefaultSLOs()
	}
	if opts.Node == "" {
		opts.Node = "local"
	}
	return &Monitor{opts: opts, logger: opts.Logger.With("component", "monitor"), peers: map[string]*rings{}}
}

// Record adds a signal. It never blocks for long and never fails.
func (m *Monitor) Record(s Signal) {
	if s.At.IsZero() {
		s.At = m.opts.Now()
	}
	if (s.Kind == KindRating || s.Kind == KindFlag) && !s.About.IsZero() && m.opts.Facts != nil {
		s.stale = s.About.Before(m.opts.Facts.Epoch())
	}
	if m.opts.Metrics != nil {
		m.opts.Metrics.observe(&s)
	}
	sec := s.At.Unix()
	min := sec / 60
	m.mu.Lock()
	b := &m.local.seconds[sec%secondBuckets]
	if b.at != sec {
		*b = bucket{at: sec}
	}
	b.counts.record(&s)
	b.dirty = true
	mb := &m.local.minutes[min%minuteBuckets]
	if mb.at != min {
		*mb = bucket{at: min}
	}
	mb.counts.record(&s)
	mb.dirty = true
	m.mu.Unlock()
}

// Window sums the signals of the last d up to now (d ≤ 7 h; spans over 15
// minutes are summed by the minute).
func (m *Monitor) Window(now time.Time, d time.Duration) Counts {
	return m.Between(now.Add(-d), now)
}

// Between sums the signals in (from, to] held in memory: this node's and,
// with Peers, the other nodes' as last shared.
func (m *Monitor) Between(from, to time.Time) Counts {
	var c Counts
	bySecond := to.Sub(from) <= (secondBuckets-2)*time.Second && m.opts.Now().Sub(from) < (secondBuckets-2)*time.Second
	m.mu.Lock()
	defer m.mu.Unlock()
	m.local.sum(&c, from, to, bySecond)
	for _, p := range m.peers {
		p.sum(&c, from, to, bySecond)
	}
	return c
}

// FirstBad returns the start of the earliest second in the last d up to now
// in which bad held for that second's counts, this node's and the peers'
// added up; zero if none did, or d reaches beyond the one-second buckets.
// An alert uses it to say when customers were first affected, which is
// earlier than when the rule's window as a whole crossed its threshold.
func (m *Monitor) FirstBad(now time.Time, d time.Duration, bad func(*Counts) bool) time.Time {
	lo, hi := now.Add(-d).Unix(), now.Unix()
	if hi-lo > secondBuckets-2 {
		return time.Time{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := lo + 1; s <= hi; s++ {
		var c Counts
		found := false
		for _, r := range m.ringsLocked() {
			if b := &r.seconds[s%secondBuckets]; b.at == s {
				c.Add(&b.counts)
				found = true
			}
		}
		if found && bad(&c) {
			return time.Unix(s, 0)
		}
	}
	return time.Time{}
}

// ringsLocked lists this node's rings and the peers'; m.mu is held.
func (m *Monitor) ringsLocked() []*rings {
	out := make([]*rings, 0, 1+len(m.peers))
	out = append(out, &m.local)
	for _, p := range m.peers {
		out = append(out, p)
	}
	return out
}

// Run evaluates rules every Interval, runs probes and writes rollups until
// ctx is done; it writes the last rollups before returning.
func (m *Monitor) Run(ctx context.Context) {
	tick := time.NewTicker(m.opts.Interval)
	defer tick.Stop()
	lastRollup := m.opts.Now()
	var probes sync.WaitGroup
	defer func() {
		probes.Wait()
		m.flush(context.Background())
	}()
	m.loadOwn(ctx)
	if m.opts.Peers != nil {
		probes.Go(func() { m.share(ctx) })
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m.probe(ctx, &probes)
		now := m.opts.Now()
		m.Evaluate(ctx, now)
		if now.Sub(lastRollup) >= m.opts.RollupEvery {
			m.flush(ctx)
			lastRollup = now
		}
	}
}

// probeRun is a probe's call under way, if any.
type probeRun struct {
	running atomic.Bool
	since   atomic.Int64 // when it started, in Unix nanoseconds
}

// probe starts every probe that is not still running from a previous tick.
// A probe that has not answered within ProbeTimeout has failed, whether or
// not it ever returns: a component stuck in a call that ignores its
// context (a hung disk under SQLite) is down, not silent.
func (m *Monitor) probe(ctx context.Context, wg *sync.WaitGroup) {
	for name, p := range m.opts.Probes {
		v, _ := m.probing.LoadOrStore(name, new(probeRun))
		run := v.(*probeRun)
		if !run.running.CompareAndSwap(false, true) {
			// Still running. Past its timeout it has failed already, and it
			// fails again every tick it stays stuck: one failure per hang
			// never made the three that component_down asks for.
			if since := m.opts.Now().Sub(time.Unix(0, run.since.Load())); since > m.opts.ProbeTimeout {
				m.Record(Signal{Kind: KindProbe, Component: name, Failed: true, Latency: since})
			}
			continue
		}
		run.since.Store(m.opts.Now().UnixNano())
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, m.opts.ProbeTimeout)
			defer cancel()
			start := m.opts.Now()
			done := make(chan error, 1)
			go func() {
				defer run.running.Store(false)
				done <- p(pctx)
			}()
			var err error
			select {
			case err = <-done:
			case <-pctx.Done():
				err = pctx.Err()
			}
			if ctx.Err() != nil {
				return
			}
			m.Record(Signal{Kind: KindProbe, Component: name, Failed: err != nil, Latency: m.opts.Now().Sub(start)})
		})
	}
}

// Evaluate runs the rules at now and hands their findings to the alert
// manager.
func (m *Monitor) Evaluate(ctx context.Context, now time.Time) []Alert {
	var found []Alert
	for _, r := range m.opts.Rules {
		if r.Disabled {
			continue
		}
		found = append(found, r.eval(m, now)...)
	}
	for _, s := range m.opts.SLOs {
		found = append(found, s.eval(m, now)...)
	}
	suspects := map[string]int64{}
	for i := range found {
		a := &found[i]
		a.Labels["level"] = a.Level
		a.Fingerprint = Fingerprint(a.Labels)
		a.Status = StatusFiring
		if a.Labels["after_release"] == "true" {
			if id, err := strconv.ParseInt(a.Labels["release"], 10, 64); err == nil {
				suspects[suspectKey(a.Labels["alertname"], a.Labels["category"])] = id
			}
		}
	}
	m.mu.Lock()
	m.suspects = suspects
	m.mu.Unlock()
	if m.opts.Metrics != nil {
		m.opts.Metrics.setFiring(found)
	}
	if m.opts.Alerts != nil {
		m.opts.Alerts.Evaluate(ctx, now, found)
	}
	return found
}

// suspectKey names an answer-quality alert apart from its release labels.
func suspectKey(rule, category string) string { return rule + "\x00" + category }

// suspected reports whether rule's alert for category fired at the last
// evaluation blaming release id.
func (m *Monitor) suspected(rule, category string, id int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	got, ok := m.suspects[suspectKey(rule, category)]
	return ok && got == id
}

// loadOwn reads back the minutes this node's previous run stored: a
// restart forgot its own history (the other nodes' is read from the store,
// this node's was taken to be in memory), so the hour and six-hour windows
// began again from nothing, and the first flush overwrote the minute of the
// restart with the counts since it. A stored minute that this run has
// counts for already is added to them.
func (m *Monitor) loadOwn(ctx context.Context) {
	if m.opts.Rollups == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, shareTimeout)
	defer cancel()
	now := m.opts.Now()
	rows, err := m.opts.Rollups.Rollups(ctx, now.Add(-(minuteBuckets-2)*time.Minute).Truncate(time.Minute), now.Add(time.Minute))
	if err != nil {
		m.logger.Warn("read this node's earlier signals: its long windows start empty", "error", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		if r.Node != m.opts.Node {
			continue
		}
		mi := r.Minute.Unix() / 60
		b := &m.local.minutes[mi%minuteBuckets]
		switch {
		case b.at == mi:
			b.counts.Add(&r.Counts)
			b.dirty = true
		case b.at < mi:
			*b = bucket{at: mi, counts: r.Counts}
		}
	}
}

// flush writes the minutes that changed since the last flush.
func (m *Monitor) flush(ctx context.Context) {
	if m.opts.Rollups == nil {
		return
	}
	err := m.saveChanged(m.local.minutes[:], time.Minute, func(changed []Sample) error {
		out := make([]Rollup, len(changed))
		for i, s := range changed {
			out[i] = Rollup{Minute: s.At, Node: s.Node, Counts: s.Counts}
		}
		return m.opts.Rollups.SaveRollups(ctx, out)
	})
	if err != nil {
		m.logger.Warn("save rollups", "error", err)
	}
}

// saveChanged hands save copies of the buckets of ring (each span long)
// changed since the last save, and marks them changed again if save
// fails, so the next save tries them again.
func (m *Monitor) saveChanged(ring []bucket, span time.Duration, save func([]Sample) error) error {
	per := int64(span / time.Second)
	var changed []Sample
	m.mu.Lock()
	for i := range ring {
		if b := &ring[i]; b.dirty {
			var c Counts
			c.Add(&b.counts)
			changed = append(changed, Sample{At: time.Unix(b.at*per, 0).UTC(), Node: m.opts.Node, Counts: c})
			b.dirty = false
		}
	}
	m.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	err := save(changed)
	if err != nil {
		m.mu.Lock()
		for _, s := range changed {
			at := s.At.Unix() / per
			if b := &ring[at%int64(len(ring))]; b.at == at {
				b.dirty = true
			}
		}
		m.mu.Unlock()
	}
	return err
}

// Flush writes pending rollups now (for a postmortem about to read them).
func (m *Monitor) Flush(ctx context.Context) { m.flush(ctx) }

// History sums the stored rollups of every node per minute in [from, to).
func (m *Monitor) History(ctx context.Context, from, to time.Time) ([]Rollup, error) {
	if m.opts.Rollups == nil {
		return nil, nil
	}
	rows, err := m.opts.Rollups.Rollups(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []Rollup
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].Minute.Equal(r.Minute) {
			out[n-1].Counts.Add(&r.Counts)
			continue
		}
		var c Counts
		c.Add(&r.Counts)
		out = append(out, Rollup{Minute: r.Minute, Node: "all", Counts: c})
	}
	return out, nil
}
