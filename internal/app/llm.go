package app

import (
	"context"
	"log/slog"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/llm/openai"
)

// provider builds the configured language model: the primary API, with the
// drills' fault point in front of it, and, with llm.fallback, the failover
// to the second API (a fault point of its own). observe is told each call
// of a failover; nil without a fallback.
func provider(cfg config.LLM, faults *incident.Faults, observe func(provider, result string), logger *slog.Logger) (llm.Provider, error) {
	primary, err := openai.New(openai.Config{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Model: cfg.Model})
	if err != nil {
		return nil, err
	}
	if cfg.Fallback == (config.LLMEndpoint{}) {
		return faultyProvider{primary, faults, ""}, nil
	}
	fallback, err := openai.New(openai.Config{BaseURL: cfg.Fallback.BaseURL, APIKey: cfg.Fallback.APIKey, Model: cfg.Fallback.Model})
	if err != nil {
		return nil, err
	}
	return llm.NewFailover(faultyProvider{primary, faults, "primary"}, faultyProvider{fallback, faults, "fallback"},
		llm.FailoverOptions{Observe: observe, Logger: logger}), nil
}

// faultyProvider is a language model with the drills' fault point in front
// of it: an injected failure or delay is the provider's, so the Answerer's
// timeout, breaker and metrics (and the failover) see it as they would see
// a real outage. scope names the provider ("primary" or "fallback" with a
// fallback configured): a fault scoped to one fails that one alone, an
// unscoped fault every model. Without fault injection (faults nil) it only
// calls through.
type faultyProvider struct {
	llm.Provider
	faults *incident.Faults
	scope  string
}

func (f faultyProvider) Complete(ctx context.Context, msgs []llm.Message, maxTokens int) (string, error) {
	if err := f.faults.Inject(ctx, incident.FaultLLM, f.scope); err != nil {
		return "", err
	}
	return f.Provider.Complete(ctx, msgs, maxTokens)
}
