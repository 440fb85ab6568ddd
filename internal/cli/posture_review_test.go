package cli_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// posture set changes the server's posture with its PUT; the GET after it
// only fetches a description to print. When that GET fails (a server
// restarting, a proxy's 502) the posture is set all the same: the command
// must not exit 1 as if nothing happened (a script retries, or an operator
// escalates another way), and the set must not be sent twice.
func TestPostureSetSucceedsWhenOnlyTheDescriptionFails(t *testing.T) {
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "PUT" && r.URL.Path == "/api/v1/posture":
			puts.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"posture":{"level":2,"manual":true,"since":"2026-11-24T10:00:00Z"},"problems":[]}`))
		case r.Method == "GET" && r.URL.Path == "/api/v1/posture":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("bad gateway"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := map[string]string{"STEWARD_URL": srv.URL, "STEWARD_TOKEN": "stk_test"}
	code, out, errs := run(t, "", env, "posture", "set", "--level", "2", "--reason", "answers wrong")
	if puts.Load() != 1 {
		t.Fatalf("%d PUTs, want 1", puts.Load())
	}
	if code != 0 || !strings.Contains(out, "level 2") {
		t.Fatalf("posture set, the PUT answered 200: exit %d, stdout %q, stderr %q; want exit 0 and the level set", code, out, errs)
	}
}
