package openai_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/llm/llmtest"
	"github.com/steward-cs/steward/internal/llm/openai"
)

func TestCompleteSpeaksChatCompletions(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Reply(func(r llmtest.Request) (int, string) { return http.StatusOK, "  Refunds take 3-5 days.  " })
	p, err := openai.New(openai.Config{BaseURL: fake.URL() + "/", APIKey: "sk-test", Model: "gpt-test"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Complete(context.Background(), []llm.Message{{Role: "system", Content: "be brief"},
		{Role: "user", Content: "how long do refunds take?"}}, 123)
	if err != nil {
		t.Fatal(err)
	}
	if out != "  Refunds take 3-5 days.  " {
		t.Fatalf("content %q", out)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "Bearer sk-test" || r.Model != "gpt-test" || r.MaxTokens != 123 || r.Temperature != 0 {
		t.Fatalf("request %+v", r)
	}
	if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Content != "how long do refunds take?" {
		t.Fatalf("messages %+v", r.Messages)
	}
}

func TestCompleteReportsTheAPIError(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Reply(func(llmtest.Request) (int, string) {
		return http.StatusTooManyRequests, "Rate limit reached for gpt-test"
	})
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "gpt-test"})
	_, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "Rate limit reached") {
		t.Fatalf("error %v", err)
	}
	if fake.Requests()[0].Auth != "" {
		t.Fatal("an empty key was sent")
	}
}

func TestCompleteStopsAtTheDeadline(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Reply(func(r llmtest.Request) (int, string) {
		<-r.Ctx.Done()
		return http.StatusOK, "too late"
	})
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "m"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Complete(ctx, []llm.Message{{Role: "user", Content: "hi"}}, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, c := range []openai.Config{{BaseURL: "ftp://x/v1", Model: "m"}, {BaseURL: "api.openai.com", Model: "m"},
		{BaseURL: "https://api.openai.com/v1"}} {
		if _, err := openai.New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// A refusal of the request itself (400: a content filter, a context too
// long) is llm.ErrRejected, which does not count against the provider;
// a 429 or a 5xx is the provider's trouble, and so are 401, 403 and 404 (a
// wrong or revoked key, a model that is not there: every call fails alike,
// and as rejections they opened no breaker and raised no alert).
func TestRejectionsAreToldApartFromOutages(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "m"})
	for status, rejected := range map[int]bool{400: true, 422: true, 413: true, 408: false, 429: false, 500: false, 503: false,
		401: false, 403: false, 404: false} {
		fake.Reply(func(llmtest.Request) (int, string) { return status, "nope" })
		_, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
		if err == nil || errors.Is(err, llm.ErrRejected) != rejected {
			t.Errorf("%d: %v, rejected %v", status, err, errors.Is(err, llm.ErrRejected))
		}
	}
}

// A 400 that refuses the configuration, not the request (a parameter the
// model does not take, as reasoning models answer max_tokens; a model
// that is not there) fails every call alike: it counts against the
// provider. One that refuses this request (a context too long, a content
// filter) stays a rejection.
func TestA400ThatRefusesEveryCallCountsAgainstTheProvider(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "m"})
	for body, rejected := range map[string]bool{
		`{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`: false,
		`{"error":{"message":"Unsupported value: 'temperature' does not support 0","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}`:                                                           false,
		`{"error":{"message":"The model 'x' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`:                                                                                          false,
		`{"error":{"message":"bad model","code":400,"param":"model"}}`: false,
		`{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`: true,
		`{"error":{"message":"flagged","type":"invalid_request_error","param":null,"code":"content_filter"}}`:                                                           true,
	} {
		fake.Reply(func(llmtest.Request) (int, string) { return 400, body })
		_, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
		if err == nil || errors.Is(err, llm.ErrRejected) != rejected {
			t.Errorf("400 %s: %v, rejected %v; want rejected %v", body, err, errors.Is(err, llm.ErrRejected), rejected)
		}
	}
}

// An answer cut off at max_tokens keeps its whole sentences only.
func TestACutOffAnswerKeepsItsWholeSentences(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Finish("length")
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "m"})
	for content, want := range map[string]string{
		"Refunds take 3 days. Cards take a bit long": "Refunds take 3 days.",
		"退款三天到账。银行卡可能":                               "退款三天到账。",
		"No sentence ends here":                      "",
	} {
		fake.Reply(func(llmtest.Request) (int, string) { return http.StatusOK, content })
		got, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", content, got, err, want)
		}
	}
}

// An answer the provider's content filter stopped (finish_reason
// "content_filter", with whatever text came before it, or none) is no
// answer: it was shown as one, cut anywhere.
func TestAnAnswerStoppedByTheContentFilterIsRejected(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Finish("content_filter")
	p, _ := openai.New(openai.Config{BaseURL: fake.URL(), Model: "m"})
	for _, content := range []string{"Refunds take 3 days. To get one you", ""} {
		fake.Reply(func(llmtest.Request) (int, string) { return http.StatusOK, content })
		got, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10)
		if got != "" || !errors.Is(err, llm.ErrRejected) {
			t.Errorf("%q stopped by the filter: %q, %v; want no answer, rejected", content, got, err)
		}
	}
}

// A base URL with a query (Azure's ?api-version=…) keeps it a query: the
// path was appended after it, and every call went to the wrong place.
func TestABaseURLWithAQueryKeepsIt(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	p, err := openai.New(openai.Config{BaseURL: fake.URL() + "/?api-version=2024-06-01", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	fake.Reply(func(llmtest.Request) (int, string) { return 200, "fine" })
	if _, err := p.Complete(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, 10); err != nil {
		t.Fatalf("a base URL with a query: %v", err)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].Query != "api-version=2024-06-01" {
		t.Fatalf("requests %+v, want one with the query", reqs)
	}
}
