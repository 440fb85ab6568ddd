package drill

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Model is a stand-in for an OpenAI-compatible chat completions API on
// loopback, for the drills that need a language model (a provider is a
// third party the drill cannot run). It speaks the real wire protocol and
// answers with the first knowledge-base entry of the prompt's system
// message, as a model grounded in the entries would; with no entry, it
// answers NO_ANSWER.
type Model struct {
	ln       net.Listener
	srv      *http.Server
	answered atomic.Int64
}

// NewModel starts a stand-in model on a loopback port.
func NewModel() (*Model, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &Model{ln: ln}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 5 * time.Second}
	go m.srv.Serve(ln)
	return m, nil
}

// URL is the API's root, for llm.base_url.
func (m *Model) URL() string { return "http://" + m.ln.Addr().String() + "/v1" }

// Answered counts the completions the stand-in has written.
func (m *Model) Answered() int64 { return m.answered.Load() }

// Close stops the stand-in.
func (m *Model) Close() error { return m.srv.Close() }

func (m *Model) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "type": "invalid_request_error"}})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		fail(http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		fail(http.StatusBadRequest, "bad request body: "+err.Error())
		return
	}
	answer := "NO_ANSWER"
	if len(req.Messages) > 0 && req.Messages[0].Role == "system" {
		if a := firstEntryAnswer(req.Messages[0].Content); a != "" {
			answer = a
		}
	}
	m.answered.Add(1)
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-drill", "object": "chat.completion", "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": answer}}},
	})
}

// firstEntryAnswer is the answer of entry [1] in a prompt built by
// llm.Prompt: "[1] title", then the answer up to the blank line.
func firstEntryAnswer(system string) string {
	_, rest, ok := strings.Cut(system, "\n[1] ")
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, "\n")
	if !ok {
		return ""
	}
	answer, _, _ := strings.Cut(rest, "\n\n[2] ")
	return strings.TrimSpace(answer)
}
