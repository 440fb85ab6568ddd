package conversation

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/nlu"
)

// Grounder answers a question the intent model is unsure of from the
// knowledge-base entries closest to it (a large language model,
// internal/llm). It is optional.
type Grounder interface {
	Answer(ctx context.Context, q llm.Question) (string, error)
}

// IntentGenerated marks a bot answer written by the Grounder from the
// entries, rather than an entry's own answer.
const IntentGenerated = "llm"

// askedModel is the Grounder's answer to one turn's question. The turn
// stops at the question (pending), the model is asked outside the
// cross-node lock (Engine.attempt), and the turn runs again and uses the
// answer. A turn that lost a race to another node's write runs again too;
// asked the same question from the same entries, the model is not asked
// again: that would pay for the call and its seconds twice, and could give
// the customer a different answer than the one first written.
type askedModel struct {
	key      string // the question, its locale and the entries it was given
	question llm.Question
	pending  bool // the question waits to be asked
	answer   string
	failed   bool // the model gave no answer: neither does the next attempt
	took     time.Duration
	calls    int
}

// maxModelCalls bounds how often one turn asks the model: a turn decided
// afresh (another node wrote meanwhile) may have another question.
const maxModelCalls = 2

// askModel asks the Grounder asked's pending question.
func (e *Engine) askModel(ctx context.Context, convID string, asked *askedModel) {
	start := time.Now()
	out, err := e.llm.Answer(ctx, asked.question)
	asked.took = time.Since(start)
	asked.pending, asked.calls, asked.question = false, asked.calls+1, llm.Question{}
	asked.answer, asked.failed = out, err != nil
	if err != nil && !errors.Is(err, llm.ErrNoAnswer) && !errors.Is(err, llm.ErrBudget) && !errors.Is(err, llm.ErrOpen) {
		e.logger.Warn("generated answer failed", "conversation", convID, "error", err)
	}
}

func askedKey(text, locale string, sources []llm.Source) string {
	var b strings.Builder
	b.WriteString(locale)
	for _, s := range sources {
		b.WriteByte(0)
		b.WriteString(s.ID)
	}
	b.WriteByte(0)
	b.WriteString(text)
	return b.String()
}

// generated asks the Grounder for an answer to an unsure turn, grounded in
// the model's candidate entries. Nothing is asked in a degraded posture
// (the bot keeps to its vetted answers) or about entries the posture hands
// to people; every failure falls through to the ordinary flow. The time
// the model took is info.Generating. The model is not asked here: the
// question is left in asked, and the turn's next attempt has the answer.
func (e *Engine) generated(ctx context.Context, ix *knowledge.Index, c *Conversation, text nlu.Text, locale string,
	pred nlu.Prediction, p *Posture, info *TurnInfo, asked *askedModel) (Message, bool) {
	if e.llm == nil || p != nil && p.Level >= 2 {
		return Message{}, false
	}
	var sources []llm.Source
	var entries []*knowledge.Entry // sources' entries, in order
	var first *knowledge.Entry
	for _, cand := range pred.Candidates {
		if strings.HasPrefix(cand.Label, smalltalkPrefix) {
			continue
		}
		entry, ok := ix.Entry(cand.Label)
		if !ok || p.covers(entry.Category, entry.ID) {
			continue
		}
		content, _ := entry.Text(locale)
		sources = append(sources, llm.Source{ID: entry.ID, Title: content.Title, Answer: content.Answer})
		entries = append(entries, entry)
		if first == nil {
			first = entry
		}
	}
	if first == nil {
		return Message{}, false
	}
	key := askedKey(text.Raw, locale, sources)
	if asked.key != key {
		if asked.calls >= maxModelCalls {
			return Message{}, false
		}
		*asked = askedModel{key: key, pending: true, calls: asked.calls, question: llm.Question{Conversation: c.ID,
			Text: text.Raw, Locale: locale, History: e.history(ctx, c), Sources: sources}}
		return Message{}, false
	}
	if asked.failed {
		return Message{}, false
	}
	info.Generating = asked.took
	// Kept printable whatever Grounder is in use: PostgreSQL cannot store
	// a NUL, and a turn holding one waited in the spool for good.
	out := strings.TrimSpace(llm.Printable(asked.answer))
	if out == "" {
		return Message{}, false
	}
	// The entries passed the gate's language check; the model, given
	// English-looking titles or English history, may still answer a
	// Chinese customer in English (or the other way round).
	if knowledge.WrongLanguage(out, locale) {
		e.logger.Info("generated answer is not in the conversation's language: not shown", "conversation", c.ID, "locale", locale)
		return Message{}, false
	}
	// The entries were reviewed and passed the quality gate; what the
	// model wrote from them was not. A link or a phone number none of them
	// gives (nor the gate's allow-lists) is the model's invention, and
	// sends the customer to a site or a hotline nobody vetted: the answer
	// is no answer. Read before masking, which hides some numbers only.
	grounds := make([]string, 0, 2*len(sources))
	for _, s := range sources {
		grounds = append(grounds, s.Title, s.Answer)
	}
	if contact := knowledge.UngroundedContact(out, grounds, e.allowed); contact != "" {
		e.logger.Info("generated answer gives a link or phone number its entries do not: not shown", "conversation", c.ID)
		return Message{}, false
	}
	// The answer is the entry it draws on most: a "wrong answer" flag on
	// it goes to that entry's correction queue (it went to the intent
	// model's first guess, which the model may not have used at all).
	used := entries[drawsOn(out, sources)]
	c.Unresolved, c.Category = 0, used.Category
	if !pred.OutOfScope {
		// Out of scope, the guess's category says nothing of what the
		// question is about (as for the unanswered ones): counted in it,
		// the question's low confidence fell on a category it had nothing
		// to do with, and with that category handed to people, on the
		// next guess's, whose quality rules could then hand it over too.
		info.Category = used.Category
	}
	content, _ := used.Text(locale)
	// The model saw masked text only, but what it writes is masked too.
	return Message{Text: guard.MaskString(out), Outcome: OutcomeAnswer, Confidence: pred.Confidence,
		Intent: IntentGenerated, Entry: &EntryRef{ID: used.ID, Category: used.Category, Title: content.Title}}, true
}

// drawsOn returns the index of the source a generated answer draws on
// most: the one whose answer holds the largest share of the answer's
// character pairs (normalised: case, width and punctuation aside, so that
// it works alike for Chinese and English). Ties go to the earlier source,
// the intent model's better guess.
func drawsOn(answer string, sources []llm.Source) int {
	pairs := func(s string) map[string]bool {
		rs := []rune(nlu.Normalize(s))
		m := make(map[string]bool, len(rs))
		for i := 0; i+1 < len(rs); i++ {
			m[string(rs[i:i+2])] = true
		}
		return m
	}
	want := pairs(answer)
	best, bestShared := 0, -1
	for i, src := range sources {
		have := pairs(src.Title + " " + src.Answer)
		shared := 0
		for p := range want {
			if have[p] {
				shared++
			}
		}
		if shared > bestShared {
			best, bestShared = i, shared
		}
	}
	return best
}

// history is the conversation's last few messages (masked, as stored), for
// the Grounder's context; none when they cannot be read. A message the
// input firewall refused stays out, with its refusal: it is never sent.
func (e *Engine) history(ctx context.Context, c *Conversation) []llm.Turn {
	msgs, err := e.store.Messages(ctx, c.ID, max(0, c.LastSeq-6))
	if err != nil {
		return nil
	}
	var out []llm.Turn
	for i, m := range msgs {
		if m.Role == RoleSystem || strings.TrimSpace(m.Text) == "" || m.Outcome == OutcomeRefused {
			continue
		}
		if m.Role == RoleCustomer && i+1 < len(msgs) && msgs[i+1].Outcome == OutcomeRefused {
			continue
		}
		out = append(out, llm.Turn{Customer: m.Role == RoleCustomer, Text: m.Text})
	}
	return out
}
