package knowledge

import (
	"fmt"

	"github.com/steward-cs/steward/internal/nlu"
)

// Index is what the bot answers from: the entries and an intent model
// trained on their question variants. It is immutable once built, so the
// engine can swap it atomically while turns read it.
type Index struct {
	model   nlu.Classifier
	entries map[string]*Entry
}

// RetrievalAbove is the number of entries above which an index answers
// by retrieval (nlu.Retriever) rather than with the linear model, whose
// training time and memory grow with entries × features: about 4 s at 300
// entries, 40 s and 800 MB at 1,000, beyond reach at 10,000, where the
// retrieval index builds in seconds. On knowledge bases with many
// paraphrases per entry the linear model answers better (CLINC150: 0.92
// against 0.83, docs/quality.md), so it keeps every knowledge base it can
// train in seconds.
const RetrievalAbove = 500

// Example is an extra training example that is not an entry: a built-in
// intent such as a greeting, or the out-of-scope background.
type Example = nlu.Example

// OutOfScopeLabel labels the background examples of messages the knowledge
// base must not answer.
const OutOfScopeLabel = "builtin.oos"

// BuildIndex trains the intent model on every entry's questions in every
// locale, plus the extra examples.
func BuildIndex(entries []Entry, extra []Example) (*Index, error) {
	return buildIndex(nil, entries, extra, nlu.TrainOptions{})
}

// buildIndex is BuildIndex with options; memo, if not nil, may hold the
// trained intent model already.
func buildIndex(memo *nlu.Memo, entries []Entry, extra []Example, opts nlu.TrainOptions) (*Index, error) {
	ix := &Index{entries: make(map[string]*Entry, len(entries))}
	examples := trainingExamples(entries, nil)
	for i := range entries {
		ix.entries[entries[i].ID] = &entries[i]
	}
	examples = append(examples, extra...)
	opts.OOSLabel = OutOfScopeLabel
	var model nlu.Classifier
	var err error
	if len(entries) > RetrievalAbove {
		model, err = nlu.TrainRetriever(examples, nlu.RetrieverOptions{OOSLabel: OutOfScopeLabel})
	} else {
		model, err = memo.Train(examples, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("train intent model on %d entries: %w", len(entries), err)
	}
	ix.model = model
	return ix, nil
}

// LoadIndex rebuilds an index from a release's entries and its stored
// model artefact, without training.
func LoadIndex(entries []Entry, model []byte) (*Index, error) {
	m, err := nlu.UnmarshalClassifier(model)
	if err != nil {
		return nil, err
	}
	ix := &Index{model: m, entries: make(map[string]*Entry, len(entries))}
	for i := range entries {
		ix.entries[entries[i].ID] = &entries[i]
	}
	return ix, nil
}

// Model returns the index's model artefact.
func (ix *Index) Model() ([]byte, error) { return ix.model.MarshalBinary() }

// trainingExamples are the entries' titles and questions in every locale,
// less those skip says to hold out.
func trainingExamples(entries []Entry, skip func(id, loc string, i int) bool) []nlu.Example {
	var examples []nlu.Example
	for i := range entries {
		e := &entries[i]
		for _, loc := range Locales {
			if _, ok := e.Locales[loc]; !ok {
				continue
			}
			c, _ := e.Text(loc)
			// The title is a customer-facing summary of the question: one
			// more way of asking it.
			examples = append(examples, nlu.Example{Text: c.Title, Label: e.ID})
			for qi, q := range c.Questions {
				if skip == nil || !skip(e.ID, loc, qi) {
					examples = append(examples, nlu.Example{Text: q, Label: e.ID})
				}
			}
		}
	}
	return examples
}

// Entry returns the entry with the given id, if the index has it.
func (ix *Index) Entry(id string) (*Entry, bool) {
	e, ok := ix.entries[id]
	return e, ok
}

// Other returns an entry other than id, the same one each time (the
// drills' "wrong answer" fault uses it).
func (ix *Index) Other(id string) (*Entry, bool) {
	var best *Entry
	for k, e := range ix.entries {
		if k != id && (best == nil || k < best.ID) {
			best = e
		}
	}
	return best, best != nil
}

// Len returns the number of entries.
func (ix *Index) Len() int { return len(ix.entries) }

// Analyze runs the intent model on a customer's prepared text.
func (ix *Index) Analyze(t nlu.Text) nlu.Prediction { return ix.model.Predict(t) }

// heldOut is an index that can predict one of its own examples as if it
// had not been trained on it (nlu.Retriever), so the quality gate need not
// retrain it fold by fold.
type heldOut interface {
	PredictHeldOut(text, label string) nlu.Prediction
}

// ModelInfo describes the trained model, for logs.
func (ix *Index) ModelInfo() string { return ix.model.String() }
