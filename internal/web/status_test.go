package web

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestStatusPage(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	tests := []struct {
		name       string
		url        string
		acceptLang string
		wantLang   string
		wantBody   []string
	}{
		{name: "defaults to Chinese", url: "/status", wantLang: "zh-CN",
			wantBody: []string{"服务状态", `href="/status?lang=en"`, `src="/static/status.js"`, `href="/static/status.css"`,
				`id="overall"`, `id="incident-phases"`, `id="components"`, `id="history"`, `href="/chat?lang=zh-CN"`}},
		{name: "query picks English", url: "/status?lang=en", wantLang: "en",
			wantBody: []string{"Service status", `href="/status?lang=zh-CN"`, "Investigating", "Resolved"}},
		{name: "Accept-Language English", url: "/status", acceptLang: "en-GB,en;q=0.9", wantLang: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.url, nil) // no session: the page is public
			if tt.acceptLang != "" {
				req.Header.Set("Accept-Language", tt.acceptLang)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			body := rec.Body.String()
			if want := `<html lang="` + tt.wantLang + `">`; !strings.Contains(body, want) {
				t.Errorf("page is not in %s", tt.wantLang)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			for _, s := range tt.wantBody {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s", s)
				}
			}
			blob := regexp.MustCompile(`(?s)<script type="application/json" id="i18n">(.*?)</script>`).FindStringSubmatch(body)
			if blob == nil {
				t.Fatal("no i18n blob")
			}
			var i18n consoleI18N
			if err := json.Unmarshal([]byte(blob[1]), &i18n); err != nil {
				t.Fatalf("i18n blob: %v", err)
			}
			if i18n.Lang != tt.wantLang || i18n.T["title"] != statusStrings[tt.wantLang]["title"] {
				t.Errorf("i18n blob is for %q", i18n.Lang)
			}
		})
	}
}

// Both languages have the same keys, and every key status.js asks for exists,
// including the labels it builds from a prefix and a value of the API.
func TestStatusStrings(t *testing.T) {
	zh, en := statusStrings["zh-CN"], statusStrings["en"]
	for k := range zh {
		if en[k] == "" {
			t.Errorf("%q has no English text", k)
		}
	}
	for k := range en {
		if zh[k] == "" {
			t.Errorf("%q has no Chinese text", k)
		}
	}
	js, err := fs.ReadFile(static, "static/status.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\bt\('([A-Za-z0-9_-]+)'`).FindAllStringSubmatch(string(js), -1) {
		if _, ok := en[m[1]]; !ok {
			t.Errorf("status.js uses the missing string %q", m[1])
		}
	}
	statuses := []string{"operational", "degraded_performance", "partial_outage", "major_outage"}
	for _, s := range statuses {
		for _, k := range []string{"status_" + s, "component_" + s} {
			if _, ok := en[k]; !ok {
				t.Errorf("missing %q", k)
			}
		}
	}
	for _, k := range []string{"phase_investigating", "phase_identified", "phase_monitoring", "phase_resolved",
		"severity_info", "severity_warning", "severity_critical"} {
		if _, ok := en[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
}

// The status page calls a severity what the console calls it (一般/重要/紧急
// in Chinese), so a customer and an operator name the same incident alike.
func TestStatusSeverityWordsMatchTheConsole(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		for _, level := range []string{"info", "warning", "critical"} {
			page, console := statusStrings[lang]["severity_"+level], consoleStrings[lang]["alertlevel_"+level]
			if console == "" || !strings.EqualFold(page, console) {
				t.Errorf("%s: the status page calls %s %q, the console %q", lang, level, page, console)
			}
		}
	}
}

// While an incident is open the banner names its phase rather than the
// components' status, so it never says all is well above an incident:
// every phase has a banner in both languages that is not the operational one.
func TestStatusBannerForAnOpenIncident(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		strs := statusStrings[lang]
		for _, k := range []string{"banner_incident", "banner_incident_investigating", "banner_incident_identified",
			"banner_incident_monitoring"} {
			if strs[k] == "" || strs[k] == strs["status_operational"] {
				t.Errorf("%s: %q is %q", lang, k, strs[k])
			}
		}
	}
}
