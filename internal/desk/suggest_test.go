package desk_test

import (
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/knowledge"
)

// Suggested replies are the entries the model believes in; an entry it
// gives next to nothing is left out rather than shown at "0%".
func TestSuggestLeavesOutWhatTheModelDoesNotBelieve(t *testing.T) {
	entries, err := knowledge.DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.BuildIndex(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &conversation.Conversation{ID: "c1", Locale: "en"}
	say := func(text string) []desk.Suggestion {
		return desk.Suggest(ix, c, []conversation.Message{{Role: conversation.RoleCustomer, Text: text}})
	}
	got := say("how much does shipping cost")
	if len(got) == 0 || got[0].EntryID != "shipping-fee" {
		t.Fatalf("shipping question: suggestions %+v, want shipping-fee first", got)
	}
	for _, text := range []string{"how much does shipping cost", "xqzv blorf wibble", "我要投诉你们的快递员"} {
		for _, s := range say(text) {
			if s.Confidence < 0.05 {
				t.Errorf("%q: suggestion %s at %.3f, below the floor", text, s.EntryID, s.Confidence)
			}
		}
	}
}
