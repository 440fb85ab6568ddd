package monitor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func histogramOf(latencies map[time.Duration]int) Histogram {
	var h Histogram
	for d, n := range latencies {
		for range n {
			h.add(d)
		}
	}
	return h
}

// slow_turns judges p95 against 1.5 s, which is a bucket bound: turns all
// at 1.2 s were estimated at a p95 of 2.4 s (interpolated between 1 and
// 2.5) and fired it, while 6 % of turns at 2.4 s read 1.25 s and did not.
func TestTheP95IsJudgedRightAroundSlowTurnsThreshold(t *testing.T) {
	slow := histogramOf(map[time.Duration]int{1200 * time.Millisecond: 20})
	if p95 := slow.Quantile(0.95); p95 > 1.5 {
		t.Errorf("turns all at 1.2 s: p95 estimated %.2f s, over slow_turns' 1.5 s", p95)
	}
	tail := histogramOf(map[time.Duration]int{100 * time.Millisecond: 94, 2400 * time.Millisecond: 6})
	if p95 := tail.Quantile(0.95); p95 <= 1.5 {
		t.Errorf("6 %% of turns at 2.4 s: p95 estimated %.2f s, not over slow_turns' 1.5 s", p95)
	}
}

// A rollup written with the older buckets (12 counts: 1 s then 2.5 s)
// reads into the new ones by upper bound.
func TestAnOlderRollupsHistogramReads(t *testing.T) {
	var h Histogram
	if err := json.Unmarshal([]byte(`[0,0,0,0,5,0,0,0,3,2,0,1]`), &h); err != nil {
		t.Fatal(err)
	}
	want := Histogram{0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 3, 2, 0, 1}
	if h != want {
		t.Fatalf("old layout read as %v, want %v", h, want)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var again Histogram
	if err := json.Unmarshal(b, &again); err != nil || again != h {
		t.Fatalf("round trip: %v (%v), want %v", again, err, h)
	}
}

// Durations in Chinese alert texts read as Chinese, not as Go's "1h0m0s".
func TestDurationZH(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Second: "15 秒", 5 * time.Minute: "5 分钟", time.Hour: "1 小时",
		90 * time.Minute: "1 小时 30 分钟", 1500 * time.Millisecond: "1.5 秒", 0: "0 秒",
	} {
		if got := DurationZH(d); got != want {
			t.Errorf("DurationZH(%s) = %q, want %q", d, got, want)
		}
	}
	// And a rule's Chinese summary uses it.
	m := New(Options{Rules: []Rule{}, SLOs: []SLO{}})
	now := time.Now()
	for i := range 10 {
		m.Record(Signal{Kind: KindTurn, Outcome: "error", Failed: true, At: now.Add(-time.Duration(i) * time.Second)})
	}
	r := Rule{Name: "bot_errors", Type: RuleErrorRate, Level: LevelCritical, Window: 15 * time.Second, Threshold: 0.2, MinEvents: 5}
	found := r.eval(m, now)
	if len(found) != 1 || !strings.Contains(found[0].SummaryZH, "15 秒") || strings.Contains(found[0].SummaryZH, "15s") {
		t.Fatalf("bot_errors in Chinese: %+v", found)
	}
}
