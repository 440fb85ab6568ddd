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

// An address Steward does not serve gets a page in both languages with
// the ways on (it was Go's plain "404 page not found"), still a 404, framed
// by nobody; the pages that exist are untouched.
func TestUnknownPageIsBilingual(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	for _, path := range []string{"/console/nope", "/nope", "/chat/x"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "页面不存在") || !strings.Contains(body, "Page not found") || !strings.Contains(body, `href="/chat"`) ||
			!strings.HasSuffix(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: %d %q %.120s", path, rec.Code, rec.Header().Get("Content-Type"), body)
		}
	}
	for path, code := range map[string]int{"/chat": http.StatusOK, "/status": http.StatusOK, "/": http.StatusFound} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, code)
		}
	}
}
