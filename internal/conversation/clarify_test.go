package conversation_test

import (
	"context"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// A customer answers "which one did you mean?" the way people do: "第二个",
// "选2", "the second one". Only a bare digit was taken as the choice; every
// other answer went through the intent model as a fresh question, which
// gave the wrong entry ("the second one" → split packages), a goodbye
// ("选2", "2号", "option 2" → "感谢您的咨询…再见！"), or a fallback that
// counted towards the handoff: after one earlier miss, answering the bot's
// own question handed the customer to the desk as "unresolved".
func TestClarificationAnsweredByOrdinal(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	const (
		zhQ = "订单取消了 钱什么时候退回来"                                                       // → 1. 订单被商城取消 2. 退款多久到账
		enQ = "ordered the same thing twice by accident, need to cancel one of them" // → 1. Charged twice 2. Cancel one item in an order
	)
	for _, tc := range []struct {
		locale, before, question, reply string
	}{
		{"zh-CN", "", zhQ, "第二个"},
		{"zh-CN", "", zhQ, "第2个"},
		{"zh-CN", "", zhQ, "选2"},
		{"zh-CN", "", zhQ, "2号"},
		{"en", "", enQ, "the second one"},
		{"en", "", enQ, "option 2"},
		// One earlier miss, then the customer answers the clarification.
		{"zh-CN", "那个东西怎么弄", zhQ, "第二个"},
	} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: tc.locale})
		if err != nil {
			t.Fatal(err)
		}
		say := func(text string) *conversation.Result {
			t.Helper()
			res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if tc.before != "" {
			if r := say(tc.before).Replies[0]; r.Outcome != conversation.OutcomeFallback {
				t.Fatalf("%q: %s, want a fallback to start with", tc.before, r.Outcome)
			}
		}
		clarify := say(tc.question).Replies[0]
		if clarify.Outcome != conversation.OutcomeClarify || len(clarify.Choices) < 2 {
			t.Fatalf("%q: %+v, want a clarification with two choices", tc.question, clarify)
		}
		want := clarify.Choices[1]
		res := say(tc.reply)
		r := res.Replies[0]
		if r.Outcome != conversation.OutcomeAnswer || r.Entry == nil || r.Entry.ID != want.EntryID ||
			res.Conversation.State != conversation.StateBot {
			got := ""
			if r.Entry != nil {
				got = r.Entry.ID
			}
			t.Errorf("clarification answered %q (before: %q): %s %s entry %q, state %s; want the answer of choice 2 (%s)\n  bot said: %q",
				tc.reply, tc.before, r.Outcome, r.Intent, got, res.Conversation.State, want.EntryID, r.Text)
		}
	}
}
