// Package httpapi is Steward's HTTP surface: routes, handlers, JSON errors
// and the WebSocket stream. Handlers decode, validate, call the domain and
// write; they hold no product logic.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/realtime"
	"github.com/steward-cs/steward/internal/web"
)

// Pinger reports whether a dependency is ready.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure the Server.
type Options struct {
	Engine *conversation.Engine
	Hub    *realtime.Hub
	Store  Pinger
	Logger *slog.Logger
	// OriginPatterns are the hosts allowed to open the WebSocket from a
	// browser besides our own (coder/websocket patterns, e.g. "shop.example.com").
	OriginPatterns []string
	// Closing is done when the server shuts down; live streams end then.
	Closing <-chan struct{}
}

// Server holds what the handlers need.
type Server struct {
	engine  *conversation.Engine
	hub     *realtime.Hub
	store   Pinger
	logger  *slog.Logger
	origins []string
	closing <-chan struct{}
}

// New returns the HTTP handler with every route.
func New(opts Options) http.Handler {
	s := &Server{engine: opts.Engine, hub: opts.Hub, store: opts.Store, origins: opts.OriginPatterns, closing: opts.Closing,
		logger: opts.Logger.With("component", "http")}
	mux := http.NewServeMux()

	// Operations: at the root, outside any auth.
	mux.HandleFunc("GET /livez", s.livez)
	mux.HandleFunc("GET /readyz", s.readyz)

	// Customer surface. The token travels in the Authorization header (REST)
	// or the first frame (WebSocket), never in a URL.
	mux.HandleFunc("POST /api/v1/conversations", s.handle(s.createConversation))
	mux.HandleFunc("GET /api/v1/conversations/{id}", s.handle(s.getConversation))
	mux.HandleFunc("POST /api/v1/conversations/{id}/messages", s.handle(s.postMessage))
	mux.HandleFunc("GET /api/v1/conversations/{id}/stream", s.handle(s.stream))

	mux.HandleFunc("/api/v1/conversations", methodNotAllowed("POST"))
	mux.HandleFunc("/api/v1/conversations/{id}", methodNotAllowed("GET"))
	mux.HandleFunc("/api/v1/conversations/{id}/messages", methodNotAllowed("POST"))
	mux.HandleFunc("/api/v1/conversations/{id}/stream", methodNotAllowed("GET"))
	mux.HandleFunc("/api/", notFound)

	web.Register(mux)
	return s.recoverer(s.accessLog(mux))
}

func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "knowledge": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		checks["store"], ready = "unavailable", false
		s.logger.Warn("readiness: store", "error", err)
	}
	if s.engine.Index() == nil {
		checks["knowledge"], ready = "not loaded", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog logs each request's route, status and duration, never its body.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.logger.Log(r.Context(), level, "request", "method", r.Method, "route", r.Pattern, "status", rec.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("panic in handler", "route", r.Pattern, "panic", v, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "internal error"}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
