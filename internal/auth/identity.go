package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Customer is who the embedding site says its signed-in customer is.
type Customer struct {
	ExternalID string
	Name       string
	VIP        bool
	// Source is the traffic source the site vouches for ("source"; empty
	// for none): a partner channel's gateway signs it, so that nobody else
	// can send under its name and get it throttled.
	Source string
}

// Identities verifies the customer identities a site signs for the chat:
// an HS256 JSON Web Token made by the site's server with a secret it shares
// with Steward, carrying the customer's id as "sub", optionally "name",
// "vip" and "source", and an expiry ("exp", required). Without it anyone could call
// himself VIP from a browser and jump the queue (and keep the bot when a
// level-2 incident serves VIPs only).
type Identities struct {
	secret []byte
	now    func() time.Time
}

// MinIdentitySecret is the shortest secret accepted: HS256 wants at least
// as many bytes as its hash.
const MinIdentitySecret = 32

// identityLeeway absorbs clock skew between the site's server and Steward.
const identityLeeway = time.Minute

// MaxIdentityLifetime bounds how far ahead a token may expire: a page holds
// its token while the customer browses, not for days.
const MaxIdentityLifetime = 7 * 24 * time.Hour

// NewIdentities returns a verifier for secret (at least MinIdentitySecret
// bytes), reading the time from now (nil: time.Now).
func NewIdentities(secret string, now func() time.Time) (*Identities, error) {
	if len(secret) < MinIdentitySecret {
		return nil, fmt.Errorf("the customer identity secret must be at least %d bytes, not %d", MinIdentitySecret, len(secret))
	}
	if now == nil {
		now = time.Now
	}
	return &Identities{secret: []byte(secret), now: now}, nil
}

type identityClaims struct {
	Name   string `json:"name"`
	VIP    bool   `json:"vip"`
	Source string `json:"source"`
	jwt.RegisteredClaims
}

// Verify checks token and returns the customer it names. The error says
// what was wrong (signature, expiry, a missing or too long claim) without
// repeating the token.
func (v *Identities) Verify(token string) (Customer, error) {
	var c identityClaims
	tok, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired(),
		jwt.WithLeeway(identityLeeway), jwt.WithTimeFunc(v.now))
	switch {
	case err != nil && tok != nil && tok.Method != nil && tok.Method.Alg() != jwt.SigningMethodHS256.Alg():
		return Customer{}, fmt.Errorf("the identity token is signed with %q; sign it with HS256", tok.Method.Alg())
	case errors.Is(err, jwt.ErrTokenExpired):
		return Customer{}, errors.New("the identity token has expired: sign a fresh one for each page")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return Customer{}, errors.New("the identity token's signature does not match the identity secret")
	case err != nil:
		return Customer{}, fmt.Errorf("the identity token is not a valid HS256 JSON Web Token: %w", err)
	}
	if c.ExpiresAt.Sub(v.now()) > MaxIdentityLifetime {
		return Customer{}, fmt.Errorf("the identity token expires more than %s ahead", MaxIdentityLifetime)
	}
	if c.Subject == "" {
		return Customer{}, errors.New("the identity token has no \"sub\" (the customer's id on the site)")
	}
	// The lengths of "sub" and "name" are the conversation engine's to check
	// (conversation.ValidCustomer), as for any customer; "source" is checked
	// as any source is (conversation.ValidSource).
	return Customer{ExternalID: c.Subject, Name: c.Name, VIP: c.VIP, Source: c.Source}, nil
}
