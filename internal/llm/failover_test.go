package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A primary that fails is followed by the fallback's answer; after
// breakAfter failures in a row the primary is left alone (its timeout no
// longer added to every question) until the pause is over, when one call
// tries it again and, answered, brings it back.
func TestFailoverAsksTheFallbackWhileThePrimaryIsDown(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	primary := &fakeProvider{err: errors.New("502 bad gateway")}
	fallback := &fakeProvider{out: "from the fallback"}
	var seen []string
	f := NewFailover(primary, fallback, FailoverOptions{Now: func() time.Time { return now },
		Observe: func(p, r string) { seen = append(seen, p+":"+r) }})
	for i := range breakAfter + 2 {
		out, err := f.Complete(context.Background(), nil, 10)
		if err != nil || out != "from the fallback" {
			t.Fatalf("call %d: %q, %v; want the fallback's answer", i, out, err)
		}
	}
	if primary.calls != breakAfter {
		t.Fatalf("the primary was asked %d times, want %d (then left alone)", primary.calls, breakAfter)
	}
	now = now.Add(breakFor + time.Second)
	primary.err, primary.out = nil, "from the primary"
	if out, err := f.Complete(context.Background(), nil, 10); err != nil || out != "from the primary" {
		t.Fatalf("after the pause: %q, %v; want the primary back", out, err)
	}
	want := "primary:failed fallback:answered primary:failed fallback:answered primary:failed fallback:answered " +
		"primary:skipped fallback:answered primary:skipped fallback:answered primary:answered"
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("observed %q,\nwant %q", got, want)
	}
}

// Both down: the caller gets the fallback's error, which its own breaker
// counts. A request the primary refused, or a caller who left, is not
// tried elsewhere.
func TestFailoverPassesOnWhatIsNotAnOutage(t *testing.T) {
	primary := &fakeProvider{err: errors.New("connection refused")}
	fallback := &fakeProvider{err: errors.New("503")}
	f := NewFailover(primary, fallback, FailoverOptions{})
	if _, err := f.Complete(context.Background(), nil, 10); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("both down: %v, want the fallback's error", err)
	}
	primary.err = fmt.Errorf("content filter: %w", ErrRejected)
	fallback.calls = 0
	if _, err := f.Complete(context.Background(), nil, 10); !errors.Is(err, ErrRejected) || fallback.calls != 0 {
		t.Fatalf("refused by the primary: %v, %d fallback calls; want the refusal, not the fallback", err, fallback.calls)
	}
	stalling := &stallingProvider{}
	f = NewFailover(stalling, fallback, FailoverOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := f.Complete(ctx, nil, 10); !errors.Is(err, context.Canceled) || fallback.calls != 0 {
		t.Fatalf("caller left: %v, %d fallback calls; want the cancellation, not the fallback", err, fallback.calls)
	}
}

// ctxProvider answers only while its call's context is live.
type ctxProvider struct{ out string }

func (c ctxProvider) Complete(ctx context.Context, _ []Message, _ int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return c.out, nil
}

// A primary that hangs gets PrimaryShare of the call's time, and the
// fallback answers within the same deadline.
func TestFailoverLeavesTheFallbackTime(t *testing.T) {
	f := NewFailover(&stallingProvider{}, ctxProvider{out: "in time"}, FailoverOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if out, err := f.Complete(ctx, nil, 10); err != nil || out != "in time" {
		t.Fatalf("%q, %v; want the fallback's answer within the deadline", out, err)
	}
}

// panickyPrimary panics while panics is set.
type panickyPrimary struct {
	fakeProvider
	panics bool
}

func (p *panickyPrimary) Complete(ctx context.Context, msgs []Message, n int) (string, error) {
	if p.panics {
		p.calls++
		panic("a bug in the provider")
	}
	return p.fakeProvider.Complete(ctx, msgs, n)
}

// A primary that panics fails, and the fallback answers: the panic used to
// leave the breaker's probe taken for good, so a primary that panicked on
// its probe was never asked again, even once it had recovered.
func TestAPanickingPrimaryIsAFailureNotAStuckBreaker(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	primary := &panickyPrimary{panics: true}
	fallback := &fakeProvider{out: "from the fallback"}
	f := NewFailover(primary, fallback, FailoverOptions{Now: func() time.Time { return now }})
	for i := range breakAfter {
		if out, err := f.Complete(context.Background(), nil, 10); err != nil || out != "from the fallback" {
			t.Fatalf("call %d: %q, %v; want the fallback's answer", i, out, err)
		}
	}
	now = now.Add(breakFor + time.Second) // the probe, which panics too
	if out, err := f.Complete(context.Background(), nil, 10); err != nil || out != "from the fallback" {
		t.Fatalf("the probe: %q, %v; want the fallback's answer", out, err)
	}
	primary.panics, primary.out = false, "from the primary"
	now = now.Add(breakFor + time.Second)
	if out, err := f.Complete(context.Background(), nil, 10); err != nil || out != "from the primary" {
		t.Fatalf("after the primary recovered: %q, %v; want the primary asked again", out, err)
	}
}
