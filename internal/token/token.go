// Package token makes the random identifiers and secrets every domain
// needs, and the one-way hash secrets are stored under.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
	"time"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// sortableEncoding is base32 with an alphabet in ASCII order (0-9, a-v), so
// that the strings sort as their bytes do.
var sortableEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// ID returns a random identifier of n random bytes, lowercase base32, after
// a type prefix ("c" for a conversation, "m" for a message, ...).
func ID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b))
}

// SortableID returns an identifier that sorts after every one made before
// it by this clock, to the millisecond: the time in milliseconds (6 bytes)
// then n random bytes, base32 in ASCII order, after a type prefix. A table
// keyed by such ids grows at its end, as a log does, instead of inserting
// into a random page of its index on every row; for messages that cut the
// pages each commit writes. The id shows when it was made, so use it only
// where that is no secret.
func SortableID(prefix string, at time.Time, n int) string {
	b := make([]byte, 6+n)
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	rand.Read(b[6:])
	return prefix + sortableEncoding.EncodeToString(b)
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
