package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/knowledge"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second (nearest rank)", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100 is 99", ms(hundred...), 99, 99 * time.Millisecond},
		{"p90 of 1..100 is 90", ms(hundred...), 90, 90 * time.Millisecond},
		{"p100 is the maximum", ms(1, 5, 9), 100, 9 * time.Millisecond},
		{"a tiny p is the minimum", ms(1, 5, 9), 0.001, 1 * time.Millisecond},
		{"p99 of ten values is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(p%v) = %s, want %s", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSortsAndReportsMilliseconds(t *testing.T) {
	d := []time.Duration{3 * time.Millisecond, 1 * time.Millisecond, 2500 * time.Microsecond, 10 * time.Millisecond}
	got := Summarize(d)
	want := Latency{P50: 2.5, P90: 10, P99: 10, Max: 10}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

// The baseline against itself: one second of 8 clients on the echo server
// must answer every request, and the report must carry it as JSON.
func TestBaselineAgainstItself(t *testing.T) {
	qs, err := demoQuestions()
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Concurrency: 8, Duration: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r, err := runBaseline(context.Background(), o, qs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests < 100 || r.RequestsPerSec <= 0 || r.Errors != 0 {
		t.Fatalf("baseline = %+v, want at least 100 requests and no errors", r)
	}
	if r.P50 <= 0 || r.P50 > r.P90 || r.P90 > r.P99 || r.P99 > r.Max {
		t.Errorf("latency %+v is not ordered p50 <= p90 <= p99 <= max", r.Latency)
	}
	b, err := json.Marshal(&Report{Baseline: r})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"baseline":{`, `"requests_per_sec":`, `"p99_ms":`, `"max_ms":`, `"errors":0`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON report lacks %s: %s", key, b)
		}
	}
}

func TestSyntheticKB(t *testing.T) {
	entries, err := syntheticKB(2000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	lines := map[string]bool{}
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			t.Fatalf("entry %s: %v", e.ID, err)
		}
		if ids[e.ID] {
			t.Fatalf("entry id %s twice", e.ID)
		}
		ids[e.ID] = true
		lines[e.Tags[1]] = true
		for _, loc := range knowledge.Locales {
			c := e.Locales[loc]
			if len(c.Questions) != 3 || strings.Contains(c.Answer+c.Title+strings.Join(c.Questions, ""), "{") {
				t.Fatalf("entry %s %s: %+v has an unfilled template or not 3 questions", e.ID, loc, c)
			}
		}
	}
	if len(lines) < len(productLines) {
		t.Errorf("2000 entries span %d products, want every product line (%d)", len(lines), len(productLines))
	}
	for _, q := range syntheticQueries(2000, 500) {
		if !ids[q.entry] {
			t.Fatalf("query %q names entry %s, which is not in the knowledge base", q.text, q.entry)
		}
	}
	if _, err := syntheticKB(maxSyntheticEntries + 1); err == nil {
		t.Error("a knowledge base larger than the generator can make distinct was made")
	}
	products := map[string]bool{}
	for p := range maxSyntheticEntries / len(aspects) {
		slug, _, _ := kbProduct(p)
		if products[slug] {
			t.Fatalf("product %d is %s again: the largest knowledge base would repeat entries", p, slug)
		}
		products[slug] = true
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := func() Options {
		return Options{Scenario: ScenarioAll, Duration: time.Second, Concurrency: 4, Conns: 10, Sizes: []int{1000},
			KBTimeout: time.Second, KBMemLimitMB: 1024, KBQueries: 10}
	}
	for _, tc := range []struct {
		name   string
		modify func(*Options)
		want   string // "" for valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"loopback URL", func(o *Options) { o.URL = "http://127.0.0.1:8080" }, ""},
		{"localhost URL", func(o *Options) { o.URL = "http://localhost:8080/" }, ""},
		{"IPv6 loopback", func(o *Options) { o.URL = "http://[::1]:8080" }, ""},
		{"remote URL refused", func(o *Options) { o.URL = "http://example.com" }, "not on loopback"},
		{"private address refused", func(o *Options) { o.URL = "http://10.0.0.5:8080" }, "not on loopback"},
		{"unknown scenario", func(o *Options) { o.Scenario = "turn" }, "unknown scenario"},
		{"no concurrency", func(o *Options) { o.Concurrency = 0 }, "--concurrency"},
		{"size too large", func(o *Options) { o.Sizes = []int{maxSyntheticEntries + 1} }, "--sizes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.modify(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestChecksAndTable(t *testing.T) {
	rep := &Report{
		Baseline: &BaselineResult{RequestsPerSec: 10000, Latency: Latency{P50: 1, P90: 2, P99: 3, Max: 4}},
		Turns: &TurnsResult{Concurrency: 256, Turns: 60000, TurnsPerSec: 6000, Latency: Latency{P99: 40}, VerifiedConversations: 256,
			RatioToBaseline: ptr(0.6)},
		WSTurns: &TurnsResult{Concurrency: 256, TurnsPerSec: 3000, Latency: Latency{P99: 80}, Errors: 2, VerifiedConversations: 256,
			RatioToBaseline: ptr(0.3)},
		IdleWS:  &IdleResult{Conns: 10000, Opened: 10000, ProjectedRSS10kMB: ptr(350.0)},
		KBScale: &KBScaleResult{Sizes: []KBSize{{Entries: 100000, Error: "stopped during train"}}},
	}
	rep.Checks = checks(rep)
	met := map[string]bool{}
	for _, c := range rep.Checks {
		met[c.Scenario+"/"+c.Figure] = c.Met
	}
	for key, want := range map[string]bool{
		"turns/turns_per_sec": true, "turns/p99_ms": true, "turns/ratio_to_baseline": true, "turns/lost": true,
		"ws_turns/turns_per_sec": false, "ws_turns/p99_ms": false, "ws_turns/errors": false, "ws_turns/ratio_to_baseline": false,
		"idle_ws/projected_rss_10k_mb": true, "kb_scale/train_sec": false, "kb_scale/classify_p99_ms": false,
	} {
		if got, ok := met[key]; !ok || got != want {
			t.Errorf("check %s: met=%v (present %v), want %v", key, got, ok, want)
		}
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"turns_per_sec", "6000.0", "MISS", "stopped during train", "targets met"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}
