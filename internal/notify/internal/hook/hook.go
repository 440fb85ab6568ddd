// Package hook posts a JSON body to a provider's webhook and classifies
// the answer the way notify's outbox needs: delivered, retry later, retry
// after a pause, or give up. The provider packages share it; it is
// internal to notify.
package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/notify"
)

// Timeout bounds a request made with the default client.
const Timeout = 10 * time.Second

// DefaultRetryAfter is the pause asked for by a 429 without a usable
// Retry-After header.
const DefaultRetryAfter = 30 * time.Second

// maxReply is how much of an answer is read; providers answer in a few
// dozen bytes.
const maxReply = 64 << 10

// Client returns c, or when c is nil a client with a 10 s timeout that
// does not follow redirects (a webhook that redirects is misconfigured,
// and following would turn the POST into a GET).
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Reply is a provider's answer.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r *Reply) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Post sends body to rawURL as JSON with the extra headers. A transport
// failure (connection refused, timeout, cancelled ctx) is returned as a
// retryable error whose text names the URL only in redacted form.
func Post(ctx context.Context, client *http.Client, rawURL string, body []byte, header http.Header) (*Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, notify.Permanent(fmt.Errorf("build request for %s: %v", Redact(rawURL), redactErr(err, rawURL)))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Steward-Notify/1")
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		// net/http's error names the method and the (redacted) URL.
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return nil, fmt.Errorf("%w (%w)", ctxErr, redactErr(err, rawURL))
		}
		return nil, redactErr(err, rawURL)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, fmt.Errorf("read answer from %s: %w", Redact(rawURL), redactErr(err, rawURL))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxReply)) // let the connection be reused
	return &Reply{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// StatusError classifies a non-2xx answer: 429 asks for a pause (the
// Retry-After header, or 30 s); 3xx and the 4xx statuses that mean a
// wrong URL, token or payload are permanent; the rest (5xx, 408, ...) may
// be retried. what names the receiver, e.g. "dingtalk".
func StatusError(what string, r *Reply) error {
	err := fmt.Errorf("%s answered %d %s", what, r.Status, Snippet(r.Body))
	switch {
	case r.Status == http.StatusTooManyRequests:
		return &notify.RetryAfterError{After: RetryAfter(r.Header.Get("Retry-After"), time.Now(), DefaultRetryAfter), Err: err}
	case r.Status >= 300 && r.Status < 400:
		return notify.Permanent(fmt.Errorf("%w (a redirect: check the URL)", err))
	}
	switch r.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusGone, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return notify.Permanent(err)
	}
	return err
}

// maxRetryAfter is the longest pause RetryAfter returns.
const maxRetryAfter = 365 * 24 * time.Hour

// RetryAfter parses a Retry-After header, in seconds or as an HTTP date,
// returning def when it is missing, unparseable or not in the future.
func RetryAfter(v string, now time.Time, def time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return def
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case err != nil && !strings.HasPrefix(v, "-"), s > int64(maxRetryAfter/time.Second):
			// A pause longer than a Duration holds overflowed into a
			// negative or tiny one, and the receiver was retried within
			// seconds; the outbox cuts it to the notice's last day.
			return maxRetryAfter
		case err != nil, s <= 0:
			return def
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return def
}

// Snippet quotes the start of an answer's body for an error message.
func Snippet(body []byte) string {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// Redact returns rawURL fit for logs and errors: scheme, host and the
// first path segment when it is a plain word ("robot", "services",
// "open-apis"), with every query value and the rest of the path (where
// Feishu and Slack keep their tokens) replaced by "REDACTED". A first
// segment that is not a plain word may itself be the secret (a topic URL
// such as https://ntfy.sh/<secret>), and a failing channel's error is
// carried to the other channels and the console.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	out := u.Scheme + "://" + u.Host
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(segs) > 0 && segs[0] != "" {
		if plainWord(segs[0]) {
			out += "/" + segs[0]
			if len(segs) > 1 {
				out += "/REDACTED"
			}
		} else {
			out += "/REDACTED"
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"=REDACTED")
		}
		slices.Sort(keys)
		out += "?" + strings.Join(keys, "&")
	}
	return out
}

// plainWord reports whether a path segment is a short word of lower-case
// letters and hyphens: a name, not a token.
func plainWord(seg string) bool {
	if len(seg) == 0 || len(seg) > 20 {
		return false
	}
	for _, r := range seg {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// redactErr replaces the URL that net/http puts in its errors.
func redactErr(err error, rawURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: Redact(ue.URL), Err: ue.Err}
	}
	if strings.Contains(err.Error(), rawURL) {
		return errors.New(strings.ReplaceAll(err.Error(), rawURL, Redact(rawURL)))
	}
	return err
}

// CheckURL validates a webhook URL setting: present, parseable, http or
// https, with a host. The message names the field but never the URL,
// which holds the token.
func CheckURL(field, rawURL string) (*url.URL, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL", field)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%s must be an https:// URL", field)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s has no host", field)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s must not carry a user name or password", field)
	}
	return u, nil
}
