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

// An emoji on its own ("👍") acknowledges as "ok" does: it was out of scope,
// and counted towards the handoff for being unresolved.
func TestAnEmojiIsAnAcknowledgement(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, ack := range []string{"👍", "🙏🙏", "👌 "} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "退款多久到账"}); err != nil {
			t.Fatal(err)
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

// A bare request for a person says nothing of the customer's language:
// the chat's handoff button sends the page's word ("转人工" on a Chinese
// shop's widget), and an English conversation went Chinese on its click,
// to Chinese-speaking agents only.
func TestTheHandoffButtonDoesNotChangeTheLanguage(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "where is my parcel, it has been a week"})
	if err != nil || res.Conversation.Locale != "en" {
		t.Fatalf("an English question: locale %s, %v; want en", res.Conversation.Locale, err)
	}
	res, err = e.Handle(ctx, c.ID, tok, conversation.Input{Text: "转人工"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversation.Locale != "en" {
		t.Errorf("after the handoff button's 转人工 the conversation is %s, want still en", res.Conversation.Locale)
	}
}
