package conversation_test

import (
	"context"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
)

// The ways customers ask for a person are requests; questions about
// whether the bot is a person, or about the service's people, are not.
func TestWantsHuman(t *testing.T) {
	for _, s := range []string{
		"转人工", "人工", "我要人工客服", "转客服", "找客服", "联系客服", "客服在吗", "人工 客服", "有没有真人",
		"机器人听不懂 让真人来", "能不能跟真人聊", "我要找客服人员",
		"human", "Human please!", "talk to a human", "I need a human", "get me a human", "can I speak with a human",
		"talk with a human", "transfer me to an agent", "human pls", "I want to talk to customer service",
		"i want a real person", "let me speak to a real person",
		// A request stays one whatever it asks besides.
		"转人工客服，几点上班的", "什么时候能转人工", "when can I talk to a human",
		"I have been waiting 2 hours for a live agent", "when is a live agent going to answer me",
		// A negation in another clause, or one that does not reach the
		// phrase, leaves the request a request.
		"我不想等了，转人工", "我不想等了转人工", "别让我等了转人工", "为什么不能转人工", "为什么不转人工", "不用了，人工",
		"不要机器人，要人工", "why can't I talk to a human", "I don't want the bot. Talk to a human!",
		"I don't want to wait, get me a human", "no, I want to talk to a human",
		"can I talk to a live agent", "I want a human being", "是人工客服吗？转人工",
		"有没有人工", "联系人工", "人工呢", "我要求人工", "connect me to a human", "can I chat with a human",
		"get me an agent", "let me talk to a real human",
	} {
		if !conversation.WantsHuman(s) {
			t.Errorf("%q is a request for a person, not taken as one", s)
		}
	}
	for _, s := range []string{
		"你是真人吗", "是真人在回复吗", "are you a real person?", "is this a real person", "你们客服人员几点上班",
		// Asking when the people work is a question the knowledge base
		// answers (with how to reach them), not a request.
		"人工客服几点上班", "人工服务时间是几点到几点", "what are your live agent hours",
		"what time do human agents start work", "customer service agent working hours",
		"how much is shipping", "运费多少", "human resources department address", "my husband ordered it",
		// Declining a person is not asking for one.
		"不用转人工，我就问下运费多少", "不要转人工", "不要人工客服，直接告诉我", "不需要人工服务", "别转人工了", "不用帮我转人工",
		"无需转客服", "I don't want to talk to a human, just tell me the shipping cost", "I do not need a human agent",
		"no need for a representative", "don't transfer me to an agent",
		// Phrases that overlap ("转人工" and "人工客服") are one request, and
		// one decline before them declines it; fillers do not hide one.
		"不用转人工客服，我就问下运费多少", "不要转人工客服", "别转人工客服了", "不用找人工客服", "不需要转人工服务", "不用转真人客服",
		"I don't want to talk to a human agent", "I don't want to be transferred to a human agent",
		// Asking what the bot is names the people without asking for them.
		"你是人工客服吗", "你是人工客服还是机器人", "are you a human being?", "am I talking to a live agent?",
		"is this a live person or a bot?",
	} {
		if conversation.WantsHuman(s) {
			t.Errorf("%q taken as a request for a person", s)
		}
	}
}

// An angry request for a person is queued as angry: it used to be taken
// as a plain request, behind calmer angry customers.
func TestAngryRequestKeepsItsPriority(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, tc := range []struct {
		text     string
		reason   conversation.HandoffReason
		priority int
	}{
		{"垃圾客服，气死我了，我要投诉，转人工！！！", conversation.HandoffEmotion, conversation.PriorityAngry},
		{"转人工", conversation.HandoffRequest, 0},
	} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Conversation
		if got.State != conversation.StateQueued || got.HandoffReason != tc.reason || got.Priority != tc.priority {
			t.Errorf("%q: %s, reason %q, priority %d; want queued, %q, %d", tc.text, got.State, got.HandoffReason,
				got.Priority, tc.reason, tc.priority)
		}
	}
}

// A customer queued calmly who grows angry while waiting moves up the
// queue, once; the bot stays silent (the customer waits for a person).
func TestAngerWhileQueuedRaisesThePriority(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "转人工"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversation.State != conversation.StateQueued || res.Conversation.Priority != 0 {
		t.Fatalf("a calm request: %s, priority %d", res.Conversation.State, res.Conversation.Priority)
	}
	for _, tc := range []struct {
		text     string
		priority int
	}{
		{"请问还要等多久", 0},
		{"垃圾客服，气死我了，等了半天没人理，我要投诉！！！", conversation.PriorityAngry},
		{"太差劲了，气死我了，我要投诉你们！！！", conversation.PriorityAngry}, // once, not twice
	} {
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Conversation
		if got.State != conversation.StateQueued || got.Priority != tc.priority || len(res.Replies) != 0 {
			t.Errorf("%q while queued: %s, priority %d, %d replies; want queued, %d, none", tc.text, got.State,
				got.Priority, len(res.Replies), tc.priority)
		}
		stored, err := e.Conversation(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Priority != tc.priority {
			t.Errorf("%q while queued: stored priority %d, want %d", tc.text, stored.Priority, tc.priority)
		}
	}
}

// A tracking number, "ok" or a model code from a Chinese customer keeps
// the conversation in Chinese; an English sentence switches it.
func TestLatinFragmentsKeepTheLocale(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, want string }{
		{"SF1234567890", "zh-CN"}, {"ok", "zh-CN"}, {"K3", "zh-CN"}, {"OK!", "zh-CN"},
		{"how much is shipping", "en"},
		{"运费多少", "zh-CN"},
	} {
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		if res.Conversation.Locale != tc.want || res.Customer.Locale != tc.want {
			t.Errorf("after %q: conversation %s, message %s; want %s", tc.text, res.Conversation.Locale, res.Customer.Locale, tc.want)
		}
	}
	// One word of four letters or more switches a conversation the bot
	// serves; one with a person waits for a sentence.
	for _, tc := range []struct {
		first, text, want string
	}{{"你好", "refund", "en"}, {"你好", "MacBook Air", "en"}, {"转人工", "refund", "zh-CN"}, {"转人工", "thanks a lot", "en"},
		// With the desk, where the locale picks the agents, a product or
		// a romanised address is not a change of language.
		{"转人工", "MacBook Air", "zh-CN"}, {"转人工", "Chaoyang Road 88", "zh-CN"}} {
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.first}); err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		if res.Conversation.Locale != tc.want {
			t.Errorf("%q after %q: %s, want %s", tc.text, tc.first, res.Conversation.Locale, tc.want)
		}
	}
}
