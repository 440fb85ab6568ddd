package monitor_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
)

// fakeFacts are the facts a rule test controls.
type fakeFacts struct {
	release   int64
	activated time.Time
	epoch     time.Time
	queue     monitor.QueueState
	failing   map[string]string
	returned  bool // the release was gone back to
}

func (f *fakeFacts) Release() (int64, time.Time) { return f.release, f.activated }
func (f *fakeFacts) SuspectRelease() (int64, time.Time) {
	if f.returned {
		return 0, time.Time{}
	}
	return f.release, f.activated
}
func (f *fakeFacts) Queue() monitor.QueueState          { return f.queue }
func (f *fakeFacts) FailingChannels() map[string]string { return f.failing }
func (f *fakeFacts) Epoch() time.Time {
	if f.epoch.After(f.activated) {
		return f.epoch
	}
	return f.activated
}

// names returns "alertname{key=value}" for each alert, sorted.
func names(alerts []monitor.Alert, key string) []string {
	var out []string
	for _, a := range alerts {
		s := a.Name()
		if key != "" {
			s += "{" + key + "=" + a.Labels[key] + "}"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func turns(m *monitor.Monitor, at time.Time, n int, s monitor.Signal) {
	for i := range n {
		s.Kind, s.At = monitor.KindTurn, at.Add(time.Duration(i)*time.Millisecond)
		m.Record(s)
	}
}

func only(rule monitor.Rule) []monitor.Rule { return []monitor.Rule{rule} }

func rule(name string) monitor.Rule {
	for _, r := range monitor.DefaultRules() {
		if r.Name == name {
			return r
		}
	}
	panic(name)
}

func TestRules(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	type step struct {
		record func(m *monitor.Monitor)
		at     time.Duration
		want   []string
	}
	cases := []struct {
		name  string
		rules []monitor.Rule
		facts *fakeFacts
		key   string
		steps []step
	}{
		{name: "error rate fires over the threshold and resolves when the window passes", rules: only(rule("bot_errors")), key: "component",
			steps: []step{
				{record: func(m *monitor.Monitor) { turns(m, t0, 40, monitor.Signal{Outcome: "answer"}) }, at: 2 * time.Second, want: nil},
				{record: func(m *monitor.Monitor) {
					turns(m, t0.Add(3*time.Second), 4, monitor.Signal{Outcome: "handoff", Failed: true, Component: "nlu"})
				}, at: 4 * time.Second, want: []string{"bot_errors{component=bot}"}},
				{at: 25 * time.Second, want: nil},
			}},
		{name: "too few turns never page", rules: only(rule("bot_errors")),
			steps: []step{{record: func(m *monitor.Monitor) {
				turns(m, t0, 3, monitor.Signal{Outcome: "error", Failed: true})
			}, at: time.Second, want: nil}}},
		{name: "a category's answer rate drop is found against its baseline", rules: only(rule("answer_rate_drop")), key: "category",
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for s := range 60 {
						turns(m, t0.Add(time.Duration(s)*time.Second), 2, monitor.Signal{Outcome: "answer", Category: "refund", Confidence: 0.9})
						turns(m, t0.Add(time.Duration(s)*time.Second), 2, monitor.Signal{Outcome: "answer", Category: "shipping", Confidence: 0.9})
					}
				}, at: 60 * time.Second, want: nil},
				{record: func(m *monitor.Monitor) {
					for s := range 10 {
						at := t0.Add(time.Duration(61+s) * time.Second)
						turns(m, at, 2, monitor.Signal{Outcome: "fallback", Category: "refund", Confidence: 0.2})
						turns(m, at, 2, monitor.Signal{Outcome: "answer", Category: "shipping", Confidence: 0.9})
					}
				}, at: 71 * time.Second, want: []string{"answer_rate_drop{category=all}", "answer_rate_drop{category=refund}"}},
			}},
		{name: "a drop right after a release is labelled with it", rules: only(rule("answer_rate_drop")), key: "after_release",
			facts: &fakeFacts{release: 7, activated: t0.Add(60 * time.Second)},
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for s := range 60 {
						turns(m, t0.Add(time.Duration(s)*time.Second), 2, monitor.Signal{Outcome: "answer", Category: "refund"})
					}
					for s := range 10 {
						turns(m, t0.Add(time.Duration(61+s)*time.Second), 2, monitor.Signal{Outcome: "fallback", Category: "refund"})
					}
				}, at: 71 * time.Second, want: []string{"answer_rate_drop{after_release=true}", "answer_rate_drop{after_release=true}"}},
			}},
		{name: "flags in one category fire for it alone", rules: only(rule("wrong_answer_flags")), key: "category",
			facts: &fakeFacts{},
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for i := range 3 {
						m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(time.Duration(i) * time.Second)})
					}
					m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "shipping", At: t0})
				}, at: 5 * time.Second, want: []string{"wrong_answer_flags{category=refund}"}},
			}},
		{name: "flags after a release are laid at its door, even minutes later", rules: only(rule("wrong_answer_flags")), key: "after_release",
			facts: &fakeFacts{release: 2, activated: t0},
			steps: []step{{record: func(m *monitor.Monitor) {
				for i := range 3 {
					m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(time.Duration(120+i) * time.Second)})
				}
			}, at: 125 * time.Second, want: []string{"wrong_answer_flags{after_release=true}"}}}},
		// The mark is decided when the alert begins and kept while it fires
		// on: decided again at every evaluation, it fell away ten minutes
		// after the release, and the alert changed identity (a resolved
		// page while quality was still bad, a pending rollback withdrawn).
		{name: "an alert that began after a release stays laid at its door while it fires", rules: only(rule("wrong_answer_flags")), key: "after_release",
			facts: &fakeFacts{release: 2, activated: t0},
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for i := range 3 {
						m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(9*time.Minute + time.Duration(i)*time.Second)})
					}
				}, at: 9*time.Minute + 5*time.Second, want: []string{"wrong_answer_flags{after_release=true}"}},
				{record: func(m *monitor.Monitor) {
					for i := range 3 {
						m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(10*time.Minute + time.Duration(i)*30*time.Second)})
					}
				}, at: 11*time.Minute + 5*time.Second, want: []string{"wrong_answer_flags{after_release=true}"}},
				{at: 20 * time.Minute, want: nil},
				{record: func(m *monitor.Monitor) {
					for i := range 3 {
						m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(25*time.Minute + time.Duration(i)*time.Second)})
					}
				}, at: 25*time.Minute + 5*time.Second, want: []string{"wrong_answer_flags{after_release=}"}},
			}},
		// The release a rollback went back to served well before: a quality
		// alert after it goes to the per-category playbook, not to another
		// rollback one good release further.
		{name: "flags after a rollback are not laid at the release gone back to", rules: only(rule("wrong_answer_flags")), key: "after_release",
			facts: &fakeFacts{release: 1, activated: t0, returned: true},
			steps: []step{{record: func(m *monitor.Monitor) {
				for i := range 3 {
					m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(time.Duration(20+i) * time.Second)})
				}
			}, at: 25 * time.Second, want: []string{"wrong_answer_flags{after_release=}"}}}},
		{name: "a new source flooding is found; steady traffic is not", rules: only(rule("traffic_flood")), key: "source",
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for s := range 30 {
						turns(m, t0.Add(time.Duration(s)*time.Second), 10, monitor.Signal{Outcome: "answer", Source: "web"})
					}
				}, at: 30 * time.Second, want: nil},
				{record: func(m *monitor.Monitor) {
					for s := range 5 {
						turns(m, t0.Add(time.Duration(31+s)*time.Second), 200, monitor.Signal{Outcome: "answer", Source: "bot-farm"})
						turns(m, t0.Add(time.Duration(31+s)*time.Second), 10, monitor.Signal{Outcome: "answer", Source: "web"})
					}
				}, at: 36 * time.Second, want: []string{"traffic_flood{source=bot-farm}"}},
			}},
		// Throttled to the rule's limit, the source is still judged on what
		// it offers: the alert (and with it the throttle) holds while the
		// flood goes on, instead of lapsing and letting it back in.
		{name: "a flood the throttle holds back still counts", rules: only(rule("traffic_flood")), key: "source",
			steps: []step{
				{record: func(m *monitor.Monitor) {
					for s := range 10 {
						at := t0.Add(time.Duration(s) * time.Second)
						turns(m, at, 50, monitor.Signal{Outcome: "answer", Source: "bot-farm"})
						turns(m, at, 150, monitor.Signal{Outcome: monitor.OutcomeThrottled, Source: "bot-farm"})
					}
				}, at: 10 * time.Second, want: []string{"traffic_flood{source=bot-farm}"}},
			}},
		{name: "one slow probe is a stall, two a slow component", rules: only(rule("component_slow")), key: "component",
			steps: []step{{record: func(m *monitor.Monitor) {
				for s := range 10 {
					latency := 20 * time.Millisecond
					if s == 4 {
						latency = 1800 * time.Millisecond
					}
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "store", Latency: latency, At: t0.Add(time.Duration(s) * time.Second)})
				}
			}, at: 10 * time.Second, want: nil}, {record: func(m *monitor.Monitor) {
				m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "store", Latency: 1200 * time.Millisecond, At: t0.Add(10500 * time.Millisecond)})
			}, at: 11 * time.Second, want: []string{"component_slow{component=store}"}}}},
		{name: "probe failures mark a component down", rules: only(rule("component_down")), key: "component",
			steps: []step{{record: func(m *monitor.Monitor) {
				for s := range 5 {
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "store", Failed: s >= 2, At: t0.Add(time.Duration(s) * time.Second)})
				}
			}, at: 5 * time.Second, want: []string{"component_down{component=store}"}}}},
		{name: "a node's clock off the database server's warns, but not at once", rules: only(rule("clock_skew")), key: "component",
			steps: []step{{record: func(m *monitor.Monitor) {
				for s := range 9 {
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "clock", Failed: true, At: t0.Add(time.Duration(s) * time.Second)})
				}
			}, at: 9 * time.Second, want: nil}, {record: func(m *monitor.Monitor) {
				for s := 9; s < 20; s++ {
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "clock", Failed: s%4 != 0, At: t0.Add(time.Duration(s) * time.Second)})
				}
			}, at: 20 * time.Second, want: []string{"clock_skew{component=clock}"}}}},
		// Each node probes its own clock ("clock@node"): one skewed node of
		// two is half of all clock probes, never more than half, and the
		// rule judged them summed.
		{name: "one node's clock off warns for that node", rules: only(rule("clock_skew")), key: "node",
			steps: []step{{record: func(m *monitor.Monitor) {
				for s := range 20 {
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "clock@n1", Failed: true, At: t0.Add(time.Duration(s) * time.Second)})
					m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "clock@n2", At: t0.Add(time.Duration(s) * time.Second)})
				}
			}, at: 20 * time.Second, want: []string{"clock_skew{node=n1}"}}}},
		{name: "the queue forecast warns before the wait passes its target", rules: only(rule("queue_wait_forecast")),
			facts: &fakeFacts{queue: monitor.QueueState{Length: 10, Agents: 2, OldestWait: time.Minute}},
			steps: []step{{record: func(m *monitor.Monitor) {
				// 60 joined and 30 served in 5 minutes: λ=0.2/s, μ=0.1/s;
				// the wait (10/0.1 = 100 s) grows by 1 s a second and
				// passes 300 s in 200 s: within the 600 s warning.
				for i := range 60 {
					m.Record(monitor.Signal{Kind: monitor.KindQueue, Joined: true, At: t0.Add(time.Duration(i*5) * time.Second)})
				}
				for i := range 30 {
					m.Record(monitor.Signal{Kind: monitor.KindQueue, Joined: false, Wait: time.Minute, At: t0.Add(time.Duration(i*10) * time.Second)})
				}
			}, at: 300 * time.Second, want: []string{"queue_wait_forecast"}}}},
		{name: "a failing notification channel raises its own alert", rules: only(rule("notifier_failing")), key: "channel",
			facts: &fakeFacts{failing: map[string]string{"ops": "503"}},
			steps: []step{{at: time.Second, want: []string{"notifier_failing{channel=ops}"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := monitor.Options{Rules: tc.rules, SLOs: []monitor.SLO{}, Now: func() time.Time { return t0.Add(time.Minute) }}
			if tc.facts != nil {
				opts.Facts = tc.facts
			}
			var clock time.Time
			opts.Now = func() time.Time { return clock }
			m := monitor.New(opts)
			for i, st := range tc.steps {
				clock = t0.Add(st.at)
				if st.record != nil {
					st.record(m)
				}
				got := names(m.Evaluate(ctx, clock), tc.key)
				if !slices.Equal(got, st.want) {
					t.Fatalf("step %d at %s: alerts %q, want %q", i, st.at, got, st.want)
				}
			}
		})
	}
}

// flaggedRefunds is a monitor with the wrong_answer_flags rule, four refund
// answers flagged a second apart from t0, and the facts whose epoch a test
// moves; *clock is its time.
func flaggedRefunds(t0 time.Time, clock *time.Time) (*monitor.Monitor, *fakeFacts) {
	facts := &fakeFacts{}
	m := monitor.New(monitor.Options{Rules: only(rule("wrong_answer_flags")), SLOs: []monitor.SLO{}, Facts: facts,
		Now: func() time.Time { return *clock }})
	for i := range 4 {
		m.Record(monitor.Signal{Kind: monitor.KindFlag, Category: "refund", At: t0.Add(time.Duration(i) * time.Second)})
	}
	return m, facts
}

// The posture change of a fakeFacts epoch restarts the quality windows:
// what customers saw before the mitigation no longer counts.
func TestQualityWindowStartsAtEpoch(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0.Add(5 * time.Second)
	m, facts := flaggedRefunds(t0, &clock)
	if got := names(m.Evaluate(context.Background(), clock), ""); len(got) != 1 {
		t.Fatalf("before the epoch: %q, want the flags alert", got)
	}
	facts.epoch = t0.Add(4 * time.Second)
	clock = t0.Add(6 * time.Second)
	if got := m.Evaluate(context.Background(), clock); len(got) != 0 {
		t.Fatalf("after the epoch: %q, want none", names(got, ""))
	}
}

// An epoch a moment after the evaluation's time (the controller changed the
// posture while the rules ran) still restarts the window: it used to be
// ignored, the whole window counted, and the alerts the change had just
// settled fired again at once.
func TestAnEpochJustAfterNowRestartsTheWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0.Add(5 * time.Second)
	m, facts := flaggedRefunds(t0, &clock)
	facts.epoch = clock.Add(time.Millisecond)
	if got := m.Evaluate(context.Background(), clock); len(got) != 0 {
		t.Fatalf("with the epoch a millisecond after now: %q, want none", names(got, ""))
	}
}

// Feedback that comes after the epoch but judges what was served before it
// (a customer rating a conversation begun before a rollback, a flag on an
// answer the old release gave) does not count against what is served now;
// it is still counted in the totals.
func TestLateFeedbackOnEarlierAnswersIsStale(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{"low_ratings", "wrong_answer_flags"} {
		t.Run(name, func(t *testing.T) {
			facts := &fakeFacts{epoch: t0.Add(10 * time.Second)}
			clock := t0.Add(20 * time.Second)
			m := monitor.New(monitor.Options{Rules: only(rule(name)), SLOs: []monitor.SLO{}, Facts: facts,
				Now: func() time.Time { return clock }})
			feedback := func(at, about time.Time) {
				s := monitor.Signal{Kind: monitor.KindFlag, Category: "returns", At: at, About: about}
				if name == "low_ratings" {
					s.Kind, s.Stars = monitor.KindRating, 1
				}
				m.Record(s)
			}
			for i := range 4 {
				feedback(t0.Add(time.Duration(12+i)*time.Second), t0.Add(time.Duration(2+i)*time.Second))
			}
			if got := m.Evaluate(context.Background(), clock); len(got) != 0 {
				t.Fatalf("late feedback on what was served before the epoch raised %q", names(got, "category"))
			}
			c := m.Window(clock, time.Minute)
			if got := c.All.Flags + c.All.LowRating; got != 4 {
				t.Errorf("the window counts %d pieces of feedback, want all 4", got)
			}
			for i := range 3 {
				feedback(t0.Add(time.Duration(16+i)*time.Second), t0.Add(time.Duration(11+i)*time.Second))
			}
			if got := names(m.Evaluate(context.Background(), clock), "category"); !slices.Equal(got, []string{name + "{category=returns}"}) {
				t.Fatalf("feedback on what is served now raised %q", got)
			}
		})
	}
}

// Low ratings of conversations people served judge the desk: they are
// counted, and do not raise the bot's low_ratings alert (which would send
// the category to the very people rated, or roll back a release).
func TestStaffedLowRatingsDoNotJudgeTheBot(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0.Add(10 * time.Second)
	m := monitor.New(monitor.Options{Rules: only(rule("low_ratings")), SLOs: []monitor.SLO{}, Now: func() time.Time { return clock }})
	for i := range 4 {
		m.Record(monitor.Signal{Kind: monitor.KindRating, Stars: 1, Category: "returns", Staffed: true, At: t0.Add(time.Duration(i) * time.Second)})
	}
	if got := m.Evaluate(context.Background(), clock); len(got) != 0 {
		t.Fatalf("low ratings of staffed conversations raised %q", names(got, "category"))
	}
	if c := m.Window(clock, time.Minute); c.All.LowRating != 4 || c.All.Ratings != 4 {
		t.Errorf("the window counts %d low of %d ratings, want 4 of 4", c.All.LowRating, c.All.Ratings)
	}
	for i := range 3 {
		m.Record(monitor.Signal{Kind: monitor.KindRating, Stars: 2, Category: "returns", At: t0.Add(time.Duration(5+i) * time.Second)})
	}
	if got := names(m.Evaluate(context.Background(), clock), "category"); !slices.Equal(got, []string{"low_ratings{category=returns}"}) {
		t.Fatalf("low ratings of the bot's own conversations raised %q", got)
	}
}

// The SLO alert follows the workbook: both windows must burn faster than
// the factor.
func TestSLOBurnRate(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0
	m := monitor.New(monitor.Options{Rules: []monitor.Rule{}, Now: func() time.Time { return clock }})
	// An hour of clean writes, one every 2 s.
	for s := 0; s < 3600; s += 2 {
		m.Record(monitor.Signal{Kind: monitor.KindPersist, At: t0.Add(time.Duration(s) * time.Second)})
	}
	clock = t0.Add(time.Hour)
	if got := m.Evaluate(context.Background(), clock); len(got) != 0 {
		t.Fatalf("clean hour: %q", names(got, ""))
	}
	// Then 5 minutes where 5% of writes fail: 50× the 0.1% budget over
	// 5 m, but over the hour 15 of 1950 writes (0.77%) is 7.7× < 14.4: no
	// page; over 30 m (1.4%, 14×) and 6 h (0.71%, 7.1×) it is a ticket.
	for s := 0; s < 300; s++ {
		m.Record(monitor.Signal{Kind: monitor.KindPersist, Failed: s%20 == 0, At: clock.Add(time.Duration(s) * time.Second)})
	}
	clock = clock.Add(300 * time.Second)
	slo := monitor.DefaultSLOs()[1]
	if short := slo.BurnRate(m, clock, 5*time.Minute); short < 45 || short > 55 {
		t.Fatalf("5m burn rate %.1f, want about 50", short)
	}
	if got := m.Evaluate(context.Background(), clock); len(got) != 1 || got[0].Level != monitor.LevelWarning ||
		got[0].Labels["window"] != "6h0m0s" {
		t.Fatalf("a short burst: %+v, want only the 6h ticket", got)
	}
	// Ten more bad minutes push the hour over 14.4×.
	for s := 0; s < 600; s++ {
		m.Record(monitor.Signal{Kind: monitor.KindPersist, Failed: s%5 == 0, At: clock.Add(time.Duration(s) * time.Second)})
	}
	clock = clock.Add(600 * time.Second)
	got := m.Evaluate(context.Background(), clock)
	if len(got) != 1 || got[0].Labels["slo"] != "message_persisted" || got[0].Level != monitor.LevelCritical {
		t.Fatalf("sustained burn: %+v, want a critical message_persisted page", got)
	}
}

// Rollups keep per-minute history in the store, summed across nodes.
func TestRollupHistory(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0
	a := monitor.New(monitor.Options{Node: "a", Rollups: db, Rules: []monitor.Rule{}, Now: func() time.Time { return clock }})
	b := monitor.New(monitor.Options{Node: "b", Rollups: db, Rules: []monitor.Rule{}, Now: func() time.Time { return clock }})
	turns(a, t0.Add(10*time.Second), 3, monitor.Signal{Outcome: "answer"})
	turns(b, t0.Add(20*time.Second), 2, monitor.Signal{Outcome: "fallback"})
	turns(a, t0.Add(70*time.Second), 4, monitor.Signal{Outcome: "answer"})
	a.Flush(ctx)
	b.Flush(ctx)
	rows, err := a.History(ctx, t0, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Counts.All.Turns != 5 || rows[0].Counts.All.Answered != 3 || rows[1].Counts.All.Turns != 4 {
		t.Fatalf("history = %+v", rows)
	}
}

// A node that restarts keeps its own history: its hour window still holds
// the failures before the restart, and the minute of the restart, which
// both runs wrote, holds both runs' counts. The new run read no history
// of its own (only the other nodes'), and its first flush overwrote that
// minute with the counts since it started.
func TestARestartedNodeKeepsItsHistory(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0.Add(30 * time.Second)
	first := monitor.New(monitor.Options{Node: "host:8080", Rollups: db, Rules: []monitor.Rule{}, Now: func() time.Time { return clock }})
	turns(first, t0.Add(-20*time.Minute), 10, monitor.Signal{Outcome: "error", Failed: true})
	turns(first, t0.Add(5*time.Second), 30, monitor.Signal{Outcome: "error", Failed: true})
	first.Flush(ctx) // at shutdown
	clock = t0.Add(40 * time.Second)
	second := monitor.New(monitor.Options{Node: "host:8080", Rollups: db, Rules: []monitor.Rule{}, SLOs: []monitor.SLO{},
		Interval: time.Hour, Now: func() time.Time { return clock }})
	turns(second, t0.Add(41*time.Second), 5, monitor.Signal{Outcome: "answer"})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); second.Run(runCtx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done // flushes on the way out
	if c := second.Window(clock, time.Hour); c.All.Turns != 45 || c.All.Errors != 40 {
		t.Errorf("the restarted node's hour: %d turns, %d errors; want 45 and 40", c.All.Turns, c.All.Errors)
	}
	rows, err := second.History(ctx, t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Counts.All.Turns != 35 || rows[0].Counts.All.Errors != 30 {
		t.Fatalf("the minute of the restart: %+v, want 35 turns and 30 errors", rows)
	}
}

// Throttled messages count as their source's traffic and as nothing else:
// not as turns (the quality rules' denominators) nor in the latency.
func TestThrottledCountsOnlyAsTraffic(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m := monitor.New(monitor.Options{Rules: []monitor.Rule{}, SLOs: []monitor.SLO{}, Now: func() time.Time { return t0 }})
	turns(m, t0.Add(-5*time.Second), 4, monitor.Signal{Outcome: "answer", Source: "partner-api", Latency: 20 * time.Millisecond})
	turns(m, t0.Add(-4*time.Second), 6, monitor.Signal{Outcome: monitor.OutcomeThrottled, Source: "partner-api"})
	c := m.Window(t0, time.Minute)
	timed := 0
	for _, n := range c.Latency {
		timed += n
	}
	if c.All.Turns != 4 || c.All.Throttled != 6 || c.Sources["partner-api"] != 10 || timed != 4 {
		t.Fatalf("turns %d, throttled %d, source traffic %d, timed %d; want 4, 6, 10, 4",
			c.All.Turns, c.All.Throttled, c.Sources["partner-api"], timed)
	}
}

// A probe stuck in a call that ignores its context fails at its timeout,
// and is not started again on top of itself while it hangs: it used to
// record nothing (a hung component looked healthy) and to pile up one
// goroutine a tick.
func TestStuckProbeFailsAndRunsOnce(t *testing.T) {
	release := make(chan struct{})
	var running, most atomic.Int32
	stuck := func(context.Context) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release // ignores its context, as a call stuck in the kernel does
		return nil
	}
	m := monitor.New(monitor.Options{Rules: []monitor.Rule{}, SLOs: []monitor.SLO{}, Interval: 5 * time.Millisecond,
		ProbeTimeout: 20 * time.Millisecond, Probes: map[string]monitor.Prober{"store": stuck}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := m.Window(time.Now(), time.Minute)
		if p := c.Probes["store"]; p != nil && p.Failed > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a probe stuck past its timeout was never recorded as failed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // twenty ticks more
	if n := most.Load(); n != 1 {
		t.Errorf("%d copies of the stuck probe ran at once, want 1", n)
	}
	close(release)
	cancel()
	<-done
}

// An alert says when its bad signal first showed in the window: the
// incident it opens starts there, so that the postmortem's time to detect
// is the time the rule took to cross its threshold, not always zero.
func TestAlertSaysWhenImpactBegan(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	now := t0
	m := monitor.New(monitor.Options{Rules: only(rule("bot_errors")), SLOs: []monitor.SLO{}, Now: func() time.Time { return now }})
	for s := range 10 {
		turns(m, t0.Add(time.Duration(s)*time.Second), 10, monitor.Signal{Outcome: "answer"})
	}
	// One failure at +4 s is under the threshold; more at +9 s cross it.
	turns(m, t0.Add(4*time.Second+300*time.Millisecond), 1, monitor.Signal{Outcome: "error", Failed: true})
	now = t0.Add(5 * time.Second)
	if got := m.Evaluate(context.Background(), now); len(got) != 0 {
		t.Fatalf("one failure in fifty fired %v", names(got, ""))
	}
	turns(m, t0.Add(9*time.Second), 8, monitor.Signal{Outcome: "error", Failed: true})
	now = t0.Add(10 * time.Second)
	got := m.Evaluate(context.Background(), now)
	if len(got) != 1 {
		t.Fatalf("alerts %v, want bot_errors", names(got, ""))
	}
	if want := t0.Add(4 * time.Second); !got[0].ImpactFrom.Equal(want) {
		t.Fatalf("impact from %s, want %s (the first failed turn's second)", got[0].ImpactFrom, want)
	}
	// A probe's failures date its alert the same way.
	m = monitor.New(monitor.Options{Rules: only(rule("component_down")), SLOs: []monitor.SLO{}, Now: func() time.Time { return now }})
	for s := range 10 {
		m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "store", At: t0.Add(time.Duration(s) * time.Second), Failed: s >= 6})
	}
	got = m.Evaluate(context.Background(), now)
	if len(got) == 0 || !got[0].ImpactFrom.Equal(t0.Add(6*time.Second)) {
		t.Fatalf("probe alerts %+v, want one with impact from +6s", got)
	}
}

// A flood that goes on keeps its alert, and so its throttle: the source
// keeps the limit it first passed while it floods. Its baseline takes in
// the flood itself, throttled messages included, so that at five times
// the baseline a steady 200 messages a second raised its own limit past
// itself after two minutes, and was never found again. Once it ends, the
// alert ends.
func TestASteadyFloodKeepsItsAlert(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	now := t0
	m := monitor.New(monitor.Options{Rules: only(rule("traffic_flood")), SLOs: []monitor.SLO{}, Now: func() time.Time { return now }})
	var limits []float64
	for s := range 600 {
		at := t0.Add(time.Duration(s) * time.Second)
		turns(m, at, 50, monitor.Signal{Outcome: "answer", Source: "bot-farm"})
		turns(m, at, 150, monitor.Signal{Outcome: monitor.OutcomeThrottled, Source: "bot-farm"})
		turns(m, at, 2, monitor.Signal{Outcome: "answer", Source: "web"})
		now = at.Add(time.Second)
		if s < 10 {
			continue
		}
		got := m.Evaluate(t.Context(), now)
		if n := names(got, "source"); !slices.Equal(n, []string{"traffic_flood{source=bot-farm}"}) {
			t.Fatalf("after %d s of flood: alerts %v, want the bot farm's", s+1, n)
		}
		limits = append(limits, got[0].Threshold)
	}
	if limits[len(limits)-1] > limits[0] {
		t.Errorf("the flood's limit rose from %.1f to %.1f while it flooded", limits[0], limits[len(limits)-1])
	}
	// The flood ends: the source sends what the web does.
	for s := range 11 {
		at := t0.Add(time.Duration(600+s) * time.Second)
		turns(m, at, 2, monitor.Signal{Outcome: "answer", Source: "bot-farm"})
		now = at.Add(time.Second)
	}
	if got := m.Evaluate(t.Context(), now); len(got) != 0 {
		t.Fatalf("after the flood ended: %v", names(got, "source"))
	}
}

// A flood rule needs a baseline before its window: with none, every
// source's limit was NaN, which every rate passed.
func TestAFloodRuleNeedsABaselineLongerThanItsWindow(t *testing.T) {
	r := rule("traffic_flood")
	r.Baseline = r.Window
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Fatalf("a flood rule whose baseline is its window: %v, want refused", err)
	}
}

// spoolFacts are facts with the spool's rejected file.
type spoolFacts struct {
	fakeFacts
	rejected int
	err      error
}

func (f *spoolFacts) SpoolRejected() (int, string, error) {
	return f.rejected, "/var/lib/steward/spool.jsonl.rejected", f.err
}

// Writes the spool set aside were acknowledged to customers and are not in
// the database: the operator hears of them (they were only an ERROR in the
// log), and goes on hearing until the file is read and moved away.
func TestSpoolRejectedWritesRaiseAnAlertUntilTheFileIsMoved(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	facts := &spoolFacts{}
	m := monitor.New(monitor.Options{Rules: only(rule("spool_rejected")), SLOs: []monitor.SLO{}, Facts: facts,
		Now: func() time.Time { return now }})
	if got := m.Evaluate(ctx, now); len(got) != 0 {
		t.Fatalf("nothing rejected: %v", names(got, ""))
	}
	facts.rejected = 3
	got := m.Evaluate(ctx, now)
	if len(got) != 1 || got[0].Name() != "spool_rejected" || got[0].Level != monitor.LevelWarning ||
		!strings.Contains(got[0].Summary, "3 acknowledged customer writes") || !strings.Contains(got[0].Summary, "spool.jsonl.rejected") ||
		!strings.Contains(got[0].SummaryZH, "3 条") {
		t.Fatalf("3 writes set aside: %+v", got)
	}
	facts.rejected, facts.err = 0, errors.New("permission denied")
	if got := m.Evaluate(ctx, now); len(got) != 1 || !strings.Contains(got[0].Summary, "permission denied") {
		t.Fatalf("an unreadable file: %+v", got)
	}
	facts.err = nil
	if got := m.Evaluate(ctx, now); len(got) != 0 {
		t.Fatalf("the file moved away: %v", names(got, ""))
	}
}

// A rule or an SLO configured with a figure no signal can pass (NaN, an
// infinity; a negative count of events) is refused: accepted, it switched its alert off
// without a word, since every comparison with NaN is false.
func TestRulesAndSLOsRefuseFiguresThatSwitchThemOff(t *testing.T) {
	base := monitor.Rule{Name: "bot_errors", Type: monitor.RuleErrorRate, Level: monitor.LevelCritical, Window: time.Minute,
		Threshold: 0.2, MinEvents: 5}
	if err := base.Validate(); err != nil {
		t.Fatalf("the control: %v", err)
	}
	for name, modify := range map[string]func(r *monitor.Rule){
		"threshold NaN":      func(r *monitor.Rule) { r.Threshold = math.NaN() },
		"threshold +Inf":     func(r *monitor.Rule) { r.Threshold = math.Inf(1) },
		"factor NaN":         func(r *monitor.Rule) { r.Factor = math.NaN() },
		"min_events below 0": func(r *monitor.Rule) { r.MinEvents = -3 },
	} {
		r := base
		modify(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (monitor.SLO{Name: "x", Source: monitor.SLOWrites, Objective: math.NaN()}).Validate(); err == nil {
		t.Error("an SLO objective of NaN: accepted")
	}
}
