package app

import (
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
)

// The firewall the engine runs refuses none of the questions the demo
// knowledge base and the built-in small talk are there to answer.
func TestFirewallLetsTheDemoQuestionsThrough(t *testing.T) {
	entries, err := knowledge.DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	fw := guard.NewFirewall()
	n := 0
	for _, e := range entries {
		for locale, c := range e.Locales {
			for _, q := range append([]string{c.Title, c.Answer}, c.Questions...) {
				n++
				if v := fw.Check(q); v.Attack {
					t.Errorf("%s (%s): %q refused as %s %v", e.ID, locale, q, v.Category, v.Reasons)
				}
			}
		}
	}
	builtin, err := conversation.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range builtin.Examples() {
		n++
		if v := fw.Check(ex.Text); v.Attack {
			t.Errorf("small talk %q refused as %s %v", ex.Text, v.Category, v.Reasons)
		}
	}
	if n < 100 {
		t.Fatalf("only %d texts checked", n)
	}
}
