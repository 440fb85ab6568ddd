package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds a Steward's start: migrations, the demo knowledge
// base's first release (its training and quality gate) and readiness.
const startTimeout = 2 * time.Minute

// stopTimeout is how long a Steward may take to shut down after SIGTERM
// before it is killed.
const stopTimeout = 30 * time.Second

// benchConfig is the Steward configuration the benchmark serves with: the
// defaults (durable SQLite, synchronous=FULL), the demo knowledge base, and
// every per-client limit lifted, since every simulated customer comes from
// 127.0.0.1 (the values are config.Security.LiftLimits').
const benchConfig = `# Written by steward-bench.
addr: 127.0.0.1:0
data_dir: %q
demo: true
sqlite_synchronous: FULL
log_level: info
security:
  rate_limits:
    ip: {rate: 1000000, burst: 1000000}
    conversation_create: {rate: 1000000, burst: 1000000}
    conversation: {rate: 1000000, burst: 1000000}
    login: {rate: 1000000, burst: 1000000}
  websocket_messages: {rate: 1000000, burst: 1000000}
  max_websockets_per_ip: 1048576
`

// Steward is a Steward server the benchmark started as a child process,
// on a data directory of its own.
type Steward struct {
	// URL is the server's base URL (http://127.0.0.1:PORT).
	URL     string
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	logger  *slog.Logger
}

// BuildSteward builds cmd/steward of the module at moduleDir into dir and
// returns the binary's path.
func BuildSteward(ctx context.Context, moduleDir, dir string) (string, error) {
	out := filepath.Join(dir, "steward")
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build steward: the go command is not on PATH (or pass --steward PATH): %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/steward")
	cmd.Dir = moduleDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build steward in %s: %w\n%s", moduleDir, err, b)
	}
	return out, nil
}

// ModuleDir finds the Steward module's root at or above dir.
func ModuleDir(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/steward-cs/steward\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Steward module (go.mod) at or above %s: run from the repository or pass --steward PATH", dir)
		}
	}
}

var runningRE = regexp.MustCompile(`is running: open http://([^/\s]+)/chat`)

// StartSteward starts binary serve on a fresh data directory under dir with
// benchConfig, waits until it is ready (knowledge loaded), and returns it.
// Its log goes to dir/steward.log. STEWARD_* variables of this process are
// not passed on: the configuration file alone decides.
func StartSteward(ctx context.Context, binary, dir string, logger *slog.Logger) (_ *Steward, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	cfgPath := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, benchConfig, filepath.Join(dir, "data")), 0o600); err != nil {
		return nil, fmt.Errorf("write steward config: %w", err)
	}
	s := &Steward{dir: dir, logPath: filepath.Join(dir, "steward.log"), exited: make(chan struct{}), logger: logger}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("create steward log: %w", err)
	}
	s.cmd = exec.Command(binary, "serve", "--config", cfgPath)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STEWARD_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Stderr = logFile
	// If the benchmark dies, the server goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("steward stdout: %w", err)
	}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	addr := make(chan string, 1)
	var copying sync.WaitGroup
	copying.Go(func() {
		// The first lines name the address; the rest (demo passwords) go
		// to the log, which stays in the temporary directory.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := runningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
				continue
			}
			fmt.Fprintln(logFile, "stdout:", line)
		}
		_, _ = io.Copy(io.Discard, stdout)
	})
	go func() {
		copying.Wait()
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	defer func() {
		if err != nil {
			s.Stop(context.Background())
			err = fmt.Errorf("%w\n%s", err, s.LogTail(20))
		}
	}()
	wait, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-s.exited:
		return nil, fmt.Errorf("steward exited during start-up: %v", s.waitErr)
	case <-wait.Done():
		return nil, fmt.Errorf("steward did not start within %s: %w", startTimeout, wait.Err())
	}
	if err := waitReady(wait, s.URL, s.exited); err != nil {
		return nil, err
	}
	logger.Info("steward ready", "url", s.URL, "pid", s.PID(), "took_ms", time.Since(start).Milliseconds())
	return s, nil
}

// waitReady polls /readyz until it answers 200.
func waitReady(ctx context.Context, base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("build readiness probe: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("steward exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("steward at %s not ready: %w", base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the server's process id.
func (s *Steward) PID() int { return s.cmd.Process.Pid }

// Exited reports whether the server has stopped (crashed, if the benchmark
// did not stop it), and how.
func (s *Steward) Exited() (bool, error) {
	select {
	case <-s.exited:
		return true, s.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits for an orderly shutdown, and kills the server
// if it takes longer than stopTimeout.
func (s *Steward) Stop(ctx context.Context) error {
	if done, _ := s.Exited(); done {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.exited:
		// A panic on the way out (closing the store, the crisis
		// machinery) is a crash too: it used to pass as a clean stop.
		if s.waitErr != nil {
			return fmt.Errorf("steward exited with %v after SIGTERM:\n%s", s.waitErr, s.LogTail(30))
		}
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("steward did not stop within %s of SIGTERM; killed", stopTimeout)
}

// LogTail returns the last n lines of the server's log.
func (s *Steward) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogProblems returns the server's log lines at level ERROR or above, and
// panics, at most max of them (and how many there were).
func (s *Steward) LogProblems(max int) (int, []string) {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return 0, nil
	}
	n := 0
	var out []string
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
			n++
			if len(out) < max {
				out = append(out, strings.TrimSpace(line))
			}
		}
	}
	return n, out
}
