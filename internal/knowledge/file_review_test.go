package knowledge

import (
	"strings"
	"testing"
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
