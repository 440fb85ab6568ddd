// Package knowledge owns the knowledge base: entries with their question
// variants and answers per locale, their import and export, and the index the
// bot answers from.
package knowledge

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/nlu"
)

// The locales every entry may carry.
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

// Locales lists the supported locales in a stable order.
var Locales = [...]string{LocaleZH, LocaleEN}

// Content is an entry's text in one locale.
type Content struct {
	// Title is the entry's title in this locale; empty means Entry.Title.
	Title     string   `json:"title,omitempty" yaml:"title,omitempty"`
	Questions []string `json:"questions" yaml:"questions"`
	Answer    string   `json:"answer" yaml:"answer"`
}

// Entry is one question the shop answers, in every locale it has.
type Entry struct {
	ID       string `json:"id" yaml:"id"`
	Category string `json:"category" yaml:"category"`
	// Title names the entry for editors, and for customers in any locale
	// without its own title.
	Title     string             `json:"title,omitempty" yaml:"title,omitempty"`
	Tags      []string           `json:"tags,omitempty" yaml:"tags,omitempty"`
	Essential bool               `json:"essential,omitempty" yaml:"essential,omitempty"`
	Locales   map[string]Content `json:"locales" yaml:"locales"`
	CreatedAt time.Time          `json:"-" yaml:"-"`
	// version is the entry's version while a release is being built.
	version   int
	UpdatedAt time.Time `json:"-" yaml:"-"`
}

// Limits on entry fields; they keep a bad import from bloating the model.
const (
	MaxQuestions      = 200
	MaxQuestionRunes  = 500
	MaxAnswerRunes    = 4000
	MaxTitleRunes     = 120
	maxIDLen          = 100
	maxTags           = 20
	maxTagRunes       = 40
	maxCategoryLength = 64
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Validate reports the first problem with e, naming the field, in English
// and Chinese (errcode.Localized: the console shows the editor's language).
func (e *Entry) Validate() error {
	bad := func(en, zh string, args ...any) error { return errcode.Localized(errcode.Invalid, en, zh, args...) }
	switch {
	case e.ID == "":
		return bad("id is required", "请填写条目 ID")
	case len(e.ID) > maxIDLen || !slugRE.MatchString(e.ID):
		return bad("id %[1]q must be a lowercase slug of letters, digits, '-', '_' or '.' (at most %[2]d)",
			"条目 ID %[1]q 只能由小写字母、数字、“-”“_”“.”组成（最多 %[2]d 个字符）", e.ID, maxIDLen)
	case e.Category == "":
		return bad("entry %[1]s: category is required", "条目 %[1]s：请填写类别", e.ID)
	case len(e.Category) > maxCategoryLength || !slugRE.MatchString(e.Category):
		return bad("entry %[1]s: category %[2]q must be a lowercase slug", "条目 %[1]s：类别 %[2]q 只能由小写字母、数字、“-”“_”“.”组成", e.ID, e.Category)
	case len([]rune(e.Title)) > MaxTitleRunes:
		return bad("entry %[1]s: title has %[2]d characters (max %[3]d)", "条目 %[1]s：标题有 %[2]d 个字符（最多 %[3]d）", e.ID, len([]rune(e.Title)), MaxTitleRunes)
	case len(e.Tags) > maxTags:
		return bad("entry %[1]s: %[2]d tags (max %[3]d)", "条目 %[1]s：有 %[2]d 个标签（最多 %[3]d）", e.ID, len(e.Tags), maxTags)
	case len(e.Locales) == 0:
		return bad("entry %[1]s: at least one locale (zh-CN or en) is required", "条目 %[1]s：至少需要中文或英文内容之一", e.ID)
	}
	// PostgreSQL cannot store a NUL in text, and bytes that are not UTF-8
	// would be changed on the way: refused, naming the entry.
	texts := append([]string{e.Title}, e.Tags...)
	for _, c := range e.Locales {
		texts = append(append(texts, c.Title, c.Answer), c.Questions...)
	}
	for _, t := range texts {
		if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
			return bad("entry %[1]s: a text holds a NUL or bytes that are not UTF-8", "条目 %[1]s：内容含有空字符（NUL）或非 UTF-8 字节", e.ID)
		}
	}
	for _, tag := range e.Tags {
		if strings.TrimSpace(tag) == "" || len([]rune(tag)) > maxTagRunes {
			return bad("entry %[1]s: tag %[2]q must be 1 to %[3]d characters", "条目 %[1]s：标签 %[2]q 须为 1 到 %[3]d 个字符", e.ID, tag, maxTagRunes)
		}
	}
	for loc, c := range e.Locales {
		if loc != LocaleZH && loc != LocaleEN {
			return bad("entry %[1]s: unknown locale %[2]q (want zh-CN or en)", "条目 %[1]s：不支持的语言 %[2]q（只支持 zh-CN 和 en）", e.ID, loc)
		}
		// In Chinese the locale is named in words: 中文内容, 英文内容.
		in := func(en, zh string, args ...any) error {
			return bad(en, zh, append([]any{e.ID, loc, map[string]string{LocaleZH: "中文", LocaleEN: "英文"}[loc]}, args...)...)
		}
		if strings.TrimSpace(c.Title) == "" && strings.TrimSpace(e.Title) == "" {
			return in("entry %[1]s: title is required (the entry's title or a %[2]s title)", "条目 %[1]s：请填写标题（条目标题或%[3]s标题）")
		}
		if n := len([]rune(c.Title)); n > MaxTitleRunes {
			return in("entry %[1]s: %[2]s title has %[4]d characters (max %[5]d)", "条目 %[1]s：%[3]s标题有 %[4]d 个字符（最多 %[5]d）", n, MaxTitleRunes)
		}
		if strings.TrimSpace(c.Answer) == "" {
			return in("entry %[1]s: %[2]s answer is empty", "条目 %[1]s：请填写%[3]s答案")
		}
		if n := len([]rune(c.Answer)); n > MaxAnswerRunes {
			return in("entry %[1]s: %[2]s answer has %[4]d characters (max %[5]d)", "条目 %[1]s：%[3]s答案有 %[4]d 个字符（最多 %[5]d）", n, MaxAnswerRunes)
		}
		if len(c.Questions) == 0 {
			return in("entry %[1]s: %[2]s needs at least one question", "条目 %[1]s：%[3]s内容至少需要一个问法")
		}
		if len(c.Questions) > MaxQuestions {
			return in("entry %[1]s: %[2]s has %[4]d questions (max %[5]d)", "条目 %[1]s：%[3]s问法有 %[4]d 个（最多 %[5]d）", len(c.Questions), MaxQuestions)
		}
		for i, q := range c.Questions {
			if strings.TrimSpace(q) == "" {
				return in("entry %[1]s: %[2]s question %[4]d is empty", "条目 %[1]s：第 %[4]d 个%[3]s问法为空", i+1)
			}
			if n := len([]rune(q)); n > MaxQuestionRunes {
				return in("entry %[1]s: %[2]s question %[4]d has %[5]d characters (max %[6]d)", "条目 %[1]s：第 %[4]d 个%[3]s问法有 %[5]d 个字符（最多 %[6]d）", i+1, n, MaxQuestionRunes)
			}
		}
	}
	return nil
}

// Text returns the entry's content in locale, falling back to the other
// locale; the content's title is filled in from the entry's when empty.
func (e *Entry) Text(locale string) (Content, string) {
	if c, ok := e.Locales[locale]; ok {
		return e.titled(c), locale
	}
	for _, l := range Locales {
		if c, ok := e.Locales[l]; ok {
			return e.titled(c), l
		}
	}
	return Content{}, locale
}

func (e *Entry) titled(c Content) Content {
	if c.Title == "" {
		c.Title = e.Title
	}
	return c
}

// SearchText is what an editor's search (Filter.Query) looks in: the id,
// the titles, every question and answer, one per line and folded as
// FoldQuery folds the search, so that "vip" finds "ＶＩＰ" and "订单"
// finds "訂單" on every database.
func (e *Entry) SearchText() string {
	var b strings.Builder
	line := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	line(e.ID)
	line(e.Title)
	locales := make([]string, 0, len(e.Locales))
	for l := range e.Locales {
		locales = append(locales, l)
	}
	slices.Sort(locales)
	for _, l := range locales {
		c := e.Locales[l]
		if c.Title != "" {
			line(c.Title)
		}
		for _, q := range c.Questions {
			line(q)
		}
		line(c.Answer)
	}
	return FoldQuery(b.String())
}

// FoldQuery folds a search as SearchText folds what it looks in.
func FoldQuery(q string) string { return nlu.Fold(q) }

// Clone returns a deep copy of e.
func (e *Entry) Clone() Entry {
	c := *e
	c.Tags = append([]string(nil), e.Tags...)
	c.Locales = make(map[string]Content, len(e.Locales))
	for loc, content := range e.Locales {
		content.Questions = append([]string(nil), content.Questions...)
		c.Locales[loc] = content
	}
	return c
}

// Changes names the fields in which e and o differ, in a stable order.
func (e *Entry) Changes(o *Entry) []string {
	var out []string
	if e.Category != o.Category {
		out = append(out, "category")
	}
	if e.Title != o.Title {
		out = append(out, "title")
	}
	if !slices.Equal(e.Tags, o.Tags) {
		out = append(out, "tags")
	}
	if e.Essential != o.Essential {
		out = append(out, "essential")
	}
	for _, loc := range Locales {
		a, aok := e.Locales[loc]
		b, bok := o.Locales[loc]
		switch {
		case aok != bok:
			out = append(out, loc)
			continue
		case !aok:
			continue
		}
		if a.Title != b.Title {
			out = append(out, loc+".title")
		}
		if !slices.Equal(a.Questions, b.Questions) {
			out = append(out, loc+".questions")
		}
		if a.Answer != b.Answer {
			out = append(out, loc+".answer")
		}
	}
	return out
}
