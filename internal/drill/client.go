package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// client talks to Steward's API as customers and as the drill's operator.
type client struct {
	base, token string
	http        *http.Client
}

func newClient(base, token string) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
}

// statusTransport stands for a request that got no HTTP answer at all.
const statusTransport = 599

func (c *client) request(ctx context.Context, method, path, bearer string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return statusTransport, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// do is an operator's request.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.request(ctx, method, path, c.token, body, out)
	return err
}

type alertView struct {
	name   string
	labels map[string]string
}

func (c *client) firing(ctx context.Context) (map[string]alertView, error) {
	var out struct {
		Firing []struct {
			Fingerprint string            `json:"fingerprint"`
			Labels      map[string]string `json:"labels"`
		} `json:"firing"`
	}
	if err := c.do(ctx, "GET", "/api/v1/alerts", nil, &out); err != nil {
		return nil, err
	}
	m := map[string]alertView{}
	for _, a := range out.Firing {
		m[a.Fingerprint] = alertView{name: a.Labels["alertname"], labels: a.Labels}
	}
	return m, nil
}

type postureView struct {
	Level       int
	Description string
	Throttle    map[string]float64
	Incident    string
}

func (p postureView) normal() bool { return p.Level == 0 && len(p.Throttle) == 0 }

func (c *client) posture(ctx context.Context) (postureView, error) {
	var out struct {
		Posture struct {
			Level      int                `json:"level"`
			Throttle   map[string]float64 `json:"throttle"`
			IncidentID string             `json:"incident_id"`
		} `json:"posture"`
		Description string `json:"description"`
	}
	if err := c.do(ctx, "GET", "/api/v1/posture", nil, &out); err != nil {
		return postureView{}, err
	}
	return postureView{Level: out.Posture.Level, Description: out.Description, Throttle: out.Posture.Throttle,
		Incident: out.Posture.IncidentID}, nil
}

type kindHealth struct {
	Healthy bool `json:"Healthy"`
	Pending int  `json:"Pending"`
}

func (c *client) outbox(ctx context.Context) (map[string]kindHealth, error) {
	var out struct {
		Channels map[string]kindHealth `json:"channels"`
	}
	err := c.do(ctx, "GET", "/api/v1/outbox", nil, &out)
	return out.Channels, err
}

func (c *client) spoolPending(ctx context.Context) (int, error) {
	var out struct {
		Pending int `json:"spool_pending"`
	}
	err := c.do(ctx, "GET", "/api/v1/monitor", nil, &out)
	return out.Pending, err
}

type convView struct{ id, token string }

// start begins a customer's conversation. A VIP's, and one from a source
// other than the default, is started with the operator's token: a desk
// with an identity secret takes the customer fields and a partner's
// source only from staff (or a signed identity), and the drill's VIPs
// must be VIPs (level 2 keeps the bot for them) and its flood judged as
// that source.
func (c *client) start(ctx context.Context, locale string, vip bool, source string) (*convView, int, error) {
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	bearer := ""
	if source != "web" || vip {
		bearer = c.token
	}
	status, err := c.request(ctx, "POST", "/api/v1/conversations", bearer, map[string]any{"locale": locale, "source": source,
		"customer": map[string]any{"vip": vip}}, &out)
	if err != nil {
		return nil, status, err
	}
	return &convView{id: out.ID, token: out.Token}, status, nil
}

// replyView is a bot message as the drill reads it.
type replyView struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	// Generated: the language model wrote this answer.
	Generated bool `json:"generated"`
	Entry     *struct {
		ID       string `json:"id"`
		Category string `json:"category"`
	} `json:"entry"`
}

type turnView struct {
	state      string
	customerID string
	replies    []replyView
}

// wrongFor reports whether the turn answered from a knowledge-base entry
// other than want (a polite small-talk reply is not a wrong answer).
func (t *turnView) wrongFor(want string) bool {
	for _, m := range t.replies {
		if m.Outcome == "answer" && m.Entry != nil && m.Entry.ID != want && m.Entry.Category != "smalltalk" {
			return true
		}
	}
	return false
}

// generated reports whether the language model wrote the turn's answer.
func (t *turnView) generated() bool {
	for _, m := range t.replies {
		if m.Outcome == "answer" && m.Generated {
			return true
		}
	}
	return false
}

func (t *turnView) answerID() string {
	for _, m := range t.replies {
		if m.Outcome == "answer" {
			return m.ID
		}
	}
	return ""
}

func (c *client) say(ctx context.Context, conv *convView, text string) (*turnView, int, error) {
	var out struct {
		State    string `json:"state"`
		Customer struct {
			ID string `json:"id"`
		} `json:"customer_message"`
		Messages []replyView `json:"messages"`
	}
	status, err := c.request(ctx, "POST", "/api/v1/conversations/"+conv.id+"/messages", conv.token,
		map[string]any{"text": text}, &out)
	if err != nil {
		return nil, status, err
	}
	return &turnView{state: out.State, customerID: out.Customer.ID, replies: out.Messages}, status, nil
}

func (c *client) flag(ctx context.Context, conv *convView, mid string) (int, error) {
	if mid == "" {
		return 0, nil
	}
	return c.request(ctx, "POST", "/api/v1/conversations/"+conv.id+"/messages/"+mid+"/flag", conv.token,
		map[string]any{"reason": "wrong answer"}, nil)
}

func (c *client) rate(ctx context.Context, conv *convView, stars int) (int, error) {
	return c.request(ctx, "POST", "/api/v1/conversations/"+conv.id+"/rating", conv.token, map[string]any{"score": stars}, nil)
}

func (c *client) transcript(ctx context.Context, id, token string) (map[string]bool, error) {
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if _, err := c.request(ctx, "GET", "/api/v1/conversations/"+id, token, nil, &out); err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, m := range out.Messages {
		have[m.ID] = true
	}
	return have, nil
}

// Receiver is a loopback webhook endpoint that records Steward's notices.
type Receiver struct {
	srv    *http.Server
	ln     net.Listener
	mu     sync.Mutex
	unique map[string]bool
	names  map[string]bool
	count  int
}

// NewReceiver listens on 127.0.0.1:0.
func NewReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{ln: ln, unique: map[string]bool{}, names: map[string]bool{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// URL is where Steward should post.
func (r *Receiver) URL() string { return "http://" + r.ln.Addr().String() + "/hook" }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	var n struct {
		Labels map[string]string `json:"labels"`
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	_ = json.Unmarshal(body, &n)
	r.mu.Lock()
	r.count++
	r.unique[req.Header.Get("X-Steward-Delivery")] = true
	if name := n.Labels["alertname"]; name != "" {
		r.names[name] = true
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Unique counts distinct notices received.
func (r *Receiver) Unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.unique)
}

// Deliveries counts every request, duplicates included.
func (r *Receiver) Deliveries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Saw reports whether a notice about alertname arrived.
func (r *Receiver) Saw(alertname string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[alertname]
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }
