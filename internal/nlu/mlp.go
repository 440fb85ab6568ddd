package nlu

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// mlp is the neural half of the intent model: one hidden layer over the
// linear model's sparse features. The hidden layer is an embedding bag
// (the weighted sum of one row per present feature), then ReLU, dropout
// while training, and a softmax layer. It makes other errors than the
// linear model, and the average of the two is better than either
// (docs/quality.md).
type mlp struct {
	hidden, classes int
	rows            []int32   // feature id → row of w1, or -1 for a feature without one
	w1              []float32 // [row*hidden + unit]
	b1              []float32
	w2              []float32 // [unit*classes + class]
	b2              []float32
	temp            float64 // softmax temperature fitted by cross-validation
}

// The network's training settings, chosen on the validation splits of
// CLINC150, BANKING77 and SMP2017 (docs/quality.md): a rate of 0.4
// diverged, 20 epochs or 512 units bought nothing for their time, 128
// units lost half a point, and large initial input weights (±1.2) lost
// several points, the rows of rare features staying noise.
const (
	netEpochs  = 12
	netRate    = 0.1
	netDropout = 0.5
	netInit    = 0.01 // initial input weights are uniform in ±netInit
	// netMinSteps keeps a small knowledge base from stopping after a few
	// hundred updates: it gets more epochs (at most netMaxEpochs).
	netMinSteps  = 50_000
	netMaxEpochs = 1000
	// netMaxRows bounds the input layer: beyond it only the features in
	// the most examples get a row (at 256 units, 32 MB).
	netMaxRows = 1 << 15
)

// newMLP initialises a network with hidden units for the features of xs
// (the model has features in all) and classes outputs.
func newMLP(features int, xs []sparse, hidden, classes int, seed uint64) *mlp {
	df := make([]int32, features)
	for _, x := range xs {
		for _, f := range x.idx {
			df[f]++
		}
	}
	var ids []int32
	for f, d := range df {
		if d > 0 {
			ids = append(ids, int32(f))
		}
	}
	if len(ids) > netMaxRows {
		slices.SortStableFunc(ids, func(a, b int32) int { return cmp.Compare(df[b], df[a]) })
		ids = ids[:netMaxRows]
		slices.Sort(ids)
	}
	rows := make([]int32, features)
	for f := range rows {
		rows[f] = -1
	}
	for r, f := range ids {
		rows[f] = int32(r)
	}
	n := &mlp{hidden: hidden, classes: classes, rows: rows, temp: 1,
		w1: make([]float32, len(ids)*hidden), b1: make([]float32, hidden),
		w2: make([]float32, hidden*classes), b2: make([]float32, classes)}
	n.initWeights(seed)
	return n
}

// initWeights draws the initial weights: millions of numbers for a large
// vocabulary.
//
//go:norace
func (n *mlp) initWeights(seed uint64) {
	rng := newPCG(seed^0x51ed270b27f4a3c1, seed)
	for i := range n.w1 {
		n.w1[i] = (2*rng.float32() - 1) * netInit
	}
	a2 := float32(math.Sqrt(6 / float64(n.hidden+n.classes))) // Glorot
	for i := range n.w2 {
		n.w2[i] = (2*rng.float32() - 1) * a2
	}
}

// embed sets hid to the hidden layer's input for x: b1 plus the rows of
// x's features, weighted.
//
//go:norace
func (n *mlp) embed(x sparse, hid []float32) {
	h := n.hidden
	copy(hid, n.b1)
	for j, f := range x.idx {
		if r := int(n.rows[f]); r >= 0 {
			axpy(hid, x.val[j], n.w1[r*h:r*h+h])
		}
	}
}

// output sets acc to the logits of the hidden activations hid.
//
//go:norace
func (n *mlp) output(hid, acc []float32) {
	k := n.classes
	copy(acc, n.b2)
	for u, v := range hid {
		if v != 0 {
			axpy(acc, v, n.w2[u*k:u*k+k])
		}
	}
}

// logits scores x into out.
func (n *mlp) logits(x sparse, out []float64) {
	hid := make([]float32, n.hidden)
	acc := make([]float32, n.classes)
	n.embed(x, hid)
	for u, v := range hid {
		hid[u] = max(v, 0)
	}
	n.output(hid, acc)
	for c := range out {
		out[c] = float64(acc[c])
	}
}

// fit trains the network by stochastic gradient descent on the softmax
// cross-entropy, with a linearly decaying rate. Only the rows of an
// example's features and the units it activates are touched.
//
//go:norace
func (n *mlp) fit(xs []sparse, ys []int, seed uint64) {
	h, k := n.hidden, n.classes
	epochs := min(max(netEpochs, (netMinSteps+len(xs)-1)/len(xs)), netMaxEpochs)
	src := newPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src) // shuffles; the dropout masks draw from src itself
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	hid := make([]float32, h)
	gh := make([]float32, h) // gradient w.r.t. the hidden layer's input
	active := make([]int32, 0, h)
	acc := make([]float32, k)
	g := make([]float32, k) // gradient w.r.t. the logits
	probs := make([]float64, k)
	const keep = 1 - netDropout
	total := float64(epochs * len(xs))
	step := 0
	for epoch := 0; epoch < epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := float32(netRate * (1 - float64(step)/total))
			step++
			x := xs[i]
			n.embed(x, hid)
			active = active[:0]
			for u, v := range hid {
				if v > 0 && src.float32() < keep {
					hid[u] = v / keep
					active = append(active, int32(u))
				} else {
					hid[u] = 0
				}
			}
			n.output(hid, acc)
			for c := range probs {
				probs[c] = float64(acc[c])
			}
			softmax(probs)
			probs[ys[i]] -= 1
			for c := range g {
				g[c] = float32(probs[c])
			}
			for _, u := range active {
				row := n.w2[int(u)*k : int(u)*k+k]
				var s float32
				for c, w := range row {
					s += w * g[c]
				}
				gh[u] = s / keep
				axpy(row, -lr*hid[u], g)
			}
			axpy(n.b2, -lr, g)
			for j, f := range x.idx {
				if r := int(n.rows[f]); r >= 0 {
					row, a := n.w1[r*h:r*h+h], -lr*x.val[j]
					for _, u := range active {
						row[u] += a * gh[u]
					}
				}
			}
			for _, u := range active {
				n.b1[u] -= lr * gh[u]
			}
		}
	}
}

// bytes is the memory the network's parameters take.
func (n *mlp) bytes() int64 {
	return int64(len(n.rows)+len(n.w1)+len(n.b1)+len(n.w2)+len(n.b2)) * 4
}
