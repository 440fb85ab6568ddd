// Package token makes the random identifiers and secrets every domain
// needs, and the one-way hash secrets are stored under.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ID returns a random identifier of n random bytes, lowercase base32, after
// a type prefix ("c" for a conversation, "m" for a message, ...).
func ID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b))
}

// New returns a secret: 32 random bytes, base64url.
func New() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how secrets are stored: SHA-256. They are random and long, so a
// fast hash is enough (passwords use bcrypt).
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
