package nlu

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The network is trained alongside the linear model, from the same seed:
// two trainings encode to the same bytes, and the network on its own has
// learnt the hand-made set (it is not riding on the linear model).
func TestEnsembleIsDeterministicAndLearns(t *testing.T) {
	a, err := Train(toyExamples(), TrainOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(toyExamples(), TrainOptions{OOSLabel: "oos"})
	if a.net == nil {
		t.Fatal("intent model has no network")
	}
	da, _ := a.MarshalBinary()
	db, _ := b.MarshalBinary()
	if !bytes.Equal(da, db) {
		t.Fatal("two trainings with the same seed differ")
	}
	c, _ := Train(toyExamples(), TrainOptions{OOSLabel: "oos", Seed: 2})
	if dc, _ := c.MarshalBinary(); bytes.Equal(da, dc) {
		t.Error("another seed trained the same model")
	}
	cases := []struct{ text, label string }{
		{"运费是多少钱", "fee"}, {"how much does shipping cost", "fee"},
		{"where is my refund money", "refund"}, {"退款进度怎么样", "refund"},
		{"讲个笑话吧", "oos"}, {"tell me a funny story", "oos"},
	}
	logits := make([]float64, a.Classes())
	for _, c := range cases {
		a.net.logits(a.vector(Normalize(c.text)), logits)
		best := 0
		for i := range logits {
			if logits[i] > logits[best] {
				best = i
			}
		}
		if a.labels[best] != c.label {
			t.Errorf("network alone: %q → %s, want %s", c.text, a.labels[best], c.label)
		}
		p := a.Predict(Prepare(c.text))
		if got := map[bool]string{true: "oos", false: p.Label}[p.OutOfScope]; got != c.label {
			t.Errorf("ensemble: %q → %+v, want %s", c.text, p, c.label)
		}
	}
	if a.net.temp <= 0 || a.net.temp == 1 {
		t.Errorf("network temperature %v: calibration did not run", a.net.temp)
	}
}

// Hidden -1 trains the linear model alone, for intent and sentiment alike;
// by default the sentiment model has its narrow network.
func TestNetworkWidths(t *testing.T) {
	m, err := Train(toyExamples(), TrainOptions{OOSLabel: "oos", Hidden: -1})
	if err != nil {
		t.Fatal(err)
	}
	reviews := []Example{{"好吃", "pos"}, {"难吃", "neg"}, {"很好", "pos"}, {"太差", "neg"}}
	s, err := TrainSentiment(reviews, TrainOptions{Hidden: -1})
	if err != nil {
		t.Fatal(err)
	}
	if m.net != nil || s.net != nil {
		t.Errorf("network trained with Hidden -1: intent %v, sentiment %v", m.net != nil, s.net != nil)
	}
	s, err = TrainSentiment(reviews, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.net == nil || s.net.hidden != sentimentHidden {
		t.Errorf("sentiment network %+v, want %d hidden units", s.net, sentimentHidden)
	}
}

// The sentiment model's regularisation is chosen by cross-validation: a
// weight decay that erases what the model learns loses to one that does
// not, whichever comes first; between choices that do equally well the
// first wins; options that set NB or L2 are kept as they are.
func TestSentimentChoosesRegularisation(t *testing.T) {
	var reviews []Example
	for _, dish := range []string{"菜", "汤", "饭", "面"} {
		for _, w := range []string{"好吃", "很香", "满意", "喜欢", "推荐"} {
			reviews = append(reviews, Example{dish + w, "pos"})
		}
		for _, w := range []string{"难吃", "太咸", "失望", "讨厌", "很差"} {
			reviews = append(reviews, Example{dish + w, "neg"})
		}
	}
	crushing, mild, milder := regularisation{nb: 0, l2: 0.5}, regularisation{nb: 0.5, l2: 1e-6}, regularisation{nb: 0, l2: 1e-6}
	opts := TrainOptions{Epochs: 40, Hidden: -1}
	for _, c := range []struct {
		choices []regularisation
		want    regularisation
	}{
		{[]regularisation{crushing, mild}, mild},
		{[]regularisation{mild, crushing}, mild},
		{[]regularisation{mild, milder}, mild},
		{[]regularisation{milder, mild}, milder},
	} {
		m, err := train(reviews, opts, sentimentFeatures, c.choices)
		if err != nil {
			t.Fatal(err)
		}
		if m.reg != c.want {
			t.Errorf("choices %+v: chose %+v, want %+v", c.choices, m.reg, c.want)
		}
	}
	m, err := TrainSentiment(reviews, TrainOptions{NB: -1, L2: 0.5, Hidden: -1})
	if err != nil {
		t.Fatal(err)
	}
	if m.reg != crushing {
		t.Errorf("options NB -1, L2 0.5 trained with %+v", m.reg)
	}
}

// An artefact of format 1 (before the network) still loads, as the linear
// model it is, and one of format 2 (weights as gob numbers, not bytes) with
// its network; a format it does not know, a network whose parts disagree,
// and weight bytes that are no whole number of float32s, are refused.
func TestModelFormats(t *testing.T) {
	m, err := Train(toyExamples(), TrainOptions{OOSLabel: "oos", Hidden: -1})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(format int, net *netFile) []byte {
		f := modelFile{Format: format, Labels: m.labels, Features: make([]string, len(m.vocab)), IDF: m.idf,
			Group: m.group, W: m.w, Bias: m.bias, OOS: m.oos, Temp: m.temp, MinConf: m.minConf, Set: m.fs, Net: net}
		for s, id := range m.vocab {
			f.Features[id] = s
		}
		data, err := encodeArtefact(nil, "model", &f)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	old, err := UnmarshalModel(encode(1, nil))
	if err != nil {
		t.Fatalf("format 1: %v", err)
	}
	for _, q := range []string{"运费是多少钱", "where is my refund money", "讲个故事"} {
		a, b := m.Predict(Prepare(q)), old.Predict(Prepare(q))
		if a.Label != b.Label || a.Confidence != b.Confidence || old.net != nil {
			t.Errorf("%q: trained %+v, format 1 %+v", q, a, b)
		}
	}
	k, n := len(m.labels), len(m.vocab)
	good := func() *netFile {
		rows := make([]int32, n)
		for i := range rows {
			rows[i] = int32(i % 2)
		}
		return &netFile{Hidden: 4, Rows: rows, W1: make([]float32, 2*4), B1: make([]float32, 4),
			W2: make([]float32, 4*k), B2: make([]float32, k), Temp: 1}
	}
	if back, err := UnmarshalModel(encode(2, good())); err != nil || back.net == nil {
		t.Fatalf("format 2 with a network: %v", err)
	}
	broken := map[string]*netFile{}
	broken["row out of range"] = good()
	broken["row out of range"].Rows[0] = 2
	broken["short output layer"] = good()
	broken["short output layer"].W2 = broken["short output layer"].W2[1:]
	broken["no temperature"] = good()
	broken["no temperature"].Temp = 0
	for name, net := range broken {
		if _, err := UnmarshalModel(encode(2, net)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := UnmarshalModel(encode(1, good())); err == nil {
		t.Error("format 1 with a network decoded without error")
	}
	if _, err := UnmarshalModel(encode(modelFormat+1, nil)); err == nil {
		t.Error("a later format decoded without error")
	}
	// Format 3 reads the weights from their bytes, not from W.
	if _, err := UnmarshalModel(encode(3, nil)); err == nil {
		t.Error("format 3 without weight bytes decoded without error")
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var f modelFile
	if err := decodeArtefact(data, "model", &f); err != nil || f.Format != 3 || len(f.W) != 0 || len(f.WBytes) != 4*len(m.w) {
		t.Fatalf("written: format %d, %d numbers and %d bytes of weights (%v); want format 3, bytes only", f.Format, len(f.W), len(f.WBytes), err)
	}
	f.WBytes = f.WBytes[:len(f.WBytes)-1]
	torn, err := encodeArtefact(nil, "model", &f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalModel(torn); err == nil {
		t.Error("weight bytes cut short of a float32 decoded without error")
	}
}

// pcg yields what math/rand/v2's PCG does, so the network trains to the
// same bits whichever draws its numbers.
func TestPCGIsMathRands(t *testing.T) {
	for _, seed := range [][2]uint64{{1, 2}, {0x51ed270b27f4a3c1 ^ 7, 7}, {0, 0}, {^uint64(0), 1 << 63}} {
		ours, theirs := newPCG(seed[0], seed[1]), rand.New(rand.NewPCG(seed[0], seed[1]))
		for i := range 10000 {
			if i%2 == 0 {
				if a, b := ours.float32(), theirs.Float32(); a != b {
					t.Fatalf("seed %v, draw %d: float32 %v, math/rand %v", seed, i, a, b)
				}
			} else if a, b := ours.Uint64(), theirs.Uint64(); a != b {
				t.Fatalf("seed %v, draw %d: Uint64 %d, math/rand %d", seed, i, a, b)
			}
		}
		mirror, theirs := rand.New(newPCG(seed[0], seed[1])), rand.New(rand.NewPCG(seed[0], seed[1]))
		for range 100 {
			if a, b := mirror.IntN(1000), theirs.IntN(1000); a != b {
				t.Fatalf("seed %v: as a rand.Source, IntN %d; math/rand %d", seed, a, b)
			}
		}
	}
}
