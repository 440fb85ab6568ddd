package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// EchoServer is the physical limit the turn rate is compared with: a bare
// net/http server on loopback that decodes a JSON message and answers with
// a JSON turn of the same shape as Steward's, doing nothing else.
type EchoServer struct {
	URL    string
	server *http.Server
	done   chan error
}

// echoReply mirrors the fields of Steward's turn answer the clients read.
type echoReply struct {
	State    string         `json:"state"`
	Customer messageFrame   `json:"customer_message"`
	Messages []messageFrame `json:"messages"`
}

// StartEcho starts the echo server on 127.0.0.1 at a free port.
func StartEcho() (*EchoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the echo server: %w", err)
	}
	var seq atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, `{"error":{"code":"invalid","message":"malformed JSON"}}`, http.StatusBadRequest)
			return
		}
		n := seq.Add(2)
		id := strconv.FormatInt(n, 36)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoReply{State: "bot",
			Customer: messageFrame{ID: "m" + id, Seq: n - 1, Role: "customer", Text: req.Text},
			Messages: []messageFrame{{ID: "m" + id + "r", Seq: n, Role: "bot", Outcome: "answer", Text: req.Text}}})
	})
	e := &EchoServer{URL: "http://" + ln.Addr().String(), done: make(chan error, 1),
		server: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}}
	go func() { e.done <- e.server.Serve(ln) }()
	return e, nil
}

// Close stops the echo server.
func (e *EchoServer) Close(ctx context.Context) error {
	err := e.server.Shutdown(ctx)
	if serr := <-e.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// BaselineResult is the echo server's rate and latency under the load
// shape of the turns scenario.
type BaselineResult struct {
	Concurrency    int     `json:"concurrency"`
	DurationSec    float64 `json:"duration_sec"`
	Requests       int     `json:"requests"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	Latency
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// BenchCPUSec is the CPU time of the benchmark process during the run:
	// the clients and the in-process echo server together.
	BenchCPUSec float64 `json:"bench_cpu_sec"`
}

// runBaseline drives the echo server as the turns scenario drives Steward:
// concurrency clients, each posting a demo question and waiting for the
// answer, back to back.
func runBaseline(ctx context.Context, o *Options, qs []question) (*BaselineResult, error) {
	e, err := StartEcho()
	if err != nil {
		return nil, err
	}
	defer e.Close(context.WithoutCancel(ctx))
	client := newHTTPClient(o.Concurrency)
	defer client.CloseIdleConnections()
	cpu0 := selfCPU()
	res, err := drive(ctx, o.Concurrency, o.Duration, func(ctx context.Context, i int) (step, error) {
		ask := newAsker(qs, i)
		return func(ctx context.Context) error {
			var reply turnReply
			if err := doJSON(ctx, client, "POST", e.URL+"/echo", "", mustJSON(ask.next()), http.StatusOK, &reply); err != nil {
				return err
			}
			if len(reply.Messages) == 0 {
				return kindErrorf("no_reply", "the echo server answered no message")
			}
			return nil
		}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	logSamples(o, "baseline", res)
	return &BaselineResult{Concurrency: o.Concurrency, DurationSec: round(res.elapsed.Seconds(), 2), Requests: res.ok,
		RequestsPerSec: round(float64(res.ok)/res.elapsed.Seconds(), 1), Latency: Summarize(res.latencies),
		Errors: res.errors.sum(), ErrorKinds: res.errors.orNil(), BenchCPUSec: round((selfCPU() - cpu0).Seconds(), 2)}, nil
}

// mustJSON encodes v, which is always encodable (a struct of strings).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return b
}

func logSamples(o *Options, scenario string, res *loadResult) {
	for _, s := range res.samples {
		o.Logger.Warn("request failed", "scenario", scenario, "error", s)
	}
}
