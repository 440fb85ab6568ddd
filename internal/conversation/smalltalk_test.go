package conversation_test

import (
	"context"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// "好的" (OK), "可以", "ok" after an answer is an acknowledgement, not an
// unresolved question: the bot replies "抱歉，我没能理解您的问题" and counts
// it towards the handoff, so a customer who says "好的" to an answer and
// then asks one question the bot misses is handed to the desk as
// "unresolved" ("我还是没能帮上忙") after a single miss.
func TestAnAcknowledgementIsNotAnUnresolvedTurn(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, ack := range []string{"好的", "可以", "ok", "嗯", "Got it.", "是的", "OK!"} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "退款多久到账"}); err != nil || r.Replies[0].Outcome != conversation.OutcomeAnswer {
			t.Fatalf("the first question: %+v, %v", r, err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: ack})
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Replies[0]; r.Outcome == conversation.OutcomeFallback || res.Conversation.Unresolved != 0 {
			t.Errorf("%q after an answer: %s %q, %d unresolved; want no fallback and the count untouched",
				ack, r.Outcome, r.Text, res.Conversation.Unresolved)
		}
	}
}

// An acknowledgement that thanks or says goodbye is still the small-talk
// intent's: it gets that reply, not the acknowledgement's.
func TestThanksIsNotTakenForAnAcknowledgement(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, tc := range []struct{ locale, text, intent string }{
		{"zh-CN", "好的谢谢", "builtin.smalltalk.thanks"},
		{"en", "thanks", "builtin.smalltalk.thanks"},
		{"zh-CN", "好的再见", "builtin.smalltalk.goodbye"},
	} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: tc.locale})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Replies[0]; r.Intent != tc.intent {
			t.Errorf("%q: %s %s %q, want %s", tc.text, r.Outcome, r.Intent, r.Text, tc.intent)
		}
	}
}
