// Package llmtest is a loopback stand-in for an OpenAI-compatible chat
// completions server, for tests: it speaks the real wire protocol, records
// every request, and answers as the test says.
package llmtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Request is one chat completions request as the server received it.
type Request struct {
	// Ctx ends when the client gives up: a reply that stalls waits on it.
	Ctx      context.Context `json:"-"`
	Auth     string          `json:"-"`
	Query    string          `json:"-"` // the URL's query
	Model    string          `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
}

// Text is every message's content, joined.
func (r Request) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteByte('\n')
	}
	return b.String()
}

// Server is the fake.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
	reply    func(Request) (status int, content string)
	finish   string
}

// New starts a server that answers every request with content "OK".
func New() *Server {
	s := &Server{reply: func(Request) (int, string) { return http.StatusOK, "OK" }}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API root to configure (…/v1).
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close stops the server.
func (s *Server) Close() { s.srv.CloseClientConnections(); s.srv.Close() }

// Reply sets how the server answers: a status and, for 200, the content
// of the one choice (otherwise the error message, or, when it is a JSON
// object with an "error", the whole body as a provider would send it).
func (s *Server) Reply(f func(Request) (int, string)) {
	s.mu.Lock()
	s.reply = f
	s.mu.Unlock()
}

// Finish sets the finish_reason of the answers ("stop" by default;
// "length" is an answer cut off at max_tokens).
func (s *Server) Finish(reason string) {
	s.mu.Lock()
	s.finish = reason
	s.mu.Unlock()
}

// Requests returns what the server has received.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "no route " + r.URL.Path}})
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": err.Error()}})
		return
	}
	req.Auth, req.Ctx, req.Query = r.Header.Get("Authorization"), r.Context(), r.URL.RawQuery
	s.mu.Lock()
	s.requests = append(s.requests, req)
	reply, finish := s.reply, s.finish
	s.mu.Unlock()
	if finish == "" {
		finish = "stop"
	}
	status, content := reply(req)
	if status != http.StatusOK {
		w.WriteHeader(status)
		if json.Valid([]byte(content)) && strings.HasPrefix(content, `{"error"`) {
			io.WriteString(w, content) // a provider's own error body, as it is
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": content, "type": "server_error"}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": finish,
			"message": map[string]string{"role": "assistant", "content": content}}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}
