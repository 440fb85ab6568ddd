package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one request of a simulated client: a server that
// stops answering fails the request instead of hanging the run.
const requestTimeout = 30 * time.Second

// drainTimeout is how long requests in flight at the end of a run may take
// to finish before they are abandoned.
const drainTimeout = 30 * time.Second

// newHTTPClient returns the client every simulated customer shares: keep-
// alive connections, enough idle ones kept per host that each customer
// reuses its own, no compression, no proxy (everything is on loopback).
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(conns*2, 1024),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// statusError is a response with an unexpected status; its kind is the
// status code and, for Steward's JSON errors, the error code.
type statusError struct {
	status int
	code   string
}

func (e *statusError) Error() string {
	if e.code != "" {
		return fmt.Sprintf("status %d (%s)", e.status, e.code)
	}
	return fmt.Sprintf("status %d", e.status)
}

// errorKind names an error for the error_kinds tally: "429 rate_limited",
// "timeout", "transport", or a kind the scenario chose.
func errorKind(err error) string {
	if se, ok := errors.AsType[*statusError](err); ok {
		if se.code != "" {
			return strconv.Itoa(se.status) + " " + se.code
		}
		return strconv.Itoa(se.status)
	}
	if ke, ok := errors.AsType[*kindError](err); ok {
		return ke.kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "transport"
}

// kindError is a failure the scenario classifies itself (a turn without a
// reply, a WebSocket closed early).
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.kind + ": " + e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func kindErrorf(kind, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// doJSON sends a request with an optional JSON body and bearer token, and
// decodes a JSON answer into out (if not nil). A status other than want is
// a *statusError carrying Steward's error code when there is one.
func doJSON(ctx context.Context, client *http.Client, method, url, token string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer func() {
		// Read to the end so that the connection goes back to the pool.
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	if resp.StatusCode != want {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		return &statusError{status: resp.StatusCode, code: e.Error.Code}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("decode answer to %s %s: %w", method, url, err)
		}
	}
	return nil
}

// step is one request of a simulated client, timed by drive. It returns
// an error for a failed request.
type step func(ctx context.Context) error

// loadResult is what drive measured.
type loadResult struct {
	ok        int
	latencies []time.Duration
	errors    tally
	elapsed   time.Duration
	// samples holds the first few error messages, for the log.
	samples []string
}

// drive runs concurrency clients, each repeating its step back to back for
// d (a closed loop: the next request leaves when the last answer came
// back). Clients are set up first (newClient), outside the timed window.
// At the end no new request leaves; requests in flight finish (within
// drainTimeout) and count. A failed step is followed by a short pause so a
// broken server is not hammered in a tight loop.
func drive(ctx context.Context, concurrency int, d time.Duration, newClient func(ctx context.Context, i int) (step, error)) (*loadResult, error) {
	steps := make([]step, concurrency)
	var (
		setupErr error
		mu       sync.Mutex
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, 64)
	for i := range steps {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			s, err := newClient(sctx, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && setupErr == nil {
				setupErr = fmt.Errorf("set up client %d: %w", i, err)
			}
			steps[i] = s
		})
	}
	wg.Wait()
	if setupErr != nil {
		return nil, setupErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Requests run on a context that outlives the run's deadline by the
	// drain time, so that answers in flight at the deadline are awaited.
	reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d+drainTimeout)
	defer cancel()
	stopCtx, stopCancel := context.WithCancel(ctx)
	defer stopCancel()
	go func() {
		select {
		case <-reqCtx.Done():
		case <-ctx.Done():
			cancel() // interrupted: abandon requests in flight too
		}
	}()
	var stop atomic.Bool
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	type clientResult struct {
		ok      int
		lat     []time.Duration
		errs    tally
		samples []string
	}
	results := make([]clientResult, concurrency)
	start := time.Now()
	for i, s := range steps {
		wg.Go(func() {
			r := &results[i]
			r.errs = tally{}
			for !stop.Load() && stopCtx.Err() == nil {
				sctx, scancel := context.WithTimeout(reqCtx, requestTimeout)
				t0 := time.Now()
				err := s(sctx)
				lat := time.Since(t0)
				scancel()
				if err != nil {
					if reqCtx.Err() != nil {
						return // abandoned: neither a success nor the server's fault
					}
					r.errs[errorKind(err)]++
					if len(r.samples) < 3 {
						r.samples = append(r.samples, err.Error())
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				r.ok++
				r.lat = append(r.lat, lat)
			}
		})
	}
	wg.Wait()
	out := &loadResult{elapsed: time.Since(start), errors: tally{}}
	for _, r := range results {
		out.ok += r.ok
		out.latencies = append(out.latencies, r.lat...)
		out.errors.add(r.errs)
		if len(out.samples) < 5 {
			out.samples = append(out.samples, r.samples...)
		}
	}
	return out, ctx.Err()
}
