package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// An admin reads the server's profiles through the API (the authorization
// matrix refuses everyone else): a heap profile as text, a one-second CPU
// profile in pprof's gzipped format, each recorded in the audit trail.
func TestAdminTakesProfiles(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const pprof = "/api/v1/admin/debug/pprof/"

	status, body := admin.Do("GET", pprof+"heap?debug=1", nil)
	if status != http.StatusOK || !strings.HasPrefix(string(body), "heap profile:") {
		t.Fatalf("heap: %d %.200q", status, body)
	}

	status, body = admin.Do("GET", pprof+"profile?seconds=1", nil)
	if status != http.StatusOK || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Fatalf("CPU profile: %d, %d bytes starting %.20q (want a gzipped profile)", status, len(body), body)
	}

	status, body = admin.Do("GET", pprof, nil)
	if status != http.StatusOK || !strings.Contains(string(body), "href='goroutine?debug=1'") {
		t.Fatalf("index: %d %.300q", status, body)
	}

	// A name the runtime has no profile for is the API's JSON 404, not
	// pprof's plain-text one.
	admin.Must(http.StatusNotFound, "GET", pprof+"nothing", nil, nil)
	admin.Must(http.StatusMethodNotAllowed, "DELETE", pprof+"heap", nil, nil)

	if !hasEntry(trail(admin, "debug."), admin.ID, "debug.profile", "pprof:profile", map[string]any{"query": "seconds=1"}) ||
		!hasEntry(trail(admin, "debug."), admin.ID, "debug.profile", "pprof:heap", nil) {
		t.Errorf("profiles not in the audit trail: %+v", trail(admin, "debug."))
	}
}
