package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// Another site cannot sign a browser in (login CSRF): a cross-site form
// posting text/plain that parses as JSON is refused, with no session
// cookie; the console's own request, and clients that are no browser, go
// through.
func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	run := testutil.Start(t, nil)
	body := `{"email":"` + run.Demo[1].Email + `","password":"` + run.Demo[1].Password + `"}`
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
}
