package nlu

import (
	"fmt"
	"testing"
)

// rank's two paths break ties differently: the long path reads the
// accumulator in document order, the short path in the order the query's
// postings first touched the documents (feature id order). ranked.add keeps
// the first of equal scores, so two entries that score exactly the same
// come out in a different order depending on how many postings the query
// walks: the same question can get a different answer once the knowledge
// base grows, with no change to either entry. Here "apple" and "mango"
// are one-word documents with the same number of distinct n-grams, all of
// document frequency 2, so "apple mango" scores them exactly alike; the
// mixed-language example P makes apple's features older (lower ids) than
// mango's, while mango's document comes before apple's.
func TestReviewRetrieverTieBreakSameOnBothPaths(t *testing.T) {
	ex := append([]Example{
		{"apple mango 苹果", "P"}, // mixed: its document sorts after the English ones
		{"mango", "M"},
		{"apple", "A"},
	}, reviewFillersOf(200, "bcdfhjqtvxy")...)
	r, err := TrainRetriever(ex, RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := r.vector(Normalize("apple mango"))
	postings := 0
	for _, f := range x.idx {
		postings += int(r.start[f+1] - r.start[f])
	}
	if postings > len(r.docLabel)/2 {
		t.Fatalf("premise: the query should take the short path (%d postings, %d documents)", postings, len(r.docLabel))
	}
	got := r.rank(x, -1)
	// Reference: every document scored, in document order (what the long
	// path does).
	var want ranked
	for d := range r.docLabel {
		var s float32
		for j, f := range x.idx {
			for p := r.start[f]; p < r.start[f+1]; p++ {
				if r.doc[p] == int32(d) {
					s += x.val[j] * r.wt[p]
				}
			}
		}
		if s != 0 {
			r.rankDoc(&want, int32(d), float64(s), -1, 0)
		}
	}
	names := func(k ranked) (out []string) {
		for _, h := range k.top[:k.n] {
			out = append(out, fmt.Sprintf("%s %.6f", r.labels[h.label], h.score))
		}
		return out
	}
	tie := false
	for i := 1; i < got.n; i++ {
		tie = tie || got.top[i].score == got.top[i-1].score
	}
	if !tie {
		t.Fatalf("premise: a tie; got %v", names(got))
	}
	if fmt.Sprint(names(got)) != fmt.Sprint(names(want)) {
		t.Errorf("short path ranks %v, document order %v", names(got), names(want))
	}
}

// The same tie seen from outside: A and M tie on "apple mango"; adding 200
// unrelated entries (which share no feature with the question) moves the
// query from the long path to the short one and changes the answer.
func TestReviewRetrieverAnswerChangesWithUnrelatedEntries(t *testing.T) {
	base := []Example{
		{"apple 苹果", "P"}, // mixed: apple's features get the lowest ids
		{"mango 芒果", "Q"}, // mixed: gives mango's features document frequency 2, like apple's
		{"mango", "M"},    // M's document comes before A's
		{"apple", "A"},
	}
	small, err := TrainRetriever(base, RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	large, err := TrainRetriever(append(append([]Example{}, base...), reviewFillersOf(200, "bcdfhjqtvxy")...), RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := small.Predict(Prepare("apple mango")), large.Predict(Prepare("apple mango"))
	if a.Label != b.Label {
		t.Errorf("\"apple mango\": %s with 4 entries, %s once 200 unrelated entries are added (%v / %v)",
			a.Label, b.Label, a.Candidates, b.Candidates)
	}
}
