package openai_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/llm/llmtest"
	"github.com/steward-cs/steward/internal/llm/openai"
)

// A provider's error message is copied into the error verbatim (up to 200
// runes), and the engine logs that error ("generated answer failed").
// OpenAI-compatible servers and gateways commonly echo the key they were
// given in a 401 ("Incorrect API key provided: sk-…"): the operator's key
// then lands in the log. guard.LogHandler masks personal data, not
// secrets. The provider knows its key and must scrub it.
func TestAPIKeyIsScrubbedFromProviderErrors(t *testing.T) {
	const key = "sk-live-0123456789abcdefSECRET"
	fake := llmtest.New()
	defer fake.Close()
	for _, status := range []int{http.StatusUnauthorized, http.StatusBadRequest, http.StatusInternalServerError} {
		fake.Reply(func(r llmtest.Request) (int, string) {
			// The server echoes what it got, as many gateways do.
			return status, "Incorrect API key provided: " + strings.TrimPrefix(r.Auth, "Bearer ") + ". You can find your API key in your account settings."
		})
		p, err := openai.New(openai.Config{BaseURL: fake.URL(), APIKey: key, Model: "gpt-test"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
		if err == nil {
			t.Fatalf("%d: no error", status)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("%d: the API key is in the error: %v", status, err)
		}
		if !strings.Contains(err.Error(), "Incorrect API key provided") {
			t.Errorf("%d: the provider's message is gone from the error: %v", status, err)
		}
	}
}
