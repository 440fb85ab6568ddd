package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// Every response carries nosniff and a Referrer-Policy; API answers are not
// stored; pages carry a CSP, and only the chat page may be framed, by the
// configured widget hosts.
func TestSecurityHeaders(t *testing.T) {
	// The default, 'self', is internal/web's TestChatFrameAncestors.
	base := testutil.StartApp(t, func(c *config.Config) {
		c.Security.FrameAncestors = []string{"'self'", "https://shop.example.com"}
	})
	cases := []struct {
		name, path string
		status     int
		cache      string // want Cache-Control to contain this
		csp        string // want the CSP to contain this ("" for none required)
	}{
		{"API JSON", "/api/v1/rating-tags", 200, "no-store", ""},
		{"API error", "/api/v1/nope", 404, "no-store", ""},
		{"API unauthorised", "/api/v1/auth/me", 401, "no-store", ""},
		{"health", "/livez", 200, "no-store", ""},
		{"chat page for the widget's host", "/chat", 200, "no-cache", "frame-ancestors 'self' https://shop.example.com"},
		{"widget script", "/widget.js", 200, "max-age", "frame-ancestors 'none'"},
		{"static asset", "/static/chat.js", 200, "no-cache", "frame-ancestors 'none'"},
		{"console", "/console", 200, "", "frame-ancestors 'none'"},
		{"status page", "/status", 200, "", "frame-ancestors 'none'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
				t.Errorf("nosniff %q, Referrer-Policy %q", h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
			}
			if !strings.Contains(h.Get("Cache-Control"), c.cache) {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), c.cache)
			}
			csp := h.Get("Content-Security-Policy")
			if c.csp != "" && (!strings.Contains(csp, c.csp) || !strings.Contains(csp, "script-src 'self'")) {
				t.Errorf("CSP %q, want %q", csp, c.csp)
			}
			if c.path == "/chat" && strings.Contains(csp, "frame-ancestors *") {
				t.Errorf("CSP %q lets any site frame the chat", csp)
			}
		})
	}
}
