// Package openai is the llm.Provider of any server that speaks OpenAI's
// chat completions API (OpenAI, Azure's compatible endpoint, DeepSeek,
// Qwen's compatible mode, vLLM, Ollama, ...).
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-cs/steward/internal/llm"
)

// Config is the provider's settings.
type Config struct {
	// BaseURL is the API's root, e.g. https://api.openai.com/v1; requests go
	// to BaseURL + "/chat/completions".
	BaseURL string
	APIKey  string
	Model   string
	// Client makes the requests; nil: a client of its own. The caller's
	// context bounds each request.
	Client *http.Client
}

// Provider calls a chat completions endpoint.
type Provider struct {
	endpoint string
	key      string
	model    string
	client   *http.Client
}

// maxResponse bounds how much of an answer is read: a chat completion of a
// few hundred tokens is a few kilobytes.
const maxResponse = 1 << 20

// New checks cfg and returns its provider.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm base_url %q must be an http(s) URL such as https://api.openai.com/v1", cfg.BaseURL)
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm model is required (e.g. gpt-4o-mini)")
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{}
	}
	// Joined to the path, so that a query (Azure's ?api-version=…) stays a
	// query: appended to the whole URL, the path went after it.
	u.Fragment = ""
	endpoint := u.JoinPath("chat", "completions").String()
	return &Provider{endpoint: endpoint, key: cfg.APIKey, model: cfg.Model, client: c}, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens,omitempty"`
	Stream      bool          `json:"stream"`
}

type chatResponse struct {
	Choices []struct {
		Message      chatMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
	} `json:"choices"`
	Error *apiError `json:"error"`
}

type apiError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   string          `json:"param"`
	Code    json.RawMessage `json:"code"` // a string in OpenAI's API, a number in some others
}

// requestParams are the parameters every request sends besides its
// messages: one of them refused is a refusal of every request.
var requestParams = map[string]bool{"model": true, "temperature": true, "max_tokens": true}

// everyCall reports whether a client error refuses the configuration
// rather than this request: a parameter the model does not take
// (reasoning models refuse max_tokens and temperature), a model that is
// not there. Such a 400 was taken for one request's refusal, so the
// breaker never opened, the fallback was never asked, and nobody was
// paged while every unsure turn paid a call.
func (e *apiError) everyCall() bool {
	if e == nil {
		return false
	}
	var code string
	_ = json.Unmarshal(e.Code, &code)
	switch code {
	case "unsupported_parameter", "unsupported_value", "model_not_found", "invalid_model":
		return true
	}
	return requestParams[e.Param]
}

// Complete sends msgs and returns the first choice's content.
func (p *Provider) Complete(ctx context.Context, msgs []llm.Message, maxTokens int) (string, error) {
	req := chatRequest{Model: p.model, Temperature: 0, MaxTokens: maxTokens}
	for _, m := range msgs {
		req.Messages = append(req.Messages, chatMessage{Role: m.Role, Content: m.Content})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("encode chat request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("chat request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if p.key != "" {
		hr.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.client.Do(hr)
	if err != nil {
		return "", fmt.Errorf("chat completions: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return "", fmt.Errorf("read chat completion: %w", err)
	}
	if len(data) > maxResponse {
		return "", fmt.Errorf("chat completion larger than %d bytes", maxResponse)
	}
	var out chatResponse
	jsonErr := json.Unmarshal(data, &out)
	if resp.StatusCode != http.StatusOK {
		msg := http.StatusText(resp.StatusCode)
		if jsonErr == nil && out.Error != nil && out.Error.Message != "" {
			msg = out.Error.Message
		}
		err := fmt.Errorf("chat completions answered %d: %s", resp.StatusCode, truncate(p.scrub(msg), 200))
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			// A wrong or revoked key, a key without access, a model that
			// is not there: every call fails alike, so they count against
			// the provider, which opens its breaker, fails over to the
			// secondary and raises llm_failing. As refusals of one
			// request, they cost every unsure turn a call and paged
			// nobody.
			http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		default:
			if jsonErr == nil && out.Error.everyCall() {
				break // counts against the provider, as above
			}
			if resp.StatusCode >= 400 && resp.StatusCode < 500 {
				// This request, not the provider: a content filter, a
				// context too long.
				err = fmt.Errorf("%w: %w", llm.ErrRejected, err)
			}
		}
		return "", err
	}
	if jsonErr != nil {
		return "", fmt.Errorf("decode chat completion: %w", jsonErr)
	}
	if len(out.Choices) == 0 {
		return "", errors.New("chat completion has no choices")
	}
	c := out.Choices[0]
	if c.FinishReason == "content_filter" {
		// The provider's filter stopped the answer, which may be cut
		// anywhere or empty: this request, not the provider.
		return "", fmt.Errorf("%w: the provider's content filter stopped the answer", llm.ErrRejected)
	}
	if c.FinishReason == "length" {
		// Cut off at max_tokens: keep the sentences that ended.
		return llm.CompleteSentences(c.Message.Content), nil
	}
	return c.Message.Content, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// scrub removes the API key from a provider's text before it goes into an
// error: OpenAI-compatible servers and gateways echo the key they were
// given in a 401 ("Incorrect API key provided: sk-…"), and the error is
// logged, where the log's masking of personal data would let a secret
// through ("Bearer <key>" included). It runs before the message is cut
// short, which could leave a piece of the key no longer matched whole.
func (p *Provider) scrub(s string) string {
	if p.key == "" {
		return s
	}
	return strings.ReplaceAll(s, p.key, "[api key]")
}
