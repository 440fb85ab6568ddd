package incident

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/notify"
)

// Fault-injection points. They exist only when the server is started with
// --enable-fault-injection.
const (
	FaultNLU        = conversation.FaultNLU     // intent recognition fails or is slow
	FaultAnswers    = conversation.FaultAnswers // the bot answers with the wrong entry (scope: a category)
	FaultStoreWrite = "store.write"             // conversation writes fail or are slow
	FaultNotify     = "notify"                  // notification sends fail (scope: a channel)
	FaultLLM        = "llm"                     // calls to the language model fail or are slow (inside its timeout and breaker; scope: primary or fallback)
	FaultBadRelease = "kb.bad_release"          // publish and activate a damaged knowledge release (an action, not a point)
)

// FaultPoints are the points a fault may name.
var FaultPoints = []string{FaultNLU, FaultAnswers, FaultStoreWrite, FaultNotify, FaultBadRelease, FaultLLM}

// scoped are the points whose calls carry a scope a fault may narrow to.
var scoped = []string{FaultAnswers, FaultNotify, FaultLLM}

// ErrInjected is the error an injected fault returns.
var ErrInjected = errors.New("injected fault")

// Fault is one active fault.
type Fault struct {
	Point string `json:"point"`
	// ErrorRate is the share of calls that fail (0–1); with neither rate
	// nor latency given, every call fails.
	ErrorRate float64 `json:"error_rate"`
	// LatencyMS delays every call at the point.
	LatencyMS int `json:"latency_ms"`
	// Scope narrows the point: a category for answers, a channel for
	// notify, "primary" or "fallback" for llm (with llm.fallback).
	Scope   string    `json:"scope,omitempty"`
	Until   time.Time `json:"until"`
	SetAt   time.Time `json:"set_at"`
	Applied int64     `json:"applied"` // how many calls it failed or delayed
}

// Faults holds the active faults. The zero value has none; a nil *Faults
// injects nothing.
type Faults struct {
	mu     sync.Mutex
	faults map[string]*Fault
	now    func() time.Time
}

// NewFaults returns an empty set of faults.
func NewFaults() *Faults { return &Faults{faults: map[string]*Fault{}, now: time.Now} }

// MaxFault is the longest a fault may last; every fault expires.
const MaxFault = time.Hour

// Set validates and activates a fault (replacing one at the same point).
func (f *Faults) Set(x Fault, d time.Duration) (Fault, error) {
	known := false
	for _, p := range FaultPoints {
		known = known || p == x.Point
	}
	switch {
	case !known:
		return Fault{}, errcode.Localized(errcode.Invalid, "unknown fault point %q (known: %v)", "未知的故障点 %q（可用：%v）", x.Point, FaultPoints)
	case x.ErrorRate < 0 || x.ErrorRate > 1:
		return Fault{}, errcode.Localized(errcode.Invalid, "error_rate must be between 0 and 1", "失败比例（error_rate）应在 0 到 1 之间")
	case x.LatencyMS < 0 || x.LatencyMS > 60000:
		return Fault{}, errcode.Localized(errcode.Invalid, "latency_ms must be between 0 and 60000", "延迟（latency_ms）应在 0 到 60000 毫秒之间")
	case d < 0 || d > MaxFault:
		return Fault{}, errcode.Localized(errcode.Invalid, "duration must be positive and at most %s", "持续时间应为正数，且不超过 %s", MaxFault)
	case len(x.Scope) > 100:
		return Fault{}, errcode.Localized(errcode.Invalid, "scope is too long", "范围（scope）太长")
	case x.Scope != "" && !slices.Contains(scoped, x.Point):
		// Such a fault would never match a call (they carry no scope):
		// the drill would run against a fault that injects nothing.
		return Fault{}, errcode.Localized(errcode.Invalid, "%s takes no scope (only %v do)", "%s 不接受范围（只有 %v 接受）", x.Point, scoped)
	case x.Point == FaultLLM && x.Scope != "" && x.Scope != "primary" && x.Scope != "fallback":
		return Fault{}, errcode.Localized(errcode.Invalid, `the scope of llm is "primary" or "fallback"`, `llm 的范围应为 "primary" 或 "fallback"`)
	}
	if x.ErrorRate == 0 && x.LatencyMS == 0 {
		x.ErrorRate = 1
	}
	if d == 0 {
		d = 10 * time.Minute
	}
	now := f.now()
	x.SetAt, x.Until, x.Applied = now, now.Add(d), 0
	// The map holds its own copy: Inject counts on it under the lock, and
	// returning x read the very struct it wrote (a data race).
	stored := x
	f.mu.Lock()
	f.faults[x.Point] = &stored
	f.mu.Unlock()
	return x, nil
}

// Clear removes the fault at point ("" clears all); it reports whether
// there was one.
func (f *Faults) Clear(point string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if point == "" {
		n := len(f.faults)
		clear(f.faults)
		return n > 0
	}
	_, ok := f.faults[point]
	delete(f.faults, point)
	return ok
}

// List returns the active faults.
func (f *Faults) List() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	var out []Fault
	for p, x := range f.faults {
		if now.After(x.Until) {
			delete(f.faults, p)
			continue
		}
		out = append(out, *x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Point < out[j].Point })
	return out
}

// Inject applies the fault at point, if any: it waits its latency (or
// until ctx ends) and fails its share of calls.
func (f *Faults) Inject(ctx context.Context, point, scope string) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	x := f.faults[point]
	if x == nil || (x.Scope != "" && x.Scope != scope) {
		f.mu.Unlock()
		return nil
	}
	if f.now().After(x.Until) {
		delete(f.faults, point)
		f.mu.Unlock()
		return nil
	}
	x.Applied++
	latency, rate := time.Duration(x.LatencyMS)*time.Millisecond, x.ErrorRate
	f.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", point, ctx.Err())
		}
	}
	if rate > 0 && rand.Float64() < rate {
		return fmt.Errorf("%s: %w", point, ErrInjected)
	}
	return nil
}

// FaultyStore puts the store.write point in front of a conversation store.
type FaultyStore struct {
	conversation.Store
	Faults *Faults
}

var _ conversation.Store = (*FaultyStore)(nil)

// CreateConversation fails or waits as the store.write fault says.
func (s *FaultyStore) CreateConversation(ctx context.Context, c *conversation.Conversation, greeting []conversation.Message) error {
	if err := s.Faults.Inject(ctx, FaultStoreWrite, ""); err != nil {
		return fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	return s.Store.CreateConversation(ctx, c, greeting)
}

// SaveTurn fails or waits as the store.write fault says.
func (s *FaultyStore) SaveTurn(ctx context.Context, t conversation.Turn) error {
	if err := s.Faults.Inject(ctx, FaultStoreWrite, ""); err != nil {
		return fmt.Errorf("save turn of conversation %s: %w", t.Conversation.ID, err)
	}
	return s.Store.SaveTurn(ctx, t)
}

// FaultyChannel puts the notify point in front of a notification channel.
type FaultyChannel struct {
	notify.Channel
	Name   string
	Faults *Faults
}

var _ notify.Channel = (*FaultyChannel)(nil)

// Send fails or waits as the notify fault says.
func (c *FaultyChannel) Send(ctx context.Context, n notify.Notice) error {
	if err := c.Faults.Inject(ctx, FaultNotify, c.Name); err != nil {
		return err
	}
	return c.Channel.Send(ctx, n)
}
