package httpapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/limit"
	"github.com/steward-cs/steward/internal/token"
)

// Limits are the rate limits of the customer surface and the console's
// login, and the caps on WebSockets. A zero Rate (or cap) is no limit.
type Limits struct {
	// TrustedProxies may say in X-Forwarded-For whom they forward for.
	TrustedProxies limit.Proxies
	// IP paces every customer API request of one client address;
	// ConversationCreate its new conversations; Conversation the messages
	// of one conversation (REST and WebSocket alike); Login the console
	// login attempts of one client address.
	IP, ConversationCreate, Conversation, Login limit.Rate
	// RefusedTurnCost is what a message the input firewall refused takes
	// from the address's and the conversation's buckets in all (at least 1).
	RefusedTurnCost int
	// MaxWebSocketsPerIP caps the WebSockets one client address holds open.
	MaxWebSocketsPerIP int
	// WebSocketMessages paces the frames a client sends on one WebSocket.
	WebSocketMessages limit.Rate
}

// The names of the limits, as a refusal's "limit" field gives them.
const (
	limitIP                 = "ip"
	limitConversationCreate = "conversation_create"
	limitConversation       = "conversation"
	limitLogin              = "login"
	limitWebSockets         = "websockets"
	limitWebSocketMessages  = "websocket_messages"
)

// maxDroppedFrames is how many frames in a row a WebSocket client may send
// over its rate (each answered with an error frame and dropped) before the
// socket is closed with StatusPolicyViolation: a client that reads its
// errors slows down long before that.
const maxDroppedFrames = 10

// limiter holds the buckets of Limits.
type limiter struct {
	proxies                 limit.Proxies
	ip, create, conv, login *limit.Buckets
	refusedCost             int
	sockets                 *limit.Slots
	frames                  limit.Rate
}

func newLimiter(l Limits) *limiter {
	buckets := func(r limit.Rate) *limit.Buckets {
		if r.PerSecond <= 0 {
			return nil
		}
		return limit.NewBuckets(r, 0)
	}
	lm := &limiter{proxies: l.TrustedProxies, ip: buckets(l.IP), create: buckets(l.ConversationCreate),
		conv: buckets(l.Conversation), login: buckets(l.Login), refusedCost: max(l.RefusedTurnCost, 1),
		frames: l.WebSocketMessages}
	if l.MaxWebSocketsPerIP > 0 {
		lm.sockets = limit.NewSlots(l.MaxWebSocketsPerIP)
	}
	return lm
}

// rateLimitError is a refusal by one of the limits: which one, and when a
// retry would pass. It carries an errcode.Error, so it renders like any
// rate_limited error, with Retry-After and the limit's name added.
type rateLimitError struct {
	limit string
	err   *errcode.Error // its RetryAfter says when a retry would pass
}

func (e *rateLimitError) Error() string { return e.err.Error() }
func (e *rateLimitError) Unwrap() error { return e.err }

// retryAfter is a wait in whole seconds, at least 1, as Retry-After wants it.
func retryAfter(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

func refusal(which string, retry time.Duration, format string, args ...any) *rateLimitError {
	msg := fmt.Sprintf(format, args...)
	if retry > 0 {
		msg += fmt.Sprintf("; try again in %d s", retryAfter(retry))
	}
	e := errcode.Errorf(errcode.RateLimited, "%s (limit: %s)", msg, which)
	e.RetryAfter = retry
	return &rateLimitError{limit: which, err: e}
}

// clientKey is the rate-limit key of the request's client address.
func (l *limiter) clientKey(r *http.Request) string {
	a, ok := l.proxies.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	if !ok {
		return r.RemoteAddr
	}
	return limit.Key(a)
}

// conversationKey keys a conversation's bucket by its id and the token
// presented: a stranger guessing at a conversation's id fills a bucket of
// their own, not the customer's.
func conversationKey(id, tok string) string { return id + "/" + string(token.Hash(tok)) }

func take(b *limit.Buckets, key string, n int) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	return b.Allow(key, n)
}

// allowIP charges a customer request to its client address.
func (l *limiter) allowIP(ipKey string) error {
	if ok, wait := take(l.ip, ipKey, 1); !ok {
		return refusal(limitIP, wait, "too many requests from your address")
	}
	return nil
}

// allowCreate charges a new conversation to its client address.
func (l *limiter) allowCreate(ipKey string) error {
	if ok, wait := take(l.create, ipKey, 1); !ok {
		return refusal(limitConversationCreate, wait, "too many new conversations from your address")
	}
	return nil
}

// allowMessage charges a customer message to its conversation.
func (l *limiter) allowMessage(convKey string) error {
	if ok, wait := take(l.conv, convKey, 1); !ok {
		return refusal(limitConversation, wait, "too many messages in this conversation")
	}
	return nil
}

// allowLogin charges a login attempt to its client address.
func (l *limiter) allowLogin(ipKey string) error {
	if ok, wait := take(l.login, ipKey, 1); !ok {
		return refusal(limitLogin, wait, "too many login attempts from your address")
	}
	return nil
}

// refused charges the rest of a refused turn's cost (its first token was
// taken when it was allowed) to the address and the conversation.
func (l *limiter) refused(ipKey, convKey string) {
	extra := l.refusedCost - 1
	if extra <= 0 {
		return
	}
	if l.ip != nil {
		l.ip.Charge(ipKey, extra)
	}
	if l.conv != nil {
		l.conv.Charge(convKey, extra)
	}
}

// openSocket takes one of the address's WebSocket slots; release gives it back.
func (l *limiter) openSocket(ipKey string) (release func(), err error) {
	if l.sockets == nil {
		return func() {}, nil
	}
	if !l.sockets.Acquire(ipKey) {
		return nil, refusal(limitWebSockets, time.Second,
			"too many open WebSockets from your address (at most %d); close one first", l.sockets.Max())
	}
	return func() { l.sockets.Release(ipKey) }, nil
}

// customer is handle for the customer surface: every request is charged
// to its client address first.
func (s *Server) customer(h handlerFunc) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.limits.allowIP(s.limits.clientKey(r)); err != nil {
			return err
		}
		return h(w, r)
	})
}

// framePacer paces the frames a client sends on one WebSocket. A frame
// over the rate is dropped and answered with an error frame (code
// rate_limited, limit websocket_messages, the frame's client_id); the
// socket stays open, unless maxDroppedFrames frames in a row are dropped,
// when pace returns the refusal and the socket closes with
// StatusPolicyViolation.
type framePacer struct {
	rate    limit.Rate
	bucket  *limit.Bucket
	dropped int
}

func (l *limiter) newFramePacer() *framePacer {
	if l.frames.PerSecond <= 0 {
		return nil
	}
	return &framePacer{rate: l.frames, bucket: limit.NewBucket(l.frames)}
}

// pace reports whether the frame f may be handled, answering it if not.
func (s *Server) pace(ctx context.Context, conn *websocket.Conn, p *framePacer, f clientFrame) (bool, error) {
	if p == nil {
		return true, nil
	}
	ok, wait := p.bucket.Allow(p.rate, 1, time.Now())
	if ok {
		p.dropped = 0
		return true, nil
	}
	p.dropped++
	e := refusal(limitWebSocketMessages, wait, "too many frames on this connection (at most %g a second); this one was dropped",
		p.rate.PerSecond)
	if p.dropped >= maxDroppedFrames {
		return false, e
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return false, wsjson.Write(wctx, conn, serverFrame{Type: "error", ClientID: f.ClientID, Error: errorDetailOf(e)})
}
