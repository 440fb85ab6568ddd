// Package notifytest holds loopback fakes of the services notify's
// channels deliver to: a generic webhook receiver, DingTalk, WeCom, Feishu
// and Slack robots, and an SMTP server. Each speaks the service's wire
// format (paths, tokens, signatures, error codes and bodies), records what
// it accepted, and can be told to fail the ways the real one does. It is
// a normal package so that any package's tests can deliver to them.
package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Fake is what every fake offers a test.
type Fake interface {
	// SetDown makes the service unreachable: HTTP fakes drop each
	// connection without an answer, the SMTP fake greets with 421.
	SetDown(down bool)
	// SetRateLimited makes the service refuse as it does when a sender is
	// too fast (429, or the service's own rate-limit code); retryAfter is
	// the Retry-After header for services that send one ("" for none).
	SetRateLimited(on bool, retryAfter string)
	// SetHang makes the service accept connections and never answer, until
	// the client gives up or the fake is closed.
	SetHang(hang bool)
	// Count is how many messages the service accepted.
	Count() int
	// Close stops the service and waits for its goroutines.
	Close()
}

// server is the part every HTTP fake shares: an httptest.Server, the
// failure switches and a count of the requests it saw.
type server struct {
	srv    *httptest.Server
	closed chan struct{}

	mu          sync.Mutex
	down        bool
	hang        bool
	rateLimited bool
	retryAfter  string
	requests    int
}

func newServer(h http.HandlerFunc) *server {
	s := &server{closed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.intercept(w, r) {
			return
		}
		h(w, r)
	}))
	return s
}

// SetDown makes the fake drop every connection without answering.
func (s *server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetHang makes the fake hold every request until the client gives up.
func (s *server) SetHang(hang bool) { s.mu.Lock(); s.hang = hang; s.mu.Unlock() }

// SetRateLimited makes the fake answer as the service does when rate
// limiting; retryAfter is sent as Retry-After where the service sends one.
func (s *server) SetRateLimited(on bool, retryAfter string) {
	s.mu.Lock()
	s.rateLimited, s.retryAfter = on, retryAfter
	s.mu.Unlock()
}

// Requests is how many requests reached the fake, accepted or not.
func (s *server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// BaseURL is the fake's scheme and host, e.g. http://127.0.0.1:43211.
func (s *server) BaseURL() string { return s.srv.URL }

// Close stops the fake, releasing hung requests first.
func (s *server) Close() {
	select {
	case <-s.closed:
		return
	default:
	}
	close(s.closed)
	s.srv.Close()
}

// limited reports whether the fake is rate limiting, and the Retry-After
// to send.
func (s *server) limited() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited, s.retryAfter
}

// intercept applies the down and hang switches; it reports whether it
// dealt with the request.
func (s *server) intercept(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests++
	down, hang := s.down, s.hang
	s.mu.Unlock()
	switch {
	case down:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return true
	case hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return true
	}
	return false
}

// readBody reads a request body of at most 1 MiB.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
