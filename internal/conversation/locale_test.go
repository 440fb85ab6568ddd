package conversation_test

import (
	"context"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// The locale decides which agents may take a queued conversation (desk:
// speaks(u, c.Locale)). An English sentence from a Chinese customer waits
// for three words before it switches a queued conversation (englishEnough,
// "so that a product or a romanised address sends nobody to look for an
// English-speaking agent"), but the other way round any message with more
// Han than Latin switches at once: an English-speaking customer who pastes
// their Chinese address or name while queued is moved to the Chinese-speaking
// agents, and every later line (the agent's "joined", the bot's texts) is in
// Chinese.
func TestAChineseFragmentKeepsAQueuedEnglishConversationInEnglish(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, fragment := range []string{"上海市浦东新区世纪大道100号", "张伟"} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "I want to talk to a human please"})
		if err != nil || res.Conversation.State != conversation.StateQueued || res.Conversation.Locale != "en" {
			t.Fatalf("handoff: %+v, %v", res, err)
		}
		if res, err = e.Handle(ctx, c.ID, tok, conversation.Input{Text: fragment}); err != nil {
			t.Fatal(err)
		}
		if res.Conversation.Locale != "en" {
			t.Errorf("an English customer queued for an agent wrote %q: the conversation is now %s, want en",
				fragment, res.Conversation.Locale)
		}
	}
}

// A Chinese sentence still moves a queued English conversation to the
// Chinese-speaking agents: the customer who writes one is Chinese-speaking.
func TestAChineseSentenceSwitchesAQueuedEnglishConversation(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "I want to talk to a human please"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "我的快递三天了还没到，能帮我查一下吗"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversation.State != conversation.StateQueued || res.Conversation.Locale != "zh-CN" {
		t.Errorf("a Chinese sentence while queued: %s, %s; want queued, zh-CN", res.Conversation.State, res.Conversation.Locale)
	}
}
