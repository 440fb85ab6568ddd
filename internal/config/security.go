package config

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/limit"
)

// Security holds the limits that keep one client from crowding out the
// others, and the web hardening the pages need to know about.
//
//	security:
//	  trusted_proxies: [10.0.0.0/8]          # believe X-Forwarded-For only from these (default: none)
//	  rate_limits:                           # token buckets: rate per second, burst
//	    ip: {rate: 10, burst: 50}            # every customer API request, per client address
//	    conversation_create: {rate: 0.2, burst: 20}  # new conversations, per client address
//	    conversation: {rate: 1, burst: 10}   # messages, per conversation
//	    login: {rate: 0.2, burst: 10}        # console login attempts, per client address
//	  refused_turn_cost: 5                   # tokens a message the input firewall refused takes
//	  max_websockets_per_ip: 50
//	  websocket_messages: {rate: 5, burst: 20}  # client frames per second, per WebSocket
//	  frame_ancestors: ["'self'"]            # sites that may frame /chat (the widget's hosts)
//	  timeouts: {read_header: 10s, read: 30s, write: 60s, idle: 120s}
//	  identity_secret: ...                   # verify customers' signed identities (or STEWARD_IDENTITY_SECRET)
type Security struct {
	// TrustedProxies are CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For is believed. Empty, the peer address is the client.
	TrustedProxies []string   `yaml:"trusted_proxies"`
	RateLimits     RateLimits `yaml:"rate_limits"`
	// RefusedTurnCost is how many tokens of the client address's and the
	// conversation's buckets a message refused by the input firewall takes
	// in all (an ordinary message takes 1).
	RefusedTurnCost int `yaml:"refused_turn_cost"`
	// MaxWebSocketsPerIP caps the WebSockets one client address holds open.
	MaxWebSocketsPerIP int `yaml:"max_websockets_per_ip"`
	// WebSocketMessages paces the frames a client sends on one WebSocket.
	WebSocketMessages RateLimit `yaml:"websocket_messages"`
	// FrameAncestors are the origins allowed to frame the chat page (the
	// shop sites embedding the widget), as CSP frame-ancestors sources:
	// "'self'", "https://shop.example.com", "https://*.example.com".
	FrameAncestors []string `yaml:"frame_ancestors"`
	Timeouts       Timeouts `yaml:"timeouts"`
	// IdentitySecret, when set, is the secret the embedding site signs its
	// customers' identities with (HS256 JSON Web Tokens, docs/security.md):
	// a new conversation then takes the customer's id, name and VIP flag
	// only from a valid token, never from the request's plain fields. Unset,
	// those fields are believed as sent, as before.
	IdentitySecret string `yaml:"identity_secret"`
}

// RateLimits are the customer surface's and the login's token buckets.
type RateLimits struct {
	IP                 RateLimit `yaml:"ip"`
	ConversationCreate RateLimit `yaml:"conversation_create"`
	Conversation       RateLimit `yaml:"conversation"`
	Login              RateLimit `yaml:"login"`
}

// RateLimit is a token bucket: Burst requests at once, Rate a second after.
type RateLimit struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// Timeouts bound the HTTP server's connections: a client that trickles a
// request header (slow loris) is cut off after ReadHeader.
type Timeouts struct {
	ReadHeader time.Duration `yaml:"read_header"`
	Read       time.Duration `yaml:"read"`
	Write      time.Duration `yaml:"write"`
	Idle       time.Duration `yaml:"idle"`
}

// DefaultSecurity is generous to people: a customer types far below these
// rates, and a whole office behind one address fits in them; a script
// sending tens of requests a second does not.
func DefaultSecurity() Security {
	return Security{
		RateLimits: RateLimits{
			IP:                 RateLimit{Rate: 10, Burst: 50},
			ConversationCreate: RateLimit{Rate: 0.2, Burst: 20},
			Conversation:       RateLimit{Rate: 1, Burst: 10},
			Login:              RateLimit{Rate: 0.2, Burst: 10},
		},
		RefusedTurnCost:    5,
		MaxWebSocketsPerIP: 50,
		WebSocketMessages:  RateLimit{Rate: 5, Burst: 20},
		FrameAncestors:     []string{"'self'"},
		Timeouts:           Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second},
	}
}

// LiftLimits raises every rate limit and the WebSocket cap far above what
// one machine can send: for a server only its own drills or tests talk
// to, all from one address.
func (s *Security) LiftLimits() {
	lifted := RateLimit{Rate: 1e6, Burst: 1e6}
	s.RateLimits = RateLimits{IP: lifted, ConversationCreate: lifted, Conversation: lifted, Login: lifted}
	s.WebSocketMessages = lifted
	s.MaxWebSocketsPerIP = 1 << 20
}

// Proxies returns the trusted proxies; Validate has checked them.
func (s Security) Proxies() limit.Proxies {
	p, _ := limit.ParseProxies(s.TrustedProxies)
	return p
}

func (s Security) validate() []error {
	var errs []error
	for i, p := range s.TrustedProxies {
		if _, err := limit.ParseProxies([]string{p}); err != nil {
			errs = append(errs, fmt.Errorf("security.trusted_proxies[%d] %q must be a CIDR (10.0.0.0/8) or an address", i, p))
		}
	}
	for name, r := range map[string]RateLimit{"rate_limits.ip": s.RateLimits.IP,
		"rate_limits.conversation_create": s.RateLimits.ConversationCreate,
		"rate_limits.conversation":        s.RateLimits.Conversation, "rate_limits.login": s.RateLimits.Login,
		"websocket_messages": s.WebSocketMessages} {
		// NaN or +Inf would limit nothing at all.
		if !(r.Rate > 0) || math.IsInf(r.Rate, 1) || r.Burst < 1 {
			errs = append(errs, fmt.Errorf("security.%s needs a positive rate (per second) and a burst of at least 1, not {rate: %g, burst: %d}",
				name, r.Rate, r.Burst))
		}
	}
	if s.RefusedTurnCost < 1 {
		errs = append(errs, fmt.Errorf("security.refused_turn_cost must be at least 1"))
	}
	if s.MaxWebSocketsPerIP < 1 {
		errs = append(errs, fmt.Errorf("security.max_websockets_per_ip must be at least 1"))
	}
	if len(s.FrameAncestors) == 0 {
		errs = append(errs, fmt.Errorf("security.frame_ancestors must not be empty (\"'self'\" lets only Steward frame the chat page, \"'none'\" nobody)"))
	}
	for i, src := range s.FrameAncestors {
		if !validFrameAncestor(src) {
			errs = append(errs, fmt.Errorf("security.frame_ancestors[%d] %q must be 'self', 'none', * or an origin such as https://shop.example.com or https://*.example.com",
				i, src))
		}
	}
	if s.IdentitySecret != "" && len(s.IdentitySecret) < 32 {
		errs = append(errs, fmt.Errorf("security.identity_secret must be at least 32 bytes (HS256), not %d", len(s.IdentitySecret)))
	}
	t := s.Timeouts
	if t.ReadHeader <= 0 || t.Read <= 0 || t.Write <= 0 || t.Idle <= 0 {
		errs = append(errs, fmt.Errorf("security.timeouts.read_header, read, write and idle must all be positive"))
	} else if t.ReadHeader > t.Read {
		errs = append(errs, fmt.Errorf("security.timeouts.read_header must not exceed read"))
	}
	return errs
}

// FrameAncestorSources returns FrameAncestors as CSP sources: self and
// none gain the quotes YAML takes away ('self' in YAML is the string self).
func (s Security) FrameAncestorSources() []string {
	out := make([]string, len(s.FrameAncestors))
	for i, src := range s.FrameAncestors {
		switch src {
		case "self", "none":
			src = "'" + src + "'"
		}
		out[i] = strings.TrimSuffix(src, "/")
	}
	return out
}

// validFrameAncestor accepts the CSP source expressions that make sense
// for frame-ancestors, and nothing that could break out of the header.
func validFrameAncestor(src string) bool {
	switch src {
	case "'self'", "'none'", "self", "none", "*":
		return true
	}
	if strings.ContainsAny(src, " \t\r\n;,'\"") {
		return false
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	host := strings.TrimPrefix(u.Hostname(), "*.")
	return host != "" && !strings.Contains(host, "*")
}
