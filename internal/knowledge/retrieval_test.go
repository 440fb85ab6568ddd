package knowledge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/nlu"
)

// catalogue returns n entries: one question topic about each of many
// products, in both locales.
func catalogue(n int) []Entry {
	topics := []struct{ slug, zh, en string }{
		{"battery", "%s电池能用多久", "how long does the %s battery last"},
		{"warranty", "%s保修多久", "how long is the %s warranty"},
		{"return", "%s能退货吗", "can i return the %s"},
		{"colour", "%s有哪些颜色", "which colours does the %s come in"},
	}
	entries := make([]Entry, n)
	for i := range entries {
		t := topics[i%len(topics)]
		product := fmt.Sprintf("X%d", i/len(topics)+10)
		entries[i] = Entry{ID: product + "-" + t.slug, Category: "specs", Locales: map[string]Content{
			LocaleZH: {Title: fmt.Sprintf(t.zh, product), Answer: "答案 " + product,
				Questions: []string{fmt.Sprintf(t.zh, product) + "呢", "请问" + fmt.Sprintf(t.zh, product)}},
			LocaleEN: {Title: fmt.Sprintf(t.en, product), Answer: "answer " + product,
				Questions: []string{fmt.Sprintf(t.en, product) + " please", "tell me " + fmt.Sprintf(t.en, product)}},
		}}
	}
	return entries
}

// Beyond RetrievalAbove entries an index answers by retrieval; its
// artefact loads back as one, and the quality gate estimates it by
// leaving each question out instead of retraining.
func TestLargeKnowledgeBasesUseRetrieval(t *testing.T) {
	small, err := BuildIndex(catalogue(20), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(small.ModelInfo(), "linear model") {
		t.Errorf("20 entries: %s", small.ModelInfo())
	}
	entries := catalogue(RetrievalAbove + 1)
	ix, err := BuildIndex(entries, []Example{{Text: "讲个笑话", Label: OutOfScopeLabel}, {Text: "tell me a joke", Label: OutOfScopeLabel}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ix.ModelInfo(), "retrieval index") {
		t.Fatalf("%d entries: %s", len(entries), ix.ModelInfo())
	}
	if p := ix.Analyze(nlu.Prepare("X42 的电池可以用多长时间")); p.Label != "X42-battery" {
		t.Errorf("X42 battery: got %s (%.2f)", p.Label, p.Confidence)
	}
	model, err := ix.Model()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadIndex(entries, model)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.ModelInfo() != ix.ModelInfo() {
		t.Errorf("loaded %s, built %s", loaded.ModelInfo(), ix.ModelInfo())
	}
	acc, n, _ := leaveOneOut(entries, ix.model.(heldOut), GateOptions{MaxHeldOut: 400})
	if n < 300 || n > 500 {
		t.Errorf("held out %d questions, want about 400", n)
	}
	if acc < 0.5 {
		t.Errorf("left-out accuracy %.3f", acc)
	}
	t.Logf("left-out accuracy %.3f on %d questions", acc, n)
}
