package app

import (
	"context"

	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/llm"
)

// maxClusteredLLMCalls bounds llm.max_concurrent in a cluster: a turn
// waiting for the model holds one of the 32 PostgreSQL connections that
// keep conversations' locks (store.Options.LockConns), and half of them
// stay for the turns that need no model.
const maxClusteredLLMCalls = 16

// faultyProvider is the language model with the drills' fault point in
// front of it: an injected failure or delay is the provider's, so the
// Answerer's timeout, breaker and metrics see it as they would see a real
// outage. Without fault injection (faults nil) it only calls through.
type faultyProvider struct {
	llm.Provider
	faults *incident.Faults
}

func (f faultyProvider) Complete(ctx context.Context, msgs []llm.Message, maxTokens int) (string, error) {
	if err := f.faults.Inject(ctx, incident.FaultLLM, ""); err != nil {
		return "", err
	}
	return f.Provider.Complete(ctx, msgs, maxTokens)
}
