package nlu

import (
	"encoding/json"
	"math"
	"testing"
)

// reviewCraft re-encodes m's artefact after edit changes its decoded file.
func reviewCraft(t *testing.T, m *Model, edit func(f *modelFile)) []byte {
	t.Helper()
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var f modelFile
	if err := decodeArtefact(data, "model", &f); err != nil {
		t.Fatal(err)
	}
	edit(&f)
	out, err := encodeArtefact(nil, "model", &f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reviewPredict predicts q, turning a panic into a test error.
func reviewPredict(t *testing.T, m *Model, q string) (p Prediction, ok bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Predict(%q) on a model UnmarshalModel accepted panicked: %v", q, r)
			ok = false
		}
	}()
	return m.Predict(Prepare(q)), true
}

// UnmarshalModel checks the lengths of the artefact's parts but not the
// values that Predict uses as indices or divisors: a feature group other
// than 0 or 1 indexes weigh's [2]float64 out of range, and a NaN
// temperature passes "Temp <= 0".
func TestReviewUnmarshalModelValidatesValues(t *testing.T) {
	m, err := Train(toyExamples(), TrainOptions{OOSLabel: "oos", Hidden: -1, CalibrationFolds: 1})
	if err != nil {
		t.Fatal(err)
	}
	const q = "where is my refund"
	t.Run("group out of range", func(t *testing.T) {
		data := reviewCraft(t, m, func(f *modelFile) {
			for i := range f.Group {
				f.Group[i] = 2
			}
		})
		back, err := UnmarshalModel(data)
		if err != nil {
			return // refused: fine
		}
		reviewPredict(t, back, q)
	})
	t.Run("NaN temperature", func(t *testing.T) {
		data := reviewCraft(t, m, func(f *modelFile) { f.Temp = math.NaN() })
		back, err := UnmarshalModel(data)
		if err != nil {
			return // refused: fine
		}
		if p, ok := reviewPredict(t, back, q); ok && (math.IsNaN(p.Confidence) || !p.OutOfScope && !(p.Confidence >= 0)) {
			t.Errorf("loaded model predicts %+v: NaN confidence, and in scope (OutOfScope=%v)", p, p.OutOfScope)
		}
	})
}

// With NB scaling on (the default), scaleByEvidence divides by the mean
// evidence of all features. When no feature tells one class from another
// (here: two labels trained on the same text) every evidence is 0, the
// mean is 0, and every IDF becomes 0/0 = NaN. The model then predicts NaN
// confidences, and OutOfScopeAt calls a NaN confidence in scope
// (NaN < t is false), so the engine answers with it and cannot
// JSON-encode the confidence.
func TestReviewTrainNoEvidenceGivesNaN(t *testing.T) {
	m, err := Train([]Example{{"refund", "A"}, {"refund", "B"}}, TrainOptions{Hidden: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Predict(Prepare("refund"))
	if math.IsNaN(p.Confidence) {
		t.Errorf("confidence is NaN (%+v), OutOfScope=%v", p, p.OutOfScope)
	}
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("prediction cannot be encoded: %v", err)
	}
}

// Even apart from how a NaN gets there, OutOfScopeAt must not call a
// prediction whose confidence is not a number in scope.
func TestReviewOutOfScopeAtNaN(t *testing.T) {
	p := Prediction{Label: "A", Confidence: math.NaN()}
	if !p.OutOfScopeAt(DefaultMinConfidence) {
		t.Error("a NaN confidence is in scope")
	}
}
