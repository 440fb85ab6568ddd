package notifytest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/webhook"
)

// WebhookPath is where the webhook fake receives.
const WebhookPath = "/hooks/steward"

// WebhookDelivery is a request the webhook fake accepted.
type WebhookDelivery struct {
	Notice notify.Notice
	Header http.Header
	// Delivery is the X-Steward-Delivery header.
	Delivery string
	// Signed reports that the request's signature checked out.
	Signed bool
}

// Webhook fakes a receiver of Steward's generic webhook at POST
// /hooks/steward. With a secret it checks the signature with
// webhook.Verify (5 minutes' skew) and answers 401 when it fails; it
// answers 404 elsewhere, 415 for a body that is not JSON, 400 for one that
// is not a notice or lacks the X-Steward-Event and X-Steward-Delivery
// headers, 401 when a header required with RequireHeader is missing, and
// 429 (with Retry-After) when rate limited.
type Webhook struct {
	*server
	secret string

	mu       sync.Mutex
	got      []WebhookDelivery
	required map[string]string
}

var _ Fake = (*Webhook)(nil)

// NewWebhook starts a receiver checking signatures with secret ("" for
// none).
func NewWebhook(secret string) *Webhook {
	f := &Webhook{secret: secret, required: map[string]string{}}
	f.server = newServer(f.handle)
	return f
}

// URL is the receiver's address.
func (f *Webhook) URL() string { return f.BaseURL() + WebhookPath }

// RequireHeader makes the receiver answer 401 unless each request carries
// the header with the value (e.g. an Authorization token).
func (f *Webhook) RequireHeader(name, value string) {
	f.mu.Lock()
	f.required[name] = value
	f.mu.Unlock()
}

// Deliveries returns the requests accepted, oldest first.
func (f *Webhook) Deliveries() []WebhookDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]WebhookDelivery(nil), f.got...)
}

// Notices returns the notices accepted, oldest first.
func (f *Webhook) Notices() []notify.Notice {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]notify.Notice, len(f.got))
	for i, d := range f.got {
		out[i] = d.Notice
	}
	return out
}

// Count is how many requests the receiver accepted.
func (f *Webhook) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.got) }

// UniqueDeliveries is how many distinct X-Steward-Delivery ids were
// accepted: retries of one notice count once.
func (f *Webhook) UniqueDeliveries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	for _, d := range f.got {
		seen[d.Delivery] = true
	}
	return len(seen)
}

func (f *Webhook) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != WebhookPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f.mu.Lock()
	for k, v := range f.required {
		if r.Header.Get(k) != v {
			f.mu.Unlock()
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	f.mu.Unlock()
	body, err := readBody(r)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	signed := false
	if f.secret != "" {
		if err := webhook.Verify(f.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		signed = true
	}
	if on, after := f.limited(); on {
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	delivery := r.Header.Get(webhook.HeaderDelivery)
	if r.Header.Get(webhook.HeaderEvent) != "alert" || delivery == "" {
		http.Error(w, "missing X-Steward-Event or X-Steward-Delivery", http.StatusBadRequest)
		return
	}
	var n notify.Notice
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil || n.ID == "" {
		http.Error(w, "not a notice", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, WebhookDelivery{Notice: n, Header: r.Header.Clone(), Delivery: delivery, Signed: signed})
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
