package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"

	"golang.org/x/text/language"
)

//go:embed templates
var templates embed.FS

// consoleTemplates are the agent console's pages. A key missing from the
// strings table is an error, not an empty label.
var consoleTemplates = template.Must(template.New("").Option("missingkey=error").ParseFS(templates, "templates/*.html"))

// consoleCSP is pageCSP for the agent console, which no other site may frame.
const consoleCSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// langCookie remembers the console language chosen with ?lang=.
const langCookie = "steward_lang"

// defaultLang is the console language when nothing else decides.
const defaultLang = "zh-CN"

// consolePage is what a console template renders.
type consolePage struct {
	Lang      string            // "zh-CN" or "en"
	Title     string            // the page's title in Lang
	T         map[string]string // the UI strings in Lang
	I18N      consoleI18N       // the same strings for console.js, rendered as JSON
	OtherLang string            // the language the switch link leads to
	SwitchURL string            // this page in OtherLang
	Script    string            // the page's script under /static/
}

// consoleI18N is the JSON blob console.js reads from <script id="i18n">.
type consoleI18N struct {
	Lang string            `json:"lang"`
	T    map[string]string `json:"t"`
}

func registerConsole(mux *http.ServeMux) {
	mux.Handle("GET /console", consoleHandler("console.html", "product", "console.js"))
	mux.Handle("GET /console/login", consoleHandler("login.html", "loginTitle", "console.js"))
	mux.Handle("GET /console/kb", consoleHandler("kb.html", "kbTitle", "kb.js"))
	mux.Handle("GET /console/incidents", consoleHandler("incidents.html", "incTitle", "incidents.js"))
	mux.Handle("GET /console/audit", consoleHandler("audit.html", "auditTitle", "audit.js"))
	mux.Handle("GET /console/{$}", http.RedirectHandler("/console", http.StatusMovedPermanently))
}

// consoleHandler renders the template name in the request's language, titled
// by the string titleKey and run by the static script. It does not check the
// session: the page's script asks /api/v1/auth/me and goes to the login page
// on 401.
func consoleHandler(name, titleKey, script string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := consoleLang(w, r)
		other := "en"
		if lang == "en" {
			other = "zh-CN"
		}
		q := r.URL.Query()
		q.Set("lang", other)
		strs := consoleStrings[lang]
		p := consolePage{Lang: lang, Title: strs[titleKey], T: strs, I18N: consoleI18N{Lang: lang, T: strs}, OtherLang: other,
			SwitchURL: (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String(), Script: script}
		var buf bytes.Buffer
		if err := consoleTemplates.ExecuteTemplate(&buf, name, p); err != nil {
			http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Cookie, Accept-Language")
		w.Write(buf.Bytes())
	})
}

// consoleLang picks the page language: ?lang= (remembered in a cookie), then
// the cookie, then the browser's Accept-Language, then Chinese.
func consoleLang(w http.ResponseWriter, r *http.Request) string {
	if lang := supportedLang(r.URL.Query().Get("lang")); lang != "" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		return lang
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if lang := supportedLang(c.Value); lang != "" {
			return lang
		}
	}
	if tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		for _, tag := range tags { // most preferred first
			if lang := supportedLang(tag.String()); lang != "" {
				return lang
			}
		}
	}
	return defaultLang
}

// supportedLang maps a language tag to "zh-CN" or "en", or "" for any other
// language. Every Chinese variant gets the Simplified Chinese console.
func supportedLang(s string) string {
	tag, err := language.Parse(s)
	if err != nil {
		return ""
	}
	switch base, _ := tag.Base(); base.String() {
	case "zh":
		return "zh-CN"
	case "en":
		return "en"
	}
	return ""
}
