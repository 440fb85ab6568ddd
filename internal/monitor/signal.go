// Package monitor turns what happens into numbers and numbers into alerts:
// every turn, rating, flag, write, probe and queue sample becomes a
// Signal; signals fill one-second and one-minute windows in memory and
// per-minute rollups in the store; rules compare windows with thresholds
// and baselines; the alert manager deduplicates, groups, inhibits and
// silences what they find. It never blocks the hot path: Record takes a
// short lock and returns.
package monitor

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Kind says what a Signal reports.
type Kind uint8

// Signal kinds.
const (
	KindTurn   Kind = iota + 1 // a customer message handled by the engine
	KindWrite                  // a write to the store: ok, or failed and spooled
	KindRating                 // a customer's rating
	KindFlag                   // a "wrong answer" flag
	KindProbe                  // a synthetic check of a component
	KindQueue                  // a handoff joined or left the queue
	KindNotify                 // a notification delivered or failed
	// KindPersist is a conversation write as its turn saw it, once:
	// stored, or (Failed) spooled. The message_persisted SLO counts these;
	// KindWrite counts the store's attempts, replays included.
	KindPersist
)

// OutcomeDiverted is the outcome of a turn the posture handled without the
// bot (scoped takeover, VIP-only service, disaster-recovery mode).
const OutcomeDiverted = "diverted"

// OutcomeRefused is the outcome of a message the input firewall declined.
const OutcomeRefused = "refused"

// OutcomeThrottled is the outcome of a message refused because the posture
// throttles its source: it counts toward the source's offered traffic, so
// a flood that goes on keeps its throttle, and toward nothing else.
const OutcomeThrottled = "throttled"

// Signal is one observation.
type Signal struct {
	Kind Kind
	At   time.Time // zero means now
	// Turn: its outcome (answer, clarify, fallback, handoff, offline,
	// error), the category of the best guess, the confidence, whether the
	// customer's message was negative, its latency, where it came from.
	Outcome string
	// DivertedNotice marks a diverted turn whose reply handed the customer
	// to no one (level 1's fallback flow): not a handoff the posture caused.
	DivertedNotice bool
	Category       string
	Source         string
	Confidence     float64
	Negative       bool
	Latency        time.Duration
	// Failed: a turn that errored, a failed write or probe, a failed send.
	Failed bool
	// Flagged: a turn whose message the input firewall flagged but which
	// was handed to a person (it asked for one) rather than refused.
	Flagged bool
	// Component of a probe, write or failure: nlu, store, knowledge, notify.
	Component string
	// Spooled marks a customer message that went to the local spool (a
	// KindWrite counted apart: Writes and WriteFails count attempts, and a
	// spooled write may fail again at every replay), one signal each.
	Spooled bool
	// Rating: its stars (1–5).
	Stars int
	// About is when what a rating or flag judges was served: the flagged
	// answer, the rated conversation's start (zero: unknown). Feedback on
	// what was served before the release or posture in force (the Facts'
	// Epoch) is counted, and also counted as stale: the answer-quality
	// rules leave it out, since it says nothing about what is served now.
	About time.Time
	stale bool
	// Repeat marks a flag from a conversation that flagged another answer
	// already: counted, and left out of the rules as stale feedback is,
	// so that one customer is one vote.
	Repeat bool
	// Staffed marks a rating of a conversation that left the bot for
	// people (handed off, queued, served by an agent): counted, and left
	// out of the answer-quality rules as stale feedback is, since it judges
	// the desk and the wait as much as the bot's answers, and the rules
	// act on the bot (a category to people, a release rolled back).
	Staffed bool
	// Queue: joined (true) or left for an agent (false); Wait is how long
	// a conversation that left had waited.
	Joined bool
	Wait   time.Duration
}

// latencyBounds are the upper bounds (seconds) of the latency histogram,
// shared with the Prometheus histograms. 1.5 and 2 are there for the
// slow_turns rule (p95 over 1.5 s): with 1 and 2.5 only, the p95 of turns
// all at 1.2 s was estimated at 2.4 s and fired it, and a p95 of 2.4 s
// could read 1.25 s and not.
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5, 10}

// oldLatencyBounds are the bounds of rollups written before 1.5 and 2 were
// added (a histogram of 12 counts).
var oldLatencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram counts latencies in latencyBounds buckets (the last is +Inf).
type Histogram [14]int

// UnmarshalJSON reads a histogram, one of the older layout too: each old
// bucket's count goes to the new bucket with the same upper bound (the
// turns of (1, 2.5] to (2, 2.5]: "may exceed" stays true of them).
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var counts []int
	if err := json.Unmarshal(b, &counts); err != nil {
		return err
	}
	*h = Histogram{}
	if len(counts) == len(oldLatencyBounds)+1 {
		for i, n := range counts {
			j := len(latencyBounds) // +Inf
			if i < len(oldLatencyBounds) {
				j, _ = slices.BinarySearch(latencyBounds, oldLatencyBounds[i])
			}
			h[j] += n
		}
		return nil
	}
	copy(h[:], counts)
	return nil
}

func (h *Histogram) add(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBounds, s)
	h[i]++
}

// Over counts the latencies that may exceed limit seconds: those in a
// bucket whose upper bound is above it (exact when limit is a bound).
func (h *Histogram) Over(limit float64) int {
	n := 0
	for i, c := range h {
		if i >= len(latencyBounds) || latencyBounds[i] > limit {
			n += c
		}
	}
	return n
}

// Quantile estimates the q-quantile in seconds, interpolating in its bucket.
func (h *Histogram) Quantile(q float64) float64 {
	total := 0
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	seen := 0.0
	for i, n := range h {
		if n == 0 {
			continue
		}
		if seen+float64(n) >= rank {
			lo := 0.0
			if i > 0 {
				lo = latencyBounds[i-1]
			}
			hi := lo * 2
			if i < len(latencyBounds) {
				hi = latencyBounds[i]
			}
			return lo + (hi-lo)*(rank-seen)/float64(n)
		}
		seen += float64(n)
	}
	return latencyBounds[len(latencyBounds)-1]
}

// Group is the turn and feedback counts of a category, or of everything.
type Group struct {
	Turns     int     `json:"turns"`
	Answered  int     `json:"answered"`
	Fallback  int     `json:"fallback"`
	Handoff   int     `json:"handoff"`
	Offline   int     `json:"offline"`
	Clarify   int     `json:"clarify"`
	Errors    int     `json:"errors"`
	Negative  int     `json:"negative"`
	ConfSum   float64 `json:"conf_sum"`
	ConfN     int     `json:"conf_n"`
	Ratings   int     `json:"ratings"`
	StarsSum  int     `json:"stars_sum"`
	LowRating int     `json:"low_ratings"`
	Flags     int     `json:"flags"`
	// StaleLowRating and StaleFlags count the low ratings and flags among
	// those above that judge what was served before the release or
	// posture in force when they came (Signal.About); StaleLowRating also
	// the low ratings of conversations people served (Signal.Staffed),
	// StaleFlags the further flags of a conversation already counted
	// (Signal.Repeat). The answer-quality rules leave both out.
	StaleLowRating int `json:"stale_low_ratings,omitempty"`
	StaleFlags     int `json:"stale_flags,omitempty"`
	// Diverted counts turns the posture sent elsewhere (a human, the
	// offline form) without asking the bot: they say nothing about the
	// bot's quality and are left out of Turns.
	Diverted int `json:"diverted"`
	// DivertedNotice counts the diverted turns among Diverted that went to
	// no person nor the offline form (a fallback flow's notice).
	DivertedNotice int `json:"diverted_notice,omitempty"`
	// Refused counts messages the input firewall declined (prompt
	// injection, jailbreaks, harmful requests): a signal of attack, left
	// out of Turns like Diverted. A flagged message that asked for a
	// person was handed over, not declined: it counts here as the same
	// signal, and in Turns as the handoff it was (Signal.Flagged).
	Refused int `json:"refused"`
	// Throttled counts messages refused while the posture throttled their
	// source (OutcomeThrottled): left out of Turns and of the latency.
	Throttled int `json:"throttled,omitempty"`
}

func (g *Group) add(o *Group) {
	g.Turns += o.Turns
	g.Answered += o.Answered
	g.Fallback += o.Fallback
	g.Handoff += o.Handoff
	g.Offline += o.Offline
	g.Clarify += o.Clarify
	g.Errors += o.Errors
	g.Negative += o.Negative
	g.ConfSum += o.ConfSum
	g.ConfN += o.ConfN
	g.Ratings += o.Ratings
	g.StarsSum += o.StarsSum
	g.LowRating += o.LowRating
	g.Flags += o.Flags
	g.StaleLowRating += o.StaleLowRating
	g.StaleFlags += o.StaleFlags
	g.Diverted += o.Diverted
	g.DivertedNotice += o.DivertedNotice
	g.Refused += o.Refused
	g.Throttled += o.Throttled
}

// AnswerRate is the share of turns answered from the knowledge base.
func (g *Group) AnswerRate() float64 { return ratio(g.Answered, g.Turns) }

// MeanConfidence is the mean confidence of the turns that had one.
func (g *Group) MeanConfidence() float64 {
	if g.ConfN == 0 {
		return 0
	}
	return g.ConfSum / float64(g.ConfN)
}

// MeanStars is the mean rating, 0 without ratings.
func (g *Group) MeanStars() float64 { return ratio(g.StarsSum, g.Ratings) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Probe is the result count of a component's probes.
type Probe struct {
	OK      int       `json:"ok"`
	Failed  int       `json:"failed"`
	Latency Histogram `json:"latency"`
}

// Counts aggregate the signals of a span of time.
type Counts struct {
	All        Group             `json:"all"`
	Categories map[string]*Group `json:"categories,omitempty"`
	Sources    map[string]int    `json:"sources,omitempty"`
	Latency    Histogram         `json:"latency"`
	Writes     int               `json:"writes"`
	WriteFails int               `json:"write_fails"`
	Spooled    int               `json:"spooled,omitempty"`
	// Persisted and PersistFails count KindPersist: every conversation
	// write once, at its turn, and those that went to the spool.
	Persisted    int               `json:"persisted,omitempty"`
	PersistFails int               `json:"persist_fails,omitempty"`
	Probes       map[string]*Probe `json:"probes,omitempty"`
	Queued       int               `json:"queued"`
	Served       int               `json:"served"`
	WaitSum      float64           `json:"wait_sum"` // seconds, of the served
	Notified     int               `json:"notified"`
	NotifyFail   int               `json:"notify_fail"`
}

// maxKeys bounds the categories and sources a span keeps apart; the rest
// count under "other".
const maxKeys = 64

func (c *Counts) category(name string) *Group {
	if name == "" {
		return nil
	}
	if c.Categories == nil {
		c.Categories = map[string]*Group{}
	}
	g := c.Categories[name]
	if g == nil {
		if len(c.Categories) >= maxKeys {
			name = "other"
			if g = c.Categories[name]; g != nil {
				return g
			}
		}
		g = &Group{}
		c.Categories[name] = g
	}
	return g
}

func (c *Counts) probe(name string) *Probe {
	if c.Probes == nil {
		c.Probes = map[string]*Probe{}
	}
	p := c.Probes[name]
	if p == nil {
		p = &Probe{}
		c.Probes[name] = p
	}
	return p
}

func (c *Counts) record(s *Signal) {
	switch s.Kind {
	case KindTurn:
		var one Group
		one.Turns = 1
		switch s.Outcome {
		case OutcomeDiverted:
			one.Turns, one.Diverted = 0, 1
			if s.DivertedNotice {
				one.DivertedNotice = 1
			}
		case OutcomeRefused:
			one.Turns, one.Refused = 0, 1
		case OutcomeThrottled:
			one.Turns, one.Throttled = 0, 1
		case "answer":
			one.Answered = 1
		case "fallback":
			one.Fallback = 1
		case "handoff":
			one.Handoff = 1
		case "offline":
			one.Offline = 1
		case "clarify":
			one.Clarify = 1
		}
		if s.Flagged && s.Outcome != OutcomeRefused {
			one.Refused = 1
		}
		if s.Failed {
			one.Errors = 1
		}
		if s.Negative {
			one.Negative = 1
		}
		if s.Confidence > 0 {
			one.ConfSum, one.ConfN = s.Confidence, 1
		}
		c.All.add(&one)
		if g := c.category(s.Category); g != nil {
			g.add(&one)
		}
		if s.Outcome != OutcomeThrottled { // refused at the door: no turn to time
			c.Latency.add(s.Latency)
		}
		if s.Source != "" {
			if c.Sources == nil {
				c.Sources = map[string]int{}
			}
			src := s.Source
			if _, ok := c.Sources[src]; !ok && len(c.Sources) >= maxKeys {
				src = "other"
			}
			c.Sources[src]++
		}
	case KindWrite:
		if s.Spooled {
			c.Spooled++
			break
		}
		c.Writes++
		if s.Failed {
			c.WriteFails++
		}
	case KindPersist:
		c.Persisted++
		if s.Failed {
			c.PersistFails++
		}
	case KindRating:
		low := 0
		if s.Stars <= 2 {
			low = 1
		}
		one := Group{Ratings: 1, StarsSum: s.Stars, LowRating: low}
		if s.stale || s.Staffed {
			one.StaleLowRating = low
		}
		c.All.add(&one)
		if g := c.category(s.Category); g != nil {
			g.add(&one)
		}
	case KindFlag:
		one := Group{Flags: 1}
		if s.stale || s.Repeat {
			one.StaleFlags = 1
		}
		c.All.add(&one)
		if g := c.category(s.Category); g != nil {
			g.add(&one)
		}
	case KindProbe:
		p := c.probe(s.Component)
		if s.Failed {
			p.Failed++
		} else {
			p.OK++
		}
		p.Latency.add(s.Latency)
	case KindQueue:
		if s.Joined {
			c.Queued++
		} else {
			c.Served++
			c.WaitSum += s.Wait.Seconds()
		}
	case KindNotify:
		c.Notified++
		if s.Failed {
			c.NotifyFail++
		}
	}
}

// Add merges o into c.
func (c *Counts) Add(o *Counts) {
	c.All.add(&o.All)
	for name, g := range o.Categories {
		c.category(name).add(g)
	}
	for src, n := range o.Sources {
		if c.Sources == nil {
			c.Sources = map[string]int{}
		}
		c.Sources[src] += n
	}
	for i := range c.Latency {
		c.Latency[i] += o.Latency[i]
	}
	c.Writes += o.Writes
	c.WriteFails += o.WriteFails
	c.Spooled += o.Spooled
	c.Persisted += o.Persisted
	c.PersistFails += o.PersistFails
	for name, p := range o.Probes {
		q := c.probe(name)
		q.OK += p.OK
		q.Failed += p.Failed
		for i := range q.Latency {
			q.Latency[i] += p.Latency[i]
		}
	}
	c.Queued += o.Queued
	c.Served += o.Served
	c.WaitSum += o.WaitSum
	c.Notified += o.Notified
	c.NotifyFail += o.NotifyFail
}

// Category returns a category's counts (zero if none).
func (c *Counts) Category(name string) Group {
	if g := c.Categories[name]; g != nil {
		return *g
	}
	return Group{}
}

// roundTo keeps JSON small and stable.
func roundTo(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// DurationZH writes d in Chinese ("15 秒", "5 分钟", "1 小时 30 分钟"):
// Go's "1h0m0s" in a Chinese alert read as code.
func DurationZH(d time.Duration) string {
	if d <= 0 {
		return "0 秒"
	}
	var parts []string
	if h := d / time.Hour; h > 0 {
		parts = append(parts, fmt.Sprintf("%d 小时", h))
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		parts = append(parts, fmt.Sprintf("%d 分钟", m))
		d -= m * time.Minute
	}
	if d > 0 {
		s := d.Seconds()
		if s == float64(int64(s)) {
			parts = append(parts, fmt.Sprintf("%d 秒", int64(s)))
		} else {
			parts = append(parts, fmt.Sprintf("%.1f 秒", s))
		}
	}
	return strings.Join(parts, " ")
}
