package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/knowledge"
)

func TestConsolePages(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	tests := []struct {
		name       string
		url        string
		cookie     string
		acceptLang string
		wantStatus int
		wantLang   string
		wantCookie string // the steward_lang cookie set, if any
		wantBody   []string
	}{
		{name: "console defaults to Chinese", url: "/console", wantStatus: 200, wantLang: "zh-CN",
			wantBody: []string{`id="queue-list"`, `id="reply-input"`, "坐席工作台", `href="/console?lang=en"`}},
		{name: "login defaults to Chinese", url: "/console/login", wantStatus: 200, wantLang: "zh-CN",
			wantBody: []string{`id="login-email"`, `id="login-password"`, `id="login-submit"`, `type="submit" disabled>`, `id="login-error"`, "登录"}},
		{name: "query sets language and cookie", url: "/console/login?lang=en&next=%2Fconsole", wantStatus: 200,
			wantLang: "en", wantCookie: "en", wantBody: []string{"Sign in", `href="/console/login?lang=zh-CN&amp;next=%2Fconsole"`}},
		{name: "query beats cookie", url: "/console?lang=zh-CN", cookie: "en", wantStatus: 200, wantLang: "zh-CN", wantCookie: "zh-CN"},
		{name: "cookie beats Accept-Language", url: "/console", cookie: "en", acceptLang: "zh-CN,zh;q=0.9", wantStatus: 200, wantLang: "en"},
		{name: "Accept-Language English", url: "/console", acceptLang: "en-US,en;q=0.9,zh;q=0.5", wantStatus: 200, wantLang: "en"},
		{name: "Accept-Language by preference", url: "/console", acceptLang: "fr;q=0.9,zh-TW;q=0.8,en;q=0.7", wantStatus: 200, wantLang: "zh-CN"},
		{name: "unsupported language falls back", url: "/console", acceptLang: "de-DE", wantStatus: 200, wantLang: "zh-CN"},
		{name: "unknown query value ignored", url: "/console?lang=fr", cookie: "en", wantStatus: 200, wantLang: "en"},
		{name: "knowledge page", url: "/console/kb?lang=en", wantStatus: 200, wantLang: "en", wantCookie: "en",
			wantBody: []string{`id="entries-list"`, `id="entry-form"`, `id="publish-btn"`, `src="/static/kb.js"`,
				`href="/console"`, "Knowledge base"}},
		{name: "desk links to the knowledge page", url: "/console", wantStatus: 200, wantLang: "zh-CN",
			wantBody: []string{`href="/console/kb"`, `href="/console/incidents"`, `src="/static/console.js"`}},
		{name: "incidents page", url: "/console/incidents", wantStatus: 200, wantLang: "zh-CN",
			wantBody: []string{`id="posture-card"`, `id="alerts-body"`, `id="incidents-list"`, `id="notices-box"`,
				`src="/static/incidents.js"`, `href="/console/kb"`, "故障响应", "紧急"}},
		{name: "audit page", url: "/console/audit?lang=en", wantStatus: 200, wantLang: "en", wantCookie: "en",
			wantBody: []string{`id="verify-status"`, `id="audit-body"`, `id="f-action"`, `src="/static/audit.js"`,
				`href="/console/kb"`, `id="nav-audit"`, "Audit log"}},
		{name: "every page links the audit page", url: "/console/kb", wantStatus: 200, wantLang: "zh-CN",
			wantBody: []string{`href="/console/audit"`, "审计日志"}},
		{name: "trailing slash redirects", url: "/console/", wantStatus: http.StatusMovedPermanently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.url, nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			if tt.acceptLang != "" {
				req.Header.Set("Accept-Language", tt.acceptLang)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			body := rec.Body.String()
			if want := `<html lang="` + tt.wantLang + `">`; !strings.Contains(body, want) {
				t.Errorf("page is not in %s", tt.wantLang)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			var got string
			for _, c := range rec.Result().Cookies() {
				if c.Name == langCookie {
					got = c.Value
				}
			}
			if got != tt.wantCookie {
				t.Errorf("language cookie %q, want %q", got, tt.wantCookie)
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
			if i18n.Lang != tt.wantLang || i18n.T["product"] != consoleStrings[tt.wantLang]["product"] {
				t.Errorf("i18n blob is for %q", i18n.Lang)
			}
		})
	}
}

// Both languages have the same keys, and every key the console's scripts ask for exists.
func TestConsoleStrings(t *testing.T) {
	zh, en := consoleStrings["zh-CN"], consoleStrings["en"]
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
	// staff.js holds what the pages share, the REST client's two messages among it.
	for name, least := range map[string]int{"console.js": 20, "kb.js": 20, "incidents.js": 20, "audit.js": 7, "staff.js": 2} {
		js, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		used := regexp.MustCompile(`\bt\('([A-Za-z0-9_-]+)'`).FindAllStringSubmatch(string(js), -1)
		if len(used) < least {
			t.Fatalf("found only %d t('…') calls in %s", len(used), name)
		}
		for _, m := range used {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses the missing string %q", name, m[1])
			}
		}
	}
	// Keys the scripts build from a prefix and a value, or choose at run time.
	for _, k := range []string{"conn_connecting", "conn_reconnecting", "emotion_low", "emotion_mid", "emotion_high",
		"status_online", "status_away", "status_offline", "state_queued", "state_assigned", "state_closed",
		"kbDiffAdded", "kbDiffRemoved", "kbDiffChanged", "kbRejectedBecause", "kbRetiredBecause",
		"kbstatus_draft", "kbstatus_in_review", "kbstatus_approved", "kbstatus_rejected", "kbstatus_published",
		"kbstatus_retired", "kbaction_create", "kbaction_edit", "kbaction_import", "kbaction_submit", "kbaction_approve",
		"kbaction_reject", "kbaction_retire", "kbfield_questions", "kbfield_answer", "kbcheck_golden",
		"flagstatus_open", "flagstatus_fixing", "flagsource_customer", "flagsource_agent",
		"postureLevel_0", "postureLevel_3", "postureHint_1", "alertlevel_info", "alertlevel_warning", "alertlevel_critical",
		"phase_investigating", "phase_resolved", "evkind_opened", "evkind_alert_resolved", "evkind_note", "evkind_resolved",
		"auditKind_altered", "auditKind_unlinked", "auditKind_missing", "auditKind_truncated", "auditKind_head",
		"auditKind_anchor",
		// every outcome a bot message can carry and every handoff reason
		// (conversation.Outcome*, conversation.Handoff*), shown as tags
		"outcome_answer", "outcome_clarify", "outcome_fallback", "outcome_handoff", "outcome_offline",
		"outcome_ticket", "outcome_rating_request", "outcome_refused", "outcome_notice",
		"reason_request", "reason_unresolved", "reason_emotion", "reason_incident",
		"agentOnline", "closeConfirm", "closeConfirmQueued", "closedToastNoRating"} {
		if _, ok := en[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
}

// Every category of the demo knowledge base has a label in both languages,
// so a Chinese console never shows "order_status"; a category an operator
// adds has none and shows as it is.
func TestConsoleLabelsTheDemoCategories(t *testing.T) {
	entries, err := knowledge.DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Category == "" || seen[e.Category] {
			continue
		}
		seen[e.Category] = true
		for _, lang := range []string{"zh-CN", "en"} {
			l := consoleStrings[lang]["category_"+e.Category]
			if l == "" || l == e.Category {
				t.Errorf("category %q has no %s label", e.Category, lang)
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("the demo knowledge base has only %d categories", len(seen))
	}
}

// The KB editor's answer counters count against the limit the server
// enforces: a page that says 4,000 where the server refuses at another
// length would mislead the author.
func TestKBEditorCountsToTheServersLimit(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/console/kb?lang=en", nil))
	maxes := regexp.MustCompile(`id="ed-answer-(zh|en)"[^>]*data-max="(\d+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
	if len(maxes) != 2 {
		t.Fatalf("the editor has %d answer fields with a data-max, want 2", len(maxes))
	}
	for _, m := range maxes {
		if m[2] != fmt.Sprint(knowledge.MaxAnswerRunes) {
			t.Errorf("the %s answer counts to %s, the server's limit is %d", m[1], m[2], knowledge.MaxAnswerRunes)
		}
	}
}
