package knowledge

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/nlu"
)

// The demo knowledge base is what a first-time user meets: it must cover the
// shop's main categories with enough real phrasings in both languages.
func TestDemoKnowledgeBase(t *testing.T) {
	entries, err := DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 60 {
		t.Fatalf("%d entries, want at least 60", len(entries))
	}
	cats := map[string]int{}
	for _, e := range entries {
		cats[e.Category]++
		for _, loc := range Locales {
			c, ok := e.Locales[loc]
			if !ok {
				t.Fatalf("entry %s has no %s text", e.ID, loc)
			}
			if len(c.Questions) < 5 {
				t.Errorf("entry %s has %d %s questions, want at least 5", e.ID, len(c.Questions), loc)
			}
		}
	}
	for _, want := range []string{"order_status", "shipping", "returns", "refunds", "cancel_order", "change_address",
		"payment", "invoice", "account", "coupons"} {
		if cats[want] == 0 {
			t.Errorf("no entry in category %s", want)
		}
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	cases := map[string]string{
		"entries: []":   "no entries",
		"entries: [{}]": "id is required",
		"entrys: []":    "entrys",
		"entries:\n  - id: a\n    category: x\n    locales: {fr: {title: t, questions: [q], answer: a}}":  "unknown locale",
		"entries:\n  - id: a\n    category: x\n    locales: {en: {title: t, questions: [], answer: a}}":   "at least one question",
		"entries:\n  - id: a\n    category: x\n    locales: {en: {title: t, questions: [q], answer: ''}}": "answer is empty",
	}
	for in, want := range cases {
		_, err := Decode(strings.NewReader(in), FormatYAML)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%q) = %v, want an error about %q", in, err, want)
		}
	}
	dup := `{"entries":[{"id":"a","category":"x","locales":{"en":{"title":"t","questions":["q"],"answer":"a"}}},
		{"id":"a","category":"x","locales":{"en":{"title":"t","questions":["q"],"answer":"a"}}}]}`
	if _, err := Decode(strings.NewReader(dup), FormatJSON); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Errorf("duplicate ids: %v", err)
	}
	// A second document (YAML "---") or a second JSON value used to be
	// dropped without a word, and its entries with it.
	one := "entries:\n  - id: a\n    category: x\n    locales: {en: {title: t, questions: [q], answer: a}}\n"
	if _, err := Decode(strings.NewReader(one+"---\n"+strings.Replace(one, "id: a", "id: b", 1)), FormatYAML); err == nil ||
		!strings.Contains(err.Error(), "more than one document") {
		t.Errorf("two YAML documents: %v", err)
	}
	js := `{"entries":[{"id":"a","category":"x","locales":{"en":{"title":"t","questions":["q"],"answer":"a"}}}]}`
	if _, err := Decode(strings.NewReader(js+js), FormatJSON); err == nil || !strings.Contains(err.Error(), "more follows") {
		t.Errorf("two JSON values: %v", err)
	}
	// Decoder.More skips a stray "}" or "]": such a file was imported.
	for _, tail := range []string{"}", "]]", " }\n"} {
		if _, err := Decode(strings.NewReader(js+tail), FormatJSON); err == nil || !strings.Contains(err.Error(), "more follows") {
			t.Errorf("a JSON value followed by %q: %v", tail, err)
		}
	}
	// An entry's error keeps its Chinese text, under the entry's number:
	// the import API answers a console in zh-CN with it.
	bad := `{"entries":[` + js[len(`{"entries":[`):len(js)-2] + `,{"id":"b","category":"x","locales":{"en":{"title":"t","questions":[],"answer":"a"}}}]}`
	_, err := Decode(strings.NewReader(bad), FormatJSON)
	if errcode.Code(err) != errcode.Invalid || !strings.HasPrefix(errcode.Message(err), "entry 2: ") ||
		!strings.HasPrefix(errcode.MessageZH(err), "第 2 条：") || !strings.ContainsFunc(errcode.MessageZH(err)[len("第 2 条："):], func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Errorf("an entry's error: code %q, %q, zh %q", errcode.Code(err), errcode.Message(err), errcode.MessageZH(err))
	}
	_, err = Decode(strings.NewReader(dup), FormatJSON)
	if !strings.HasPrefix(errcode.MessageZH(err), "第 2 条：") {
		t.Errorf("a duplicate id: zh %q", errcode.MessageZH(err))
	}
	if es, err := Decode(strings.NewReader(js+"\n"), FormatJSON); err != nil || len(es) != 1 {
		t.Errorf("one JSON value with a newline: %v", err)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	entries, err := DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatYAML, FormatJSON} {
		var buf bytes.Buffer
		if err := Encode(&buf, entries, f); err != nil {
			t.Fatal(err)
		}
		back, err := Decode(&buf, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(back) != len(entries) || back[3].Locales[LocaleZH].Answer != entries[3].Locales[LocaleZH].Answer {
			t.Fatalf("%s round trip changed the entries", f)
		}
	}
}

// BenchmarkAnalyze measures one classification on the demo knowledge base,
// as the engine runs it on every customer message: preparing the text and
// predicting its intent.
func BenchmarkAnalyze(b *testing.B) {
	entries, err := DemoEntries()
	if err != nil {
		b.Fatal(err)
	}
	ix, err := BuildIndex(entries, nil)
	if err != nil {
		b.Fatal(err)
	}
	msgs := []string{"我的快递到哪了，三天了还没动", "how long does a refund take to reach my card", "能开增值税专用发票吗", "can I change the delivery address"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ix.Analyze(nlu.Prepare(msgs[i%len(msgs)]))
		i++
	}
}

// Servers share trained models through an nlu.Memo (the test suites do),
// which is only sound if training the same entries twice builds the same
// model bit for bit: the network, the cross-validated calibration and all.
// A fifth of the demo knowledge base keeps this quick.
func TestTrainingTheSameEntriesGivesTheSameModel(t *testing.T) {
	entries, err := DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	entries = entries[:len(entries)/5]
	var models [2][]byte
	for i := range models {
		ix, err := BuildIndex(entries, nil)
		if err != nil {
			t.Fatal(err)
		}
		if models[i], err = ix.Model(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(models[0], models[1]) {
		t.Fatal("two trainings on the same entries built different models")
	}
}
