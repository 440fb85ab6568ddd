package nlu

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Retriever is the intent model of a knowledge base too large for Model,
// whose dense weights grow with features × classes. It scores a text
// against the labels' examples through an inverted index over the same
// features with TF-IDF weights, so memory grows with the examples and a
// query touches only the entries that share a feature with it.
//
// A label's examples in one language are summed into one document, their
// centroid: paraphrases of one entry reinforce what they share (on CLINC150
// and SMP2017 the centroids answer 3 to 8 points better than the examples
// one by one). The out-of-scope background keeps one document per example,
// since its examples have nothing in common. The confidence is the
// probability that the text is in scope, fitted on the training examples
// each scored as if left out (calibrate), times the best label's share
// among the nearest ones (shareSharpness).
type Retriever struct {
	labels   []string
	labelIdx map[string]int32
	vocab    map[string]int32
	idf      []float32 // 0 for features dropped as too common
	group    []uint8
	fs       featureSet

	// Feature f's postings are doc[start[f]:start[f+1]] with weights wt.
	start []int32
	doc   []int32
	wt    []float32

	docLabel []int32
	docSum   []float32 // length of the document's sum of example vectors
	docSize  []int32   // examples summed in the document
	// Where each example went: exampleDoc by position; shared holds an
	// entry's document by label and language.
	exampleDoc []int32
	shared     map[docKey]int32

	oos     int // label index of the background, or -1
	calib   [4]float64
	minConf float64
	opts    RetrieverOptions
	// examples rebuild the index when the artefact is loaded.
	examples []Example
	scratch  sync.Pool
}

// RetrieverOptions tune a Retriever; the zero value gives the defaults.
type RetrieverOptions struct {
	// OOSLabel names the out-of-scope background examples, if any.
	OOSLabel string
	// MinConfidence is the confidence below which a prediction is out of
	// scope (default DefaultMinConfidence).
	MinConfidence float64
	// CalibrationSample bounds the examples scored for calibration
	// (default 6000).
	CalibrationSample int
}

func (o *RetrieverOptions) defaults() {
	if o.MinConfidence <= 0 {
		o.MinConfidence = DefaultMinConfidence
	}
	if o.CalibrationSample <= 0 {
		o.CalibrationSample = 6000
	}
}

// minDroppedDF is the document frequency below which no feature is dropped
// as too common; above it, a feature in more than maxDFShare of the
// documents is dropped (a model number never is): it tells little apart
// and would make every query walk that share of the index.
const minDroppedDF = 1000

// maxDFShare is the share of the documents above which a feature is
// dropped. Chosen on the 100,000-entry synthetic catalogue of
// steward-bench kb-scale: a tenth kept 0.604 of held-out questions right at
// a median of 1.1 ms, a twentieth 0.582 at 0.74 ms, a fortieth 0.493.
const maxDFShare = 0.05

// TrainRetriever indexes examples and fits the confidence calibration.
func TrainRetriever(examples []Example, opts RetrieverOptions) (*Retriever, error) {
	r, err := buildRetriever(examples, opts)
	if err != nil {
		return nil, err
	}
	r.calibrate()
	return r, nil
}

// docKey names a document shared by a label's examples in one language.
type docKey struct {
	label int32
	lang  Lang
}

// exampleLang is the language bucket an example's document is keyed by.
func exampleLang(text string) Lang {
	switch l := DetectLanguage(text); l {
	case LangZH, LangEN:
		return l
	default:
		return LangMixed
	}
}

func buildRetriever(examples []Example, opts RetrieverOptions) (*Retriever, error) {
	opts.defaults()
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	r := &Retriever{vocab: make(map[string]int32), oos: -1, fs: defaultFeatures, minConf: opts.MinConfidence,
		opts: opts, examples: examples}
	// Documents: one per (label, language), one per example of the
	// background.
	r.labelIdx = map[string]int32{}
	ys := make([]int, len(examples))
	langs := make([]Lang, len(examples))
	for i, ex := range examples {
		li, ok := r.labelIdx[ex.Label]
		if !ok {
			li = int32(len(r.labels))
			r.labelIdx[ex.Label] = li
			r.labels = append(r.labels, ex.Label)
		}
		ys[i], langs[i] = int(li), exampleLang(ex.Text)
	}
	if li, ok := r.labelIdx[opts.OOSLabel]; ok && opts.OOSLabel != "" {
		r.oos = int(li)
	}
	docOf := make([]int32, len(examples))
	r.exampleDoc, r.shared = docOf, map[docKey]int32{}
	// Documents are numbered one language after the other: a question in
	// one language touches mostly that language's documents, whose scores
	// then lie together in rank's accumulator instead of in every other
	// slot (a tenth off a query's time at 100,000 entries).
	order := make([]int32, len(examples))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(langs[a], langs[b]) })
	for _, i := range order {
		k := docKey{int32(ys[i]), langs[i]}
		if ys[i] != r.oos {
			if d, ok := r.shared[k]; ok {
				docOf[i] = d
				r.docSize[d]++
				continue
			}
			r.shared[k] = int32(len(r.docLabel))
		}
		docOf[i] = int32(len(r.docLabel))
		r.docLabel = append(r.docLabel, int32(ys[i]))
		r.docSize = append(r.docSize, 1)
	}
	nDocs := len(r.docLabel)

	members := make([][]int32, nDocs)
	for i, d := range docOf {
		members[d] = append(members[d], int32(i))
	}

	// Pass 1: the vocabulary and each feature's document frequency, one
	// document's examples after another: a document's examples need not
	// be next to each other in the input (a Chinese question naming a
	// product in Latin letters is "mixed", between the entry's Chinese
	// ones), and counted in input order such a feature was counted once
	// per run of examples, its document frequency too high and postings
	// left empty.
	var df []int32
	var last []int32 // the last document that counted the feature
	for d, ms := range members {
		for _, i := range ms {
			r.fs.extract(Normalize(examples[i].Text), func(f []byte) {
				id, ok := r.vocab[string(f)]
				if !ok {
					id = int32(len(r.vocab))
					r.vocab[string(f)] = id
					df, last = append(df, 0), append(last, -1)
				}
				if last[id] != int32(d) {
					last[id] = int32(d)
					df[id]++
				}
			})
		}
	}
	last = nil
	nf := len(r.vocab)
	r.idf, r.group = make([]float32, nf), make([]uint8, nf)
	code := make([]bool, nf) // model numbers are never dropped
	for f, id := range r.vocab {
		r.group[id] = featureGroup(f)
		code[id] = strings.HasPrefix(f, codePrefix)
	}
	maxDF := int32(max(minDroppedDF, int(float64(nDocs)*maxDFShare)))
	r.start = make([]int32, nf+1)
	for id, d := range df {
		if d > maxDF && !code[id] {
			df[id] = 0 // dropped: no postings, no weight
			continue
		}
		r.idf[id] = float32(math.Log((1+float64(nDocs))/(1+float64(d))) + 1)
	}
	for id, d := range df {
		r.start[id+1] = r.start[id] + d
	}
	total := r.start[nf]
	r.doc, r.wt = make([]int32, total), make([]float32, total)
	r.docSum = make([]float32, nDocs)

	// Pass 2: each document's normalised sum of its examples' vectors.
	// Chunks of documents are weighed on every core, then written into the
	// postings in document order, so that the same examples always build
	// the same index.
	cursor := make([]int32, nf)
	copy(cursor, r.start[:nf])
	workers := runtime.GOMAXPROCS(0)
	const chunk = 4096
	type centroidOf struct {
		v    sparse
		norm float32
	}
	vecs := make([]centroidOf, chunk)
	sums := make([][]float32, workers)
	for w := range sums {
		sums[w] = make([]float32, nf)
	}
	for c0 := 0; c0 < nDocs; c0 += chunk {
		c1 := min(nDocs, c0+chunk)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := c0 + w; d < c1; d += workers {
					v, norm := r.centroid(examples, members[d], sums[w])
					vecs[d-c0] = centroidOf{v, norm}
				}
			}()
		}
		wg.Wait()
		for d := c0; d < c1; d++ {
			v := vecs[d-c0].v
			r.docSum[d] = vecs[d-c0].norm
			for j, f := range v.idx {
				p := cursor[f]
				cursor[f]++
				r.doc[p], r.wt[p] = int32(d), v.val[j]
			}
			vecs[d-c0] = centroidOf{}
		}
	}
	r.scratch.New = func() any { return &retrievalScratch{acc: make([]float32, nDocs)} }
	return r, nil
}

// centroid returns the normalised sum of the vectors of examples[members]
// and the sum's length; sum is zeroed scratch of the vocabulary's size,
// and is left zeroed.
func (r *Retriever) centroid(examples []Example, members []int32, sum []float32) (sparse, float32) {
	var touched, ids []int32
	for _, i := range members {
		ids = r.ids(Normalize(examples[i].Text), ids[:0])
		x := r.weigh(ids)
		for j, f := range x.idx {
			if sum[f] == 0 {
				touched = append(touched, f)
			}
			sum[f] += x.val[j]
		}
	}
	var n2 float64
	for _, f := range touched {
		n2 += float64(sum[f]) * float64(sum[f])
	}
	norm := math.Sqrt(n2)
	v := sparse{idx: touched, val: make([]float32, len(touched))}
	for j, f := range touched {
		v.val[j] = float32(float64(sum[f]) / norm)
		sum[f] = 0
	}
	return v, float32(norm)
}

// ids appends the ids of norm's features that the index keeps.
func (r *Retriever) ids(norm string, ids []int32) []int32 {
	r.fs.extract(norm, func(f []byte) {
		if id, ok := r.vocab[string(f)]; ok && r.idf[id] > 0 {
			ids = append(ids, id)
		}
	})
	return ids
}

func (r *Retriever) weigh(ids []int32) sparse { return weigh(ids, r.idf, r.group) }

type retrievalScratch struct {
	acc     []float32
	touched []int32
	ids     []int32
}

// hit is a label's best document score.
type hit struct {
	label int32
	score float64
}

// ranked is what one query found: the best in-scope labels, most similar
// first, and the best background document.
type ranked struct {
	top [4]hit
	n   int
	bg  float64
}

func (k *ranked) add(label int32, s float64, oos int) {
	if int(label) == oos {
		k.bg = max(k.bg, s)
		return
	}
	h := hit{label, s}
	if k.n == len(k.top) && !h.before(k.top[k.n-1]) {
		return // no better than the fourth, so no better than its label's own
	}
	i := 0
	for i < k.n && k.top[i].label != label {
		i++
	}
	switch {
	case i < k.n: // the label again, from another document
		if s <= k.top[i].score {
			return
		}
	case k.n < len(k.top):
		k.n++
	default:
		i = k.n - 1
	}
	k.top[i] = h
	for ; i > 0 && k.top[i].before(k.top[i-1]); i-- {
		k.top[i], k.top[i-1] = k.top[i-1], k.top[i]
	}
}

// before orders hits by score, and equal scores by label: the documents
// come in another order on each of rank's two paths, and the first of a
// tie had won, so the same question could be answered otherwise once
// unrelated entries moved it to the other path.
func (h hit) before(o hit) bool {
	return h.score > o.score || h.score == o.score && h.label < o.label
}

// rank scores x against every document that shares a feature with it. If
// own ≥ 0, x is one of document own's examples and is left out of it, so
// that the score is what x would get had it not been trained on.
//
// A query whose postings outnumber half the documents (at 100,000 entries,
// most queries) is added up without noting which documents it touched, and
// the whole accumulator is read once at the end: in order, it costs less
// than the unpredictable branch the notes take on every posting (a tenth
// off the mean and the p99).
//
//go:norace
func (r *Retriever) rank(x sparse, own int32) ranked {
	s := r.scratch.Get().(*retrievalScratch)
	defer r.scratch.Put(s)
	var self float64 // x · x
	postings := 0
	for j, f := range x.idx {
		self += float64(x.val[j]) * float64(x.val[j])
		postings += int(r.start[f+1] - r.start[f])
	}
	var k ranked
	if postings > len(s.acc)/2 {
		acc := s.acc
		for j, f := range x.idx {
			q := x.val[j]
			for p := r.start[f]; p < r.start[f+1]; p++ {
				acc[r.doc[p]] += q * r.wt[p]
			}
		}
		for d, v := range acc {
			if v != 0 {
				acc[d] = 0
				r.rankDoc(&k, int32(d), float64(v), own, self)
			}
		}
		return k
	}
	s.touched = s.touched[:0]
	for j, f := range x.idx {
		q := x.val[j]
		for p := r.start[f]; p < r.start[f+1]; p++ {
			d := r.doc[p]
			if s.acc[d] == 0 {
				s.touched = append(s.touched, d)
			}
			s.acc[d] += q * r.wt[p]
		}
	}
	for _, d := range s.touched {
		score := float64(s.acc[d])
		s.acc[d] = 0
		r.rankDoc(&k, d, score, own, self)
	}
	return k
}

// rankDoc adds document d, which scored score, to k. If d is own, the
// score is first made the score of d without x (self is x · x):
// (x·S − x·x) / |S − x|.
func (r *Retriever) rankDoc(k *ranked, d int32, score float64, own int32, self float64) {
	if d == own {
		if r.docSize[d] <= 1 {
			return
		}
		sum := float64(r.docSum[d])
		dot := score * sum
		rest := sum*sum - 2*dot + self
		if rest <= 1e-9 {
			return
		}
		score = (dot - self) / math.Sqrt(rest)
	}
	k.add(r.docLabel[d], score, r.oos)
}

// inScopeFeatures are the calibration's inputs: the best label's score
// and its margin over the background.
func inScopeFeatures(s, bg float64) [4]float64 { return [4]float64{s, s - bg, s * s, 1} }

// inScope is the calibrated probability that a text whose best label
// scored s (and the background bg) is a question the index can answer.
func (r *Retriever) inScope(s, bg float64) float64 {
	f := inScopeFeatures(s, bg)
	z := 0.0
	for i := range f {
		z += r.calib[i] * f[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// shareSharpness turns score differences into shares of the confidence
// among the best labels: a tenth of a point of similarity is worth e² in
// odds. Entries that differ only in a model number ("K3" and "K4") score
// within a few hundredths of each other on a question that names neither
// clearly, and must share the confidence, so that the engine asks which
// one the customer means instead of guessing.
const shareSharpness = 20

// predict turns a ranking into a prediction.
func (r *Retriever) predict(k ranked) Prediction {
	var p Prediction
	if k.n == 0 {
		p.OutOfScope = true
		return p
	}
	in := r.inScope(k.top[0].score, k.bg)
	var shares [len(k.top)]float64
	var total float64
	for i := 0; i < k.n; i++ {
		shares[i] = math.Exp(shareSharpness * (k.top[i].score - k.top[0].score))
		total += shares[i]
	}
	for i := 0; i < k.n && i < 3; i++ {
		p.Candidates = append(p.Candidates, Candidate{Label: r.labels[k.top[i].label],
			Confidence: in * shares[i] / total})
	}
	p.Label, p.Confidence = p.Candidates[0].Label, p.Candidates[0].Confidence
	if k.bg > k.top[0].score {
		// The background is nearer than any entry: its document won.
		p.OOS = 1 - p.Confidence
	}
	p.OutOfScope = p.OutOfScopeAt(r.minConf)
	return p
}

// vector is a text's weighted feature vector.
func (r *Retriever) vector(norm string) sparse {
	s := r.scratch.Get().(*retrievalScratch)
	s.ids = r.ids(norm, s.ids[:0])
	x := r.weigh(s.ids)
	r.scratch.Put(s)
	return x
}

// Predict finds the labels nearest to a prepared text. A text with no
// indexed feature is out of scope.
func (r *Retriever) Predict(t Text) Prediction { return r.predictNorm(t.Norm, -1) }

// predictNorm predicts a normalised text, left out of document own if
// own ≥ 0.
func (r *Retriever) predictNorm(norm string, own int32) Prediction {
	x := r.vector(norm)
	if len(x.idx) == 0 {
		return Prediction{OutOfScope: true}
	}
	return r.predict(r.rank(x, own))
}

// PredictHeldOut predicts text as if its example with this label had not
// been trained on: the index's own leave-one-out estimate of how it
// answers unseen wordings, which the quality gate uses instead of
// retraining. A text that is not an example of an entry label (a
// background example, say) is predicted as is.
func (r *Retriever) PredictHeldOut(text, label string) Prediction {
	own := int32(-1)
	if li, ok := r.labelIdx[label]; ok {
		if d, ok := r.shared[docKey{li, exampleLang(text)}]; ok {
			own = d
		}
	}
	return r.predictNorm(Normalize(text), own)
}

// calibrate fits the in-scope probability on a sample of the training
// examples, each ranked as if left out of the index: an entry's question
// is a positive, a background example a negative. Whether the best label
// is the right one is left to the shares (shareSharpness): on a knowledge
// base written from templates, a question left out is nearest to the
// same template of a sibling entry, which a customer's new wording is not,
// so left-out answers would teach the calibration to refuse them all.
func (r *Retriever) calibrate() {
	stride := max(1, len(r.examples)/r.opts.CalibrationSample)
	var xs [][4]float64
	var ys []float64
	for i := 0; i < len(r.examples); i++ {
		label := int(r.docLabel[r.exampleDoc[i]])
		if label != r.oos && i%stride != 0 {
			continue
		}
		x := r.vector(Normalize(r.examples[i].Text))
		if len(x.idx) == 0 {
			continue
		}
		k := r.rank(x, r.exampleDoc[i])
		if k.n == 0 {
			continue
		}
		xs = append(xs, inScopeFeatures(k.top[0].score, k.bg))
		y := 0.0
		if label != r.oos {
			y = 1
		}
		ys = append(ys, y)
	}
	// The two kinds weigh the same in the fit, whatever their numbers.
	var pos float64
	for _, y := range ys {
		pos += y
	}
	ws := make([]float64, len(ys))
	for i, y := range ys {
		if y == 1 {
			ws[i] = float64(len(ys)) / (2 * pos)
		} else {
			ws[i] = float64(len(ys)) / (2 * (float64(len(ys)) - pos))
		}
	}
	r.calib = fitLogistic(xs, ys, ws)
}

// fitLogistic fits weighted logistic regression by Newton's method on
// four features (the last a constant), lightly regularised.
func fitLogistic(xs [][4]float64, ys, ws []float64) [4]float64 {
	var w [4]float64
	if len(xs) == 0 || slices.Index(ys, 0) < 0 || slices.Index(ys, 1) < 0 {
		// Nothing to tell apart: a score of 0.3 is an even chance.
		return [4]float64{10, 0, 0, -3}
	}
	const l2 = 1e-3
	for iter := 0; iter < 50; iter++ {
		var g [4]float64
		var h [4][4]float64
		for i, x := range xs {
			z := 0.0
			for j := range x {
				z += w[j] * x[j]
			}
			p := 1 / (1 + math.Exp(-z))
			for j := range x {
				g[j] += ws[i] * (p - ys[i]) * x[j]
				for k := range x {
					h[j][k] += ws[i] * p * (1 - p) * x[j] * x[k]
				}
			}
		}
		for j := 0; j < 3; j++ {
			g[j] += l2 * w[j] * float64(len(xs))
			h[j][j] += l2 * float64(len(xs))
		}
		for j := range h {
			h[j][j] += 1e-9
		}
		step, ok := solve4(h, g)
		if !ok {
			break
		}
		change := 0.0
		for j := range w {
			w[j] -= step[j]
			change = max(change, math.Abs(step[j]))
		}
		if change < 1e-6 {
			break
		}
	}
	return w
}

// solve4 solves h·x = g by Gaussian elimination with partial pivoting.
func solve4(h [4][4]float64, g [4]float64) ([4]float64, bool) {
	const n = 4
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(h[r][c]) > math.Abs(h[p][c]) {
				p = r
			}
		}
		if math.Abs(h[p][c]) < 1e-12 {
			return g, false
		}
		h[c], h[p] = h[p], h[c]
		g[c], g[p] = g[p], g[c]
		for r := c + 1; r < n; r++ {
			f := h[r][c] / h[c][c]
			for k := c; k < n; k++ {
				h[r][k] -= f * h[c][k]
			}
			g[r] -= f * g[c]
		}
	}
	var x [4]float64
	for r := n - 1; r >= 0; r-- {
		s := g[r]
		for k := r + 1; k < n; k++ {
			s -= h[r][k] * x[k]
		}
		x[r] = s / h[r][r]
	}
	return x, true
}

// SetThreshold sets the confidence below which a prediction is out of
// scope.
func (r *Retriever) SetThreshold(t float64) { r.minConf = t }

// Threshold returns the out-of-scope confidence threshold.
func (r *Retriever) Threshold() float64 { return r.minConf }

// Classes returns the number of labels, the background included.
func (r *Retriever) Classes() int { return len(r.labels) }

// Bytes estimates the memory the index takes.
func (r *Retriever) Bytes() int64 {
	n := int64(len(r.doc)+len(r.wt)+len(r.start)+len(r.idf)) * 4
	n += int64(len(r.docLabel))*(4+4+4) + int64(len(r.exampleDoc))*4
	for f := range r.vocab {
		n += int64(len(f)) + 16 + 4
	}
	for _, ex := range r.examples {
		n += int64(len(ex.Text)) + 32
	}
	return n
}

// String describes the index for logs.
func (r *Retriever) String() string {
	return fmt.Sprintf("retrieval index: %d labels, %d documents, %d features, %d postings",
		len(r.labels), len(r.docLabel), len(r.vocab), len(r.doc))
}

// retrieverMagic starts a Retriever's artefact, telling it from a Model's
// (which starts with gzip's own magic).
const retrieverMagic = "steward-retriever\n"

const retrieverFormat = 1

// retrieverFile is what a Retriever's artefact holds: the examples and the
// fitted calibration. The index itself is rebuilt from them on load, which
// takes a fraction of training (no calibration) and keeps the artefact
// small.
type retrieverFile struct {
	Format   int
	Texts    []string
	Labels   []string
	Opts     RetrieverOptions
	Calib    [4]float64
	MinConf  float64
	Features featureSet
}

// MarshalBinary encodes the retriever's artefact.
func (r *Retriever) MarshalBinary() ([]byte, error) {
	f := retrieverFile{Format: retrieverFormat, Opts: r.opts, Calib: r.calib, MinConf: r.minConf, Features: r.fs,
		Texts: make([]string, len(r.examples)), Labels: make([]string, len(r.examples))}
	for i, ex := range r.examples {
		f.Texts[i], f.Labels[i] = ex.Text, ex.Label
	}
	return encodeArtefact([]byte(retrieverMagic), "retriever", &f)
}

func unmarshalRetriever(data []byte) (*Retriever, error) {
	var f retrieverFile
	if err := decodeArtefact(data, "retriever", &f); err != nil {
		return nil, err
	}
	if f.Format != retrieverFormat {
		return nil, fmt.Errorf("retriever format %d is not supported (want %d)", f.Format, retrieverFormat)
	}
	if len(f.Texts) != len(f.Labels) || f.Features != defaultFeatures {
		return nil, fmt.Errorf("retriever is inconsistent: %d texts, %d labels", len(f.Texts), len(f.Labels))
	}
	examples := make([]Example, len(f.Texts))
	for i := range examples {
		examples[i] = Example{Text: f.Texts[i], Label: f.Labels[i]}
	}
	r, err := buildRetriever(examples, f.Opts)
	if err != nil {
		return nil, err
	}
	r.calib, r.minConf = f.Calib, f.MinConf
	return r, nil
}

// Classifier is what answers a knowledge base's questions: a Model, or a
// Retriever for a knowledge base too large for one.
type Classifier interface {
	Predict(Text) Prediction
	MarshalBinary() ([]byte, error)
	String() string
}

// UnmarshalClassifier decodes the artefact of a Model or a Retriever.
func UnmarshalClassifier(data []byte) (Classifier, error) {
	if rest, ok := bytes.CutPrefix(data, []byte(retrieverMagic)); ok {
		return unmarshalRetriever(rest)
	}
	return UnmarshalModel(data)
}
