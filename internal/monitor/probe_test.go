package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
)

// A component stuck in a call that ignores its context (a hung disk) is
// down: its probe must keep failing, tick after tick, so that
// component_down (at least 3 probes in 10 s) fires. The probe stuck past
// its timeout is not started again; it used to be recorded once per hang,
// and the alert never fired.
func TestAHungProbeKeepsFailing(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	m := monitor.New(monitor.Options{
		Rules: []monitor.Rule{{Name: "component_down", Type: monitor.RuleProbe, Component: "store", Level: monitor.LevelCritical,
			Window: 10 * time.Second, Threshold: 0.3, MinEvents: 3}},
		SLOs:         []monitor.SLO{},
		Interval:     50 * time.Millisecond,
		ProbeTimeout: 50 * time.Millisecond,
		Probes: map[string]monitor.Prober{"store": func(ctx context.Context) error {
			<-release // ignores ctx, as a hung disk under SQLite does
			return nil
		}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	time.Sleep(1500 * time.Millisecond)
	now := time.Now()
	c := m.Window(now, 10*time.Second)
	found := m.Evaluate(context.Background(), now)
	cancel()
	failed := 0
	if p := c.Probes["store"]; p != nil {
		failed = p.Failed
	}
	if len(found) == 0 {
		t.Fatalf("a store probe hung for 1.5 s (timeout 50 ms, a probe every 50 ms) recorded %d failed probe(s); component_down did not fire", failed)
	}
}

// burnGauge reads steward_slo_burn_rate{slo, window}.
func burnGauge(t *testing.T, m *monitor.Metrics, slo, window string) (float64, bool) {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "steward_slo_burn_rate" {
			continue
		}
		for _, mt := range f.GetMetric() {
			l := map[string]string{}
			for _, lp := range mt.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["slo"] == slo && l["window"] == window {
				return mt.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// steward_slo_burn_rate is exported for every SLO and window. While the
// page-level (1 h / 5 m) condition holds, eval returns before it sets the
// 6 h and 30 m gauges: they keep their last value (0 here) while the
// budget burns 200× over 30 minutes, which is what a dashboard shows.
func TestBurnGaugesFollowEveryWindow(t *testing.T) {
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	met := monitor.NewMetrics()
	m := monitor.New(monitor.Options{Rules: []monitor.Rule{}, Metrics: met, Now: func() time.Time { return clock }})
	turns(m, clock.Add(-time.Minute), 20, monitor.Signal{Outcome: "answer"})
	m.Evaluate(context.Background(), clock)
	if v, ok := burnGauge(t, met, "bot_turn_success", "30m0s"); !ok || v != 0 {
		t.Fatalf("before the failures: 30m burn %v (present %v), want 0", v, ok)
	}
	// Every turn of the last two minutes fails: 1/(1-0.995) = 200× on every window.
	clock = clock.Add(2 * time.Minute)
	turns(m, clock.Add(-time.Minute), 100, monitor.Signal{Outcome: "error", Failed: true})
	found := m.Evaluate(context.Background(), clock)
	if len(found) == 0 {
		t.Fatal("no slo_burn alert")
	}
	short, _ := burnGauge(t, met, "bot_turn_success", "5m0s")
	v, _ := burnGauge(t, met, "bot_turn_success", "30m0s")
	if v < 6 {
		t.Fatalf("steward_slo_burn_rate{window=30m0s} = %v while the 5m burn is %v and slo_burn (1h) fires: the 30 m and 6 h gauges are not updated", v, short)
	}
}

// clock_skew's Chinese summary names the component in Chinese, as every
// other probed component's does (componentZH).
func TestClockSkewSummaryInChinese(t *testing.T) {
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var rule monitor.Rule
	for _, r := range monitor.DefaultRules() {
		if r.Name == "clock_skew" {
			rule = r
		}
	}
	m := monitor.New(monitor.Options{Rules: []monitor.Rule{rule}, SLOs: []monitor.SLO{}, Now: func() time.Time { return clock }})
	for i := range 20 {
		m.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "clock", Failed: true, At: clock.Add(-time.Duration(i) * time.Second)})
	}
	found := m.Evaluate(context.Background(), clock)
	if len(found) != 1 {
		t.Fatalf("found %d alerts, want clock_skew", len(found))
	}
	if zh := found[0].SummaryZH; strings.Contains(zh, "clock") {
		t.Fatalf("clock_skew's Chinese summary: %q", zh)
	}
}
