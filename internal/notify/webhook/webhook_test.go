package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/notify/webhook"
)

func TestVerify(t *testing.T) {
	const secret = "s3cret"
	body := []byte(`{"id":"n1"}`)
	now := time.Unix(1_746_093_600, 0)
	// The signature as a receiver in any language computes it.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("1746093600." + string(body)))
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign(secret, "1746093600", body); got != sig {
		t.Fatalf("Sign = %s, want %s", got, sig)
	}
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set(webhook.HeaderTimestamp, ts)
		}
		if sig != "" {
			h.Set(webhook.HeaderSignature, sig)
		}
		return h
	}
	for _, c := range []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, header("1746093600", sig), body, now, nil},
		{"valid within skew", secret, header("1746093600", sig), body, now.Add(4 * time.Minute), nil},
		{"unsigned", secret, header("", ""), body, now, webhook.ErrUnsigned},
		{"stale", secret, header("1746093600", sig), body, now.Add(6 * time.Minute), webhook.ErrStale},
		{"from the future", secret, header("1746093600", sig), body, now.Add(-6 * time.Minute), webhook.ErrStale},
		{"tampered body", secret, header("1746093600", sig), []byte(`{"id":"n2"}`), now, webhook.ErrBadSignature},
		{"other secret", "other", header("1746093600", sig), body, now, webhook.ErrBadSignature},
		{"bad timestamp", secret, header("yesterday", sig), body, now, webhook.ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := webhook.Verify(c.secret, c.h, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}
