package knowledge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/steward-cs/steward/internal/errcode"
)

// File is the import/export document: `{"entries": [...]}` in YAML or JSON.
type File struct {
	Entries []Entry `json:"entries" yaml:"entries"`
}

// Format is a file format for import and export.
type Format string

// The formats kb import/export read and write.
const (
	FormatYAML Format = "yaml"
	FormatJSON Format = "json"
)

// FormatOf picks the format from a file name's extension.
func FormatOf(name string) (Format, error) {
	switch {
	case strings.HasSuffix(name, ".yaml"), strings.HasSuffix(name, ".yml"):
		return FormatYAML, nil
	case strings.HasSuffix(name, ".json"):
		return FormatJSON, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q: use a .yaml, .yml or .json name, or --format", name)
}

// MaxFileBytes bounds an import file.
const MaxFileBytes = 64 << 20

// Decode reads and validates entries. Unknown fields are errors, so a typo
// in a field name is caught rather than silently dropped.
func Decode(r io.Reader, f Format) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read knowledge file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, errcode.Localized(errcode.TooLarge, "knowledge file is larger than %d MiB", "知识库文件超过 %d MiB", MaxFileBytes>>20)
	}
	// A byte-order mark (Windows editors write one) is not part of the
	// document: YAML skipped it, JSON failed on it.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var file File
	switch f {
	case FormatYAML:
		if err := nullItem(data); err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil && err != io.EOF {
			return nil, errcode.Localized(errcode.Invalid, "parse YAML: %v", "YAML 格式有误：%v", err)
		}
		// One document: entries after a "---" were silently dropped.
		var more yaml.Node
		if err := dec.Decode(&more); err != io.EOF {
			return nil, errcode.Localized(errcode.Invalid,
				"parse YAML: the file holds more than one document (after \"---\"); put every entry in one \"entries\" list",
				"YAML 格式有误：文件含有多个文档（“---”之后），请把所有条目放在同一个 \"entries\" 列表中")
		}
	case FormatJSON:
		// encoding/json turns bytes that are not UTF-8 into U+FFFD without
		// a word, and keeps the last of a key given twice: both lost text
		// silently (a GBK export; two "en" blocks), where YAML refuses.
		if !utf8.Valid(data) {
			line := lineAt(data, invalidAt(data))
			return nil, errcode.Localized(errcode.Invalid, "parse JSON: line %d is not UTF-8 text; save the file as UTF-8",
				"JSON 格式有误：第 %d 行不是 UTF-8 文本，请以 UTF-8 保存文件", line)
		}
		if err := DuplicateKey(data); err != nil {
			return nil, errcode.Localized(errcode.Invalid, "parse JSON: %[1]s", "JSON 格式有误：%[2]s", errcode.Message(err), errcode.MessageZH(err))
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			// Where it went wrong: a misspelled field or a wrong type in
			// the 58th of a hundred entries named neither.
			at := dec.InputOffset()
			if se, ok := errors.AsType[*json.SyntaxError](err); ok {
				at = se.Offset
			} else if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				at = te.Offset
			} else if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				// The decoder read the whole document first: the field's
				// first use as a key is where it is.
				if loc := regexp.MustCompile(regexp.QuoteMeta(field) + `\s*:`).FindIndex(data); loc != nil {
					at = int64(loc[0])
				}
			}
			line := lineAt(data, int(at))
			return nil, errcode.Localized(errcode.Invalid, "parse JSON: line %d: %v", "JSON 格式有误：第 %d 行：%v", line, err)
		}
		// Decoder.More skips a stray "}" or "]", so the rest is looked at
		// itself: "{...}}" was imported as if it were well formed.
		if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
			return nil, errcode.Localized(errcode.Invalid,
				"parse JSON: more follows the top-level object; put every entry in one \"entries\" list",
				"JSON 格式有误：顶层对象之后还有内容，请把所有条目放在同一个 \"entries\" 列表中")
		}
	default:
		return nil, errcode.Localized(errcode.Invalid, "unknown format %q (want yaml or json)", "未知格式 %q（应为 yaml 或 json）", f)
	}
	if len(file.Entries) == 0 {
		return nil, errcode.Localized(errcode.Invalid, "the file has no entries (expected a top-level \"entries\" list)",
			"文件中没有条目（应有顶层的 \"entries\" 列表）")
	}
	seen := map[string]bool{}
	for i := range file.Entries {
		e := &file.Entries[i]
		trimEntry(e)
		if err := e.Validate(); err != nil {
			// Keeps the Chinese text of the entry's error, for a console
			// in zh-CN (the import API answers with it).
			en, zh := err.Error(), ""
			if e, ok := errors.AsType[*errcode.Error](err); ok {
				en, zh = e.Message, e.MessageZH
			}
			if zh == "" {
				zh = en
			}
			return nil, errcode.Localized(errcode.Invalid, "entry %[1]d: %[2]s", "第 %[1]d 条：%[3]s", i+1, en, zh)
		}
		if seen[e.ID] {
			return nil, errcode.Localized(errcode.Invalid, "entry %d: duplicate id %q", "第 %d 条：条目 ID %q 重复", i+1, e.ID)
		}
		seen[e.ID] = true
	}
	return file.Entries, nil
}

// lineAt is the line (from 1) of byte offset at in data.
func lineAt(data []byte, at int) int {
	return 1 + bytes.Count(data[:min(max(at, 0), len(data))], []byte("\n"))
}

// nullItem refuses a YAML list item left empty ("-" alone, "- ~", "- null"):
// decoded into a list of questions or tags, it was dropped without a word,
// where JSON's null is refused.
func nullItem(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // the decoder that follows says what is wrong
	}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		for _, c := range n.Content {
			if n.Kind == yaml.SequenceNode && c.Kind == yaml.ScalarNode && c.Tag == "!!null" {
				return errcode.Localized(errcode.Invalid, "parse YAML: line %d: an empty list item", "YAML 格式有误：第 %d 行：列表项为空", c.Line)
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(&doc)
}

// invalidAt is the offset of the first byte of data that is not UTF-8.
func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// DuplicateKey walks a JSON document and reports the first object that
// gives a key twice. Syntax errors are left to the decoder that follows.
func DuplicateKey(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return errcode.Localized(errcode.Invalid, "the key %[1]q is given twice in one object (line %[2]d); the first would be lost",
						"键 %[1]q 在同一个对象中出现了两次（第 %[2]d 行），前一个会丢失", k, lineAt(data, int(dec.InputOffset())))
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true // after this value, a key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, object: true, key: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// Normalize trims the entry's fields, so stored text has no stray
// whitespace and a re-import compares equal.
func (e *Entry) Normalize() { trimEntry(e) }

func trimEntry(e *Entry) {
	e.ID, e.Category, e.Title = strings.TrimSpace(e.ID), strings.TrimSpace(e.Category), strings.TrimSpace(e.Title)
	for i, t := range e.Tags {
		e.Tags[i] = strings.TrimSpace(t)
	}
	for loc, c := range e.Locales {
		c.Title, c.Answer = strings.TrimSpace(c.Title), strings.TrimSpace(c.Answer)
		for i, q := range c.Questions {
			c.Questions[i] = strings.TrimSpace(q)
		}
		e.Locales[loc] = c
	}
}

// Encode writes entries in the given format.
func Encode(w io.Writer, entries []Entry, f Format) error {
	file := File{Entries: entries}
	switch f {
	case FormatYAML:
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(file); err != nil {
			return fmt.Errorf("write YAML: %w", err)
		}
		return enc.Close()
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(file); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown format %q (want yaml or json)", f)
}
