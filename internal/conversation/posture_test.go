package conversation_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// Under disaster recovery, small talk is still answered by the bot (it
// used to send "thanks" to the few people left); under a level-1 takeover
// of every category, a question about none of them gets the ordinary
// fallback, not the takeover.
func TestPostureLeavesSmallTalkAndStrayQuestionsToTheBot(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	entries, err := knowledge.DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	var essential []knowledge.Entry
	categories := map[string]bool{}
	for _, en := range entries {
		categories[en.Category] = true
		if en.Essential {
			essential = append(essential, en)
		}
	}
	minimal, err := knowledge.BuildIndex(essential, nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(text string) *conversation.Result {
		t.Helper()
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	e.SetPosture(&conversation.Posture{Level: 3, Minimal: minimal})
	res := send("谢谢")
	if len(res.Replies) != 1 || res.Replies[0].Outcome != conversation.OutcomeAnswer || res.Conversation.State != conversation.StateBot {
		t.Fatalf("thanks under disaster recovery: %+v, state %s; want the bot's small-talk answer", res.Replies, res.Conversation.State)
	}

	var all []string
	for c := range categories {
		all = append(all, c)
	}
	e.SetPosture(&conversation.Posture{Level: 1, Categories: all, Human: true})
	res = send("火星上明天的天气怎么样")
	if len(res.Replies) != 1 || res.Replies[0].Outcome != conversation.OutcomeFallback || res.Conversation.State != conversation.StateBot {
		t.Fatalf("an out-of-scope question under a takeover: %+v, state %s; want the fallback", res.Replies, res.Conversation.State)
	}
	// An in-scope question of a taken-over category is still diverted.
	res = send("运费多少钱")
	if res.Conversation.State != conversation.StateQueued {
		t.Fatalf("an in-scope question under the takeover: %+v, state %s; want queued", res.Replies, res.Conversation.State)
	}
}

// A choice (a clarification's button, a related question) is under the
// posture as a typed question is: one in a category handed to people is
// not answered by the bot, nor one beyond the essentials in disaster
// recovery.
func TestChoicesFollowThePosture(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	entries, err := knowledge.DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	var plain *knowledge.Entry
	var essential []knowledge.Entry
	for i, en := range entries {
		if en.Essential {
			essential = append(essential, en)
		} else if plain == nil {
			plain = &entries[i]
		}
	}
	minimal, err := knowledge.BuildIndex(essential, nil)
	if err != nil {
		t.Fatal(err)
	}
	choose := func(id string) *conversation.Result {
		t.Helper()
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "这个", Choice: id})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := choose(plain.ID); res.Replies[0].Outcome != conversation.OutcomeAnswer {
		t.Fatalf("a choice in normal service: %+v", res.Replies)
	}
	e.SetPosture(&conversation.Posture{Level: 1, Categories: []string{plain.Category}, Human: true})
	if res := choose(plain.ID); res.Conversation.State != conversation.StateQueued {
		t.Errorf("a choice in a category handed to people: %+v, state %s; want queued", res.Replies, res.Conversation.State)
	}
	e.SetPosture(&conversation.Posture{Level: 3, Minimal: minimal})
	if res := choose(plain.ID); res.Replies[0].Outcome == conversation.OutcomeAnswer {
		t.Errorf("a choice beyond the essentials in disaster recovery was answered: %+v", res.Replies)
	}
	if res := choose(essential[0].ID); res.Replies[0].Outcome != conversation.OutcomeAnswer {
		t.Errorf("an essential choice in disaster recovery: %+v", res.Replies)
	}
}

// A diverted turn reports what its reply did: a fallback flow's notice
// hands the customer to no one, a takeover to a person. The postmortem's
// "handoffs caused" counted every diverted turn, notices too.
func TestDivertedTurnsSayWhereTheyWent(t *testing.T) {
	ix, b := demo(t)
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	log := &turnLog{}
	e := conversation.NewEngine(db, conversation.Options{Builtin: b, Observer: log})
	e.SetIndex(ix)
	ctx := context.Background()
	for _, tc := range []struct {
		human bool
		want  conversation.Outcome
	}{{false, conversation.OutcomeNotice}, {true, conversation.OutcomeHandoff}} {
		e.SetPosture(&conversation.Posture{Level: 1, All: true, Human: tc.human})
		c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "where is my parcel"}); err != nil {
			t.Fatal(err)
		}
		log.mu.Lock()
		last := log.turns[len(log.turns)-1]
		log.mu.Unlock()
		if last.Outcome != "diverted" || last.DivertedTo != tc.want {
			t.Errorf("level 1 (to people: %v): turn outcome %q, diverted to %q; want diverted to %q", tc.human, last.Outcome, last.DivertedTo, tc.want)
		}
	}
}
