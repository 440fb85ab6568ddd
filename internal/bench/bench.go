// Package bench is Steward's load generator and measurements (issue 9): it
// drives a Steward (one it starts on a temporary data directory, or a
// running one on loopback) through named scenarios and reports each figure
// beside its target and, for the turn rate, as a ratio to a bare net/http
// echo server measured in the same run.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The scenarios, in the order "all" runs them: the baseline first, so that
// every other figure can be compared with it.
const (
	ScenarioBaseline = "baseline"
	ScenarioTurns    = "turns"
	ScenarioWSTurns  = "ws-turns"
	ScenarioIdleWS   = "idle-ws"
	ScenarioKBScale  = "kb-scale"
	ScenarioAll      = "all"
)

// Scenarios lists the scenarios "all" runs, in order.
func Scenarios() []string {
	return []string{ScenarioBaseline, ScenarioTurns, ScenarioWSTurns, ScenarioIdleWS, ScenarioKBScale}
}

// Options configure a run.
type Options struct {
	Scenario    string
	Duration    time.Duration // of each load scenario (baseline, turns, ws-turns)
	Concurrency int           // simulated customers of the load scenarios
	Conns       int           // idle-ws sockets
	Sizes       []int         // kb-scale sizes
	// URL targets a running Steward on loopback (its limits lifted) instead
	// of starting one; ServerPID, if known, lets its RSS and CPU be read.
	URL       string
	ServerPID int
	// Steward is the steward binary to start; empty builds ./cmd/steward.
	Steward string
	// KBTimeout and KBMemLimitMB bound each kb-scale size; KBQueries is how
	// many questions are asked of each.
	KBTimeout    time.Duration
	KBMemLimitMB int
	KBQueries    int
	// VerifyMax bounds how many conversations are fetched to check that no
	// acknowledged message was lost.
	VerifyMax int
	Short     bool
	// Self is this program's executable (kb-scale runs it as a child).
	Self   string
	Logger *slog.Logger
}

// Validate checks the options and names the flag at fault.
func (o *Options) Validate() error {
	var errs []error
	if o.Scenario != ScenarioAll && !slices.Contains(Scenarios(), o.Scenario) {
		errs = append(errs, fmt.Errorf("unknown scenario %q (want %s or all)", o.Scenario, strings.Join(Scenarios(), ", ")))
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("--duration must be between 0 and 1h, not %s", o.Duration))
	}
	if o.Concurrency < 1 || o.Concurrency > 10000 {
		errs = append(errs, fmt.Errorf("--concurrency must be 1 to 10000, not %d", o.Concurrency))
	}
	if o.Conns < 1 || o.Conns > 100000 {
		errs = append(errs, fmt.Errorf("--conns must be 1 to 100000, not %d", o.Conns))
	}
	for _, n := range o.Sizes {
		if n < 1 || n > maxSyntheticEntries {
			errs = append(errs, fmt.Errorf("--sizes: each size must be 1 to %d, not %d", maxSyntheticEntries, n))
		}
	}
	if o.VerifyMax < 0 {
		errs = append(errs, fmt.Errorf("--verify-max must be 0 (check nothing) or more, not %d", o.VerifyMax))
	}
	if o.KBTimeout <= 0 || o.KBMemLimitMB < 64 || o.KBQueries < 1 {
		errs = append(errs, fmt.Errorf("--kb-timeout must be positive, --kb-mem-limit at least 64 (MB), --kb-queries at least 1"))
	}
	if o.URL != "" {
		if err := checkLoopback(o.URL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkLoopback refuses a target that is not on this machine's loopback:
// the benchmark is a load generator, never to be pointed elsewhere.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q must be http://HOST:PORT", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %q is not on loopback (127.0.0.0/8, ::1, localhost): the benchmark only loads this machine", raw)
}

// Settings records how the run was configured.
type Settings struct {
	Scenario    string  `json:"scenario"`
	Short       bool    `json:"short"`
	DurationSec float64 `json:"duration_sec"`
	Concurrency int     `json:"concurrency"`
	Conns       int     `json:"conns"`
	Sizes       []int   `json:"sizes"`
	// Target is "self" (a Steward started per scenario on a fresh data
	// directory, durable SQLite, demo knowledge base) or the --url.
	Target  string `json:"target"`
	Steward string `json:"steward,omitempty"`
}

// Report is everything one run measured: one key per scenario run.
type Report struct {
	Machine  Machine         `json:"machine"`
	Settings Settings        `json:"settings"`
	Baseline *BaselineResult `json:"baseline,omitempty"`
	Turns    *TurnsResult    `json:"turns,omitempty"`
	WSTurns  *TurnsResult    `json:"ws_turns,omitempty"`
	IdleWS   *IdleResult     `json:"idle_ws,omitempty"`
	KBScale  *KBScaleResult  `json:"kb_scale,omitempty"`
	// Checks put each figure beside its target from the issue.
	Checks []Check `json:"checks"`
	// Failures name scenarios that could not run, or a server that crashed
	// or lost messages; a run with failures exits non-zero.
	Failures []string `json:"failures,omitempty"`
	// Floors is the verdict of a --check run (CheckFloors).
	Floors      []Floor `json:"floors,omitempty"`
	TotalSec    float64 `json:"total_sec"`
	GeneratedAt string  `json:"generated_at"`
}

// Run runs o.Scenario and reports what it measured. Failures of single
// scenarios are in the report; the error is for a run that could not be
// set up at all.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	scenarios := []string{o.Scenario}
	if o.Scenario == ScenarioAll {
		scenarios = Scenarios()
	}
	rep := &Report{Machine: describeMachine(), Settings: Settings{Scenario: o.Scenario, Short: o.Short,
		DurationSec: o.Duration.Seconds(), Concurrency: o.Concurrency, Conns: o.Conns, Sizes: o.Sizes, Target: "self"}}
	if o.URL != "" {
		rep.Settings.Target = strings.TrimRight(o.URL, "/")
	}
	qs, err := demoQuestions()
	if err != nil {
		return nil, err
	}
	r := &runner{o: &o, qs: qs}
	defer r.cleanup()
	needsServer := slices.ContainsFunc(scenarios, func(s string) bool {
		return s == ScenarioTurns || s == ScenarioWSTurns || s == ScenarioIdleWS
	})
	if needsServer && o.URL == "" {
		if err := r.prepareBinary(ctx); err != nil {
			return nil, err
		}
		rep.Settings.Steward = r.binary
	}
	for _, s := range scenarios {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.Logger.Info("scenario", "name", s)
		if err := r.run(ctx, s, rep); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			o.Logger.Error("scenario failed", "name", s, "error", err)
			rep.Failures = append(rep.Failures, s+": "+err.Error())
		}
	}
	if b := rep.Baseline; b != nil && b.RequestsPerSec > 0 {
		for _, t := range []*TurnsResult{rep.Turns, rep.WSTurns} {
			if t != nil {
				t.RatioToBaseline = ptr(round(t.TurnsPerSec/b.RequestsPerSec, 3))
			}
		}
	}
	for name, t := range map[string]*TurnsResult{ScenarioTurns: rep.Turns, ScenarioWSTurns: rep.WSTurns} {
		if t != nil && t.Lost > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d acknowledged messages missing from their transcripts", name, t.Lost))
		}
	}
	rep.Checks = checks(rep)
	rep.TotalSec = round(time.Since(start).Seconds(), 1)
	rep.GeneratedAt = time.Now().UTC().Format(time.RFC3339)
	return rep, nil
}

// runner holds what the scenarios of one run share.
type runner struct {
	o      *Options
	qs     []question
	binary string
	tmp    string
}

func (r *runner) cleanup() {
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

func (r *runner) tempDir() (string, error) {
	if r.tmp == "" {
		d, err := os.MkdirTemp("", "steward-bench-")
		if err != nil {
			return "", fmt.Errorf("create a temporary directory: %w", err)
		}
		r.tmp = d
	}
	return r.tmp, nil
}

// prepareBinary settles which steward binary to start: --steward, or a
// fresh build of ./cmd/steward (the go build cache makes it quick), so
// that the figures are those of the code in the tree.
func (r *runner) prepareBinary(ctx context.Context) error {
	if r.o.Steward != "" {
		if _, err := os.Stat(r.o.Steward); err != nil {
			return fmt.Errorf("--steward: %w", err)
		}
		r.binary = r.o.Steward
		return nil
	}
	tmp, err := r.tempDir()
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the module: %w", err)
	}
	mod, err := ModuleDir(wd)
	if err != nil {
		return err
	}
	r.o.Logger.Info("building steward", "module", mod)
	t0 := time.Now()
	if r.binary, err = BuildSteward(ctx, mod, tmp); err != nil {
		return err
	}
	r.o.Logger.Info("built steward", "path", r.binary, "took_ms", time.Since(t0).Milliseconds())
	return nil
}

// server is the Steward a scenario loads.
type server struct {
	url     string
	pid     int
	steward *Steward // nil with --url
}

// startServer starts a Steward of the scenario's own on a fresh data
// directory, or returns the --url target.
func (r *runner) startServer(ctx context.Context, scenario string) (*server, error) {
	if r.o.URL != "" {
		return &server{url: strings.TrimRight(r.o.URL, "/"), pid: r.o.ServerPID}, nil
	}
	tmp, err := r.tempDir()
	if err != nil {
		return nil, err
	}
	s, err := StartSteward(ctx, r.binary, filepath.Join(tmp, scenario), r.o.Logger)
	if err != nil {
		return nil, err
	}
	return &server{url: s.URL, pid: s.PID(), steward: s}, nil
}

// stop stops a Steward the benchmark started, and reports a crash.
func (s *server) stop(ctx context.Context) error {
	if s.steward == nil {
		return nil
	}
	if exited, err := s.steward.Exited(); exited {
		return fmt.Errorf("steward exited during the scenario (%v):\n%s", err, s.steward.LogTail(30))
	}
	return s.steward.Stop(ctx)
}

// observe fills in what is known of the server's process after a scenario.
func (s *server) observe(ctx context.Context, p *ServerProcess, cpu0 time.Duration, bench0 time.Duration) {
	p.BenchCPUSec = round((selfCPU() - bench0).Seconds(), 2)
	if s.pid != 0 {
		if cpu, err := procCPU(s.pid); err == nil {
			p.ServerCPUSec = ptr(round((cpu - cpu0).Seconds(), 2))
		}
		if rss, err := rssMB(s.pid); err == nil {
			p.ServerRSSMB = &rss
		}
	}
	var st struct {
		Status string `json:"status"`
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := doJSON(rctx, http.DefaultClient, "GET", s.url+"/api/v1/status", "", nil, http.StatusOK, &st); err == nil {
		p.ServerStatus = st.Status
	}
	if s.steward != nil {
		n, _ := s.steward.LogProblems(0)
		p.ServerLogErrors = &n
	}
}

func (s *server) cpu() time.Duration {
	if s.pid == 0 {
		return 0
	}
	c, _ := procCPU(s.pid)
	return c
}

// run runs one scenario and puts its result in rep.
func (r *runner) run(ctx context.Context, scenario string, rep *Report) (err error) {
	o := r.o
	switch scenario {
	case ScenarioBaseline:
		rep.Baseline, err = runBaseline(ctx, o, r.qs)
		return err
	case ScenarioKBScale:
		rep.KBScale, err = runKBScale(ctx, o)
		return err
	}
	srv, err := r.startServer(ctx, scenario)
	if err != nil {
		return err
	}
	var observed *ServerProcess // the scenario's, once it has one
	defer func() {
		if serr := srv.stop(context.WithoutCancel(ctx)); serr != nil && err == nil {
			err = serr
		}
		// Counted again once the server has stopped: an ERROR while the
		// transcripts were read back or during the shutdown counted
		// nowhere (it was only logged).
		if observed != nil && srv.steward != nil {
			n, _ := srv.steward.LogProblems(0)
			observed.ServerLogErrors = &n
			r.logProblems(srv, scenario)
		}
	}()
	cpu0, bench0 := srv.cpu(), selfCPU()
	switch scenario {
	case ScenarioTurns, ScenarioWSTurns:
		run, name := runTurns, "turns"
		if scenario == ScenarioWSTurns {
			run, name = runWSTurns, "ws-turns"
		}
		res, led, err := run(ctx, o, srv.url, r.qs)
		if err != nil {
			return err
		}
		srv.observe(ctx, &res.ServerProcess, cpu0, bench0)
		observed = &res.ServerProcess
		if scenario == ScenarioTurns {
			rep.Turns = res
		} else {
			rep.WSTurns = res
		}
		if err := verify(ctx, srv.url, led, o.VerifyMax, res); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case ScenarioIdleWS:
		res, err := runIdleWS(ctx, o, srv.url, srv.pid, r.qs)
		if err != nil {
			return err
		}
		srv.observe(ctx, &res.ServerProcess, cpu0, bench0)
		observed = &res.ServerProcess
		rep.IdleWS = res
	}
	return nil
}

// logProblems logs the first ERROR lines of the server's log.
func (r *runner) logProblems(srv *server, scenario string) {
	if srv.steward == nil {
		return
	}
	n, lines := srv.steward.LogProblems(5)
	for _, l := range lines {
		r.o.Logger.Warn("server logged an error", "scenario", scenario, "line", l)
	}
	if n > len(lines) {
		r.o.Logger.Warn("server logged more errors", "scenario", scenario, "count", n)
	}
}
