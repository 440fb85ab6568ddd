package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/steward-cs/steward/internal/auth"
)

const testIdentitySecret = "a-shop's-secret-of-at-least-32-bytes!"

// sign makes a token as the shop's server would, with its own JWT library.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIdentitiesVerify(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	v, err := auth.NewIdentities(testIdentitySecret, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(testIdentitySecret)
	exp := now.Add(time.Hour).Unix()

	got, err := v.Verify(sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-42", "name": "王芳", "vip": true, "exp": exp}))
	if err != nil || got != (auth.Customer{ExternalID: "u-42", Name: "王芳", VIP: true}) {
		t.Fatalf("a valid token: %+v, %v", got, err)
	}
	if got, err := v.Verify(sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-7", "exp": exp})); err != nil || got.VIP || got.ExternalID != "u-7" {
		t.Fatalf("a token without name and vip: %+v, %v", got, err)
	}

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u-1", "vip": true, "exp": exp}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token, want string
	}{
		{"another secret", sign(t, jwt.SigningMethodHS256, []byte("someone-else's-secret-of-32-bytes-or-more"), jwt.MapClaims{"sub": "u-1", "vip": true, "exp": exp}), "signature does not match"},
		{"expired", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-1", "exp": now.Add(-2 * time.Minute).Unix()}), "expired"},
		{"no expiry", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-1", "vip": true}), "not a valid"},
		{"expiry too far ahead", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-1", "exp": now.Add(30 * 24 * time.Hour).Unix()}), "more than"},
		{"no subject", sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"name": "x", "exp": exp}), "no \"sub\""},
		{"alg none", none, "sign it with HS256"},
		{"HS512 with the same secret", sign(t, jwt.SigningMethodHS512, key, jwt.MapClaims{"sub": "u-1", "exp": exp}), "sign it with HS256"},
		{"not a token", "vip=true", "not a valid"},
	} {
		got, err := v.Verify(tc.token)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %+v, %v; want an error saying %q", tc.name, got, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tc.token) {
			t.Errorf("%s: the error repeats the token: %v", tc.name, err)
		}
	}
	// A clock a little behind the shop's is forgiven.
	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "u-1", "exp": now.Add(-30 * time.Second).Unix()})); err != nil {
		t.Errorf("a token 30 s past its expiry (within the leeway): %v", err)
	}
	if _, err := auth.NewIdentities("short", nil); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}
