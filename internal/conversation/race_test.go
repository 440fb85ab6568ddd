package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/llm"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// racingStore is a real store on which another writer (another node whose
// cross-node lock could not be had) gets in first: before each of the next
// `races` turns is written, it appends a system message of its own to the
// conversation, so the turn's conditional write finds it moved on.
type racingStore struct {
	*store.DB
	races  int
	raced  int
	writes int
}

func (s *racingStore) SaveTurn(ctx context.Context, t conversation.Turn) error {
	s.writes++
	if s.races > 0 {
		s.races--
		s.raced++
		c, err := s.DB.Conversation(ctx, t.Conversation.ID)
		if err != nil {
			return err
		}
		c.LastSeq++
		m := conversation.Message{ID: "race-" + time.Now().Format("150405.000000000"), ConversationID: c.ID, Seq: c.LastSeq,
			Role: conversation.RoleSystem, Text: "another node's write", CreatedAt: time.Now().UTC()}
		if err := s.DB.SaveTurn(ctx, conversation.Turn{Conversation: c, Messages: []conversation.Message{m}}); err != nil {
			return err
		}
	}
	return s.DB.SaveTurn(ctx, t)
}

// A turn or desk action whose conditional write lost a race runs again from
// a fresh read, so the customer is answered instead of told 409; after
// three lost races in a row the caller hears the conflict.
func TestTurnRunsAgainAfterLosingARace(t *testing.T) {
	ix, b := demo(t)
	ctx := context.Background()
	rs := &racingStore{DB: testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})}
	e := conversation.NewEngine(rs, conversation.Options{Builtin: b})
	e.SetIndex(ix)
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}

	rs.races, rs.writes = 2, 0
	res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "how much is shipping?"})
	if err != nil {
		t.Fatalf("a turn that lost two races: %v", err)
	}
	if rs.raced != 2 || rs.writes != 3 {
		t.Fatalf("%d races, %d writes; want 2 and 3", rs.raced, rs.writes)
	}
	msgs, err := rs.Messages(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Greeting, the two racing writes, then the customer and the answer.
	var roles []conversation.Role
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: %+v", i, m.Seq, msgs)
		}
		roles = append(roles, m.Role)
	}
	if n := len(msgs); n != 5 || roles[1] != conversation.RoleSystem || roles[2] != conversation.RoleSystem ||
		roles[3] != conversation.RoleCustomer || roles[4] != conversation.RoleBot || res.Customer.Seq != 4 {
		t.Fatalf("transcript roles %v (customer seq %d), want greeting, 2 racing writes, customer, bot", roles, res.Customer.Seq)
	}

	rs.races, rs.raced = 3, 0
	_, err = e.Handle(ctx, c.ID, tok, conversation.Input{Text: "and returns?"})
	if !errcode.Is(err, errcode.Conflict) || rs.raced != 3 {
		t.Fatalf("a turn that lost three races: %v after %d races, want a conflict after 3", err, rs.raced)
	}
	msgs, _ = rs.Messages(ctx, c.ID, 0)
	for _, m := range msgs {
		if m.Role == conversation.RoleCustomer && m.Text == "and returns?" {
			t.Fatal("the refused turn's message was stored")
		}
	}

	// A desk action runs again too.
	rs.races, rs.raced = 1, 0
	got, added, err := e.Apply(ctx, c.ID, func(c *conversation.Conversation) ([]conversation.Message, error) {
		return []conversation.Message{{Role: conversation.RoleSystem, Text: "desk action"}}, nil
	})
	if err != nil || rs.raced != 1 || len(added) != 1 || added[0].Seq != got.LastSeq {
		t.Fatalf("a desk action that lost a race: %v (%d races, added %+v)", err, rs.raced, added)
	}
}

// A turn that runs again after losing a race does not ask the language
// model again: the question and the entries it is given are the same, so
// the first answer is written, once paid for.
func TestARacedTurnAsksTheModelOnce(t *testing.T) {
	ix, b := demo(t)
	ctx := context.Background()
	rs := &racingStore{DB: testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})}
	var calls int
	fail := false
	e := conversation.NewEngine(rs, conversation.Options{Builtin: b,
		LLM: groundFunc(func(_ context.Context, q llm.Question) (string, error) {
			calls++
			if fail {
				return "", errors.New("model unreachable")
			}
			return fmt.Sprintf("answer %d, from %s", calls, q.Sources[0].ID), nil
		})})
	e.SetIndex(ix)
	question := "tell me more"
	if pred := ix.Analyze(nlu.Prepare(question)); !pred.OutOfScope && pred.Confidence >= conversation.DefaultPolicy().AnswerConfidence {
		t.Fatalf("%q is answered from the knowledge base (%s, %.2f): the model is not asked", question, pred.Label, pred.Confidence)
	}
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	rs.races, rs.writes = 2, 0
	res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: question})
	if err != nil {
		t.Fatal(err)
	}
	if rs.raced != 2 || len(res.Replies) != 1 || res.Replies[0].Intent != conversation.IntentGenerated {
		t.Fatalf("%d races, replies %+v; want 2 races and the model's answer", rs.raced, res.Replies)
	}
	if calls != 1 || !strings.HasPrefix(res.Replies[0].Text, "answer 1,") {
		t.Fatalf("the model was asked %d times for a turn that ran 3 times (answer %q); want once", calls, res.Replies[0].Text)
	}

	// A model that failed is not asked again either: the turn falls back.
	fail, calls, rs.races, rs.raced = true, 0, 2, 0
	res, err = e.Handle(ctx, c.ID, tok, conversation.Input{Text: question})
	if err != nil {
		t.Fatal(err)
	}
	if rs.raced != 2 || calls != 1 || res.Replies[0].Intent == conversation.IntentGenerated {
		t.Fatalf("failing model: %d races, %d calls, replies %+v; want 2 races, 1 call, no generated answer",
			rs.raced, calls, res.Replies)
	}
}

// The language model is asked without the conversation's cross-node lock,
// which on PostgreSQL holds one of a small pool of connections: a model
// slow at a peak took them all and stalled every turn of the node. The
// node's own lock stays held, so that a message the customer sends while
// the model writes waits for it, and the transcript keeps their order.
func TestTheModelIsAskedWithoutTheCrossNodeLock(t *testing.T) {
	ix, b := demo(t)
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	var held, locks atomic.Int32
	asking, proceed := make(chan int32, 1), make(chan struct{})
	log := &turnLog{}
	e := conversation.NewEngine(db, conversation.Options{Builtin: b, Observer: log,
		Lock: func(context.Context, string) (func(), error) {
			held.Add(1)
			locks.Add(1)
			return func() { held.Add(-1) }, nil
		},
		LLM: groundFunc(func(_ context.Context, q llm.Question) (string, error) {
			asking <- held.Load()
			<-proceed
			return "From the entries: " + q.Sources[0].Answer, nil
		})})
	e.SetIndex(ix)
	c, tok, _, err := e.Start(ctx, conversation.StartRequest{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res *conversation.Result
		err error
	}
	first, second := make(chan outcome, 1), make(chan outcome, 1)
	go func() {
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "tell me more"})
		first <- outcome{res, err}
	}()
	if n := <-asking; n != 0 {
		t.Errorf("the model was asked while %d cross-node locks were held", n)
	}
	go func() {
		res, err := e.Handle(ctx, c.ID, tok, conversation.Input{Text: "how much is shipping?"})
		second <- outcome{res, err}
	}()
	select {
	case o := <-second:
		t.Fatalf("a second message was handled while the first waited for the model: %+v, %v", o.res, o.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(proceed)
	o1, o2 := <-first, <-second
	if o1.err != nil || o2.err != nil {
		t.Fatalf("turns: %v, %v", o1.err, o2.err)
	}
	if len(o1.res.Replies) != 1 || o1.res.Replies[0].Intent != conversation.IntentGenerated {
		t.Fatalf("first turn's replies %+v, want the model's answer", o1.res.Replies)
	}
	if o1.res.Customer.Seq >= o2.res.Customer.Seq {
		t.Fatalf("first message stored at seq %d, second at %d: out of order", o1.res.Customer.Seq, o2.res.Customer.Seq)
	}
	// The turn's latency leaves the model's time out, and is never
	// negative: the model, at least 200 ms here, has its own figure.
	log.mu.Lock()
	for _, info := range log.turns {
		if info.Latency < 0 || info.Latency >= 200*time.Millisecond {
			t.Errorf("turn %s: latency %s, want the turn's own time (model %s)", info.Intent, info.Latency, info.Generating)
		}
	}
	if len(log.turns) != 2 || log.turns[0].Generating < 200*time.Millisecond {
		t.Errorf("turns observed: %+v; want 2, the first with the model's time, at least 200ms", log.turns)
	}
	log.mu.Unlock()
	// Two attempts of the first turn (the question, then the answer) and
	// one of the second each took the lock, and gave it back.
	if locks.Load() != 3 || held.Load() != 0 {
		t.Fatalf("the cross-node lock was taken %d times and is held %d times now; want 3 and 0", locks.Load(), held.Load())
	}
}
