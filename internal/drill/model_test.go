package drill

import (
	"context"
	"testing"

	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/llm/openai"
)

// The drill's stand-in model answers, through Steward's own client and
// prompt, with the first entry it is given, whole (an answer of two
// paragraphs too), and NO_ANSWER without entries: a change to the
// prompt's layout that it no longer reads fails here, not as a drill
// with no generated answers.
func TestModelAnswersWithTheFirstEntryOfThePrompt(t *testing.T) {
	m, err := NewModel()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := openai.New(openai.Config{BaseURL: m.URL(), Model: "drill"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := "Refunds go back to the card you paid with.\n\nAllow 3 to 5 working days."
	for _, locale := range []string{"en", "zh-CN"} {
		got, err := p.Complete(ctx, llm.Prompt(llm.Question{Text: "tell me more", Locale: locale, Sources: []llm.Source{
			{ID: "refund-timeline", Title: "Refund timeline", Answer: first},
			{ID: "shipping-cost", Title: "Shipping", Answer: "Shipping is free over 99 yuan."}}}), 300)
		if err != nil || got != first {
			t.Errorf("%s: answered %q, %v; want the first entry's answer %q", locale, got, err, first)
		}
	}
	got, err := p.Complete(ctx, llm.Prompt(llm.Question{Text: "tell me more", Locale: "en"}), 300)
	if err != nil || got != "NO_ANSWER" {
		t.Errorf("without entries: %q, %v; want NO_ANSWER", got, err)
	}
	if n := m.Answered(); n != 3 {
		t.Errorf("the stand-in counted %d answers, want 3", n)
	}
}
