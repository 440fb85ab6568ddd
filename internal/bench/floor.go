package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The floors of a --check run (make bench-check, which CI runs after the
// tests): each is a tenth of what the short run measured when it was set,
// on the 2-core machine of issue 9, so that a crash or a regression of ten
// times fails the build and a busy machine does not. Where a figure can be
// compared with one measured in the same run, the floor is on the
// comparison: a slower machine slows the echo server too.
const (
	// floorRatio is the least turn rate over the echo server's, REST and
	// WebSocket alike: 0.09 (a busy machine) to 0.15 measured. With a
	// fixed number of customers in a closed loop the rate is customers
	// over mean latency, so this floors the mean latency as well.
	floorRatio = 0.015
	// floorIdleKB is the most server RSS per idle WebSocket: 43 KB measured
	// with 2,000 sockets (500 KB, the floor before, let 11× pass).
	floorIdleKB = 400
	// floorClassifyP50MS is the most classify+retrieve p50 at
	// floorClassifyEntries generated entries: 0.045 ms measured. The p99
	// of a thousand queries is their tenth slowest, which scheduler and GC
	// stalls set (0.48 ms measured on an idle machine, 4.5 ms while tests
	// ran beside it): its floor catches stalls, the p50's a classifier ten
	// times slower, which passed the p99's 5 ms before.
	floorClassifyP50MS   = 0.4
	floorClassifyP99MS   = 20
	floorClassifyEntries = 1000
	// floorTrainSec and floorPeakRSSMB are the most that building the
	// index of floorClassifyEntries entries may take, and the measuring
	// process's memory: 0.8 s and 36 MB measured. A size stopped at the
	// short run's time or memory limit fails: no busy machine makes 0.8 s
	// into the 60 s limit, and it was skipped, so a hang passed.
	floorTrainSec  = 8
	floorPeakRSSMB = 400
)

// The results of a floor.
const (
	FloorOK      = "ok"
	FloorFailed  = "fail"
	FloorSkipped = "skipped"
)

// Floor is one line of a --check verdict.
type Floor struct {
	// Check names what was checked, e.g. "turns ratio_to_baseline".
	Check string `json:"check"`
	// Result is FloorOK, FloorFailed or FloorSkipped.
	Result string `json:"result"`
	// Detail is the value beside its floor, or why the check failed or
	// could not be made.
	Detail string `json:"detail"`
}

// CheckFloors judges rep for CI. It fails a scenario that could not run or
// whose server crashed, any error, dropped socket, lost message or ERROR
// line in the server's log, and a figure ten times worse than when its
// floor was set. It skips, saying why, what the run did not measure: a
// knowledge base stopped at the short run's time limit says as much about
// a busy machine as about the code.
func CheckFloors(rep *Report) []Floor {
	var out []Floor
	add := func(check string, failed bool, format string, args ...any) {
		f := Floor{Check: check, Result: FloorOK, Detail: fmt.Sprintf(format, args...)}
		if failed {
			f.Result = FloorFailed
		}
		out = append(out, f)
	}
	skip := func(check, format string, args ...any) {
		out = append(out, Floor{Check: check, Result: FloorSkipped, Detail: fmt.Sprintf(format, args...)})
	}
	serverLog := func(scenario string, p ServerProcess) {
		if p.ServerLogErrors != nil {
			add(scenario+" server_log", *p.ServerLogErrors > 0, "%d ERROR lines or panics (none allowed)", *p.ServerLogErrors)
		}
	}

	for _, f := range rep.Failures {
		add("run", true, "%s", f)
	}
	if b := rep.Baseline; b != nil {
		add("baseline errors", b.Errors > 0, "%d%s (none allowed)", b.Errors, kinds(b.ErrorKinds))
	}
	for _, s := range []struct {
		name string
		r    *TurnsResult
	}{{"turns", rep.Turns}, {"ws_turns", rep.WSTurns}} {
		r := s.r
		if r == nil {
			continue
		}
		add(s.name+" errors", r.Errors > 0, "%d%s (none allowed)", r.Errors, kinds(r.ErrorKinds))
		// Nothing checked is no proof that nothing was lost (--verify-max 0, or no conversation read back).
		if r.Turns > 0 && r.VerifiedMessages == 0 {
			add(s.name+" lost", true, "none of %d acknowledged turns was checked: no conversation was read back", r.Turns)
		} else {
			add(s.name+" lost", r.Lost > 0, "%d acknowledged messages missing of %d checked (none allowed)", r.Lost, r.VerifiedMessages)
			add(s.name+" unanswered", r.Unanswered > 0, "%d acknowledged messages without a reply (none allowed)", r.Unanswered)
			add(s.name+" extra", r.Extra > 0, "%d customer messages stored twice or never sent (none allowed)", r.Extra)
		}
		serverLog(s.name, r.ServerProcess)
		if r.RatioToBaseline == nil {
			skip(s.name+" ratio_to_baseline", "no baseline in this run to compare with")
		} else {
			add(s.name+" ratio_to_baseline", *r.RatioToBaseline < floorRatio, "%.3f (%.0f turns/s), floor >= %.3f",
				*r.RatioToBaseline, r.TurnsPerSec, floorRatio)
		}
	}
	if r := rep.IdleWS; r != nil {
		add("idle_ws errors", r.Errors > 0 || r.Dropped > 0 || r.Opened < r.Conns,
			"%d errors%s, %d dropped, %d of %d opened (all must open and stay open)", r.Errors, kinds(r.ErrorKinds),
			r.Dropped, r.Opened, r.Conns)
		serverLog("idle_ws", r.ServerProcess)
		const check = "idle_ws rss_per_conn_kb"
		// The figure is over the second half of the sockets. When their
		// RSS grew less than its noise there is no figure (the server may
		// be returning start-up memory meanwhile), but a server at the
		// floor would have grown by ten times the noise or more: that it
		// did not is enough.
		second := r.Conns - r.Conns/2
		atFloorMB := float64(second*floorIdleKB) / 1024
		switch {
		case r.RSSPerConnKB != nil:
			add(check, *r.RSSPerConnKB > floorIdleKB, "%.1f KB, floor <= %d KB", *r.RSSPerConnKB, floorIdleKB)
		case r.RSSAfterMB == nil || r.RSSHalfMB == nil:
			skip(check, "the server's RSS was not read (with --url, give --server-pid)")
		case atFloorMB >= 10*rssNoiseMB:
			add(check, false, "%d sockets grew RSS %.1f MB, within its noise; at the floor (%d KB) they would have grown it %.0f MB",
				second, *r.RSSAfterMB-*r.RSSHalfMB, floorIdleKB, atFloorMB)
		default:
			skip(check, "%d sockets grew RSS within its noise, too few to tell %d KB each (try --conns 2000)", second, floorIdleKB)
		}
	}
	if r := rep.KBScale; r != nil {
		check := fmt.Sprintf("kb_scale %d classify_p99_ms", floorClassifyEntries)
		measured := false
		for _, s := range r.Sizes {
			name := fmt.Sprintf("kb_scale %d", s.Entries)
			switch {
			case s.Error != "" && s.Stopped && s.Entries != floorClassifyEntries:
				skip(name, "%s", s.Error)
			case s.Error != "":
				add(name, true, "%s", s.Error)
			case s.Entries == floorClassifyEntries && s.ClassifyP99 != nil:
				measured = true
				add(check, *s.ClassifyP99 > floorClassifyP99MS, "%.3f ms, floor <= %d ms", *s.ClassifyP99, floorClassifyP99MS)
				if s.ClassifyP50 != nil {
					add(name+" classify_p50_ms", *s.ClassifyP50 > floorClassifyP50MS, "%.3f ms, floor <= %.1f ms",
						*s.ClassifyP50, floorClassifyP50MS)
				}
				if s.TrainSec != nil {
					add(name+" train_sec", *s.TrainSec > floorTrainSec, "%.2f s, floor <= %d s", *s.TrainSec, floorTrainSec)
				}
				if s.PeakRSSMB != nil {
					add(name+" peak_rss_mb", *s.PeakRSSMB > floorPeakRSSMB, "%.1f MB, floor <= %d MB", *s.PeakRSSMB, floorPeakRSSMB)
				}
			}
		}
		if !measured {
			skip(check, "no figure for %d entries in this run", floorClassifyEntries)
		}
	}
	return out
}

// FailedFloors returns the floors that failed.
func FailedFloors(fs []Floor) []Floor {
	var out []Floor
	for _, f := range fs {
		if f.Result == FloorFailed {
			out = append(out, f)
		}
	}
	return out
}

// WriteFloors prints the verdict of a --check run, one line a floor, and
// its sum.
func WriteFloors(w io.Writer, fs []Floor) error {
	fmt.Fprintln(w, "\ncheck: a crash, an error or a lost message fails; so does a figure 10x worse than when its floor was set")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, f := range fs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.ToUpper(f.Result), f.Check, f.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := FailedFloors(fs)
	if len(failed) == 0 {
		_, err := fmt.Fprintf(w, "check passed (%d checks)\n", len(fs))
		return err
	}
	names := make([]string, len(failed))
	for i, f := range failed {
		names[i] = f.Check
	}
	_, err := fmt.Fprintf(w, "check FAILED: %s\n", strings.Join(names, ", "))
	return err
}
