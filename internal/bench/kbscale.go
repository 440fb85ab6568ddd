package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/nlu"
)

// KBSize is what a knowledge base of one size costs: building it (the
// training a release does when it is published, quality gate excluded),
// loading it again from its stored model (what a restart does), memory,
// and the latency of the engine's per-turn classify+retrieve.
type KBSize struct {
	Entries  int `json:"entries"`
	Examples int `json:"examples,omitempty"`
	// TrainSec is knowledge.BuildIndex over the entries and the built-in
	// intents; LoadSec is knowledge.LoadIndex from the trained model's
	// bytes.
	TrainSec *float64 `json:"train_sec,omitempty"`
	LoadSec  *float64 `json:"load_sec,omitempty"`
	// HeapMB is the live heap after a GC with the index built (entries
	// included); IndexMB its growth over the entries alone; ModelMB the
	// size of the stored model.
	HeapMB  *float64 `json:"heap_mb,omitempty"`
	IndexMB *float64 `json:"index_mb,omitempty"`
	ModelMB *float64 `json:"model_mb,omitempty"`
	// Queries were asked in held-out wordings: nlu.Prepare, Index.Analyze
	// and Index.Entry, as a turn does.
	Queries      int      `json:"queries"`
	ClassifyP50  *float64 `json:"classify_p50_ms,omitempty"`
	ClassifyP99  *float64 `json:"classify_p99_ms,omitempty"`
	ClassifyMax  *float64 `json:"classify_max_ms,omitempty"`
	Top1Accuracy *float64 `json:"top1_accuracy,omitempty"`
	// PeakRSSMB is the measuring process's peak resident memory.
	PeakRSSMB *float64 `json:"peak_rss_mb,omitempty"`
	// Error says why the size has no figures (timeout, memory limit).
	Error string `json:"error,omitempty"`
	// Stopped is set when the benchmark stopped the size at its time or
	// memory limit, rather than the size failing on its own.
	Stopped bool `json:"stopped,omitempty"`
}

// KBScaleResult holds one KBSize per size measured.
type KBScaleResult struct {
	Sizes []KBSize `json:"sizes"`
}

// queryBudget bounds the time spent asking queries of one size.
const queryBudget = 15 * time.Second

func ptr[T any](v T) *T { return &v }

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return round(float64(m.HeapAlloc)/(1<<20), 1)
}

// MeasureKB builds a synthetic knowledge base of size entries in this
// process, as the engine does, and measures it; phase is told each step
// (for a parent that may have to stop it). It is meant to run alone in its
// process (steward-bench kb-scale-child), so that heap and peak RSS are its
// own.
func MeasureKB(ctx context.Context, size, queries int, phase func(string)) (*KBSize, error) {
	out := &KBSize{Entries: size}
	phase("generate")
	entries, err := syntheticKB(size)
	if err != nil {
		return nil, err
	}
	builtin, err := conversation.LoadBuiltin()
	if err != nil {
		return nil, fmt.Errorf("load built-in intents: %w", err)
	}
	extra := builtin.Examples()
	out.Examples = len(extra)
	for _, e := range entries {
		for _, c := range e.Locales {
			out.Examples += 1 + len(c.Questions) // the title is an example too
		}
	}
	base := heapMB()

	phase("train")
	t0 := time.Now()
	ix, err := knowledge.BuildIndex(entries, extra)
	if err != nil {
		return nil, fmt.Errorf("build index of %d entries: %w", size, err)
	}
	out.TrainSec = ptr(round(time.Since(t0).Seconds(), 2))
	heap := heapMB()
	out.HeapMB, out.IndexMB = ptr(heap), ptr(round(heap-base, 1))
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	phase(fmt.Sprintf("query (trained in %.1f s)", *out.TrainSec))
	qs := syntheticQueries(size, queries)
	lat := make([]time.Duration, 0, len(qs))
	right := 0
	deadline := time.Now().Add(queryBudget)
	for _, q := range qs {
		t := time.Now()
		pred := ix.Analyze(nlu.Prepare(q.text))
		_, known := ix.Entry(pred.Label)
		lat = append(lat, time.Since(t))
		if known && pred.Label == q.entry {
			right++
		}
		if t.After(deadline) || ctx.Err() != nil {
			break
		}
	}
	out.Queries = len(lat)
	l := Summarize(lat)
	out.ClassifyP50, out.ClassifyP99, out.ClassifyMax = ptr(l.P50), ptr(l.P99), ptr(l.Max)
	out.Top1Accuracy = ptr(round(float64(right)/float64(len(lat)), 3))

	phase("load")
	model, err := ix.Model()
	if err != nil {
		return nil, fmt.Errorf("encode the model: %w", err)
	}
	out.ModelMB = ptr(round(float64(len(model))/(1<<20), 1))
	runtime.KeepAlive(ix)
	ix = nil
	t1 := time.Now()
	loaded, err := knowledge.LoadIndex(entries, model)
	if err != nil {
		return nil, fmt.Errorf("load the model: %w", err)
	}
	out.LoadSec = ptr(round(time.Since(t1).Seconds(), 2))
	runtime.KeepAlive(loaded)
	if kb, err := procStatusKB(0, "VmHWM"); err == nil {
		out.PeakRSSMB = ptr(round(float64(kb)/1024, 1))
	}
	return out, nil
}

// runKBScale measures each size in a child process of its own (self is
// this program, run as "kb-scale-child"): the child is stopped when it
// outlives o.KBTimeout or its RSS passes o.KBMemLimitMB, and the size is
// reported with the reason instead of figures.
func runKBScale(ctx context.Context, o *Options) (*KBScaleResult, error) {
	out := &KBScaleResult{}
	for _, n := range o.Sizes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.Logger.Info("kb-scale", "entries", n, "timeout", o.KBTimeout, "memory_limit_mb", o.KBMemLimitMB)
		r := measureInChild(ctx, o, n)
		if r.Error != "" {
			o.Logger.Warn("kb-scale size failed", "entries", n, "error", r.Error)
		}
		out.Sizes = append(out.Sizes, r)
	}
	return out, nil
}

func measureInChild(ctx context.Context, o *Options, n int) KBSize {
	cctx, cancel := context.WithTimeout(ctx, o.KBTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, o.Self, "kb-scale-child", "--size", strconv.Itoa(n), "--queries", strconv.Itoa(o.KBQueries))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout bytes.Buffer
	log := &childLog{}
	cmd.Stdout, cmd.Stderr = &stdout, log
	fail := func(format string, args ...any) KBSize {
		return KBSize{Entries: n, Error: fmt.Sprintf(format, args...)}
	}
	if err := cmd.Start(); err != nil {
		return fail("start %s: %v", o.Self, err)
	}
	// The watchdog keeps the peak RSS and stops a child over the limit.
	var (
		peakKB  int64
		overMem bool
		mu      sync.Mutex
	)
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWatch:
				return
			case <-tick.C:
			}
			kb, err := procStatusKB(cmd.Process.Pid, "VmRSS")
			if err != nil {
				continue
			}
			mu.Lock()
			peakKB = max(peakKB, kb)
			if kb/1024 > int64(o.KBMemLimitMB) && !overMem {
				overMem = true
				_ = cmd.Process.Kill()
			}
			mu.Unlock()
		}
	}()
	err := cmd.Wait()
	close(stopWatch)
	<-watched
	mu.Lock()
	defer mu.Unlock()
	peak := round(float64(peakKB)/1024, 1)
	phase, crash := log.state()
	switch {
	case overMem:
		r := fail("stopped during %s: RSS passed the limit of %d MB (--kb-mem-limit)", phase, o.KBMemLimitMB)
		r.PeakRSSMB = &peak
		r.Stopped = true
		return r
	case cctx.Err() != nil && ctx.Err() == nil:
		r := fail("stopped during %s: did not finish within %s (--kb-timeout)", phase, o.KBTimeout)
		r.PeakRSSMB = &peak
		r.Stopped = true
		return r
	case err != nil:
		if crash == "" {
			crash = err.Error()
		}
		r := fail("failed during %s: %s", phase, crash)
		r.PeakRSSMB = &peak
		return r
	}
	var r KBSize
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return fail("decode the child's result: %v", err)
	}
	return r
}

// childLog reads a kb-scale child's stderr: the phase it last announced,
// and the first line of a crash (panic, fatal error) if it crashed.
type childLog struct {
	mu    sync.Mutex
	buf   []byte
	phase string
	crash string
}

func (l *childLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if p, ok := strings.CutPrefix(line, "phase "); ok {
			l.phase = p
		} else if l.crash == "" && (strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:")) {
			l.crash = line
		}
	}
	if len(l.buf) > 64<<10 {
		l.buf = l.buf[len(l.buf)-4<<10:]
	}
	return len(p), nil
}

// state returns the last phase and the crash line.
func (l *childLog) state() (phase, crash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.phase == "" {
		return "start-up", l.crash
	}
	return l.phase, l.crash
}

// PhaseWriter returns the phase callback of a kb-scale child: one line per
// phase on w, which the parent reads.
func PhaseWriter(w io.Writer) func(string) {
	return func(p string) { fmt.Fprintln(w, "phase", p) }
}
