// Command steward-bench is Steward's load generator: it measures the turn
// rate and latency over REST and WebSocket, the memory of idle WebSockets
// and the knowledge base at scale, beside a bare net/http echo server
// measured in the same run (issue 9). Loopback only, bounded in time.
//
//	steward-bench SCENARIO|all [--json] [--short] [--check] [--duration 10s] [--concurrency 256]
//	    [--conns 10000] [--sizes 1000,10000,100000] [--url URL [--server-pid PID]] [--steward PATH] [--out FILE]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/steward-cs/steward/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == "kb-scale-child" {
		err = kbScaleChild(ctx, args[1:], stdout, stderr)
	} else {
		err = benchmark(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "steward-bench:", err)
		fmt.Fprintln(stderr, "run steward-bench --help for the flags")
		return 2
	default:
		fmt.Fprintln(stderr, "steward-bench:", err)
		return 1
	}
}

const usage = `Usage: steward-bench SCENARIO|all [flags]

Scenarios (all runs them in this order):
  baseline   a bare net/http JSON echo server under the load of turns: the limit turns are compared with
  turns      N customers each create a conversation and send messages over REST as fast as answers come
  ws-turns   the same over the conversation's WebSocket stream
  idle-ws    N idle WebSocket streams: the server's RSS per connection
  kb-scale   generated knowledge bases of each size: training, memory, classify+retrieve latency

Without --url, each server scenario starts its own Steward (a fresh build of ./cmd/steward, or
--steward) on a temporary data directory: durable SQLite, the demo knowledge base, limits lifted.
The exit code is 1 when a scenario failed, the server crashed or a message was lost; missed
targets are reported, not failed. With --check (make bench-check, in CI) it is also 1 on any
error, and on a figure ten times worse than when its floor was set (internal/bench/floor.go).

Flags:
`

func benchmark(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("steward-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		o         bench.Options
		asJSON    bool
		sizes     string
		verbose   bool
		outFile   string
		check     bool
		kbMemHelp = "stop a kb-scale size whose process passes this RSS, in MB (default: 6144 or half the available memory)"
	)
	fs.BoolVar(&asJSON, "json", false, "print one JSON object on stdout instead of the table")
	fs.BoolVar(&o.Short, "short", false, "a seconds-long version for CI: 16 customers, 2s, idle-ws 500, kb-scale 1000")
	fs.BoolVar(&check, "check", false, "exit 1 on any error, lost message, or figure 10x worse than its floor (for CI, with --short)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each load scenario (baseline, turns, ws-turns)")
	fs.IntVar(&o.Concurrency, "concurrency", 256, "simulated customers in baseline, turns and ws-turns")
	fs.IntVar(&o.Conns, "conns", 10000, "idle WebSockets in idle-ws")
	fs.StringVar(&sizes, "sizes", "1000,10000,100000", "knowledge base sizes in kb-scale, comma-separated")
	fs.StringVar(&o.URL, "url", "", "load a running Steward on loopback (its rate limits and WebSocket cap lifted) instead of starting one")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "with --url: the server's process id, to read its RSS and CPU time")
	fs.StringVar(&o.Steward, "steward", "", "the steward binary to start (default: go build ./cmd/steward into a temporary directory)")
	fs.DurationVar(&o.KBTimeout, "kb-timeout", 75*time.Second, "stop a kb-scale size that takes longer (training, queries and loading)")
	fs.IntVar(&o.KBMemLimitMB, "kb-mem-limit", 0, kbMemHelp)
	fs.IntVar(&o.KBQueries, "kb-queries", 3000, "held-out questions asked of each kb-scale size")
	fs.IntVar(&o.VerifyMax, "verify-max", 20000, "conversations fetched at most to check that no acknowledged message was lost")
	fs.StringVar(&outFile, "out", "", "also write the JSON report to FILE")
	fs.BoolVar(&verbose, "v", false, "log every step (default: warnings, and progress unless --json)")
	// The scenario may come before or after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.Scenario, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	rest := fs.Args()
	if o.Scenario == "" && len(rest) > 0 {
		o.Scenario, rest = rest[0], rest[1:]
	}
	if o.Scenario == "" {
		fs.Usage()
		return usageError{fmt.Errorf("name a scenario (%s) or all", strings.Join(bench.Scenarios(), ", "))}
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (flags go before or after the scenario, which comes once)", rest[0])}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Short {
		// The short run keeps any size given explicitly.
		for name, apply := range map[string]func(){
			"duration":    func() { o.Duration = 2 * time.Second },
			"concurrency": func() { o.Concurrency = 16 },
			"conns":       func() { o.Conns = 500 },
			"sizes":       func() { sizes = "1000" },
			"kb-queries":  func() { o.KBQueries = 1000 },
			"kb-timeout":  func() { o.KBTimeout = 60 * time.Second },
		} {
			if !set[name] {
				apply()
			}
		}
	}
	for s := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return usageError{fmt.Errorf("--sizes: %q is not a number", s)}
		}
		o.Sizes = append(o.Sizes, n)
	}
	if o.KBMemLimitMB == 0 {
		o.KBMemLimitMB = 6144
		if avail := bench.MemAvailableMB(); avail > 0 && avail/2 < int64(o.KBMemLimitMB) {
			o.KBMemLimitMB = int(avail / 2)
		}
	}
	level := slog.LevelInfo
	switch {
	case verbose:
		level = slog.LevelDebug
	case asJSON:
		level = slog.LevelWarn
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program's executable: %w", err)
	}
	o.Self = self
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	// idle-ws holds thousands of sockets open here and in the server,
	// which inherits the limit.
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		return err
	}
	if runsIdle := o.Scenario == bench.ScenarioAll || o.Scenario == bench.ScenarioIdleWS; runsIdle && uint64(o.Conns)+1024 > limit {
		return usageError{fmt.Errorf("--conns %d needs more open files than the limit of %d allows (raise the hard limit: ulimit -Hn)", o.Conns, limit)}
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if check {
		rep.Floors = bench.CheckFloors(rep)
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // targets read ">= 5000", not "\u003e= 5000"
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encode the report: %w", err)
	}
	if outFile != "" {
		if err := os.WriteFile(outFile, js.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	if asJSON {
		if _, err := stdout.Write(js.Bytes()); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	} else if err := bench.WriteTable(stdout, rep); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if check {
		// Beside the table; with --json, stdout holds the JSON alone.
		w := stdout
		if asJSON {
			w = stderr
		}
		if err := bench.WriteFloors(w, rep.Floors); err != nil {
			return fmt.Errorf("write the check: %w", err)
		}
		if failed := bench.FailedFloors(rep.Floors); len(failed) > 0 {
			why := make([]string, len(failed))
			for i, f := range failed {
				why[i] = f.Check + ": " + f.Detail
			}
			return fmt.Errorf("check failed: %s", strings.Join(why, "; "))
		}
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d failures: %s", len(rep.Failures), strings.Join(rep.Failures, "; "))
	}
	return nil
}

// kbScaleChild measures one knowledge base size in this process and prints
// the result as JSON (run by kb-scale, one process per size).
func kbScaleChild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kb-scale-child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Int("size", 1000, "entries")
	queries := fs.Int("queries", 3000, "held-out questions to ask")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	r, err := bench.MeasureKB(ctx, *size, *queries, bench.PhaseWriter(stderr))
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(r); err != nil {
		return fmt.Errorf("write the result: %w", err)
	}
	return nil
}
