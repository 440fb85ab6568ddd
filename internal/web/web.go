// Package web serves Steward's pages: the customer's standalone /chat page and
// the embeddable /widget.js, the public /status page, the agent console at
// /console, and their static assets, all embedded in the binary so that no
// build step is needed.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// pageCSP allows only our own scripts and styles; /chat may be framed by any
// site (the widget embeds it), nothing else.
const pageCSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'self'"

// Register adds the pages to mux.
func Register(mux *http.ServeMux) {
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	mux.Handle("GET /static/", withHeaders(http.StripPrefix("/static/", files), "no-cache"))
	mux.Handle("GET /chat", withHeaders(serveFile(sub, "chat.html"), "no-cache"))
	mux.Handle("GET /widget.js", withHeaders(serveFile(sub, "widget.js"), "public, max-age=300"))
	mux.Handle("GET /status", statusPage())
	mux.Handle("GET /{$}", http.RedirectHandler("/chat", http.StatusFound))
	registerConsole(mux)
}

func serveFile(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, fsys, name)
	})
}

func withHeaders(h http.Handler, cache string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
		w.Header().Set("Cache-Control", cache)
		h.ServeHTTP(w, r)
	})
}
