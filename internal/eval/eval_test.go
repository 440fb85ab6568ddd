package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/nlu"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// A hand-made set whose every metric was worked out on paper.
func TestScoreKnownAnswers(t *testing.T) {
	gold := []string{"a", "a", "a", "b", "oos", "oos", "oos"}
	pred := []string{"a", "a", "b", "b", "oos", "a", "oos"}
	m := Score(gold, pred, "oos")
	checks := []struct {
		name      string
		got, want float64
	}{
		{"accuracy", m.Accuracy, 5.0 / 7},
		{"in-scope accuracy", *m.InScopeAccuracy, 3.0 / 4},
		{"oos recall", *m.OOSRecall, 2.0 / 3},
		{"oos precision", *m.OOSPrecision, 1},
		{"F1 a", m.PerLabel["a"].F1, 2.0 / 3},
		{"F1 b", m.PerLabel["b"].F1, 2.0 / 3},
		{"F1 oos", m.PerLabel["oos"].F1, 0.8},
		{"macro F1", m.MacroF1, (2.0/3 + 2.0/3 + 0.8) / 3},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %.6f, want %.6f", c.name, c.got, c.want)
		}
	}
	if m.Examples != 7 || m.PerLabel["a"].Support != 3 || m.PerLabel["b"].Support != 1 {
		t.Errorf("counts: %+v", m)
	}

	// Without an out-of-scope label there are no out-of-scope figures, and
	// "oos" is a label like any other.
	m = Score(gold, pred, "")
	if m.InScopeAccuracy != nil || m.OOSRecall != nil || m.OOSPrecision != nil {
		t.Errorf("out-of-scope figures without an out-of-scope label: %+v", m)
	}
	if !near(m.Accuracy, 5.0/7) {
		t.Errorf("accuracy = %v", m.Accuracy)
	}
	// A label predicted but never gold counts in the macro average with F1 0.
	m = Score([]string{"a", "a"}, []string{"a", "c"}, "")
	if !near(m.MacroF1, (2*1*0.5/1.5+0)/2) {
		t.Errorf("macro F1 with a spurious label = %v", m.MacroF1)
	}
}

func TestReadReportsLineNumbers(t *testing.T) {
	good := "{\"text\":\"where is my order\",\"label\":\"status\",\"source\":\"x\"}\n\n{\"text\":\"运费多少\",\"label\":\"fee\"}\n"
	exs, err := Read(strings.NewReader(good))
	if err != nil || len(exs) != 2 || exs[1].Text != "运费多少" || exs[1].Label != "fee" {
		t.Fatalf("Read = %v, %v", exs, err)
	}
	bad := map[string]string{
		"{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"x\"}\nnot json\n": "line 3: not a JSON object",
		"{\"label\":\"x\"}\n": "line 1: missing \"text\"",
		"{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n":                  "line 2: missing \"label\"",
		"{\"text\":\"a\",\"label\":\" \"}\n":                                    "line 1: empty \"label\"",
		"{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"  \",\"label\":\"x\"}\n": "line 2: empty \"text\"",
		"[1,2]\n": "line 1: not a JSON object",
		"\n\n":    "no examples",
		"{\"text\":\"a\",\"label\":\"x\"}\n" + strings.Repeat("x", maxLine+1): "line 2: longer than",
	}
	for in, want := range bad {
		_, err := Read(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%.40q) = %v, want an error containing %q", in, err, want)
		}
	}
	if _, err := ReadFile("/nonexistent/train.jsonl"); err == nil || !strings.Contains(err.Error(), "/nonexistent/train.jsonl") {
		t.Errorf("missing file: %v", err)
	}
}

func TestHoldoutIsDeterministicAndStratified(t *testing.T) {
	var exs []nlu.Example
	for i := 0; i < 50; i++ {
		exs = append(exs, nlu.Example{Text: strings.Repeat("a", i+1), Label: "a"})
	}
	for i := 0; i < 10; i++ {
		exs = append(exs, nlu.Example{Text: strings.Repeat("b", i+1), Label: "b"})
	}
	tr, te := Holdout(exs, 0.2)
	count := func(xs []nlu.Example, l string) (n int) {
		for _, x := range xs {
			if x.Label == l {
				n++
			}
		}
		return n
	}
	if count(te, "a") != 10 || count(te, "b") != 2 || len(tr) != 48 {
		t.Fatalf("holdout 0.2 of 50 a + 10 b: test a=%d b=%d, train %d", count(te, "a"), count(te, "b"), len(tr))
	}
	tr2, te2 := Holdout(exs, 0.2)
	for i := range te {
		if te[i] != te2[i] {
			t.Fatal("holdout is not deterministic")
		}
	}
	_ = tr2
}

// The threshold is the highest that keeps in-scope accuracy within the
// budget; out-of-scope recall is what it buys.
func TestTuneThreshold(t *testing.T) {
	var val []nlu.Example
	var preds []nlu.Prediction
	// 200 in-scope examples, all right: one at confidence 0.40, the rest
	// at 0.90. Four out-of-scope ones at 0.20, 0.30, 0.50, 0.95.
	for i := 0; i < 200; i++ {
		c := 0.9
		if i == 0 {
			c = 0.4
		}
		val = append(val, nlu.Example{Label: "x"})
		preds = append(preds, nlu.Prediction{Label: "x", Confidence: c})
	}
	for _, c := range []float64{0.2, 0.3, 0.5, 0.95} {
		val = append(val, nlu.Example{Label: "oos"})
		preds = append(preds, nlu.Prediction{Label: "x", Confidence: c})
	}
	// Losing the 0.40 example costs 0.5 % of in-scope accuracy: within the
	// budget, so the threshold rises to just below 0.9 and catches three
	// of the four out-of-scope examples.
	th, m := tuneThreshold(val, preds, "oos")
	if th < 0.5 || th > 0.9 || !near(*m.OOSRecall, 0.75) || !near(*m.InScopeAccuracy, 0.995) {
		t.Fatalf("threshold %.2f, in-scope %.4f, oos recall %.2f", th, *m.InScopeAccuracy, *m.OOSRecall)
	}
}

// Intent trains, scores and times the production model end to end.
func TestIntentEndToEnd(t *testing.T) {
	var train, test []nlu.Example
	add := func(dst *[]nlu.Example, label string, texts ...string) {
		for _, s := range texts {
			*dst = append(*dst, nlu.Example{Text: s, Label: label})
		}
	}
	add(&train, "fee", "how much is shipping", "shipping cost", "delivery fee", "运费多少", "包邮吗", "what does delivery cost")
	add(&train, "refund", "where is my refund", "refund status", "money back", "退款到哪了", "怎么还没退款", "when do i get my money back")
	add(&train, "oos", "tell me a joke", "what is the weather", "who won the game", "讲个笑话", "今天天气怎么样", "sing a song")
	add(&test, "fee", "how much does shipping cost", "运费是多少")
	add(&test, "refund", "my refund has not arrived", "退款什么时候到")
	add(&test, "oos", "tell me a funny joke", "明天天气怎么样")
	r, err := Intent(train, nil, test, IntentOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Examples != 6 || r.Classes != 3 || r.TrainExamples != 18 || r.InScopeAccuracy == nil {
		t.Fatalf("report %+v", r)
	}
	if r.Accuracy < 5.0/6 || *r.InScopeAccuracy != 1 || r.PredictP99us <= 0 || r.PredictP50us > r.PredictP99us {
		t.Errorf("report %+v (in-scope %v, oos recall %v)", r, *r.InScopeAccuracy, *r.OOSRecall)
	}
	if _, err := Intent(train, nil, nil, IntentOptions{}); err == nil {
		t.Error("an empty test set was accepted")
	}
}

// A text with nothing the model knows is predicted no label (""): without
// an out-of-scope class that is a miss of its gold label, not a class of
// its own. Macro-F1 averaged over a made-up class "" with F1 0.
func TestANoLabelPredictionIsAMissNotAClass(t *testing.T) {
	m := Score([]string{"a", "b", "c", "a"}, []string{"a", "b", "c", ""}, "")
	if len(m.PerLabel) != 3 {
		t.Fatalf("labels %v; want a, b and c only", m.PerLabel)
	}
	// a: precision 1, recall 0.5, F1 2/3; b and c: 1. Mean 8/9.
	if !near(m.MacroF1, 8.0/9) || !near(m.Accuracy, 0.75) {
		t.Fatalf("macro F1 %v, accuracy %v; want 8/9 and 0.75", m.MacroF1, m.Accuracy)
	}
}
