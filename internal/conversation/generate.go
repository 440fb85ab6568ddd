package conversation

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode"

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
	// The model saw masked text only, but what it writes is masked too,
	// except the shop's own contacts that its entries or the allow-list
	// give (checked above): masked, "support@shop.com" became
	// "s***@shop.com", an address nobody can write to.
	own := map[string]bool{}
	for _, g := range append(grounds, e.allowed.Phones...) {
		for _, v := range guard.Values(g) {
			own[v] = true
		}
	}
	return Message{Text: guard.MaskExcept(out, own), Outcome: OutcomeAnswer, Confidence: pred.Confidence,
		Intent: IntentGenerated, Entry: &EntryRef{ID: used.ID, Category: used.Category, Title: content.Title}}, true
}

// drawsOn returns the index of the source a generated answer draws on
// most, keeping the intent model's first guess (0) unless another source
// clearly wins. Each source is scored by the answer's terms it holds (Latin
// words of three letters or more, pairs of Chinese characters), each
// weighted by how few of the sources hold it: terms every source holds
// ("the", "you", "订单") tell nothing, and a long source does not win by
// holding more common words. Another source wins when it scores more
// than 1.5 times the first guess and at least 2 (two terms that only it
// holds).
func drawsOn(answer string, sources []llm.Source) int {
	if len(sources) < 2 {
		return 0
	}
	held := make([]map[string]bool, len(sources))
	df := map[string]int{}
	for i, src := range sources {
		held[i] = terms(src.Title + " " + src.Answer)
		for term := range held[i] {
			df[term]++
		}
	}
	n := float64(len(sources))
	scores := make([]float64, len(sources))
	for term := range terms(answer) {
		if df[term] == 0 {
			continue
		}
		w := math.Log(n / float64(df[term]))
		for i := range sources {
			if held[i][term] {
				scores[i] += w
			}
		}
	}
	best := 0
	for i := 1; i < len(scores); i++ {
		if scores[i] > scores[best] {
			best = i
		}
	}
	if best != 0 && (scores[best] < 1.5*scores[0] || scores[best] < 2*math.Log(n)) {
		return 0
	}
	return best
}

// termStopWords are English words too common in answers to say which
// source one draws on.
var termStopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the and you your yours can get got for are our ours will any this that these those
		from have has had was were been not but all its into out about more than then they them their there here what
		when where how which who whom why also only just very may might would could should shall let help happy sure
		yes please thank thanks hello dear with without within over under again once each every some such other same`) {
		termStopWords[w] = true
	}
}

// terms are a text's words of three letters or more but for termStopWords
// (normalised: case and width aside; a plural's "s" dropped), and its pairs
// of adjacent Chinese characters.
func terms(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(nlu.Normalize(text)) {
		rs := []rune(w)
		var han []rune
		flush := func() {
			for k := 0; k+1 < len(han); k++ {
				out[string(han[k:k+2])] = true
			}
			han = han[:0]
		}
		latin := 0
		for _, r := range rs {
			if unicode.Is(unicode.Han, r) {
				han = append(han, r)
				continue
			}
			flush()
			latin++
		}
		flush()
		if latin == len(rs) && len(rs) >= 3 && !termStopWords[w] {
			if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
				w = w[:len(w)-1]
			}
			out[w] = true
		}
	}
	return out
}

// firewallIntent starts the intent of a message the input firewall flagged
// (the customer's, marked as stored) and of its refusal.
const firewallIntent = "firewall."

// history is the conversation's last few messages (masked, as stored), for
// the Grounder's context; none when they cannot be read. A message the
// input firewall flagged stays out, with its refusal if it was refused: it
// is never sent.
func (e *Engine) history(ctx context.Context, c *Conversation) []llm.Turn {
	msgs, err := e.store.Messages(ctx, c.ID, max(0, c.LastSeq-6))
	if err != nil {
		return nil
	}
	var out []llm.Turn
	for i, m := range msgs {
		if m.Role == RoleSystem || strings.TrimSpace(m.Text) == "" || m.Outcome == OutcomeRefused ||
			strings.HasPrefix(m.Intent, firewallIntent) {
			continue
		}
		if m.Role == RoleCustomer && i+1 < len(msgs) && msgs[i+1].Outcome == OutcomeRefused {
			continue
		}
		out = append(out, llm.Turn{Customer: m.Role == RoleCustomer, Text: m.Text})
	}
	return out
}
