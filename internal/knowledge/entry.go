// Package knowledge owns the knowledge base: entries with their question
// variants and answers per locale, their import and export, and the index the
// bot answers from.
package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
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

// Validate reports the first problem with e, naming the field.
func (e *Entry) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("id is required")
	case len(e.ID) > maxIDLen || !slugRE.MatchString(e.ID):
		return fmt.Errorf("id %q must be a lowercase slug of letters, digits, '-', '_' or '.' (at most %d)", e.ID, maxIDLen)
	case e.Category == "":
		return fmt.Errorf("entry %s: category is required", e.ID)
	case len(e.Category) > maxCategoryLength || !slugRE.MatchString(e.Category):
		return fmt.Errorf("entry %s: category %q must be a lowercase slug", e.ID, e.Category)
	case len([]rune(e.Title)) > MaxTitleRunes:
		return fmt.Errorf("entry %s: title has %d characters (max %d)", e.ID, len([]rune(e.Title)), MaxTitleRunes)
	case len(e.Tags) > maxTags:
		return fmt.Errorf("entry %s: %d tags (max %d)", e.ID, len(e.Tags), maxTags)
	case len(e.Locales) == 0:
		return fmt.Errorf("entry %s: at least one locale (zh-CN or en) is required", e.ID)
	}
	for _, tag := range e.Tags {
		if strings.TrimSpace(tag) == "" || len([]rune(tag)) > maxTagRunes {
			return fmt.Errorf("entry %s: tag %q must be 1 to %d characters", e.ID, tag, maxTagRunes)
		}
	}
	for loc, c := range e.Locales {
		if loc != LocaleZH && loc != LocaleEN {
			return fmt.Errorf("entry %s: unknown locale %q (want zh-CN or en)", e.ID, loc)
		}
		if strings.TrimSpace(c.Title) == "" && strings.TrimSpace(e.Title) == "" {
			return fmt.Errorf("entry %s: title is required (the entry's title or a %s title)", e.ID, loc)
		}
		if n := len([]rune(c.Title)); n > MaxTitleRunes {
			return fmt.Errorf("entry %s: %s title has %d characters (max %d)", e.ID, loc, n, MaxTitleRunes)
		}
		if strings.TrimSpace(c.Answer) == "" {
			return fmt.Errorf("entry %s: %s answer is empty", e.ID, loc)
		}
		if n := len([]rune(c.Answer)); n > MaxAnswerRunes {
			return fmt.Errorf("entry %s: %s answer has %d characters (max %d)", e.ID, loc, n, MaxAnswerRunes)
		}
		if len(c.Questions) == 0 {
			return fmt.Errorf("entry %s: %s needs at least one question", e.ID, loc)
		}
		if len(c.Questions) > MaxQuestions {
			return fmt.Errorf("entry %s: %s has %d questions (max %d)", e.ID, loc, len(c.Questions), MaxQuestions)
		}
		for i, q := range c.Questions {
			if strings.TrimSpace(q) == "" {
				return fmt.Errorf("entry %s: %s question %d is empty", e.ID, loc, i+1)
			}
			if n := len([]rune(q)); n > MaxQuestionRunes {
				return fmt.Errorf("entry %s: %s question %d has %d characters (max %d)", e.ID, loc, i+1, n, MaxQuestionRunes)
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
