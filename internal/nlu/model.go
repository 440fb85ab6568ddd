package nlu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Example is one labelled training text.
type Example struct {
	Text  string
	Label string
}

// TrainOptions tune training; the zero value gives sensible defaults.
type TrainOptions struct {
	Epochs int     // passes over the data (default 40)
	Rate   float64 // initial learning rate (default 1.0)
	L2     float64 // weight decay (default 1e-4)
	Seed   uint64  // shuffling seed (default 1): training is deterministic
	// OOSLabel names the class of out-of-scope training examples, if any.
	OOSLabel string
	// MinConfidence is the confidence below which a prediction is out of
	// scope (default 0.25).
	MinConfidence float64
	// CalibrationFolds is the number of cross-validation folds used to fit
	// the softmax temperature so that confidence matches accuracy (default
	// 4; 1 turns calibration off).
	CalibrationFolds int
}

func (o *TrainOptions) defaults() {
	if o.Epochs <= 0 {
		o.Epochs = 40
	}
	if o.Rate <= 0 {
		o.Rate = 1.0
	}
	if o.L2 <= 0 {
		o.L2 = 1e-4
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MinConfidence <= 0 {
		o.MinConfidence = 0.25
	}
	if o.CalibrationFolds <= 0 {
		o.CalibrationFolds = 4
	}
}

// Model is a trained intent classifier: multinomial logistic regression over
// TF-IDF weighted, L2-normalised sparse features.
type Model struct {
	labels  []string
	vocab   map[string]int32
	idf     []float32
	w       []float32 // [feature*classes + class]
	bias    []float32
	oos     int     // index of the out-of-scope class, or -1
	temp    float64 // softmax temperature fitted by cross-validation
	minConf float64
}

type sparse struct {
	idx []int32
	val []float32
}

// Candidate is one possible intent with its probability.
type Candidate struct {
	Label      string
	Confidence float64
}

// Prediction is what the model makes of one text.
type Prediction struct {
	Label      string  // the best in-scope label, even when OutOfScope
	Confidence float64 // calibrated probability of Label, 0..1
	OutOfScope bool
	Candidates []Candidate // the best labels, most likely first, out-of-scope class excluded
}

// ErrNoExamples is returned when there is nothing to train on.
var ErrNoExamples = errors.New("no training examples")

// Train fits a model on examples.
func Train(examples []Example, opts TrainOptions) (*Model, error) {
	opts.defaults()
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	m := &Model{vocab: make(map[string]int32), oos: -1, minConf: opts.MinConfidence, temp: 1}
	labelIdx := map[string]int{}
	ys := make([]int, len(examples))
	for i, ex := range examples {
		li, ok := labelIdx[ex.Label]
		if !ok {
			li = len(m.labels)
			labelIdx[ex.Label] = li
			m.labels = append(m.labels, ex.Label)
		}
		ys[i] = li
	}
	if li, ok := labelIdx[opts.OOSLabel]; ok && opts.OOSLabel != "" {
		m.oos = li
	}
	// Vocabulary and document frequencies.
	df := map[int32]int{}
	raw := make([][]int32, len(examples))
	for i, ex := range examples {
		seen := map[int32]bool{}
		Features(Normalize(ex.Text), func(f string) {
			id, ok := m.vocab[f]
			if !ok {
				id = int32(len(m.vocab))
				m.vocab[f] = id
			}
			raw[i] = append(raw[i], id)
			if !seen[id] {
				seen[id] = true
				df[id]++
			}
		})
	}
	m.idf = make([]float32, len(m.vocab))
	n := float64(len(examples))
	for id, d := range df {
		m.idf[id] = float32(math.Log((1+n)/(1+float64(d))) + 1)
	}
	xs := make([]sparse, len(examples))
	for i, ids := range raw {
		xs[i] = m.weigh(ids)
	}
	k := len(m.labels)
	if opts.CalibrationFolds > 1 && len(xs) >= 2*opts.CalibrationFolds {
		m.temp = m.calibrate(xs, ys, opts)
	}
	m.w = make([]float32, len(m.vocab)*k)
	m.bias = make([]float32, k)
	m.fit(xs, ys, opts)
	return m, nil
}

// weigh turns feature ids (with repeats) into a sublinear TF-IDF vector of
// unit length.
func (m *Model) weigh(ids []int32) sparse {
	if len(ids) == 0 {
		return sparse{}
	}
	sorted := append([]int32(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var x sparse
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		tf := 1 + math.Log(float64(j-i))
		x.idx = append(x.idx, sorted[i])
		x.val = append(x.val, float32(tf)*m.idf[sorted[i]])
		i = j
	}
	var norm float64
	for _, v := range x.val {
		norm += float64(v) * float64(v)
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range x.val {
		x.val[i] *= inv
	}
	return x
}

// fit runs stochastic gradient descent on the softmax cross-entropy, with
// a decaying rate and lazily applied weight decay.
func (m *Model) fit(xs []sparse, ys []int, opts TrainOptions) {
	k := len(m.labels)
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	scores := make([]float64, k)
	step := 0
	for epoch := 0; epoch < opts.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			step++
			lr := opts.Rate / (1 + float64(step)/float64(len(xs))*0.5)
			x := xs[i]
			m.scores(x, scores)
			softmax(scores)
			scores[ys[i]] -= 1 // gradient of the loss w.r.t. each score
			decay := float32(1 - lr*opts.L2)
			for j, f := range x.idx {
				row := m.w[int(f)*k : int(f)*k+k]
				xv := float64(x.val[j])
				for c := range row {
					row[c] = row[c]*decay - float32(lr*scores[c]*xv)
				}
			}
			for c := range m.bias {
				m.bias[c] -= float32(lr * scores[c] * 0.1)
			}
		}
	}
}

// calibrate fits the softmax temperature: it trains on all folds but one,
// scores the held-out fold, and picks the temperature that minimises the
// held-out log loss. Without it the regularised model is under-confident.
func (m *Model) calibrate(xs []sparse, ys []int, opts TrainOptions) float64 {
	k := len(m.labels)
	folds := opts.CalibrationFolds
	logits := make([][]float64, len(xs))
	for f := 0; f < folds; f++ {
		var trX []sparse
		var trY []int
		for i := range xs {
			if i%folds != f {
				trX, trY = append(trX, xs[i]), append(trY, ys[i])
			}
		}
		fold := &Model{labels: m.labels, w: make([]float32, len(m.vocab)*k), bias: make([]float32, k)}
		fold.fit(trX, trY, opts)
		for i := f; i < len(xs); i += folds {
			logits[i] = make([]float64, k)
			fold.scores(xs[i], logits[i])
		}
	}
	best, bestLoss := 1.0, math.Inf(1)
	probs := make([]float64, k)
	for t := 0.05; t <= 3.0; t += 0.05 {
		loss := 0.0
		for i, l := range logits {
			for c := range l {
				probs[c] = l[c] / t
			}
			softmax(probs)
			loss -= math.Log(max(probs[ys[i]], 1e-12))
		}
		if loss < bestLoss {
			best, bestLoss = t, loss
		}
	}
	return best
}

func (m *Model) scores(x sparse, out []float64) {
	k := len(m.labels)
	for c := range out {
		out[c] = float64(m.bias[c])
	}
	for j, f := range x.idx {
		row := m.w[int(f)*k : int(f)*k+k]
		v := float64(x.val[j])
		for c, w := range row {
			out[c] += float64(w) * v
		}
	}
}

func softmax(s []float64) {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - mx)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}

// vector turns a text into the model's feature vector; unknown features
// are dropped.
func (m *Model) vector(norm string) sparse {
	var ids []int32
	Features(norm, func(f string) {
		if id, ok := m.vocab[f]; ok {
			ids = append(ids, id)
		}
	})
	return m.weigh(ids)
}

// Predict classifies a prepared text. A text with no known feature is out
// of scope.
func (m *Model) Predict(t Text) Prediction {
	var p Prediction
	x := m.vector(t.Norm)
	if len(x.idx) == 0 {
		p.OutOfScope = true
		return p
	}
	probs := make([]float64, len(m.labels))
	m.scores(x, probs)
	for c := range probs {
		probs[c] /= m.temp
	}
	softmax(probs)
	order := make([]int, 0, len(probs))
	for c := range probs {
		if c != m.oos {
			order = append(order, c)
		}
	}
	sort.Slice(order, func(i, j int) bool { return probs[order[i]] > probs[order[j]] })
	for _, c := range order[:min(3, len(order))] {
		p.Candidates = append(p.Candidates, Candidate{Label: m.labels[c], Confidence: probs[c]})
	}
	if len(order) == 0 {
		p.OutOfScope = true
		return p
	}
	best := order[0]
	p.Label, p.Confidence = m.labels[best], probs[best]
	// Out of scope when the background class outweighs every in-scope class
	// together: siblings that split the in-scope mass do not lose to it.
	p.OutOfScope = p.Confidence < m.minConf || (m.oos >= 0 && probs[m.oos] >= 0.5)
	return p
}

// String describes the model for logs.
func (m *Model) String() string {
	return fmt.Sprintf("intent model: %d classes, %d features, temperature %.2f", len(m.labels), len(m.vocab), m.temp)
}
