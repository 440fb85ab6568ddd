package nlu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// catalogue is a small bilingual catalogue FAQ: every (product, topic)
// pair is its own label, as in a shop where the K3's battery and the K4's
// have different answers, plus off-topic background.
func catalogue() []Example {
	products := []struct{ code, zh, en string }{
		{"K3", "无线耳机", "wireless earbuds"}, {"K4", "无线耳机", "wireless earbuds"},
		{"T7", "电饭煲", "rice cooker"}, {"M2", "台灯", "desk lamp"},
	}
	topics := []struct {
		slug   string
		zh, en []string
	}{
		{"battery", []string{"%s%s电池能用多久", "%s%s续航怎么样"}, []string{"how long does the %s %s battery last", "%s %s battery life"}},
		{"warranty", []string{"%s%s保修多久", "%s%s有保修吗"}, []string{"how long is the %s %s warranty", "is the %s %s under warranty"}},
		{"return", []string{"%s%s能退吗", "%s%s退货政策"}, []string{"can i return the %s %s", "%s %s return policy"}},
	}
	var ex []Example
	for _, p := range products {
		for _, t := range topics {
			label := p.code + "-" + t.slug
			for _, q := range t.zh {
				ex = append(ex, Example{fmt.Sprintf(q, p.code, p.zh), label})
			}
			for _, q := range t.en {
				ex = append(ex, Example{fmt.Sprintf(q, p.code, p.en), label})
			}
		}
	}
	for _, q := range []string{"今天天气怎么样", "讲个笑话", "你喜欢什么电影", "what is the weather today", "tell me a joke",
		"who won the football game", "推荐一首歌", "what is the capital of france"} {
		ex = append(ex, Example{q, "oos"})
	}
	return ex
}

func TestRetrieverAnswersNewWordings(t *testing.T) {
	r, err := TrainRetriever(catalogue(), RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"K3无线耳机充一次电能用几个小时":                           "K3-battery",
		"what is the battery life of the K4 earbuds": "K4-battery",
		"T7电饭煲保修期多长":                                 "T7-warranty",
		"how do i return my M2 lamp":                 "M2-return",
	} {
		p := r.Predict(Prepare(q))
		if p.Label != want || p.OutOfScope {
			t.Errorf("%q: got %s (confidence %.2f, out of scope %v), want %s", q, p.Label, p.Confidence, p.OutOfScope, want)
		}
	}
	// The model number decides between two products of one line: the
	// right one comes first, its sibling second, sharing the confidence.
	p := r.Predict(Prepare("K4无线耳机续航"))
	if p.Label != "K4-battery" || len(p.Candidates) < 2 || p.Candidates[1].Label != "K3-battery" {
		t.Errorf("K4 battery: got %+v", p.Candidates)
	}
	for _, q := range []string{"明天会下雨吗", "tell me a funny joke please", "zzzz qqqq"} {
		if p := r.Predict(Prepare(q)); !p.OutOfScope {
			t.Errorf("%q: answered %s (confidence %.2f), want out of scope", q, p.Label, p.Confidence)
		}
	}
	if p := r.Predict(Prepare("")); !p.OutOfScope {
		t.Errorf("empty text answered %s", p.Label)
	}
}

func TestRetrieverLeavesOneOut(t *testing.T) {
	ex := catalogue()
	r, err := TrainRetriever(ex, RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	// Left out, a question scores what a retrieval index built without it
	// gives it: the same as training on the rest.
	q := ex[0]
	var rest []Example
	rest = append(rest, ex[1:]...)
	without, err := buildRetriever(rest, RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	without.calib = r.calib
	held, want := r.PredictHeldOut(q.Text, q.Label), without.Predict(Prepare(q.Text))
	if held.Label != want.Label {
		t.Fatalf("held out: %s, retrained: %s", held.Label, want.Label)
	}
	// Scores differ slightly (the IDF still counts the question), but the
	// ranking and the confidence agree closely.
	if math.Abs(held.Confidence-want.Confidence) > 0.05 {
		t.Errorf("held-out confidence %.3f, retrained %.3f", held.Confidence, want.Confidence)
	}
	// Trained on, the question finds its own label; left out, it finds the
	// same template's sibling, which differs only in the model number: the
	// gate's estimate is honest about a catalogue written from templates.
	if in := r.Predict(Prepare(q.Text)); in.Label != q.Label {
		t.Errorf("trained on: %s, want %s", in.Label, q.Label)
	}
	if held.Label != "K4-battery" {
		t.Errorf("held out: %s, want the sibling K4-battery", held.Label)
	}
}

// rank finds the same best labels, with the same scores, as scoring every
// document in full, on both of its paths: long queries added up without
// notes and read back in document order, short ones through the list of
// documents they touched; and so does leaving a question out.
func TestRetrieverRanksAsEveryDocumentScored(t *testing.T) {
	ex := catalogue()
	// Many entries with words of their own, so that a question about one
	// of them touches few documents (the short path).
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	var rare []string
	for i := range 200 {
		w := word()
		rare = append(rare, w)
		ex = append(ex, Example{w + " " + word(), fmt.Sprint("filler-", i)}, Example{word() + " " + w, fmt.Sprint("filler-", i)})
	}
	r, err := TrainRetriever(ex, RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	nDocs := len(r.docLabel)
	dense := make([][]float64, nDocs) // dense[d][f]: document d's weight of f
	for d := range dense {
		dense[d] = make([]float64, len(r.idf))
	}
	for f := range r.idf {
		for p := r.start[f]; p < r.start[f+1]; p++ {
			dense[r.doc[p]][f] = float64(r.wt[p])
		}
	}
	want := func(x sparse, own int32) ranked {
		var k ranked
		var self float64
		for _, v := range x.val {
			self += float64(v) * float64(v)
		}
		for d := range dense {
			var s float64
			for j, f := range x.idx {
				s += float64(x.val[j]) * dense[d][f]
			}
			if s > 0 {
				r.rankDoc(&k, int32(d), s, own, self)
			}
		}
		return k
	}
	paths := map[bool]int{} // by whether the query took the long path
	check := func(text string, own int32) {
		t.Helper()
		x := r.vector(Normalize(text))
		postings := 0
		for _, f := range x.idx {
			postings += int(r.start[f+1] - r.start[f])
		}
		paths[postings > nDocs/2]++
		got, exp := r.rank(x, own), want(x, own)
		if got.n != exp.n || math.Abs(got.bg-exp.bg) > 1e-5 {
			t.Fatalf("%q (own %d): %d labels, background %.5f; scoring every document: %d, %.5f", text, own, got.n, got.bg, exp.n, exp.bg)
		}
		for i := 0; i < got.n; i++ {
			if got.top[i].label != exp.top[i].label || math.Abs(got.top[i].score-exp.top[i].score) > 1e-5 {
				t.Fatalf("%q (own %d): %v, scoring every document: %v", text, own, got.top[:got.n], exp.top[:exp.n])
			}
		}
	}
	for _, q := range []string{"how long does the K3 wireless earbuds battery last and is it under warranty",
		"K4无线耳机续航怎么样，保修多久，能退吗", "warranty", "退货", "desk lamp", "tell me a joke about the weather",
		rare[0], rare[7] + " " + rare[8], rare[9] + " battery"} {
		check(q, -1)
	}
	for i, e := range ex {
		check(e.Text, r.exampleDoc[i])
	}
	if paths[true] == 0 || paths[false] == 0 {
		t.Fatalf("queries by path (long: true): %v; both paths must be tried", paths)
	}
}

func TestRetrieverArtefactRoundTrip(t *testing.T) {
	r, err := TrainRetriever(catalogue(), RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := UnmarshalClassifier(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*Retriever); !ok {
		t.Fatalf("decoded a %T", c)
	}
	for _, q := range []string{"K3无线耳机电池", "return policy of the T7 cooker", "讲个笑话"} {
		a, b := r.Predict(Prepare(q)), c.Predict(Prepare(q))
		if a.Label != b.Label || a.Confidence != b.Confidence || a.OutOfScope != b.OutOfScope {
			t.Errorf("%q: trained %+v, loaded %+v", q, a, b)
		}
	}
	// A linear model's artefact still decodes as one.
	m, err := Train(catalogue(), TrainOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := m.MarshalBinary()
	if c, err := UnmarshalClassifier(md); err != nil {
		t.Fatal(err)
	} else if _, ok := c.(*Model); !ok {
		t.Fatalf("decoded a %T", c)
	}
	if _, err := UnmarshalClassifier(append([]byte(retrieverMagic), "junk"...)); err == nil {
		t.Error("a corrupt retriever artefact decoded")
	}
}

func TestModelNumbersAreFeatures(t *testing.T) {
	var fs []string
	Features(Normalize("K3无线耳机 x200 20231122"), func(f string) { fs = append(fs, f) })
	has := map[string]bool{}
	for _, f := range fs {
		has[f] = true
	}
	if !has["k:k3"] || !has["k:x200"] {
		t.Errorf("features %v lack the model numbers", fs)
	}
	if has["k:20231122"] {
		t.Errorf("a bare number became a model number: %v", fs)
	}
}

func BenchmarkRetrieverPredict(b *testing.B) {
	r, err := TrainRetriever(catalogue(), RetrieverOptions{OOSLabel: "oos"})
	if err != nil {
		b.Fatal(err)
	}
	t := Prepare("K3无线耳机充一次电能用几个小时")
	b.ReportAllocs()
	for b.Loop() {
		r.Predict(t)
	}
}
