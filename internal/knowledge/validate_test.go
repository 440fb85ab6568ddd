package knowledge_test

import (
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
)

// An entry's problems are said in both languages, naming the field (and in
// Chinese the locale in words), with every number in its place.
func TestValidateSpeaksBothLanguages(t *testing.T) {
	ok := func() knowledge.Entry {
		return knowledge.Entry{ID: "gift-wrap", Category: "orders", Locales: map[string]knowledge.Content{
			knowledge.LocaleZH: {Title: "礼品包装", Questions: []string{"可以礼品包装吗"}, Answer: "可以。"},
			knowledge.LocaleEN: {Title: "Gift wrap", Questions: []string{"gift wrap?"}, Answer: "Yes."},
		}}
	}
	for _, tc := range []struct {
		name   string
		change func(*knowledge.Entry)
		en, zh string
	}{
		{"no id", func(e *knowledge.Entry) { e.ID = "" }, "id is required", "请填写条目 ID"},
		{"bad id", func(e *knowledge.Entry) { e.ID = "Gift Wrap" }, `id "Gift Wrap" must be a lowercase slug`, `条目 ID "Gift Wrap" 只能由小写字母`},
		{"no category", func(e *knowledge.Entry) { e.Category = "" }, "entry gift-wrap: category is required", "条目 gift-wrap：请填写类别"},
		{"no answer", func(e *knowledge.Entry) {
			c := e.Locales[knowledge.LocaleEN]
			c.Answer = ""
			e.Locales[knowledge.LocaleEN] = c
		}, "entry gift-wrap: en answer is empty", "条目 gift-wrap：请填写英文答案"},
		{"empty question", func(e *knowledge.Entry) {
			c := e.Locales[knowledge.LocaleZH]
			c.Questions = []string{"可以吗", " "}
			e.Locales[knowledge.LocaleZH] = c
		}, "entry gift-wrap: zh-CN question 2 is empty", "条目 gift-wrap：第 2 个中文问法为空"},
		{"long question", func(e *knowledge.Entry) {
			c := e.Locales[knowledge.LocaleEN]
			c.Questions = []string{strings.Repeat("q", knowledge.MaxQuestionRunes+1)}
			e.Locales[knowledge.LocaleEN] = c
		}, "entry gift-wrap: en question 1 has 501 characters (max 500)", "条目 gift-wrap：第 1 个英文问法有 501 个字符（最多 500）"},
	} {
		e := ok()
		tc.change(&e)
		err := e.Validate()
		if errcode.Code(err) != errcode.Invalid {
			t.Errorf("%s: %v, want an invalid error", tc.name, err)
			continue
		}
		en, zh := errcode.Message(err), errcode.MessageZH(err)
		if !strings.Contains(en, tc.en) || !strings.Contains(zh, tc.zh) || strings.Contains(en+zh, "%!") {
			t.Errorf("%s:\n en %q, want %q\n zh %q, want %q", tc.name, en, tc.en, zh, tc.zh)
		}
	}
	if e := ok(); e.Validate() != nil {
		t.Errorf("a valid entry: %v", e.Validate())
	}
}
