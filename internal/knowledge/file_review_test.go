package knowledge

import (
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/errcode"
)

// A JSON import that is not UTF-8 (a file saved as GBK or Latin-1 by a
// spreadsheet) is refused, as the same file in YAML is: encoding/json turns
// every such byte into U+FFFD without a word, so the import stored answers
// with "�" in place of the text, and Validate's UTF-8 check never saw them.
// A key given twice (two "en" blocks) drops the first block silently in
// JSON, where YAML refuses the file.
func TestDecodeRefusesJSONItWouldChangeSilently(t *testing.T) {
	latin1 := "{\"entries\":[{\"id\":\"a\",\"category\":\"x\",\"locales\":{\"en\":{\"title\":\"t\",\"questions\":[\"q\"]," +
		"\"answer\":\"Orders over \xa399 ship free\"}}}]}"
	yamlLatin1 := "entries:\n  - id: a\n    category: x\n    locales: {en: {title: t, questions: [q], answer: \"Orders over \xa399 ship free\"}}\n"
	if _, err := Decode(strings.NewReader(yamlLatin1), FormatYAML); err == nil {
		t.Fatalf("the YAML control took bytes that are not UTF-8")
	}
	if es, err := Decode(strings.NewReader(latin1), FormatJSON); err == nil {
		t.Errorf("a JSON file that is not UTF-8 was decoded, its answer now %q", es[0].Locales[LocaleEN].Answer)
	}
	twice := `{"entries":[{"id":"a","category":"x","locales":{
		"en":{"title":"Fees","questions":["how much is shipping"],"answer":"Shipping is free over 99."},
		"en":{"title":"Returns","questions":["can I return this"],"answer":"Returns within seven days."}}}]}`
	if es, err := Decode(strings.NewReader(twice), FormatJSON); err == nil {
		t.Errorf("a JSON entry with two \"en\" blocks was decoded keeping only %+v", es[0].Locales[LocaleEN])
	}
}

// A JSON file's error says on which line (a misspelled field or a wrong
// type in the 58th of a hundred entries named nothing), in Chinese too; a
// byte-order mark is skipped in JSON as it is in YAML; an empty YAML list
// item is refused (it was dropped without a word, where JSON's null is
// refused).
func TestDecodeSaysWhereAndSkipsWhatIsNotContent(t *testing.T) {
	entry := func(i int, answer string) string {
		return `    {"id": "e` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `", "category": "x",
     "locales": {"en": {"title": "t", "questions": ["q"], ` + answer + `}}}`
	}
	var lines []string
	for i := range 10 {
		answer := `"answer": "a"`
		if i == 7 {
			answer = `"anwser": "a"`
		}
		lines = append(lines, entry(i, answer))
	}
	doc := "{\"entries\": [\n" + strings.Join(lines, ",\n") + "\n]}"
	_, err := Decode(strings.NewReader(doc), FormatJSON)
	if err == nil || !strings.Contains(err.Error(), "line 17") || !strings.Contains(err.Error(), "anwser") ||
		!strings.Contains(errcode.MessageZH(err), "第 17 行") {
		t.Errorf("a misspelled field in the 8th entry: %v (zh %q), want line 17 (its line) named", err, errcode.MessageZH(err))
	}
	good := `{"entries":[{"id":"a","category":"x","locales":{"en":{"title":"t","questions":["q"],"answer":"a"}}}]}`
	if es, err := Decode(strings.NewReader("\ufeff"+good), FormatJSON); err != nil || len(es) != 1 {
		t.Errorf("a JSON file with a byte-order mark: %v", err)
	}
	nulls := "entries:\n  - id: a\n    category: x\n    locales:\n      en:\n        title: t\n        questions:\n          - how do I pay\n          -\n          - can I pay later\n        answer: a\n"
	if es, err := Decode(strings.NewReader(nulls), FormatYAML); err == nil || !strings.Contains(err.Error(), "line 9") {
		t.Errorf("an empty YAML list item: %v (questions %v), want it refused at line 9", err, es)
	}
	if _, err := Decode(strings.NewReader(`{"entries":[]}`), FormatJSON); err == nil || errcode.MessageZH(err) == "" {
		t.Errorf("a file without entries: %v, want an error in both languages", err)
	}
}
