// Package webhook posts notices as JSON to any HTTP endpoint, signed with
// HMAC-SHA256 when a secret is set. Receivers check the signature with
// Verify.
//
// The request carries:
//
//	Content-Type: application/json
//	X-Steward-Event: alert
//	X-Steward-Delivery: <notice id, the same on every retry>
//	X-Steward-Timestamp: <unix seconds>                       (with a secret)
//	X-Steward-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

// Headers the webhook sets.
const (
	HeaderDelivery  = "X-Steward-Delivery"
	HeaderEvent     = "X-Steward-Event"
	HeaderTimestamp = "X-Steward-Timestamp"
	HeaderSignature = "X-Steward-Signature"
)

// Config is a webhook channel's settings.
type Config struct {
	URL string `yaml:"url"`
	// Secret signs each request; receivers check it with Verify.
	Secret string `yaml:"secret"`
	// Headers are added to each request, e.g. an Authorization header
	// the receiver expects.
	Headers map[string]string `yaml:"headers"`
}

// reserved are the headers the channel sets itself.
var reserved = []string{"Content-Type", "Content-Length", "Host", HeaderDelivery, HeaderEvent, HeaderTimestamp, HeaderSignature}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	if _, err := hook.CheckURL("url", c.URL); err != nil {
		return err
	}
	for name, v := range c.Headers {
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			return fmt.Errorf("headers: %q is not a valid header name", name)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("headers: the value of %s must be one line", name)
		}
		for _, r := range reserved {
			if strings.EqualFold(name, r) {
				return fmt.Errorf("headers: %s is set by Steward and cannot be overridden", name)
			}
		}
	}
	return nil
}

// Channel posts notices to one webhook.
type Channel struct {
	cfg    Config
	client *http.Client
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and makes the channel; a nil client means a default
// one with a 10 s timeout.
func New(cfg Config, client *http.Client) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Channel{cfg: cfg, client: hook.Client(client)}, nil
}

// Send posts n as JSON. 2xx is delivered; 429 asks for a pause; 400, 401,
// 403, 404 and the like are permanent; anything else may be retried.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return notify.Permanent(fmt.Errorf("encode notice: %w", err))
	}
	h := http.Header{}
	for k, v := range c.cfg.Headers {
		h.Set(k, v)
	}
	h.Set(HeaderDelivery, n.ID)
	h.Set(HeaderEvent, "alert")
	if c.cfg.Secret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(c.cfg.Secret, ts, body))
	}
	r, err := hook.Post(ctx, c.client, c.cfg.URL, body, h)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if !r.OK() {
		return hook.StatusError("webhook "+hook.Redact(c.cfg.URL), r)
	}
	return nil
}

// Sign returns the X-Steward-Signature value for body sent at timestamp
// (unix seconds, as sent in X-Steward-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors Verify returns, so a receiver can tell a stale request from a
// forged one.
var (
	ErrUnsigned     = errors.New("webhook: request is not signed")
	ErrStale        = errors.New("webhook: timestamp is too far from now")
	ErrBadSignature = errors.New("webhook: signature does not match")
)

// Verify checks a request's signature: the timestamp header must be within
// maxSkew of now and the signature header must be the HMAC of
// timestamp + "." + body under secret. The comparison is constant-time.
func Verify(secret string, header http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	ts, sig := header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrBadSignature, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return ErrStale
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
