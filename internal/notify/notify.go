// Package notify sends alert and incident notices to the places operators
// read them. Each provider lives in its own sub-package with a Config that
// validates itself and a constructor; app registers them explicitly.
// Notices are never sent from the hot path: they go through the durable
// outbox (internal/jobs), which retries with backoff.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Levels of a notice, as alert levels: 一般 / 重要 / 紧急.
const (
	LevelInfo     = "info"
	LevelWarning  = "warning"
	LevelCritical = "critical"
)

// Statuses of a notice.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notice is one message to operators: an alert group firing or resolved,
// or an incident update. Its text is already free of personal data.
type Notice struct {
	// ID is stable across retries of one notice; receivers that can
	// deduplicate get it (e.g. the webhook's X-Steward-Delivery header).
	ID     string `json:"id"`
	Level  string `json:"level"`
	Status string `json:"status"`
	Title  string `json:"title"`
	Text   string `json:"text"`
	// TitleZH and TextZH are the Chinese forms; providers whose readers
	// are Chinese-speaking show both.
	TitleZH string            `json:"title_zh,omitempty"`
	TextZH  string            `json:"text_zh,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// URL links to the alert or incident in the console, when known.
	URL string    `json:"url,omitempty"`
	At  time.Time `json:"at"`
	// Reach, if above Level, is the level whose channels the notice goes
	// to: an alert group's notice whose critical alert ended while a
	// warning in the group fires on is a warning, and the channels that
	// take only critical notices, which heard the critical alert fire,
	// must hear that it ended.
	Reach string `json:"reach,omitempty"`
}

// RoutingLevel is the level that decides which channels get n.
func (n *Notice) RoutingLevel() string {
	if LevelRank(n.Reach) > LevelRank(n.Level) {
		return n.Reach
	}
	return n.Level
}

// Channel is one configured destination.
type Channel interface {
	// Send delivers n once; an error means it may be retried, unless it
	// is Permanent.
	Send(ctx context.Context, n Notice) error
}

// LevelRank orders levels: info 1, warning 2, critical 3, unknown 0.
func LevelRank(level string) int {
	switch level {
	case LevelInfo:
		return 1
	case LevelWarning:
		return 2
	case LevelCritical:
		return 3
	}
	return 0
}

// PermanentError is a failure that retrying cannot fix (a rejected
// payload, a wrong token): the outbox gives up at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfterError asks the sender to wait at least After (HTTP 429).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s: %v", e.After, e.Err) }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns how long err asks to wait, if it does.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}
