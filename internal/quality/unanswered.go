package quality

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/nlu"
)

// Cluster is a group of unanswered questions that say the same thing.
type Cluster struct {
	Text          string    `json:"text"` // the most frequent wording
	Locale        string    `json:"locale"`
	Count         int       `json:"count"`
	Conversations int       `json:"conversations"`
	Examples      []string  `json:"examples"` // other wordings, up to 5
	FirstAt       time.Time `json:"first_at"`
	LastAt        time.Time `json:"last_at"`
}

// Bounds on the work of clustering: the newest questions, and the most
// frequent distinct wordings of them.
const (
	maxUnansweredScan = 5000
	maxWordings       = 2000
	nearDuplicate     = 0.5 // Jaccard similarity of character bigrams
	nearContained     = 0.8 // the share of the shorter wording's bigrams in the longer one
)

// Coverage says what a list of unanswered questions was made from.
type Coverage struct {
	Questions int `json:"questions"` // unanswered questions read
	// Truncated: there were more than the newest maxUnansweredScan, which
	// were all that was read; From is the oldest of them, later than the
	// period asked for.
	Truncated bool      `json:"truncated"`
	From      time.Time `json:"from"`
	// Clusters is how many clusters there were before the limit: a list
	// cut to the most frequent says so.
	Clusters int `json:"clusters"`
}

// Unanswered clusters the fallback turns since a time and ranks the
// clusters by frequency.
func (s *Flags) Unanswered(ctx context.Context, since time.Time, limit int) ([]Cluster, Coverage, error) {
	asked, err := s.store.Unanswered(ctx, since, maxUnansweredScan+1)
	if err != nil {
		return nil, Coverage{}, err
	}
	out, cov := clusterAsked(asked, since, limit)
	return out, cov, nil
}

// ModelAnswered clusters the questions the language model answered since a
// time, as Unanswered does the fallbacks: the knowledge base had no entry
// the intent model was sure of, so each is a gap an editor may fill with an
// entry of its own, reviewed, instead of a generated answer.
func (s *Flags) ModelAnswered(ctx context.Context, since time.Time, limit int) ([]Cluster, Coverage, error) {
	asked, err := s.store.AnsweredByModel(ctx, since, maxUnansweredScan+1)
	if err != nil {
		return nil, Coverage{}, err
	}
	out, cov := clusterAsked(asked, since, limit)
	return out, cov, nil
}

// clusterAsked clusters at most maxUnansweredScan of asked (newest first;
// one more says there were more) and keeps the limit most frequent.
func clusterAsked(asked []Asked, since time.Time, limit int) ([]Cluster, Coverage) {
	truncated := len(asked) > maxUnansweredScan
	if truncated {
		asked = asked[:maxUnansweredScan]
	}
	cov := Coverage{Questions: len(asked), From: since}
	if truncated {
		cov.Truncated = true
		for _, a := range asked {
			if cov.From == since || a.At.Before(cov.From) {
				cov.From = a.At
			}
		}
	}
	out := ClusterQuestions(asked)
	cov.Clusters = len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, cov
}

type wording struct {
	norm     string
	text     string
	locale   string
	count    int
	convs    map[string]bool
	first    time.Time
	last     time.Time
	bigrams  map[string]bool
	variants []string
}

// ClusterQuestions groups questions by their normalised wording, then
// merges near duplicates (character-bigram Jaccard similarity of at least
// one half) into the more frequent wording's cluster.
func ClusterQuestions(asked []Asked) []Cluster {
	byNorm := map[string]*wording{}
	var ws []*wording
	for _, a := range asked {
		norm := nlu.Normalize(a.Text)
		if norm == "" {
			continue
		}
		w, ok := byNorm[norm]
		if !ok {
			w = &wording{norm: norm, text: a.Text, locale: a.Locale, convs: map[string]bool{}, first: a.At, last: a.At}
			byNorm[norm] = w
			ws = append(ws, w)
		}
		w.count++
		w.convs[a.ConversationID] = true
		if a.At.Before(w.first) {
			w.first = a.At
		}
		if a.At.After(w.last) {
			w.last = a.At
		}
	}
	slices.SortStableFunc(ws, func(a, b *wording) int { return b.count - a.count })
	if len(ws) > maxWordings {
		ws = ws[:maxWordings]
	}
	var clusters []*wording
	for _, w := range ws {
		w.bigrams = bigrams(w.norm)
		var home *wording
		for _, c := range clusters {
			if nearDuplicates(c.bigrams, w.bigrams) {
				home = c
				break
			}
		}
		if home == nil {
			clusters = append(clusters, w)
			continue
		}
		home.count += w.count
		for c := range w.convs {
			home.convs[c] = true
		}
		if w.first.Before(home.first) {
			home.first = w.first
		}
		if w.last.After(home.last) {
			home.last = w.last
		}
		if len(home.variants) < 5 {
			home.variants = append(home.variants, w.text)
		}
	}
	out := make([]Cluster, len(clusters))
	for i, c := range clusters {
		out[i] = Cluster{Text: c.text, Locale: c.locale, Count: c.count, Conversations: len(c.convs),
			Examples: append([]string{}, c.variants...), FirstAt: c.first, LastAt: c.last}
	}
	slices.SortStableFunc(out, func(a, b Cluster) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return b.LastAt.Compare(a.LastAt)
	})
	return out
}

func bigrams(norm string) map[string]bool {
	r := []rune(strings.ReplaceAll(norm, " ", ""))
	out := make(map[string]bool, len(r))
	if len(r) == 1 {
		out[string(r)] = true
	}
	for i := 0; i+1 < len(r); i++ {
		out[string(r[i:i+2])] = true
	}
	return out
}

// nearDuplicates says whether two wordings ask the same thing: their
// character bigrams overlap by half (Jaccard) and the shorter one's are
// nearly all in the longer one (containment). Overlap alone merged short
// questions that differ in the one word that matters: 怎么退款 and 怎么退货
// (0.5), 发票怎么开 and 发票怎么改 (0.6), whose containment is 0.67 and 0.75.
func nearDuplicates(a, b map[string]bool) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	jaccard := float64(inter) / float64(len(a)+len(b)-inter)
	containment := float64(inter) / float64(min(len(a), len(b)))
	return jaccard >= nearDuplicate && containment >= nearContained
}
