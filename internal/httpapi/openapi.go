package httpapi

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the OpenAPI 3.1 description of every route, written by
// hand. openapi_test.go holds it to Routes and to the request structs'
// fields, so a route or a field that changes without it fails a test.
//
//go:embed openapi.json
var openapiJSON []byte

// openapi serves the API's description at /api/openapi.json. It is public,
// as the routes it describes are no secret, and changes only with the
// binary, so caches may keep it for a few minutes.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	if _, err := w.Write(openapiJSON); err != nil {
		s.logger.Debug("write the OpenAPI document", "error", err)
	}
}
