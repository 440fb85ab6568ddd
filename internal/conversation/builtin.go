package conversation

import (
	"bytes"
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/steward-cs/steward/internal/knowledge"
)

//go:embed builtin.yaml
var builtinYAML []byte

// smalltalkPrefix starts the label of every built-in small-talk intent.
const smalltalkPrefix = "builtin.smalltalk."

// Builtin holds the intents every deployment has whatever its knowledge
// base: small talk with fixed polite replies, and a background of off-topic
// messages that trains the out-of-scope class.
type Builtin struct {
	replies  map[string]map[string]string // label → locale → reply
	examples []knowledge.Example
}

type builtinFile struct {
	Smalltalk []struct {
		Intent   string              `yaml:"intent"`
		Examples map[string][]string `yaml:"examples"`
		Replies  map[string]string   `yaml:"replies"`
	} `yaml:"smalltalk"`
	Offtopic map[string][]string `yaml:"offtopic"`
}

// LoadBuiltin parses the embedded built-in intents.
func LoadBuiltin() (*Builtin, error) {
	var f builtinFile
	dec := yaml.NewDecoder(bytes.NewReader(builtinYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse built-in intents: %w", err)
	}
	b := &Builtin{replies: map[string]map[string]string{}}
	for _, st := range f.Smalltalk {
		label := smalltalkPrefix + st.Intent
		for _, loc := range knowledge.Locales {
			if st.Replies[loc] == "" {
				return nil, fmt.Errorf("built-in intent %s has no %s reply", st.Intent, loc)
			}
			for _, ex := range st.Examples[loc] {
				b.examples = append(b.examples, knowledge.Example{Text: ex, Label: label})
			}
		}
		b.replies[label] = st.Replies
	}
	for _, loc := range knowledge.Locales {
		for _, ex := range f.Offtopic[loc] {
			b.examples = append(b.examples, knowledge.Example{Text: ex, Label: knowledge.OutOfScopeLabel})
		}
	}
	return b, nil
}

// Examples returns the training examples of the built-in intents.
func (b *Builtin) Examples() []knowledge.Example { return b.examples }

// reply returns the small-talk reply for label in locale.
func (b *Builtin) reply(label, locale string) (string, bool) {
	r, ok := b.replies[label]
	if !ok {
		return "", false
	}
	if s, ok := r[locale]; ok {
		return s, true
	}
	return r["zh-CN"], true
}
