package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// The incidents page shows a refusal in the page's language when the
// server gives one (message_zh), else in English. A supervisor on the
// Chinese page who declares an incident while one is open, or sets a
// silence with a mistyped matcher, reads English.
func TestIncidentRefusalsTheConsoleShowsHaveChinese(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents", map[string]any{"title": "refunds fail", "severity": "warning"}, nil)
	cases := []struct {
		name         string
		method, path string
		body         any
	}{
		{"declare while one is open", "POST", "/api/v1/incidents", map[string]any{"title": "another", "severity": "warning"}},
		{"a silence with a mistyped matcher", "POST", "/api/v1/silences", map[string]any{"matchers": []string{"=oops"}, "comment": "x", "duration": "1h"}},
	}
	for _, tc := range cases {
		status, body := admin.Do(tc.method, tc.path, tc.body)
		var out struct {
			Error struct {
				Message   string `json:"message"`
				MessageZH string `json:"message_zh"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &out); err != nil || status < 400 {
			t.Fatalf("%s: %d %s", tc.name, status, body)
		}
		if out.Error.MessageZH == "" {
			t.Errorf("%s: refused (%d) in English only: %q", tc.name, status, out.Error.Message)
		}
	}
}
