package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
)

// statusOf maps an error code to its HTTP status.
var statusOf = map[string]int{
	errcode.Invalid:      http.StatusBadRequest,
	errcode.Unauthorized: http.StatusUnauthorized,
	errcode.Forbidden:    http.StatusForbidden,
	errcode.NotFound:     http.StatusNotFound,
	errcode.Conflict:     http.StatusConflict,
	errcode.TooLarge:     http.StatusRequestEntityTooLarge,
	errcode.RateLimited:  http.StatusTooManyRequests,
	errcode.Unavailable:  http.StatusServiceUnavailable,
	errcode.Internal:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// MessageZH is the message in Chinese, where the error has one.
	MessageZH string `json:"message_zh,omitempty"`
	// Limit names the rate limit that refused a rate_limited request.
	Limit string `json:"limit,omitempty"`
}

// errorDetailOf is err as a caller sees it.
func errorDetailOf(err error) *errorDetail {
	d := &errorDetail{Code: publicCode(errcode.Code(err)), Message: errcode.Message(err), MessageZH: errcode.MessageZH(err)}
	if rl, ok := errors.AsType[*rateLimitError](err); ok {
		d.Limit = rl.limit
	}
	return d
}

// handlerFunc is a handler that returns its error for writeError to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError renders err as {"error":{"code","message"}}. Internal details
// are logged, never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := errcode.Code(err)
	if code == errcode.Internal {
		if ctxErr := r.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			// The client went away; there is nobody to answer.
			return
		}
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusTooManyRequests {
		// A refusal that knows when a retry would pass says so (a limit's
		// bucket, a locked account); the rest, in a second.
		var wait time.Duration
		if e, ok := errors.AsType[*errcode.Error](err); ok {
			wait = e.RetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
	}
	writeJSON(w, status, errorBody{Error: *errorDetailOf(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "error", err)
	}
}

// methodNotAllowed answers a known path requested with the wrong method.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: errcode.Invalid,
			Message:   "method " + r.Method + " is not allowed here; use " + allow,
			MessageZH: "此处不允许 " + r.Method + " 方法，请使用 " + allow}})
	}
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, errorBody{Error: errorDetail{Code: errcode.NotFound, Message: "no such endpoint: " + r.URL.Path,
		MessageZH: "没有这个接口：" + r.URL.Path}})
}

// publicCode is the code a caller sees: too-large input is invalid input
// (its HTTP status, 413, says the rest).
func publicCode(code string) string {
	if code == errcode.TooLarge {
		return errcode.Invalid
	}
	return code
}
