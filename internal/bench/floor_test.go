package bench

import (
	"bytes"
	"strings"
	"testing"
)

// shortReport is a short run as it looked when the floors were set.
func shortReport() *Report {
	logErrs := func() *int { n := 0; return &n }
	turns := func(rate, ratio float64) *TurnsResult {
		return &TurnsResult{Concurrency: 16, Turns: int(rate * 2), TurnsPerSec: rate, Latency: Latency{P99: 19.6},
			VerifiedConversations: 16, VerifiedMessages: int(rate * 2), Conversations: 16, RatioToBaseline: ptr(ratio),
			ServerProcess: ServerProcess{ServerStatus: "operational", ServerLogErrors: logErrs()}}
	}
	return &Report{
		Baseline: &BaselineResult{Concurrency: 16, RequestsPerSec: 20811.7},
		Turns:    turns(2000.1, 0.096),
		WSTurns:  turns(1887.8, 0.091),
		IdleWS: &IdleResult{Conns: 500, Opened: 500, RSSBeforeMB: ptr(98.4), RSSHalfMB: ptr(77.8), RSSAfterMB: ptr(79.5),
			RSSNote: "250 sockets grew RSS 1.7 MB, within its noise", ServerProcess: ServerProcess{ServerLogErrors: logErrs()}},
		KBScale: &KBScaleResult{Sizes: []KBSize{{Entries: 1000, TrainSec: ptr(0.7), ClassifyP50: ptr(0.045),
			ClassifyP99: ptr(0.483), PeakRSSMB: ptr(33.2)}}},
	}
}

// The floors fail a crash, an error, a lost message or a figure ten times
// worse, name what failed, and let a busy machine's run pass.
func TestCheckFloors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Report)
		fail   []string // the failed checks; none for a passing run
		skip   []string // checks that must be skipped
	}{
		{name: "a normal short run", modify: func(*Report) {}},
		{name: "twice as slow passes", modify: func(r *Report) { r.Turns.RatioToBaseline = ptr(0.048) }},
		{name: "a scenario that could not run", modify: func(r *Report) {
			r.Failures = []string{"turns: steward exited during the scenario (exit status 2)"}
		}, fail: []string{"run"}},
		{name: "errors", modify: func(r *Report) {
			r.WSTurns.Errors, r.WSTurns.ErrorKinds = 3, map[string]int{"timeout": 3}
		}, fail: []string{"ws_turns errors"}},
		{name: "baseline errors", modify: func(r *Report) { r.Baseline.Errors = 1 }, fail: []string{"baseline errors"}},
		{name: "a lost message", modify: func(r *Report) { r.Turns.Lost = 1 }, fail: []string{"turns lost"}},
		{name: "a panic in the server's log", modify: func(r *Report) { n := 1; r.Turns.ServerLogErrors = &n },
			fail: []string{"turns server_log"}},
		{name: "a ratio ten times worse", modify: func(r *Report) { r.Turns.RatioToBaseline = ptr(0.0096) },
			fail: []string{"turns ratio_to_baseline"}},
		{name: "no baseline to compare with", modify: func(r *Report) {
			r.Baseline, r.Turns.RatioToBaseline, r.WSTurns.RatioToBaseline = nil, nil, nil
		}, skip: []string{"turns ratio_to_baseline", "ws_turns ratio_to_baseline"}},
		{name: "a dropped socket", modify: func(r *Report) { r.IdleWS.Dropped = 1 }, fail: []string{"idle_ws errors"}},
		{name: "sockets that did not open", modify: func(r *Report) { r.IdleWS.Opened = 499 }, fail: []string{"idle_ws errors"}},
		{name: "a measured cost per socket", modify: func(r *Report) {
			r.IdleWS.RSSPerConnKB = ptr(42.8)
		}},
		{name: "ten times the cost per socket", modify: func(r *Report) {
			r.IdleWS.RSSPerConnKB = ptr(428.0) // ten times 42.8 KB: the floor of 500 KB let it pass
		}, fail: []string{"idle_ws rss_per_conn_kb"}},
		{name: "too few sockets to tell", modify: func(r *Report) {
			r.IdleWS.Conns, r.IdleWS.Opened = 40, 40
		}, skip: []string{"idle_ws rss_per_conn_kb"}},
		{name: "classify ten times slower", modify: func(r *Report) {
			r.KBScale.Sizes[0].ClassifyP50, r.KBScale.Sizes[0].ClassifyP99 = ptr(0.45), ptr(4.83)
		}, fail: []string{"kb_scale 1000 classify_p50_ms"}},
		{name: "classify stalling", modify: func(r *Report) {
			r.KBScale.Sizes[0].ClassifyP99 = ptr(25.0)
		}, fail: []string{"kb_scale 1000 classify_p99_ms"}},
		{name: "a busy machine's classify tail passes", modify: func(r *Report) {
			r.KBScale.Sizes[0].ClassifyP99 = ptr(4.5)
		}},
		{name: "training ten times slower", modify: func(r *Report) {
			r.KBScale.Sizes[0].TrainSec = ptr(9.0)
		}, fail: []string{"kb_scale 1000 train_sec"}},
		{name: "memory ten times over", modify: func(r *Report) {
			r.KBScale.Sizes[0].PeakRSSMB = ptr(450.0)
		}, fail: []string{"kb_scale 1000 peak_rss_mb"}},
		// At the short run's size no busy machine makes 0.7 s into the 60 s
		// limit: a size stopped there is a hang, and fails (it was skipped).
		{name: "a knowledge base stopped at the time limit", modify: func(r *Report) {
			r.KBScale.Sizes[0] = KBSize{Entries: 1000, Stopped: true, Error: "stopped during train: did not finish within 1m0s (--kb-timeout)"}
		}, fail: []string{"kb_scale 1000"}, skip: []string{"kb_scale 1000 classify_p99_ms"}},
		{name: "a larger knowledge base stopped at the time limit is skipped", modify: func(r *Report) {
			r.KBScale.Sizes = append(r.KBScale.Sizes, KBSize{Entries: 10000, Stopped: true, Error: "stopped during train: did not finish within 1m0s (--kb-timeout)"})
		}, skip: []string{"kb_scale 10000"}},
		{name: "a knowledge base that crashed", modify: func(r *Report) {
			r.KBScale.Sizes[0] = KBSize{Entries: 1000, Error: "failed during train: panic: index out of range"}
		}, fail: []string{"kb_scale 1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := shortReport()
			tc.modify(rep)
			floors := CheckFloors(rep)
			var failed, skipped []string
			for _, f := range floors {
				switch f.Result {
				case FloorFailed:
					failed = append(failed, f.Check)
				case FloorSkipped:
					skipped = append(skipped, f.Check)
				}
			}
			if strings.Join(failed, ", ") != strings.Join(tc.fail, ", ") {
				t.Errorf("failed %q, want %q: %+v", failed, tc.fail, floors)
			}
			for _, s := range tc.skip {
				if !strings.Contains(","+strings.Join(skipped, ",")+",", ","+s+",") {
					t.Errorf("%s not skipped (skipped: %q)", s, skipped)
				}
			}
			var out bytes.Buffer
			if err := WriteFloors(&out, floors); err != nil {
				t.Fatal(err)
			}
			want := "check passed"
			if len(tc.fail) > 0 {
				want = "check FAILED: " + strings.Join(tc.fail, ", ")
			}
			if !strings.Contains(out.String(), want) {
				t.Errorf("verdict lacks %q:\n%s", want, out.String())
			}
		})
	}
}
