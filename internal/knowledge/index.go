package knowledge

import (
	"fmt"

	"github.com/steward-cs/steward/internal/nlu"
)

// Index is what the bot answers from: the entries and an intent model
// trained on their question variants. It is immutable once built, so the
// engine can swap it atomically while turns read it.
type Index struct {
	model   *nlu.Model
	entries map[string]*Entry
}

// Example is an extra training example that is not an entry: a built-in
// intent such as a greeting, or the out-of-scope background.
type Example = nlu.Example

// OutOfScopeLabel labels the background examples of messages the knowledge
// base must not answer.
const OutOfScopeLabel = "builtin.oos"

// BuildIndex trains the intent model on every entry's questions in every
// locale, plus the extra examples.
func BuildIndex(entries []Entry, extra []Example) (*Index, error) {
	ix := &Index{entries: make(map[string]*Entry, len(entries))}
	var examples []nlu.Example
	for i := range entries {
		e := &entries[i]
		ix.entries[e.ID] = e
		for _, loc := range Locales {
			c, ok := e.Locales[loc]
			if !ok {
				continue
			}
			// The title is a customer-facing summary of the question: one
			// more way of asking it.
			examples = append(examples, nlu.Example{Text: c.Title, Label: e.ID})
			for _, q := range c.Questions {
				examples = append(examples, nlu.Example{Text: q, Label: e.ID})
			}
		}
	}
	examples = append(examples, extra...)
	model, err := nlu.Train(examples, nlu.TrainOptions{OOSLabel: OutOfScopeLabel})
	if err != nil {
		return nil, fmt.Errorf("train intent model on %d entries: %w", len(entries), err)
	}
	ix.model = model
	return ix, nil
}

// Entry returns the entry with the given id, if the index has it.
func (ix *Index) Entry(id string) (*Entry, bool) {
	e, ok := ix.entries[id]
	return e, ok
}

// Len returns the number of entries.
func (ix *Index) Len() int { return len(ix.entries) }

// Analyze runs the intent model on a customer's prepared text.
func (ix *Index) Analyze(t nlu.Text) nlu.Prediction { return ix.model.Predict(t) }

// ModelInfo describes the trained model, for logs.
func (ix *Index) ModelInfo() string { return ix.model.String() }
