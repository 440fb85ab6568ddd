package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// idleParallel is how many conversations are created, and sockets opened,
// at once.
const idleParallel = 64

// idleSettle is how long the server's RSS must hold still before it is
// read, and settleMax how long that is awaited at most.
const (
	idleSettle = 2 * time.Second
	settleMax  = 20 * time.Second
)

// rssNoiseMB is how far a Go server's RSS moves without a change in what it
// holds (garbage collections, memory returned to the system): a smaller
// growth says nothing about the sockets.
const rssNoiseMB = 8

// IdleResult is what N idle WebSockets cost the server.
type IdleResult struct {
	Conns      int            `json:"conns"`
	Opened     int            `json:"opened"`
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Dropped counts sockets that were open and had closed by the time
	// memory was read.
	Dropped int `json:"dropped"`
	// CreateSec is the time taken to create the conversations (one per
	// socket), which is not part of the figures; OpenSec to open and
	// authenticate the sockets.
	CreateSec float64 `json:"create_sec"`
	OpenSec   float64 `json:"open_sec"`
	// Server RSS before opening the sockets, with half of them open, and
	// with all open; RSSPerConnKB is the growth over the second half per
	// socket, and ProjectedRSS10kMB the RSS with 10,000 sockets (RSSAfterMB
	// itself when Conns is 10,000, else extrapolated at RSSPerConnKB).
	RSSBeforeMB       *float64 `json:"rss_before_mb,omitempty"`
	RSSHalfMB         *float64 `json:"rss_half_mb,omitempty"`
	RSSAfterMB        *float64 `json:"rss_after_mb,omitempty"`
	RSSPerConnKB      *float64 `json:"rss_per_conn_kb,omitempty"`
	ProjectedRSS10kMB *float64 `json:"projected_rss_10k_mb,omitempty"`
	// RSSNote says why there is no figure per socket.
	RSSNote string `json:"rss_note,omitempty"`
	ServerProcess
}

// runIdleWS creates o.Conns conversations, then opens and authenticates a
// stream on each and leaves it idle, and reads the server's RSS (pid 0:
// unknown) before and after the sockets.
func runIdleWS(ctx context.Context, o *Options, base string, pid int, qs []question) (*IdleResult, error) {
	client := newHTTPClient(idleParallel)
	defer client.CloseIdleConnections()
	out := &IdleResult{Conns: o.Conns}
	errs := tally{}
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		errs[errorKind(err)]++
		if errs.sum() <= 3 {
			o.Logger.Warn("idle-ws failed", "error", err)
		}
		mu.Unlock()
	}
	// parallel runs f(i) for i < n, idleParallel at a time.
	parallel := func(n int, f func(ctx context.Context, i int)) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, idleParallel)
		for i := range n {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				rctx, cancel := context.WithTimeout(ctx, requestTimeout)
				defer cancel()
				f(rctx, i)
			})
		}
		wg.Wait()
	}

	t0 := time.Now()
	convs := make([]*conversationReply, o.Conns)
	parallel(o.Conns, func(ctx context.Context, i int) {
		c, err := createConversation(ctx, client, base, newAsker(qs, i).locale())
		if err != nil {
			fail(err)
			return
		}
		convs[i] = c
	})
	out.CreateSec = round(time.Since(t0).Seconds(), 2)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if pid != 0 {
		rss, err := settledRSS(ctx, pid)
		if err != nil {
			return nil, fmt.Errorf("idle-ws: %w", err)
		}
		out.RSSBeforeMB = &rss
	}

	// The sockets live on this context; CloseRead keeps answering the
	// server's pings on each, and its context ends when the socket closes.
	holdCtx, release := context.WithCancel(context.WithoutCancel(ctx))
	defer release()
	conns := make([]*websocket.Conn, o.Conns)
	closed := make([]context.Context, o.Conns)
	defer func() {
		parallel(o.Conns, func(_ context.Context, i int) {
			if conns[i] != nil {
				closeStream(conns[i])
			}
		})
	}()
	// The sockets open in two halves: the cost per socket is measured over
	// the second, when the server's heap has settled into holding sockets
	// (the first half's garbage collections return memory left from
	// start-up, which would otherwise hide part of the cost).
	open := func(lo, hi int) (int, error) {
		parallel(hi-lo, func(ctx context.Context, k int) {
			i := lo + k
			if c := convs[i]; c != nil {
				conn, err := openStream(ctx, client, base, c, c.lastSeq())
				if err != nil {
					fail(err)
					return
				}
				conns[i], closed[i] = conn, conn.CloseRead(holdCtx)
			}
		})
		n := 0
		for _, c := range conns[lo:hi] {
			if c != nil {
				n++
			}
		}
		return n, ctx.Err()
	}
	half := o.Conns / 2
	t1 := time.Now()
	n1, err := open(0, half)
	if err != nil {
		return nil, err
	}
	out.OpenSec = round(time.Since(t1).Seconds(), 2)
	var mid float64
	if pid != 0 {
		if mid, err = settledRSS(ctx, pid); err != nil {
			return nil, fmt.Errorf("idle-ws: %w", err)
		}
		out.RSSHalfMB = &mid
	}
	t2 := time.Now()
	n2, err := open(half, o.Conns)
	if err != nil {
		return nil, err
	}
	out.OpenSec = round(out.OpenSec+time.Since(t2).Seconds(), 2)
	out.Opened = n1 + n2
	if pid != 0 && n2 > 0 {
		after, err := settledRSS(ctx, pid)
		if err != nil {
			return nil, fmt.Errorf("idle-ws: %w", err)
		}
		out.RSSAfterMB = &after
		if growth := after - mid; growth < rssNoiseMB {
			// RSS moves by this much with the server's garbage collections
			// alone: the sockets' share cannot be told from it.
			out.RSSNote = fmt.Sprintf("%d sockets grew RSS %.1f MB, within its noise (%d MB); try --conns 2000",
				n2, growth, rssNoiseMB)
		} else {
			perConn := round(growth*1024/float64(n2), 1)
			projected := round(after+perConn*float64(targetIdleConns-out.Opened)/1024, 1)
			out.RSSPerConnKB, out.ProjectedRSS10kMB = &perConn, &projected
		}
	}
	for _, c := range closed {
		if c != nil && c.Err() != nil {
			out.Dropped++
		}
	}
	out.Errors, out.ErrorKinds = errs.sum(), errs.orNil()
	return out, nil
}

// settledRSS waits until the RSS of process pid has settled (the Go
// runtime returns freed memory to the system gradually after a burst of
// work) and returns it: the last reading once the readings of the past
// idleSettle moved by less than 1 %, or after settleMax.
func settledRSS(ctx context.Context, pid int) (float64, error) {
	const every = 250 * time.Millisecond
	window := int(idleSettle / every)
	var readings []float64
	deadline := time.Now().Add(settleMax)
	for {
		rss, err := rssMB(pid)
		if err != nil {
			return 0, err
		}
		readings = append(readings, rss)
		if n := len(readings); n > window {
			recent := readings[n-window-1:]
			if slices.Max(recent)-slices.Min(recent) < rss/100 || time.Now().After(deadline) {
				return rss, nil
			}
		}
		sleep(ctx, every)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
