package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// Another site cannot sign a browser in (login CSRF): a cross-site form
// posting text/plain that parses as JSON is refused, with no session
// cookie; the console's own request, and clients that are no browser, go
// through.
func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	// A shop that embeds the widget may open its stream; it is no place to
	// sign in to the console from.
	run := testutil.Start(t, func(c *config.Config) { c.AllowedOrigins = []string{"shop.example"} })
	body := `{"email":"` + run.Demo[1].Email + `","password":"` + run.Demo[1].Password + `"}`
	var origin string // sent when set
	login := func(site, contentType string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("POST", run.URL+"/api/v1/auth/login", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, b := login("cross-site", "text/plain")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "another site") || len(resp.Cookies()) != 0 {
		t.Fatalf("a cross-site login: %d %s, cookies %v; want 403 and no session", resp.StatusCode, b, resp.Cookies())
	}
	for _, site := range []string{"same-origin", ""} {
		if resp, b := login(site, "application/json"); resp.StatusCode != http.StatusOK {
			t.Fatalf("a login with Sec-Fetch-Site %q: %d %s", site, resp.StatusCode, b)
		}
	}
	// A browser too old to send Sec-Fetch-Site still sends Origin: another
	// site's, or a sandboxed frame's "null", is refused; our own goes through.
	for _, o := range []string{"https://attacker.example", "null", "https://shop.example"} {
		origin = o
		if resp, b := login("", "text/plain"); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Fatalf("a login from Origin %s without Sec-Fetch-Site: %d %s, cookies %v; want 403", o, resp.StatusCode, b, resp.Cookies())
		}
	}
	// A sibling host of the same site (shop.example.com beside
	// help.example.com) is another origin: Sec-Fetch-Site says same-site.
	origin = "https://shop.example.com"
	if resp, b := login("same-site", "text/plain"); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("a same-site login from another host: %d %s, cookies %v; want 403", resp.StatusCode, b, resp.Cookies())
	}
	origin = run.URL
	if resp, b := login("", "application/json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a login from our own Origin without Sec-Fetch-Site: %d %s", resp.StatusCode, b)
	}
}
