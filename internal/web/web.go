// Package web serves Steward's pages: the customer's standalone /chat page and
// the embeddable /widget.js, the public /status page, the agent console at
// /console, and their static assets, all embedded in the binary so that no
// build step is needed.
package web

import (
	"embed"
	"io"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// pageCSP allows only our own scripts and styles; the chat page adds the
// sites that may frame it (the widget's hosts) with frame-ancestors.
const pageCSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'"

// Options configure the pages.
type Options struct {
	// FrameAncestors are the CSP frame-ancestors sources of the chat page:
	// the shop sites the widget is embedded in. Empty means 'self'. The
	// console and the status page are never framed.
	FrameAncestors []string
}

// Register adds the pages to mux with the default options.
func Register(mux *http.ServeMux) { RegisterWith(mux, Options{}) }

// RegisterWith adds the pages to mux.
func RegisterWith(mux *http.ServeMux, opts Options) {
	ancestors := opts.FrameAncestors
	if len(ancestors) == 0 {
		ancestors = []string{"'self'"}
	}
	chatCSP := pageCSP + "; frame-ancestors " + strings.Join(ancestors, " ")
	ownCSP := pageCSP + "; frame-ancestors 'none'"
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	mux.Handle("GET /static/", withHeaders(http.StripPrefix("/static/", files), ownCSP, "no-cache"))
	mux.Handle("GET /chat", withHeaders(serveFile(sub, "chat.html"), chatCSP, "no-cache"))
	mux.Handle("GET /widget.js", withHeaders(serveFile(sub, "widget.js"), ownCSP, "public, max-age=300"))
	mux.Handle("GET /status", statusPage())
	mux.Handle("GET /{$}", http.RedirectHandler("/chat", http.StatusFound))
	registerConsole(mux)
	// Anything else a browser may ask for: a page in both languages with
	// the ways on, rather than Go's plain-text "404 page not found".
	mux.Handle("/", withHeaders(http.HandlerFunc(notFoundPage), ownCSP, "no-cache"))
}

// notFoundHTML is the page for an address Steward does not serve.
const notFoundHTML = `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>页面不存在 · Page not found · Steward</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/console.css">
</head>
<body class="login-page">
  <main class="login-card">
    <h1 class="login-title">页面不存在</h1>
    <p>您访问的地址不存在，可能已经移动或输入有误。</p>
    <h1 class="login-title" lang="en">Page not found</h1>
    <p lang="en">There is nothing at this address; it may have moved, or have a typo.</p>
    <p><a href="/chat">在线客服 · Chat with us</a></p>
    <p><a href="/status">服务状态 · Service status</a></p>
    <p><a href="/console">客服工作台 · Agent console</a></p>
  </main>
</body>
</html>
`

func notFoundPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.WriteString(w, notFoundHTML)
	}
}

func serveFile(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, fsys, name)
	})
}

func withHeaders(h http.Handler, csp, cache string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
		w.Header().Set("Cache-Control", cache)
		h.ServeHTTP(w, r)
	})
}
