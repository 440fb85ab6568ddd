package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

// lockNoUsers is an account store without accounts: every login fails.
type lockNoUsers struct{ auth.Store }

func (lockNoUsers) UserByEmail(context.Context, string) (*auth.User, error) {
	return nil, errcode.Errorf(errcode.NotFound, "no such user")
}

// An account locked after MaxFailures wrong passwords stays locked
// for FailureWindow from the failure that set it: the 429 says so in its
// Retry-After and its message. It said Retry-After: 1, so a client that
// honours the header (or a script) retried every second for a quarter of
// an hour; and the message always said the whole window.
func TestALockedLoginSaysHowLongTheLockLasts(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	svc := auth.NewService(lockNoUsers{}, auth.Options{BcryptCost: 4, Now: func() time.Time { return now }})
	var err error
	for range 6 {
		_, err = svc.Login(context.Background(), "victim@example.com", "not the password")
	}
	if errcode.Code(err) != errcode.RateLimited {
		t.Fatalf("sixth login: %v, want rate_limited (the account is locked)", err)
	}
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", nil), err)
	ra, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || ra != 15*60 || !strings.Contains(errcode.Message(err), "try again in 15 minutes") {
		t.Fatalf("locked for 15 minutes (%q), but answered %d with Retry-After %q", errcode.Message(err), rec.Code,
			rec.Header().Get("Retry-After"))
	}
	// Ten minutes on, five are left.
	now = now.Add(10*time.Minute + 30*time.Second)
	_, err = svc.Login(context.Background(), "victim@example.com", "not the password")
	rec = httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", nil), err)
	if ra := rec.Header().Get("Retry-After"); ra != "270" || !strings.Contains(errcode.Message(err), "try again in 5 minutes") ||
		!strings.Contains(errcode.MessageZH(err), "请 5 分钟后再试") {
		t.Fatalf("10.5 minutes into the lock: Retry-After %q, %q / %q; want 270 s, 5 minutes", ra, errcode.Message(err), errcode.MessageZH(err))
	}
}
