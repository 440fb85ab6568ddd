// Package httpapi is Steward's HTTP surface: routes, handlers, JSON errors
// and the WebSocket stream. Handlers decode, validate, call the domain and
// write; they hold no product logic.
package httpapi

import (
	"context"
	"github.com/steward-cs/steward/internal/errcode"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
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
	Auth   *auth.Service
	Desk   *desk.Desk
	// Quality records ratings.
	Quality *quality.Service
	// Knowledge runs the knowledge lifecycle; Flags the correction loop.
	Knowledge *knowledge.Service
	Flags     *quality.Flags
	// Reports reads what the quality report counts (optional: without it
	// the report answers 503).
	Reports quality.ReportStore
	// ReportZone is the time zone whose days the quality report counts
	// (desk.timezone; nil is UTC).
	ReportZone *time.Location
	Audit      *audit.Log
	Hub        *realtime.Hub
	// Cluster carries live events to the other nodes (nil: one node).
	Cluster *realtime.Cluster
	Store   Pinger
	Logger  *slog.Logger
	// OriginPatterns are the hosts allowed to open the WebSocket from a
	// browser besides our own (coder/websocket patterns, e.g. "shop.example.com").
	OriginPatterns []string
	// Closing is done when the server shuts down; live streams end then.
	Closing <-chan struct{}
	// Sockets, if set, counts the goroutines serving WebSockets after their
	// handshake, which end after Closing closes: shutdown waits for them
	// before it closes what they use.
	Sockets *sync.WaitGroup
	// SecureCookies marks the session cookie Secure even when TLS ends at a
	// proxy in front of Steward.
	SecureCookies bool
	// Crisis is the monitoring and incident machinery (optional).
	Crisis *Crisis
	// Limits are the rate limits and WebSocket caps (zero: none).
	Limits Limits
	// FrameAncestors are the CSP frame-ancestors sources of the chat page
	// (the sites embedding the widget); empty means 'self'.
	FrameAncestors []string
	// Identities, if set, verifies the customer identities the embedding
	// site signs: a new conversation then believes the customer's id, name
	// and VIP flag only from a valid token.
	Identities *auth.Identities
}

// Server holds what the handlers need.
type Server struct {
	engine     *conversation.Engine
	auth       *auth.Service
	desk       *desk.Desk
	quality    *quality.Service
	kb         *knowledge.Service
	flags      *quality.Flags
	reports    quality.ReportStore
	reportZone *time.Location
	audit      *audit.Log
	hub        *realtime.Hub
	cluster    *realtime.Cluster
	store      Pinger
	logger     *slog.Logger
	origins    []string
	closing    <-chan struct{}
	// closingCtx ends when closing closes: sockets watch it without a
	// goroutine each.
	closingCtx context.Context
	crisis     *Crisis
	limits     *limiter
	sockets    *sync.WaitGroup
	identities *auth.Identities

	secureCookies bool
	names         names
}

// New returns the HTTP handler with every route.
func New(opts Options) http.Handler {
	s := &Server{engine: opts.Engine, auth: opts.Auth, desk: opts.Desk, quality: opts.Quality, kb: opts.Knowledge,
		flags: opts.Flags, reports: opts.Reports, reportZone: opts.ReportZone, audit: opts.Audit, hub: opts.Hub, cluster: opts.Cluster, store: opts.Store,
		origins: opts.OriginPatterns, closing: opts.Closing, secureCookies: opts.SecureCookies, crisis: opts.Crisis,
		limits: newLimiter(opts.Limits), identities: opts.Identities, logger: opts.Logger.With("component", "http")}
	s.closingCtx = closingContext(opts.Closing)
	if s.sockets = opts.Sockets; s.sockets == nil {
		s.sockets = new(sync.WaitGroup)
	}
	return s.recoverer(s.accessLog(securityHeaders(s.cleanURL(s.routes(opts)))))
}

// cleanURL refuses a path or a query value holding a NUL or bytes that are
// not UTF-8 (%00, %FF), as decodeBody refuses them in a body: PostgreSQL
// cannot compare text with them, and an id or a filter holding one
// answered 500 to anyone with a customer token.
func (s *Server) cleanURL(next http.Handler) http.Handler {
	bad := func(v string) bool { return !utf8.ValidString(v) || strings.ContainsRune(v, 0) }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bad(r.URL.Path) {
			s.writeError(w, r, errcode.Localized(errcode.Invalid, "the path holds a NUL or bytes that are not UTF-8", "路径中含有空字符或非 UTF-8 字节"))
			return
		}
		if r.URL.RawQuery != "" {
			for k, vs := range r.URL.Query() {
				if bad(k) || slices.ContainsFunc(vs, bad) {
					s.writeError(w, r, errcode.Localized(errcode.Invalid, "query parameter %q holds a NUL or bytes that are not UTF-8",
						"查询参数 %q 含有空字符或非 UTF-8 字节", strings.ToValidUTF8(k, "?")))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// closingContext is a context that ends when closing closes (never, for nil).
func closingContext(closing <-chan struct{}) context.Context {
	if closing == nil {
		return context.Background()
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-closing
		cancel()
	}()
	return ctx
}

// Routes lists the method-qualified pattern of every route New registers
// (with the crisis routes; /metrics only when metrics are on), so that a
// test can hold a rule for each: the authorization matrix fails when a
// route is added without one.
func Routes() []string {
	return (&Server{crisis: &Crisis{}}).routes(Options{}).patterns
}

// routeMux is the ServeMux the routes are registered on; it keeps their
// method-qualified patterns for Routes.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

// HandleFunc registers h for pattern and notes a pattern with a method.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Handle registers h for pattern and notes a pattern with a method.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	if strings.Contains(pattern, " ") {
		m.patterns = append(m.patterns, pattern)
	}
	m.ServeMux.Handle(pattern, h)
}

// methodsOnly registers, for every path a route serves, an answer of 405
// with the methods it takes (Allow) to any other method. Kept by hand, the
// lists drifted: some paths answered a wrong method 404, "no such
// endpoint". Called once every route is registered.
func (m *routeMux) methodsOnly() {
	var paths []string
	allow := map[string][]string{}
	for _, p := range m.patterns {
		method, path, _ := strings.Cut(p, " ")
		if allow[path] == nil {
			paths = append(paths, path)
		}
		allow[path] = append(allow[path], method)
	}
	for _, path := range paths {
		m.ServeMux.Handle(path, methodNotAllowed(strings.Join(allow[path], ", ")))
	}
}

// routes registers every route on a new mux.
func (s *Server) routes(opts Options) *routeMux {
	mux := newRouteMux()

	// Operations: at the root, outside any auth.
	mux.HandleFunc("GET /livez", s.livez)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/openapi.json", s.openapi)

	// Customer surface. The token travels in the Authorization header (REST)
	// or the first frame (WebSocket), never in a URL. Every request is
	// charged to its client address (s.customer).
	mux.HandleFunc("POST /api/v1/conversations", s.customer(s.createConversation))
	mux.HandleFunc("GET /api/v1/conversations/{id}", s.customer(s.getConversation))
	mux.HandleFunc("POST /api/v1/conversations/{id}/messages", s.customer(s.postMessage))
	mux.HandleFunc("GET /api/v1/conversations/{id}/stream", s.customer(s.stream))

	mux.HandleFunc("POST /api/v1/conversations/{id}/rating", s.customer(s.rateConversation))
	mux.HandleFunc("POST /api/v1/conversations/{id}/offline-message", s.customer(s.leaveMessage))
	mux.HandleFunc("GET /api/v1/rating-tags", s.customer(s.ratingTags))
	mux.HandleFunc("POST /api/v1/conversations/{id}/messages/{mid}/flag", s.customer(s.flagAnswer))

	// Staff surface: a session cookie (with CSRF) or a bearer token / API key.
	mux.HandleFunc("POST /api/v1/auth/login", s.handle(s.login))
	mux.HandleFunc("POST /api/v1/auth/logout", s.staff(s.logout))
	mux.HandleFunc("GET /api/v1/auth/me", s.staff(s.me))
	mux.HandleFunc("GET /api/v1/auth/api-keys", s.staff(s.listAPIKeys))
	mux.HandleFunc("POST /api/v1/auth/api-keys", s.staff(s.createAPIKey))
	mux.HandleFunc("DELETE /api/v1/auth/api-keys/{id}", s.staff(s.deleteAPIKey))

	mux.HandleFunc("GET /api/v1/users", s.staff(s.listUsers))
	mux.HandleFunc("POST /api/v1/users", s.staff(s.createUser))
	mux.HandleFunc("PUT /api/v1/users/{id}/disabled", s.staff(s.setUserDisabled))
	mux.HandleFunc("PUT /api/v1/users/{id}/role", s.staff(s.setUserRole))

	mux.HandleFunc("GET /api/v1/desk/queue", s.staff(s.deskQueue))
	mux.HandleFunc("GET /api/v1/desk/conversations", s.staff(s.deskList))
	mux.HandleFunc("GET /api/v1/desk/conversations/{id}", s.staff(s.deskConversation))
	mux.HandleFunc("GET /api/v1/desk/conversations/{id}/suggestions", s.staff(s.deskSuggestions))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/claim", s.staff(s.deskClaim))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/assign", s.staff(s.deskAssign))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/messages", s.staff(s.deskReply))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/notes", s.staff(s.deskNote))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/reveal", s.staff(s.deskReveal))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/close", s.staff(s.deskClose))
	mux.HandleFunc("GET /api/v1/desk/presence", s.staff(s.getPresence))
	mux.HandleFunc("PUT /api/v1/desk/presence", s.staff(s.putPresence))
	mux.HandleFunc("GET /api/v1/desk/agents", s.staff(s.deskAgents))
	mux.HandleFunc("GET /api/v1/desk/canned", s.staff(s.listCanned))
	mux.HandleFunc("POST /api/v1/desk/canned", s.staff(s.addCanned))
	mux.HandleFunc("DELETE /api/v1/desk/canned/{id}", s.staff(s.deleteCanned))
	mux.HandleFunc("GET /api/v1/desk/tickets", s.staff(s.listTickets))
	mux.HandleFunc("POST /api/v1/desk/tickets/{id}/resolve", s.staff(s.resolveTicket))
	mux.HandleFunc("GET /api/v1/desk/stream", s.handle(s.deskStream))
	mux.HandleFunc("POST /api/v1/desk/conversations/{id}/messages/{mid}/flag", s.staff(s.deskFlag))

	mux.HandleFunc("GET /api/v1/kb/entries", s.staff(s.listEntries))
	mux.HandleFunc("POST /api/v1/kb/entries", s.staff(s.createEntry))
	mux.HandleFunc("GET /api/v1/kb/entries/{id}", s.staff(s.getEntry))
	mux.HandleFunc("PUT /api/v1/kb/entries/{id}", s.staff(s.putEntry))
	mux.HandleFunc("GET /api/v1/kb/entries/{id}/history", s.staff(s.entryHistory))
	for _, action := range []string{"submit", "approve", "reject", "retire"} {
		mux.HandleFunc("POST /api/v1/kb/entries/{id}/"+action, s.staff(s.entryAction(action)))
	}
	mux.HandleFunc("GET /api/v1/kb/releases", s.staff(s.listReleases))
	mux.HandleFunc("POST /api/v1/kb/releases", s.staff(s.publish))
	mux.HandleFunc("GET /api/v1/kb/releases/{id}", s.staff(s.getRelease))
	mux.HandleFunc("POST /api/v1/kb/releases/{id}/activate", s.staff(s.activateRelease))
	mux.HandleFunc("POST /api/v1/kb/rollback", s.staff(s.rollback))
	mux.HandleFunc("GET /api/v1/kb/diff", s.staff(s.diffReleases))
	mux.HandleFunc("GET /api/v1/kb/pending", s.staff(s.pendingRelease))
	mux.HandleFunc("GET /api/v1/kb/golden", s.staff(s.listGolden))
	mux.HandleFunc("POST /api/v1/kb/golden", s.staff(s.addGolden))
	mux.HandleFunc("DELETE /api/v1/kb/golden/{id}", s.staff(s.deleteGolden))
	mux.HandleFunc("GET /api/v1/kb/corrections", s.staff(s.corrections))
	mux.HandleFunc("POST /api/v1/kb/corrections/dismiss", s.staff(s.dismissFlags))
	mux.HandleFunc("GET /api/v1/kb/unanswered", s.staff(s.unanswered))
	mux.HandleFunc("GET /api/v1/reports/quality", s.staff(s.qualityReport))
	mux.HandleFunc("GET /api/v1/kb/export", s.staff(s.exportKB))
	mux.HandleFunc("POST /api/v1/kb/import", s.staff(s.importKB))
	mux.HandleFunc("GET /api/v1/audit", s.staff(s.auditTrail))
	mux.HandleFunc("GET /api/v1/audit/verify", s.staff(s.verifyAudit))
	s.crisisRoutes(mux)
	s.debugRoutes(mux)

	mux.methodsOnly()
	mux.HandleFunc("/api/", notFound)

	web.RegisterWith(mux.ServeMux, web.Options{FrameAncestors: opts.FrameAncestors})
	return mux
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
		checks["store"] = "unavailable"
		s.logger.Warn("readiness: store", "error", err)
		// The node still serves while its spool takes the customers'
		// messages (the posture's level 3, the status page): taken out
		// of the balancer, every node went at once in a shared database's
		// outage, and with them the chat and the page that explain it.
		if s.crisis.SpoolHealthy == nil {
			ready = false
		} else if err := s.crisis.SpoolHealthy(); err != nil {
			checks["spool"], ready = "unavailable", false
			s.logger.Warn("readiness: spool", "error", err)
		} else {
			checks["spool"] = "ok (the database's writes wait in it)"
		}
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

// securityHeaders gives every response the headers that cost nothing:
// no MIME sniffing, no full URL in the Referer, and nothing stored by
// caches. Pages replace the last two as they need (and set their CSP).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
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
