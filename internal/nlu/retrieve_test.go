package nlu

import (
	"fmt"
	"math"
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
