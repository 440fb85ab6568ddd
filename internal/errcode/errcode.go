// Package errcode gives errors a machine-readable code and a message that is
// safe to show to the caller, in the manner of benbjohnson/wtf's error.go.
// Any other error is internal: it is logged, never shown.
package errcode

import (
	"errors"
	"fmt"
	"time"
)

// The codes of errors. Callers see all but TooLarge as they are; HTTP
// statuses are chosen from them in httpapi.
const (
	Invalid      = "invalid"
	Unauthorized = "unauthorized"
	Forbidden    = "forbidden"
	NotFound     = "not_found"
	Conflict     = "conflict"
	// TooLarge is an Invalid input that is too big; it is shown to callers
	// as "invalid" (with HTTP 413), so the public codes stay the list above.
	TooLarge    = "too_large"
	RateLimited = "rate_limited"
	Unavailable = "unavailable"
	Internal    = "internal"
)

// Error is an error whose message may be shown to the caller.
type Error struct {
	Code    string
	Message string
	// MessageZH is Message in Chinese, for the pages that show it to people
	// reading Chinese; empty where there is none (they fall back on a
	// sentence of their own for the code).
	MessageZH string
	// RetryAfter, for RateLimited, is how long until a retry may pass
	// (HTTP's Retry-After); zero where the refusal does not know.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Localized is Errorf with a Chinese message besides the English one; both
// formats take the same arguments.
func Localized(code, format, formatZH string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), MessageZH: fmt.Sprintf(formatZH, args...)}
}

// Code returns the code of the first *Error in err's chain, Internal for any
// other non-nil error, and "" for nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Internal
}

// Message returns the caller-safe message of err: the message of its *Error,
// or a generic text for internal errors.
func Message(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "internal error"
}

// MessageZH returns the Chinese message of err's *Error, or "".
func MessageZH(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.MessageZH
	}
	return ""
}

// Is reports whether err carries the given code.
func Is(err error, code string) bool { return Code(err) == code }
