package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// PrimaryShare is the part of a call's time the primary provider gets when
// there is a fallback: a primary that hangs must leave the fallback time to
// answer within the same deadline (llm.timeout).
const PrimaryShare = 0.6

// FailoverOptions configure a Failover.
type FailoverOptions struct {
	// Observe, when set, is told each call's provider ("primary" or
	// "fallback") and result: "answered", "failed", "rejected",
	// "cancelled", or "skipped" (the primary left alone while its own
	// breaker is open).
	Observe func(provider, result string)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Failover is a Provider that asks a primary provider and, when it fails,
// a fallback (another vendor, a model of one's own): a provider's outage
// costs the customers nothing while the other answers. The primary has a
// breaker of its own, as the Answerer has for both together: after
// breakAfter failures in a row it is not asked for breakFor, so its
// timeout is not added to every question, and then one call tries it
// again. A refused request, or a caller who left, is not tried elsewhere.
type Failover struct {
	primary, fallback Provider
	opts              FailoverOptions

	mu      sync.Mutex
	breaker breaker
}

// NewFailover returns a Provider that fails over from primary to fallback.
func NewFailover(primary, fallback Provider, opts FailoverOptions) *Failover {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Failover{primary: primary, fallback: fallback, opts: opts}
}

// Complete asks the primary, within PrimaryShare of ctx's remaining time,
// then, if it failed or is left alone, the fallback.
func (f *Failover) Complete(ctx context.Context, msgs []Message, maxTokens int) (string, error) {
	f.mu.Lock()
	skip := f.breaker.open(f.opts.Now())
	probe := !skip && f.breaker.take()
	f.mu.Unlock()
	if skip {
		f.observe("primary", "skipped")
	} else {
		out, err := f.askPrimary(ctx, msgs, maxTokens)
		// ctx is the Answerer's call: cancelled when the customer left; its
		// deadline is llm.timeout, a failure like any other.
		left, rejected := err != nil && errors.Is(ctx.Err(), context.Canceled), errors.Is(err, ErrRejected)
		f.settle(probe, err != nil && !left && !rejected, err == nil)
		switch {
		case err == nil:
			f.observe("primary", "answered")
			return out, nil
		case left:
			f.observe("primary", "cancelled")
			return "", err
		case rejected:
			f.observe("primary", "rejected")
			return "", err
		}
		f.observe("primary", "failed")
		f.opts.Logger.Debug("the primary language model failed; asking the fallback", "error", err)
	}
	out, err := f.fallback.Complete(ctx, msgs, maxTokens)
	switch {
	case err == nil:
		f.observe("fallback", "answered")
	case errors.Is(ctx.Err(), context.Canceled):
		f.observe("fallback", "cancelled")
	case errors.Is(err, ErrRejected):
		f.observe("fallback", "rejected")
	default:
		f.observe("fallback", "failed")
	}
	return out, err
}

// askPrimary calls the primary with PrimaryShare of the time left. A
// panic of the primary is its failure: it used to leave the breaker's
// probe taken for good, and the primary was never asked again.
func (f *Failover) askPrimary(ctx context.Context, msgs []Message, maxTokens int) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("the primary language model panicked: %v", r)
		}
	}()
	if deadline, ok := ctx.Deadline(); ok {
		share := time.Duration(float64(time.Until(deadline)) * PrimaryShare)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, share)
		defer cancel()
	}
	return f.primary.Complete(ctx, msgs, maxTokens)
}

// settle ends a call to the primary for its breaker, and logs when the
// breaker opens or closes: the operator's record of the failover.
func (f *Failover) settle(probe, failed, ok bool) {
	f.mu.Lock()
	wasOpen := !f.breaker.openUntil.IsZero()
	opened := f.breaker.settle(probe, failed, ok, f.opts.Now())
	f.mu.Unlock()
	switch {
	case opened && !wasOpen:
		f.opts.Logger.Warn("the primary language model keeps failing; the fallback answers alone for a while",
			"retry_after", breakFor)
	case ok && wasOpen:
		f.opts.Logger.Info("the primary language model answers again")
	}
}

func (f *Failover) observe(provider, result string) {
	if f.opts.Observe != nil {
		f.opts.Observe(provider, result)
	}
}
