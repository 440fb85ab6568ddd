package nlu

import (
	"math"
	"testing"
)

// NegativeEmotion sums the weights of the Chinese lexicon's hits in the
// order "for w, v := range angerZH" visits them, which Go randomises on
// every range: 0.9 + 0.8 + 1.6 and 0.9 + 1.6 + 0.8 differ in the last bit,
// so one message scores differently from call to call (the package promises
// to be deterministic; a score that sits on a threshold flips).
func TestReviewNegativeEmotionIsDeterministic(t *testing.T) {
	text := Prepare("一直没人回复 不满 不要脸")
	first := NegativeEmotion(text)
	for i := 0; i < 500; i++ {
		if got := NegativeEmotion(text); got != first {
			t.Fatalf("call %d scored %v (bits %x), the first call %v (bits %x)", i, got, math.Float64bits(got),
				first, math.Float64bits(first))
		}
	}
}

// DetectLanguage counts U+FF21..U+FF5A as full-width Latin letters, but
// that range also holds the full-width punctuation ［ ＼ ］ ＾ ＿ ｀
// (U+FF3B..U+FF40), which Chinese input methods type. A Chinese message
// with a few of them is taken for mixed (or English) text: the retriever
// files such an example under the "mixed" document, and the engine's
// language decisions see a non-Chinese message.
func TestReviewDetectLanguageFullWidthPunctuation(t *testing.T) {
	for _, s := range []string{"［＿］订单", "查订单＿＿＿"} {
		if got := DetectLanguage(s); got != LangZH {
			t.Errorf("DetectLanguage(%q) = %q, want zh: full-width punctuation counted as Latin letters", s, got)
		}
	}
}
