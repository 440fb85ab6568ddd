package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The chat page may be framed by Steward itself unless told otherwise, by
// the configured sites when told; nothing else of ours may be framed.
func TestChatFrameAncestors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ancestors []string
		want      string
	}{
		{"default", nil, "frame-ancestors 'self'"},
		{"widget hosts", []string{"'self'", "https://shop.example.com"}, "frame-ancestors 'self' https://shop.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			RegisterWith(mux, Options{FrameAncestors: tc.ancestors})
			for path, want := range map[string]string{"/chat": tc.want, "/widget.js": "frame-ancestors 'none'",
				"/static/chat.css": "frame-ancestors 'none'"} {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				csp := rec.Header().Get("Content-Security-Policy")
				if rec.Code != http.StatusOK || !strings.HasSuffix(csp, want) || strings.Count(csp, "frame-ancestors") != 1 ||
					rec.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s: %d, CSP %q, want it to end with %q", path, rec.Code, csp, want)
				}
			}
		})
	}
}
