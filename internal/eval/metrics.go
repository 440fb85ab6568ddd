package eval

import "sort"

// Metrics compares predicted labels with gold ones.
type Metrics struct {
	Examples int
	Accuracy float64
	// MacroF1 is the unweighted mean F1 over every label that occurs in the
	// gold or the predicted labels (the out-of-scope label included). A
	// prediction of no label ("": a text holding nothing the model knows)
	// is a miss of its gold label, not a class of its own.
	MacroF1 float64
	// In-scope accuracy and out-of-scope recall and precision, when an
	// out-of-scope label is given; nil otherwise.
	InScopeAccuracy *float64
	OOSRecall       *float64
	OOSPrecision    *float64
	PerLabel        map[string]LabelScore
}

// LabelScore is one label's precision, recall and F1 and its gold count.
type LabelScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Score computes the metrics of predicted against gold labels (same length,
// same order). oos names the out-of-scope label, or is empty.
func Score(gold, predicted []string, oos string) Metrics {
	m := Metrics{Examples: len(gold), PerLabel: map[string]LabelScore{}}
	if len(gold) == 0 {
		return m
	}
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	labels := map[string]bool{}
	correct := 0
	var inScope, inScopeOK, oosGold, oosPred, oosHit int
	for i, g := range gold {
		p := predicted[i]
		labels[g] = true
		if p != "" {
			labels[p] = true
		}
		if g == p {
			correct++
			tp[g]++
		} else {
			fp[p]++
			fn[g]++
		}
		if oos == "" {
			continue
		}
		if g == oos {
			oosGold++
		} else {
			inScope++
			if g == p {
				inScopeOK++
			}
		}
		if p == oos {
			oosPred++
			if g == oos {
				oosHit++
			}
		}
	}
	m.Accuracy = ratio(correct, len(gold))
	names := make([]string, 0, len(labels))
	for l := range labels {
		names = append(names, l)
	}
	sort.Strings(names)
	var sumF1 float64
	for _, l := range names {
		s := LabelScore{
			Precision: ratio(tp[l], tp[l]+fp[l]),
			Recall:    ratio(tp[l], tp[l]+fn[l]),
			Support:   tp[l] + fn[l],
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		m.PerLabel[l] = s
		sumF1 += s.F1
	}
	m.MacroF1 = sumF1 / float64(len(names))
	if oos != "" {
		in, rec, prec := ratio(inScopeOK, inScope), ratio(oosHit, oosGold), ratio(oosHit, oosPred)
		m.InScopeAccuracy, m.OOSRecall, m.OOSPrecision = &in, &rec, &prec
	}
	return m
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
