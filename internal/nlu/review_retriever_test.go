package nlu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// reviewFillers are n labels of one made-up word pair each, drawn from
// letters that "kiwi", "zebra" and the fruit words below do not share
// n-grams with, so that a query about kiwis touches few documents and takes
// rank's short path.
func reviewFillers(n int) []Example { return reviewFillersOf(n, "bcdfghlmnpqtvxy") }

// reviewFillersOf is reviewFillers with words drawn from letters.
func reviewFillersOf(n int, letters string) []Example {
	rng := rand.New(rand.NewPCG(7, 8))
	word := func() string {
		b := make([]byte, 8)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	var ex []Example
	for i := range n {
		ex = append(ex, Example{word() + " " + word(), fmt.Sprint("filler-", i)})
	}
	return ex
}

// A label's examples in one language form one document, but pass 1 of
// buildRetriever counts a feature's document frequency with "the last
// document that counted it", which only works when a document's examples
// are contiguous in the input. B's examples are split by C's, so every
// feature of "kiwi" is counted three times for two documents: IDF is too
// low and the postings array gets a slot per feature that pass 2 never
// fills, left as (doc 0, weight 0). On the short path, rank then "touches"
// document 0 (label Z, which shares nothing with the query) and offers it
// as a candidate.
func TestReviewRetrieverDFCountsScatteredDocumentOnce(t *testing.T) {
	scattered := append([]Example{
		{"zebra crossing", "Z"},
		{"kiwi smoothie", "B"},
		{"kiwi juice", "C"},
		{"kiwi shake", "B"},
	}, reviewFillers(200)...)
	r, err := TrainRetriever(scattered, RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every posting must name a document that has the feature.
	for f := range r.idf {
		for p := r.start[f]; p < r.start[f+1]; p++ {
			if r.wt[p] == 0 {
				t.Errorf("feature %d: posting %d is empty (doc %d, weight 0): document frequency overcounted", f, p, r.doc[p])
				break
			}
		}
	}
	p := r.Predict(Prepare("kiwi"))
	for _, c := range p.Candidates {
		if c.Label == "Z" {
			t.Errorf("\"kiwi\" offers Z (\"zebra crossing\"), which shares no feature with it: %+v", p.Candidates)
		}
	}

	// The same documents, B's examples given together: the index must be
	// the same, and so must every prediction.
	grouped := append([]Example{
		{"zebra crossing", "Z"},
		{"kiwi smoothie", "B"},
		{"kiwi shake", "B"},
		{"kiwi juice", "C"},
	}, reviewFillers(200)...)
	g, err := TrainRetriever(grouped, RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"kiwi", "kiwi smoothie", "kiwi juice please"} {
		a, b := r.Predict(Prepare(q)), g.Predict(Prepare(q))
		if a.Label != b.Label || a.Confidence != b.Confidence || len(a.Candidates) != len(b.Candidates) {
			t.Errorf("%q: examples B,C,B give %s %.6f %v; B,B,C give %s %.6f %v", q,
				a.Label, a.Confidence, a.Candidates, b.Label, b.Confidence, b.Candidates)
		}
	}
}

// The same happens without any unusual input order in a knowledge base:
// trainingExamples gives an entry's zh-CN title and questions one after
// the other, but exampleLang files a question that names a product in
// Latin letters ("iPhone怎么退货") under "mixed", so the zh document's
// examples are split by the mixed one.
func TestReviewRetrieverDFMixedLanguageQuestion(t *testing.T) {
	ex := append([]Example{
		{"zebra crossing", "Z"},
		{"退货流程", "return"},
		{"iPhone 15 Pro 怎么退货", "return"}, // mixed: 4 Han (weighed 12), 9 Latin letters
		{"退货要多久", "return"},
		{"退款到账时间", "refund"},
	}, reviewFillers(200)...)
	if l := exampleLang(ex[2].Text); l != LangMixed {
		t.Fatalf("premise: %q is %q, want mixed", ex[2].Text, l)
	}
	r, err := TrainRetriever(ex, RetrieverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := r.vocab["c:退"]
	docs := map[int32]bool{}
	for p := r.start[id]; p < r.start[id+1]; p++ {
		if r.wt[p] != 0 {
			docs[r.doc[p]] = true
		}
	}
	if n := r.start[id+1] - r.start[id]; int(n) != len(docs) {
		t.Errorf("c:退 has %d posting slots for %d documents", n, len(docs))
	}
}
