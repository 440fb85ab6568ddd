package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/limit"
)

// A refused turn costs RefusedTurnCost tokens in all, from the address's
// and the conversation's buckets alike.
func TestRefusedTurnCostsMore(t *testing.T) {
	l := newLimiter(Limits{IP: limit.Rate{PerSecond: 0.001, Burst: 10}, Conversation: limit.Rate{PerSecond: 0.001, Burst: 6},
		RefusedTurnCost: 5})
	ip, conv := "203.0.113.7", conversationKey("c1", "tok")
	if err := l.allowIP(ip); err != nil {
		t.Fatal(err)
	}
	if err := l.allowMessage(conv); err != nil {
		t.Fatal(err)
	}
	l.refused(ip, conv) // 5 in all: 10-5 and 6-5 left
	if err := l.allowMessage(conv); err != nil {
		t.Fatalf("the conversation's last token: %v", err)
	}
	if err := l.allowMessage(conv); err == nil {
		t.Fatal("a conversation charged 5 for a refused turn still had tokens")
	}
	for i := range 5 {
		if err := l.allowIP(ip); err != nil {
			t.Fatalf("address token %d of the 5 left: %v", i+1, err)
		}
	}
	if err := l.allowIP(ip); err == nil {
		t.Fatal("an address charged 5 for a refused turn still had tokens")
	}
	// Another conversation and address are untouched.
	if l.allowMessage(conversationKey("c2", "tok")) != nil || l.allowIP("203.0.113.8") != nil {
		t.Fatal("the charge reached other keys")
	}
}

// The rendered refusal: 429, whole-second Retry-After, code and limit.
func TestRateLimitErrorRendering(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/", nil), refusal(limitConversation, 1500*time.Millisecond, "too many messages"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	want := `{"error":{"code":"rate_limited","message":"too many messages; try again in 2 s (limit: conversation)","limit":"conversation"}}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("body %s", rec.Body)
	}
	// A wait under a second is still "1", never "0".
	rec = httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/", nil), refusal(limitIP, 10*time.Millisecond, "x"))
	if rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q for 10ms", rec.Header().Get("Retry-After"))
	}
}
