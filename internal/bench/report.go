package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Check is one figure beside its target from issue 9.
type Check struct {
	Scenario string `json:"scenario"`
	Figure   string `json:"figure"`
	// Entries is the knowledge base size of a kb_scale figure.
	Entries int      `json:"entries,omitempty"`
	Value   *float64 `json:"value"`
	Target  string   `json:"target"`
	Met     bool     `json:"met"`
}

// The targets of issue 9 (2 cores, loopback, durable SQLite, demo KB).
const (
	targetTurnsPerSec  = 5000
	targetP99MS        = 50
	targetConcurrency  = 256
	targetRatio        = 0.40
	targetIdleRSSMB    = 400
	targetIdleConns    = 10000
	targetClassifyP99  = 2
	targetStartupSec   = 60
	targetKBEntriesMax = 100000
)

func atLeast(v *float64, t float64) bool { return v != nil && *v >= t }
func atMost(v *float64, t float64) bool  { return v != nil && *v <= t }
func num[T int | float64](v T) *float64  { f := float64(v); return &f }

// checks lists every figure with a target in rep.
func checks(rep *Report) []Check {
	var out []Check
	add := func(scenario, figure string, v *float64, target string, met bool) {
		out = append(out, Check{Scenario: scenario, Figure: figure, Value: v, Target: target, Met: met})
	}
	for _, s := range []struct {
		name string
		r    *TurnsResult
	}{{"turns", rep.Turns}, {"ws_turns", rep.WSTurns}} {
		if s.r == nil {
			continue
		}
		r := s.r
		add(s.name, "turns_per_sec", num(r.TurnsPerSec), fmt.Sprintf(">= %d", targetTurnsPerSec), r.TurnsPerSec >= targetTurnsPerSec)
		p99 := fmt.Sprintf("<= %d at %d customers", targetP99MS, targetConcurrency)
		// No turn, no latency: the zeros of an empty sample meet no target.
		add(s.name, "p99_ms", num(r.P99), p99, r.Turns > 0 && r.P99 <= targetP99MS && r.Concurrency >= targetConcurrency)
		add(s.name, "ratio_to_baseline", r.RatioToBaseline, fmt.Sprintf(">= %.2f", targetRatio), atLeast(r.RatioToBaseline, targetRatio))
		add(s.name, "errors", num(r.Errors), "0", r.Errors == 0)
		add(s.name, "lost", num(r.Lost+r.Unanswered+r.Extra), "0", r.Lost+r.Unanswered+r.Extra == 0 && r.VerifiedConversations > 0)
	}
	if r := rep.IdleWS; r != nil {
		add("idle_ws", "projected_rss_10k_mb", r.ProjectedRSS10kMB, fmt.Sprintf("<= %d for %d sockets", targetIdleRSSMB, targetIdleConns),
			atMost(r.ProjectedRSS10kMB, targetIdleRSSMB))
		add("idle_ws", "errors", num(r.Errors+r.Dropped), "0", r.Errors == 0 && r.Dropped == 0 && r.Opened == r.Conns)
	}
	if r := rep.KBScale; r != nil {
		for _, s := range r.Sizes {
			suffix := ""
			if s.Entries != targetKBEntriesMax {
				suffix = fmt.Sprintf(" (target at %dk)", targetKBEntriesMax/1000)
			}
			out = append(out,
				Check{Scenario: "kb_scale", Figure: "train_sec", Entries: s.Entries, Value: s.TrainSec,
					Target: fmt.Sprintf("<= %d%s", targetStartupSec, suffix), Met: atMost(s.TrainSec, targetStartupSec)},
				Check{Scenario: "kb_scale", Figure: "classify_p99_ms", Entries: s.Entries, Value: s.ClassifyP99,
					Target: fmt.Sprintf("<= %d%s", targetClassifyP99, suffix), Met: atMost(s.ClassifyP99, targetClassifyP99)})
		}
	}
	return out
}

// WriteTable prints rep as a table for people: each scenario's figures,
// with the target and whether it is met where the issue sets one.
func WriteTable(w io.Writer, rep *Report) error {
	m := rep.Machine
	fmt.Fprintf(w, "steward-bench %s: %d CPUs (%s), %d MB, %s %s/%s, target %s\n", rep.Settings.Scenario, m.CPUs,
		m.CPUModel, m.MemoryMB, m.Go, m.OS, m.Arch, rep.Settings.Target)
	if rep.Settings.Target == "self" {
		fmt.Fprintln(w, "a fresh Steward per scenario: durable SQLite (WAL, synchronous=FULL), demo knowledge base, limits lifted")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tVALUE\tTARGET\t")
	checkOf := map[string]Check{}
	for _, c := range rep.Checks {
		checkOf[c.Scenario+"/"+c.Figure+"/"+strconv.Itoa(c.Entries)] = c
	}
	row := func(scenario, figure, value string) {
		c, ok := checkOf[scenario+"/"+figure+"/0"]
		target, verdict := "", ""
		if ok {
			target, verdict = c.Target, "ok"
			if !c.Met {
				verdict = "MISS"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", scenario, figure, value, target, verdict)
	}
	lat := func(l Latency) string {
		return fmt.Sprintf("%s / %s / %s / %s", f2(l.P50), f2(l.P90), f2(l.P99), f2(l.Max))
	}
	if b := rep.Baseline; b != nil {
		row("baseline", "requests_per_sec", f1(b.RequestsPerSec))
		row("baseline", "p50/p90/p99/max_ms", lat(b.Latency))
		row("baseline", "errors", strconv.Itoa(b.Errors))
		row("baseline", "bench_cpu_sec", f2(b.BenchCPUSec))
	}
	for _, s := range []struct {
		name string
		r    *TurnsResult
	}{{"turns", rep.Turns}, {"ws_turns", rep.WSTurns}} {
		r := s.r
		if r == nil {
			continue
		}
		row(s.name, "turns_per_sec", f1(r.TurnsPerSec))
		row(s.name, "ratio_to_baseline", fp(r.RatioToBaseline, 3))
		row(s.name, "p50/p90/p99/max_ms", lat(r.Latency))
		row(s.name, "p99_ms", f2(r.P99))
		row(s.name, "errors", strconv.Itoa(r.Errors)+kinds(r.ErrorKinds))
		row(s.name, "lost", fmt.Sprintf("%d", r.Lost))
		row(s.name, "unanswered / extra", fmt.Sprintf("%d / %d", r.Unanswered, r.Extra))
		row(s.name, "verified", fmt.Sprintf("%d messages in %d of %d conversations", r.VerifiedMessages, r.VerifiedConversations, r.Conversations))
		row(s.name, "outcomes", strings.TrimSpace(kinds(r.Outcomes)))
		row(s.name, "cpu_sec server/bench", fp(r.ServerCPUSec, 2)+" / "+f2(r.BenchCPUSec))
		row(s.name, "server_rss_mb", fp(r.ServerRSSMB, 1))
		row(s.name, "server_status", r.ServerStatus+logErrors(r.ServerLogErrors))
	}
	if r := rep.IdleWS; r != nil {
		row("idle_ws", "opened", fmt.Sprintf("%d of %d in %ss (conversations created first in %ss)", r.Opened, r.Conns, f2(r.OpenSec), f2(r.CreateSec)))
		row("idle_ws", "rss_before/half/all_mb", fp(r.RSSBeforeMB, 1)+" / "+fp(r.RSSHalfMB, 1)+" / "+fp(r.RSSAfterMB, 1))
		if r.RSSNote != "" {
			row("idle_ws", "rss_note", r.RSSNote)
		}
		row("idle_ws", "rss_per_conn_kb", fp(r.RSSPerConnKB, 1))
		row("idle_ws", "projected_rss_10k_mb", fp(r.ProjectedRSS10kMB, 1))
		row("idle_ws", "errors", fmt.Sprintf("%d%s, %d dropped", r.Errors, kinds(r.ErrorKinds), r.Dropped))
		row("idle_ws", "server_status", r.ServerStatus+logErrors(r.ServerLogErrors))
	}
	if r := rep.KBScale; r != nil {
		for _, s := range r.Sizes {
			sc := fmt.Sprintf("kb_scale %dk", s.Entries/1000)
			if s.Entries%1000 != 0 {
				sc = fmt.Sprintf("kb_scale %d", s.Entries)
			}
			krow := func(figure, value string) {
				c, ok := checkOf["kb_scale/"+figure+"/"+strconv.Itoa(s.Entries)]
				target, verdict := "", ""
				if ok {
					target, verdict = c.Target, "ok"
					if !c.Met {
						verdict = "MISS"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc, figure, value, target, verdict)
			}
			if s.Error != "" {
				krow("error", s.Error)
			}
			krow("train_sec", fp(s.TrainSec, 2))
			krow("classify_p99_ms", fp(s.ClassifyP99, 3))
			if s.Error == "" {
				krow("classify_p50/max_ms", fp(s.ClassifyP50, 3)+" / "+fp(s.ClassifyMax, 3))
				krow("top1_accuracy", fp(s.Top1Accuracy, 3)+fmt.Sprintf(" (%d held-out questions)", s.Queries))
				krow("load_sec", fp(s.LoadSec, 2))
				krow("heap/index/model_mb", fp(s.HeapMB, 1)+" / "+fp(s.IndexMB, 1)+" / "+fp(s.ModelMB, 1))
			}
			krow("peak_rss_mb", fp(s.PeakRSSMB, 1))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	met, all := 0, 0
	for _, c := range rep.Checks {
		all++
		if c.Met {
			met++
		}
	}
	fmt.Fprintf(w, "\n%d of %d targets met; %.0f s in all.\n", met, all, rep.TotalSec)
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "FAILED:", f)
	}
	return nil
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func fp(v *float64, digits int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', digits, 64)
}

// kinds formats a tally as " (a 3, b 1)", largest first.
func kinds(k map[string]int) string {
	if len(k) == 0 {
		return ""
	}
	type kv struct {
		k string
		v int
	}
	var s []kv
	for name, n := range k {
		s = append(s, kv{name, n})
	}
	slices.SortFunc(s, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), strings.Compare(a.k, b.k)) })
	parts := make([]string, len(s))
	for i, e := range s {
		name := e.k
		if name == "" {
			name = "(none)"
		}
		parts[i] = fmt.Sprintf("%s %d", name, e.v)
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func logErrors(n *int) string {
	if n == nil {
		return ""
	}
	return fmt.Sprintf(", %d ERROR lines in its log", *n)
}
