package eval

import (
	"fmt"
	"sort"
	"time"

	"github.com/steward-cs/steward/internal/nlu"
)

// IntentOptions configure an intent evaluation.
type IntentOptions struct {
	// OOSLabel is the label of out-of-scope examples; empty means the data
	// has no out-of-scope class and every prediction is an in-scope label.
	OOSLabel string
	Train    nlu.TrainOptions
	// Retrieval evaluates the retrieval index a large knowledge base uses
	// (nlu.Retriever) instead of the linear model.
	Retrieval bool
}

// intentModel is what an evaluation needs of either intent model.
type intentModel interface {
	Predict(nlu.Text) nlu.Prediction
	SetThreshold(float64)
	Threshold() float64
	Classes() int
	Bytes() int64
	String() string
}

// IntentReport is what `steward eval intent --json` prints. Fractions are
// in 0..1; the out-of-scope figures are null without an out-of-scope label.
type IntentReport struct {
	Examples        int      `json:"examples"`
	Accuracy        float64  `json:"accuracy"`
	InScopeAccuracy *float64 `json:"in_scope_accuracy"`
	OOSRecall       *float64 `json:"oos_recall"`
	OOSPrecision    *float64 `json:"oos_precision"`
	MacroF1         float64  `json:"macro_f1"`
	TrainSeconds    float64  `json:"train_seconds"`
	PredictP50us    float64  `json:"predict_p50_us"`
	PredictP99us    float64  `json:"predict_p99_us"`

	TrainExamples int     `json:"train_examples"`
	ValExamples   int     `json:"val_examples"`
	Classes       int     `json:"classes"`
	Threshold     float64 `json:"threshold"` // the confidence below which a prediction is out of scope
	// ValInScopeAccuracy and ValOOSRecall are what the chosen threshold
	// scored on the validation split.
	ValInScopeAccuracy *float64 `json:"val_in_scope_accuracy,omitempty"`
	ValOOSRecall       *float64 `json:"val_oos_recall,omitempty"`
	// RankAccuracy is the share of in-scope test examples whose best
	// in-scope label is right, whatever the out-of-scope decision: the
	// classifier alone.
	RankAccuracy float64 `json:"rank_accuracy"`
	Model        string  `json:"model"`
	ModelBytes   int64   `json:"model_bytes"`
}

// Intent trains the production intent model on train, tunes its
// out-of-scope threshold on val (when there is one and an out-of-scope
// label), and scores it on test.
func Intent(train, val, test []nlu.Example, opts IntentOptions) (IntentReport, error) {
	var r IntentReport
	if len(train) == 0 || len(test) == 0 {
		return r, fmt.Errorf("train and test sets: %w", ErrEmpty)
	}
	to := opts.Train
	to.OOSLabel = opts.OOSLabel
	start := time.Now()
	var m intentModel
	var err error
	if opts.Retrieval {
		m, err = nlu.TrainRetriever(train, nlu.RetrieverOptions{OOSLabel: opts.OOSLabel})
	} else {
		m, err = nlu.Train(train, to)
	}
	if err != nil {
		return r, fmt.Errorf("train: %w", err)
	}
	r.TrainSeconds = time.Since(start).Seconds()
	r.TrainExamples, r.ValExamples = len(train), len(val)
	if opts.OOSLabel == "" {
		m.SetThreshold(0) // no out-of-scope class: always the best label
	} else if len(val) > 0 {
		preds, _ := predictAll(m, val)
		t, vm := tuneThreshold(val, preds, opts.OOSLabel)
		m.SetThreshold(t)
		r.ValInScopeAccuracy, r.ValOOSRecall = vm.InScopeAccuracy, vm.OOSRecall
	}
	r.Threshold = m.Threshold()
	preds, lat := predictAll(m, test)
	gold := make([]string, len(test))
	got := make([]string, len(test))
	inScope, ranked := 0, 0
	for i, ex := range test {
		gold[i] = ex.Label
		got[i] = decide(preds[i], r.Threshold, opts.OOSLabel)
		if ex.Label != opts.OOSLabel {
			inScope++
			if preds[i].Label == ex.Label {
				ranked++
			}
		}
	}
	r.RankAccuracy = ratio(ranked, inScope)
	s := Score(gold, got, opts.OOSLabel)
	r.Examples, r.Accuracy, r.MacroF1 = s.Examples, s.Accuracy, s.MacroF1
	r.InScopeAccuracy, r.OOSRecall, r.OOSPrecision = s.InScopeAccuracy, s.OOSRecall, s.OOSPrecision
	r.PredictP50us, r.PredictP99us = percentile(lat, 0.50), percentile(lat, 0.99)
	r.Classes = m.Classes()
	r.Model, r.ModelBytes = m.String(), m.Bytes()
	return r, nil
}

// SentimentReport is what `steward eval sentiment --json` prints.
type SentimentReport struct {
	Examples      int                   `json:"examples"`
	Accuracy      float64               `json:"accuracy"`
	MacroF1       float64               `json:"macro_f1"`
	TrainSeconds  float64               `json:"train_seconds"`
	PredictP50us  float64               `json:"predict_p50_us"`
	PredictP99us  float64               `json:"predict_p99_us"`
	TrainExamples int                   `json:"train_examples"`
	ValExamples   int                   `json:"val_examples"`
	Labels        map[string]LabelScore `json:"labels"`
	Model         string                `json:"model"`
}

// Sentiment trains the sentiment model on train (and val, which sentiment
// has nothing to tune on) and scores it on test.
func Sentiment(train, val, test []nlu.Example, opts nlu.TrainOptions) (SentimentReport, error) {
	var r SentimentReport
	if len(train) == 0 || len(test) == 0 {
		return r, fmt.Errorf("train and test sets: %w", ErrEmpty)
	}
	start := time.Now()
	m, err := nlu.TrainSentiment(append(append([]nlu.Example(nil), train...), val...), opts)
	if err != nil {
		return r, fmt.Errorf("train: %w", err)
	}
	r.TrainSeconds = time.Since(start).Seconds()
	r.TrainExamples, r.ValExamples = len(train), len(val)
	preds, lat := predictAll(m, test)
	gold := make([]string, len(test))
	got := make([]string, len(test))
	for i, ex := range test {
		gold[i], got[i] = ex.Label, preds[i].Label
	}
	s := Score(gold, got, "")
	r.Examples, r.Accuracy, r.MacroF1, r.Labels = s.Examples, s.Accuracy, s.MacroF1, s.PerLabel
	r.PredictP50us, r.PredictP99us = percentile(lat, 0.50), percentile(lat, 0.99)
	r.Model = m.String()
	return r, nil
}

// predictAll classifies every example as the engine would (preparing the
// raw text first) and returns the predictions and each call's latency in
// microseconds.
func predictAll(m interface{ Predict(nlu.Text) nlu.Prediction }, exs []nlu.Example) ([]nlu.Prediction, []float64) {
	preds := make([]nlu.Prediction, len(exs))
	lat := make([]float64, len(exs))
	for i, ex := range exs {
		start := time.Now()
		preds[i] = m.Predict(nlu.Prepare(ex.Text))
		lat[i] = float64(time.Since(start).Nanoseconds()) / 1e3
	}
	return preds, lat
}

// decide turns a prediction into a label at threshold t.
func decide(p nlu.Prediction, t float64, oos string) string {
	if oos != "" && p.OutOfScopeAt(t) {
		return oos
	}
	return p.Label
}

// MaxInScopeLoss is how much in-scope accuracy the out-of-scope threshold
// may cost on the validation split: refusing a question the bot knows
// costs the customer more than a missed out-of-scope one, and on every data
// set measured the curve is flat enough that a larger budget buys little.
const MaxInScopeLoss = 0.005

// tuneThreshold picks the highest confidence threshold whose in-scope
// accuracy on the validation split stays within MaxInScopeLoss of the
// accuracy with no threshold: as much out-of-scope recall as that budget
// buys.
func tuneThreshold(val []nlu.Example, preds []nlu.Prediction, oos string) (float64, Metrics) {
	gold := make([]string, len(val))
	for i, ex := range val {
		gold[i] = ex.Label
	}
	got := make([]string, len(val))
	at := func(t float64) Metrics {
		for i := range preds {
			got[i] = decide(preds[i], t, oos)
		}
		return Score(gold, got, oos)
	}
	best, bestM := 0.0, at(0)
	floor := *bestM.InScopeAccuracy - MaxInScopeLoss
	for step := 1; step < 100; step++ {
		t := float64(step) / 100
		m := at(t)
		if *m.InScopeAccuracy < floor-1e-12 {
			break
		}
		best, bestM = t, m
	}
	return best, bestM
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p*float64(len(s)-1) + 0.5)
	return s[i]
}
