package httpapi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

// pprofPrefix is where the profiles are served. Under /api/v1/admin, not at
// the conventional /debug/pprof/: a profile is for admins, so it sits with
// their other routes and behind the same authentication.
const pprofPrefix = "/api/v1/admin/debug/pprof/"

// pprofProfiles are the runtime's named profiles, served by pprof.Handler.
// block and mutex sample only while somebody asks for them with ?seconds=N
// (contention): sampling costs on every contended lock.
var pprofProfiles = []string{"heap", "allocs", "goroutine", "block", "mutex", "threadcreate"}

// debugRoutes mounts net/http/pprof on our mux. Importing net/http/pprof
// also registers its handlers on http.DefaultServeMux; nothing in Steward
// serves that mux, so those stay unreachable, and these are reachable only
// by a user with debug.profile (admins).
func (s *Server) debugRoutes(mux *routeMux) {
	// The index links to the profiles relative to itself, so it works under
	// our prefix; {$} keeps it from catching unknown names, which fall
	// through to the JSON 404 of /api/.
	type route struct {
		path, methods string
		h             http.HandlerFunc
	}
	routes := []route{
		{"{$}", "GET", pprof.Index},
		{"cmdline", "GET", cmdline},
		{"profile", "GET", pprof.Profile},
		{"symbol", "GET, POST", pprof.Symbol}, // go tool pprof posts the addresses it wants named
		{"trace", "GET", pprof.Trace},
	}
	for _, name := range pprofProfiles {
		routes = append(routes, route{name, "GET", pprof.Handler(name).ServeHTTP})
	}
	for _, rt := range routes {
		name := strings.TrimSuffix(rt.path, "{$}")
		if name == "" {
			name = "index"
		}
		for _, method := range strings.Split(rt.methods, ", ") {
			mux.HandleFunc(method+" "+pprofPrefix+rt.path, s.staff(s.pprof(name, rt.h)))
		}
	}
}

// pprof serves one profile to a user with debug.profile, audited: a
// goroutine dump or a heap profile shows the process's inner workings.
func (s *Server) pprof(name string, h http.HandlerFunc) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := need(p, auth.DebugProfile, "read the server's profiles"); err != nil {
			return err
		}
		// The index is a page of links; reading it profiles nothing.
		if name != "index" && p.Cookie {
			// A profile is a GET that does something (it is audited, it
			// runs for up to a minute, it turns sampling on): with the
			// session cookie alone, any site an admin visited could start
			// one in the admin's name. Profiles are taken with a bearer
			// token or an API key (docs/deploy.md), or with the CSRF token.
			if got := r.Header.Get(CSRFHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
				return errcode.Localized(errcode.Forbidden,
					"profiles are taken with a bearer token or an API key (Authorization: Bearer …), not with the console's session cookie alone",
					"请使用 Bearer 令牌或 API 密钥（Authorization: Bearer …）获取性能剖析，不能只凭控制台的会话 Cookie")
			}
		}
		if name != "index" {
			s.auditEntry(r.Context(), p, "debug.profile", "pprof:"+name, map[string]any{"query": r.URL.RawQuery})
		}
		// A CPU profile or a trace sleeps for as long as it was asked to:
		// end it when the server shuts down, so that it does not hold up
		// the drain.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.closingCtx, cancel)
		defer stop()
		if (name == "block" || name == "mutex") && r.URL.Query().Has("seconds") {
			defer contention.sample()()
		}
		pw := &pprofWriter{ResponseWriter: w}
		h(pw, r.WithContext(ctx))
		return pw.err()
	}
}

// pprofWriter passes a profile through, and holds back the plain-text
// error net/http/pprof writes instead (a bad ?seconds, an unknown profile,
// a CPU profile or trace already running), so that it is answered as every
// other error is: JSON, and 409 for a profile already running rather than
// pprof's 500.
type pprofWriter struct {
	http.ResponseWriter
	status int // ≥ 400 once pprof answered with an error
	text   strings.Builder
}

func (w *pprofWriter) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *pprofWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return w.text.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets a long profile stream as pprof writes it.
func (w *pprofWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status == 0 {
		f.Flush()
	}
}

// err is the error pprof answered with, if it did.
func (w *pprofWriter) err() error {
	if w.status == 0 {
		return nil
	}
	w.Header().Del("X-Go-Pprof")
	msg := strings.TrimSpace(w.text.String())
	switch {
	case strings.Contains(msg, "already in use") || strings.Contains(msg, "already enabled"):
		return errcode.Errorf(errcode.Conflict, "%s: one CPU profile or trace runs at a time; try again when it ends", msg)
	case w.status == http.StatusNotFound:
		return errcode.Errorf(errcode.NotFound, "%s", msg)
	case w.status < 500:
		return errcode.Errorf(errcode.Invalid, "%s", msg)
	}
	return errcode.Errorf(errcode.Internal, "%s", msg)
}

// contention turns the runtime's block and mutex sampling on while at least
// one windowed block or mutex profile (?seconds=N, which pprof answers with
// the difference over the window) is being taken, and off again after the
// last: Steward pays for sampling only while someone looks. The rates are
// the process's, so the count is too (two servers in one test binary
// share it).
var contention contentionSampler

// Sampling rates while a window is open: a blocking event is recorded for
// about every 10 µs spent blocked, one contended mutex in 5.
const (
	blockProfileRate     = 10_000 // nanoseconds
	mutexProfileFraction = 5
)

type contentionSampler struct {
	mu      sync.Mutex
	windows int
}

// sample opens a window and returns the function that closes it.
func (c *contentionSampler) sample() (done func()) {
	c.mu.Lock()
	if c.windows++; c.windows == 1 {
		runtime.SetBlockProfileRate(blockProfileRate)
		runtime.SetMutexProfileFraction(mutexProfileFraction)
	}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.windows--; c.windows == 0 {
			runtime.SetBlockProfileRate(0)
			runtime.SetMutexProfileFraction(0)
		}
	}
}

// Passwords in an argument: in a URL (scheme://user:password@host, hidden
// up to the argument's last @, so that a password holding an unescaped @ or
// / is hidden whole; hiding too much is harmless) and in a key=value
// connection string (password=...).
var (
	urlPassword = regexp.MustCompile(`(://[^:/?#@\s]*:)\S*@`)
	kvPassword  = regexp.MustCompile(`(?i)(password=)[^\s&]*`)
)

// cmdline is pprof.Cmdline with the passwords left out: serve accepts
// --database postgres://user:password@host/db, and a profile endpoint is
// no place to hand out the database's password.
func cmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	args := make([]string, len(os.Args))
	for i, a := range os.Args {
		args[i] = redactArg(a)
	}
	fmt.Fprint(w, strings.Join(args, "\x00"))
}

// redactArg replaces the passwords in one argument with xxxxx.
func redactArg(a string) string {
	a = urlPassword.ReplaceAllString(a, "${1}xxxxx@")
	return kvPassword.ReplaceAllString(a, "${1}xxxxx")
}
