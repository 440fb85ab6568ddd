package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// A demo server gives its accounts new passwords at every start, and the
// sessions opened with the old ones end with them (QA: a bearer token from
// before a restart still opened /auth/me).
func TestDemoRestartEndsTheOldSessions(t *testing.T) {
	dir := t.TempDir()
	onDir := func(c *config.Config) { c.DataDir = dir }
	var token string
	t.Run("first start", func(t *testing.T) {
		run := testutil.Start(t, onDir)
		admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
		admin.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, nil)
		token = admin.Token
	}) // the server stops here
	run := testutil.Start(t, onDir)
	old := &testutil.Client{T: t, Base: run.URL}
	if status, body := old.Do("GET", "/api/v1/auth/me", token, nil); status != http.StatusUnauthorized {
		t.Fatalf("the token from before the restart: %d %s, want 401", status, body)
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, nil)
}
