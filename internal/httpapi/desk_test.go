package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// listedItem is a conversation as the desk lists it.
type listedItem struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	Position      int    `json:"position"`
	HandoffReason string `json:"handoff_reason"`
	Category      string `json:"category"`
	Assignee      *struct {
		ID, Name string
	} `json:"assignee"`
}

type deskMessage struct {
	testutil.Message
	Author *struct{ ID, Name string } `json:"author"`
}

type deskConversation struct {
	Conversation listedItem    `json:"conversation"`
	Messages     []deskMessage `json:"messages"`
	Summary      struct {
		Text          string   `json:"text"`
		Questions     []string `json:"questions"`
		HandoffReason string   `json:"handoff_reason"`
		Intents       []struct {
			Intent, Category, Title string
		} `json:"intents"`
		BotAttempts []struct{ Outcome, Title string } `json:"bot_attempts"`
		Emotion     struct {
			Score float64  `json:"score"`
			Tags  []string `json:"tags"`
		} `json:"emotion"`
		Tags []string `json:"tags"`
	} `json:"summary"`
	Notes []struct {
		Text   string `json:"text"`
		Author struct{ ID, Name string }
	} `json:"notes"`
	Suggestions []struct {
		EntryID    string  `json:"entry_id"`
		Title      string  `json:"title"`
		Answer     string  `json:"answer"`
		Confidence float64 `json:"confidence"`
	} `json:"suggestions"`
}

// customerView is the customer API's conversation with the desk's fields.
type customerView struct {
	testutil.Conversation
	Queue *struct {
		Position    int   `json:"position"`
		WaitSeconds int64 `json:"wait_seconds"`
		AfterHours  bool  `json:"after_hours"`
	} `json:"queue"`
	Agent    *struct{ Name string } `json:"agent"`
	Messages []deskMessage          `json:"messages"`
	Rating   *struct {
		Score int      `json:"score"`
		Tags  []string `json:"tags"`
	} `json:"rating"`
}

func getView(t *testing.T, c *testutil.Client, conv testutil.Conversation) customerView {
	t.Helper()
	status, b := c.Do("GET", "/api/v1/conversations/"+conv.ID, conv.Token, nil)
	if status != http.StatusOK {
		t.Fatalf("get conversation: %d %s", status, b)
	}
	var v customerView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func post(t *testing.T, c *testutil.Client, conv testutil.Conversation, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	return c.Do("POST", "/api/v1/conversations/"+conv.ID+path, conv.Token, b)
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %s", b)
	}
	return e.Error.Code
}

// An agent who signs out is offline at once: customers asking for a
// person get the offline form, not a queue served by nobody.
func TestSigningOutTakesTheAgentOffline(t *testing.T) {
	run, agent := startStaffed(t)
	agent.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	turn := c.Say(c.Start("zh-CN"), "转人工")
	if turn.State != "bot" || len(turn.Messages) != 1 || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("handoff after the only agent signed out: %+v, want the offline form", turn)
	}
}

func TestNoAgentOnlineOffersTheOfflineForm(t *testing.T) {
	run := testutil.Start(t, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	turn := c.Say(conv, "转人工")
	if turn.State != "bot" || len(turn.Messages) != 1 || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("handoff with nobody online: %+v, want the offline form", turn)
	}
	for _, bad := range []struct {
		name string
		body any
		code string
	}{
		{"no contact", map[string]string{"message": "请回电"}, "invalid"},
		{"no message", map[string]string{"contact": "138 0013 8000"}, "invalid"},
		{"contact too long", map[string]string{"contact": strings.Repeat("x", 201), "message": "hi"}, "invalid"},
		{"unknown field", map[string]string{"contact": "a", "message": "b", "phone": "c"}, "invalid"},
	} {
		status, b := post(t, c, conv, "/offline-message", bad.body)
		if status/100 != 4 || errorCode(t, b) != bad.code {
			t.Errorf("%s: %d %s", bad.name, status, b)
		}
	}
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", "", []byte(`{"contact":"a","message":"b"}`)); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d %s", status, b)
	}
	status, b := post(t, c, conv, "/offline-message", map[string]string{"contact": "wang@example.com", "message": "我的退款还没到账，请联系我"})
	if status != http.StatusCreated {
		t.Fatalf("leave a message: %d %s", status, b)
	}
	var created struct {
		Ticket struct{ ID, Status, Contact string } `json:"ticket"`
	}
	json.Unmarshal(b, &created)
	if created.Ticket.ID == "" || created.Ticket.Status != "open" {
		t.Fatalf("ticket %s", b)
	}
	// The customer is thanked in the transcript.
	v := getView(t, c, conv)
	// The thanks is not an answer: no "answered" badge, no "wrong answer" flag, not in the answer counts.
	if last := v.Messages[len(v.Messages)-1]; last.Role != "bot" || !strings.Contains(last.Text, "留言已收到") || last.Outcome != "ticket" {
		t.Fatalf("last message %+v", last)
	}
	// Agents see the ticket later, and resolve it once.
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	var list struct {
		Tickets []struct{ ID, ConversationID, Contact, Message, Status string } `json:"tickets"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &list)
	if len(list.Tickets) != 1 || list.Tickets[0].ID != created.Ticket.ID || list.Tickets[0].Message != "我的退款还没到账，请联系我" {
		t.Fatalf("tickets %+v", list)
	}
	// Who resolved it is named, not only identified: the console shows the name.
	var me struct{ User struct{ ID, Name string } }
	agent.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, &me)
	type resolvedTicket struct {
		ResolvedBy string                     `json:"resolved_by"`
		Resolver   *struct{ ID, Name string } `json:"resolver"`
	}
	var resolved struct {
		Ticket resolvedTicket `json:"ticket"`
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/tickets/"+created.Ticket.ID+"/resolve", nil, &resolved)
	var done struct {
		Tickets []resolvedTicket `json:"tickets"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets?status=resolved", nil, &done)
	if len(done.Tickets) != 1 {
		t.Fatalf("resolved tickets %+v", done)
	}
	for _, tk := range []resolvedTicket{resolved.Ticket, done.Tickets[0]} {
		if me.User.Name == "" || tk.ResolvedBy != me.User.ID || tk.Resolver == nil ||
			tk.Resolver.ID != me.User.ID || tk.Resolver.Name != me.User.Name {
			t.Fatalf("resolved ticket %+v, want resolved_by %q and resolver {%q, %q}", tk, me.User.ID, me.User.ID, me.User.Name)
		}
	}
	agent.Must(http.StatusConflict, "POST", "/api/v1/desk/tickets/"+created.Ticket.ID+"/resolve", nil, nil)
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/tickets?status=open", nil, &list)
	if len(list.Tickets) != 0 {
		t.Fatalf("open tickets after resolving: %+v", list)
	}
	// A conversation is not a flood gate: three open messages at most.
	for i := range 3 {
		if status, b := post(t, c, conv, "/offline-message", map[string]string{"contact": "x", "message": fmt.Sprint(i)}); status != http.StatusCreated {
			t.Fatalf("message %d: %d %s", i, status, b)
		}
	}
	if status, _ := post(t, c, conv, "/offline-message", map[string]string{"contact": "x", "message": "again"}); status != http.StatusConflict {
		t.Fatalf("fourth open message: %d", status)
	}
}

func TestDeskHoursOfferTheOfflineFormWhenClosed(t *testing.T) {
	// A window that is never open now: it ended a minute ago.
	now := time.Now().UTC()
	from, to := now.Add(-2*time.Minute).Format("15:04"), now.Add(-time.Minute).Format("15:04")
	run := testutil.Start(t, func(c *config.Config) { c.Desk.Open, c.Desk.Close = from, to })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	turn := c.Say(c.Start("en"), "human")
	if turn.State != "bot" || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("outside opening hours: %+v", turn)
	}
}

// stream is a customer's WebSocket stream.
type stream struct {
	t   *testing.T
	ctx context.Context
	ws  *websocket.Conn
}

type streamFrame struct {
	Type    string
	State   string
	Message *deskMessage
	Queue   *struct {
		Position    int   `json:"position"`
		WaitSeconds int64 `json:"wait_seconds"`
		AfterHours  bool  `json:"after_hours"`
	}
	Agent *struct{ Name string }
}

func openStream(t *testing.T, ctx context.Context, base string, conv testutil.Conversation) *stream {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/conversations/"+conv.ID+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	wsjson.Write(ctx, ws, map[string]any{"type": "auth", "token": conv.Token, "after_seq": conv.Messages[len(conv.Messages)-1].Seq})
	return &stream{t: t, ctx: ctx, ws: ws}
}

// until reads frames until ok accepts one.
func (s *stream) until(what string, ok func(streamFrame) bool) streamFrame {
	s.t.Helper()
	for {
		var f streamFrame
		if err := wsjson.Read(s.ctx, s.ws, &f); err != nil {
			s.t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(f) {
			return f
		}
	}
}

func TestQueuePositionGoesDownAsAgentsFreeUp(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := admin.AddUser("solo@example.com", "agent", map[string]any{"max_chats": 1})
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The first customer is assigned at once; the agent is then at the limit.
	first := c.Start("zh-CN")
	c.Say(first, "转人工")
	waitFor(t, "first assigned", func() bool { return getView(t, c, first).State == "assigned" })
	if v := getView(t, c, first); v.Agent == nil || v.Agent.Name != "solo@example.com" {
		t.Fatalf("assigned view %+v", v.Agent)
	}
	// Two more wait, in order of arrival; a VIP would go first (below).
	second, third := c.Start("zh-CN"), c.Start("zh-CN")
	if turn := c.Say(second, "转人工"); turn.State != "queued" {
		t.Fatalf("second: %+v", turn)
	}
	c.Say(third, "转人工")
	token := third.Token
	third = c.Get(third)
	third.Token = token
	s := openStream(t, ctx, run.URL, third)
	f := s.until("queue position 2", func(f streamFrame) bool { return f.Type == "queue" && f.Queue.Position == 2 })
	if f.Queue.WaitSeconds <= 0 {
		t.Fatalf("no wait estimate: %+v", f.Queue)
	}
	if v := getView(t, c, third); v.Queue == nil || v.Queue.Position != 2 {
		t.Fatalf("GET while queued: %+v", v.Queue)
	}
	var q struct {
		Queue []listedItem `json:"queue"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/queue", nil, &q)
	if len(q.Queue) != 2 || q.Queue[0].ID != second.ID || q.Queue[1].ID != third.ID || q.Queue[1].Position != 2 {
		t.Fatalf("desk queue %+v", q.Queue)
	}
	// The agent frees up: the second customer is assigned, the third moves up.
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+first.ID+"/close", nil, nil)
	s.until("queue position 1", func(f streamFrame) bool { return f.Type == "queue" && f.Queue.Position == 1 })
	if v := getView(t, c, second); v.State != "assigned" {
		t.Fatalf("second after the first closed: %s", v.State)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+second.ID+"/close", nil, nil)
	// The customer hears who joined, and the state changes, in one update.
	var joined, assigned bool
	for !joined || !assigned {
		f = s.until("the agent joining", func(f streamFrame) bool { return f.Type == "state" || f.Type == "message" })
		switch {
		case f.Type == "state" && f.State == "assigned":
			if f.Agent == nil || f.Agent.Name != "solo@example.com" {
				t.Fatalf("assigned frame %+v", f)
			}
			assigned = true
		case f.Type == "message" && f.Message.Role == "system" && f.Message.Outcome == "joined":
			joined = true
		}
	}
}

// A customer waits in the queue when the last agent signs off near closing
// time: the estimate runs in opening hours, so it says the wait goes on
// tomorrow rather than "about 5 minutes" all night. While an agent is
// online, the usual estimate stands.
func TestQueueWaitFollowsOpeningHours(t *testing.T) {
	run, agent := testutil.StartClosingSoon(t)
	c := &testutil.Client{T: t, Base: run.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := c.Start("zh-CN")
	c.Say(first, "转人工")
	waitFor(t, "first assigned", func() bool { return getView(t, c, first).State == "assigned" })
	second := c.Start("zh-CN")
	if turn := c.Say(second, "转人工"); turn.State != "queued" {
		t.Fatalf("second: %+v", turn)
	}
	token := second.Token
	second = c.Get(second)
	second.Token = token
	s := openStream(t, ctx, run.URL, second)
	f := s.until("queue position 1", func(f streamFrame) bool { return f.Type == "queue" && f.Queue.Position == 1 })
	if w := time.Duration(f.Queue.WaitSeconds) * time.Second; w <= 0 || w > time.Hour {
		t.Fatalf("with an agent online the wait is %s, want the usual few minutes", w)
	}
	// The agent signs off: nobody serves the queue until the desk opens
	// again tomorrow, two hours before this time of day.
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "offline"}, nil)
	f = s.until("a wait into tomorrow", func(f streamFrame) bool {
		return f.Type == "queue" && time.Duration(f.Queue.WaitSeconds)*time.Second > 20*time.Hour
	})
	if w := time.Duration(f.Queue.WaitSeconds) * time.Second; w > 23*time.Hour || !f.Queue.AfterHours {
		t.Fatalf("the wait is %s (after hours %v), want about 22 hours (opening tomorrow, then what is left of 5 minutes)", w, f.Queue.AfterHours)
	}
	if v := getView(t, c, second); v.Queue == nil || !v.Queue.AfterHours || v.Queue.WaitSeconds < int64(20*time.Hour/time.Second) {
		t.Fatalf("GET while queued after hours: %+v", v.Queue)
	}
}

func TestVIPAndAngryCustomersGoFirst(t *testing.T) {
	run, agent := startStaffed(t)
	c := &testutil.Client{T: t, Base: run.URL}
	plain := c.Start("zh-CN")
	c.Say(plain, "转人工")
	angry := c.Start("zh-CN")
	c.Say(angry, "你们这什么垃圾服务，气死我了！！！我要投诉！")
	status, b := c.Do("POST", "/api/v1/conversations", "", []byte(`{"locale":"en","customer":{"name":"Ada","vip":true}}`))
	if status != http.StatusCreated {
		t.Fatal(status, string(b))
	}
	var vip testutil.Conversation
	json.Unmarshal(b, &vip)
	c.Say(vip, "human")
	var q struct {
		Queue []listedItem `json:"queue"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/queue", nil, &q)
	var order []string
	for _, it := range q.Queue {
		order = append(order, it.ID)
	}
	if want := []string{vip.ID, angry.ID, plain.ID}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("queue order %v, want VIP, angry, plain %v", order, want)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deskStream is a console's live stream.
type deskStream struct {
	t   *testing.T
	ctx context.Context
	ws  *websocket.Conn
}

type deskFrame struct {
	Type           string
	ConversationID string `json:"conversation_id"`
	Message        *deskMessage
	Conversation   *listedItem
	Queue          []listedItem
	Note           *struct{ Text string }
	User           *struct{ ID, Role string }
}

func openDeskStream(t *testing.T, ctx context.Context, base, token string) *deskStream {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/desk/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	wsjson.Write(ctx, ws, map[string]any{"type": "auth", "token": token})
	d := &deskStream{t: t, ctx: ctx, ws: ws}
	d.until("ready", func(f deskFrame) bool { return f.Type == "ready" && f.User != nil })
	return d
}

func (d *deskStream) until(what string, ok func(deskFrame) bool) deskFrame {
	d.t.Helper()
	for {
		var f deskFrame
		if err := wsjson.Read(d.ctx, d.ws, &f); err != nil {
			d.t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(f) {
			return f
		}
	}
}

func TestMessagesWhileQueuedReachTheAgentInOrder(t *testing.T) {
	run, agent := startStaffed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	live := openDeskStream(t, ctx, run.URL, agent.Token)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "转人工")
	live.until("the handoff in the queue", func(f deskFrame) bool {
		return f.Type == "queue" && len(f.Queue) == 1 && f.Queue[0].ID == conv.ID
	})
	var said []string
	for i := range 8 {
		text := fmt.Sprintf("第%d条：订单号 2024%04d 还没发货", i+1, i)
		if turn := c.Say(conv, text); turn.State != "queued" || len(turn.Messages) != 0 {
			t.Fatalf("while queued: %+v", turn)
		}
		said = append(said, text)
	}
	// Live, in order.
	var got []string
	var last int64
	for len(got) < len(said) {
		f := live.until("a customer message", func(f deskFrame) bool {
			return f.Type == "message" && f.ConversationID == conv.ID && f.Message.Role == "customer"
		})
		if f.Message.Seq <= last {
			t.Fatalf("seq %d after %d", f.Message.Seq, last)
		}
		last = f.Message.Seq
		if f.Message.Text != "转人工" {
			got = append(got, f.Message.Text)
		}
	}
	if strings.Join(got, "|") != strings.Join(said, "|") {
		t.Fatalf("live messages %q, want %q", got, said)
	}
	// And in the transcript the agent opens after claiming.
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	var dc deskConversation
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &dc)
	got = got[:0]
	for i, m := range dc.Messages {
		if m.Seq != int64(i+1) {
			t.Fatalf("transcript seq %d at %d", m.Seq, i)
		}
		if m.Role == "customer" && m.Text != "转人工" {
			got = append(got, m.Text)
		}
	}
	if strings.Join(got, "|") != strings.Join(said, "|") {
		t.Fatalf("transcript %q, want %q", got, said)
	}
}

func TestHandoffSummarySuggestionsRepliesNotesAndRating(t *testing.T) {
	run, agent := startStaffed(t)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "运费怎么算")
	c.Say(conv, "还是不明白，转人工")
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)

	var dc deskConversation
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID+"?lang=en", nil, &dc)
	sm := dc.Summary
	if sm.HandoffReason != "request" || len(sm.Questions) != 2 || sm.Questions[0] != "运费怎么算" {
		t.Fatalf("summary %+v", sm)
	}
	if len(sm.Intents) == 0 || sm.Intents[0].Category != "shipping" || len(sm.BotAttempts) < 2 {
		t.Fatalf("summary intents/attempts %+v", sm)
	}
	if !strings.Contains(sm.Text, "asked for a person") || !strings.Contains(sm.Text, sm.Intents[0].Title) {
		t.Fatalf("summary text %q", sm.Text)
	}
	if len(sm.Emotion.Tags) != 1 || sm.Emotion.Tags[0] != "calm" {
		t.Fatalf("emotion %+v", sm.Emotion)
	}
	// Suggestions answer the last real question, not the request for a person.
	if len(dc.Suggestions) == 0 || dc.Suggestions[0].Answer == "" {
		t.Fatalf("suggestions %+v", dc.Suggestions)
	}
	first := dc.Suggestions[0]
	if !strings.Contains(sm.Intents[0].Intent, first.EntryID) && first.EntryID != sm.Intents[0].Intent {
		t.Fatalf("first suggestion %s, the bot's topic was %s", first.EntryID, sm.Intents[0].Intent)
	}
	// The agent sends it; the customer sees it with the agent's name.
	var sent struct{ Message deskMessage }
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages", map[string]string{"text": first.Answer}, &sent)
	if sent.Message.Role != "agent" || sent.Message.Author == nil || sent.Message.Author.ID != agent.ID {
		t.Fatalf("sent %+v", sent.Message)
	}
	// A note stays inside.
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/notes", map[string]string{"text": "客户是老用户，注意语气"}, nil)
	v := getView(t, c, conv)
	last := v.Messages[len(v.Messages)-1]
	if last.Role != "agent" || last.Text != first.Answer || last.Author == nil || last.Author.Name == "" || last.Author.ID != "" {
		t.Fatalf("customer sees %+v (author %+v)", last, last.Author)
	}
	raw, _ := json.Marshal(v)
	if strings.Contains(string(raw), "注意语气") {
		t.Fatal("the customer sees the internal note")
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &dc)
	if len(dc.Notes) != 1 || dc.Notes[0].Author.ID != agent.ID {
		t.Fatalf("notes %+v", dc.Notes)
	}
	// Rating before anyone closed is allowed; it is one per conversation.
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	v = getView(t, c, conv)
	if v.State != "closed" || v.Messages[len(v.Messages)-1].Outcome != "rating_request" {
		t.Fatalf("after close: %s %+v", v.State, v.Messages[len(v.Messages)-1])
	}
	for _, bad := range []struct {
		name string
		body string
		want int
	}{
		{"score 0", `{"score":0}`, 400},
		{"score 6", `{"score":6}`, 400},
		{"no score", `{"tags":["solved"]}`, 400},
		{"score not a number", `{"score":"5"}`, 400},
		{"unknown tag", `{"score":4,"tags":["meh"]}`, 400},
		{"comment too long", `{"score":4,"comment":"` + strings.Repeat("长", 1001) + `"}`, 413},
	} {
		if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(bad.body)); status != bad.want {
			t.Errorf("%s: %d %s", bad.name, status, b)
		}
	}
	if status, _ := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", "wrong", []byte(`{"score":5}`)); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", status)
	}
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token,
		[]byte(`{"score":4,"tags":["solved","回答不完整"],"comment":"快，但少说了一点"}`))
	if status != http.StatusCreated {
		t.Fatalf("rate: %d %s", status, b)
	}
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":1}`)); status != http.StatusConflict {
		t.Fatalf("second rating: %d %s", status, b)
	}
	v = getView(t, c, conv)
	if v.Rating == nil || v.Rating.Score != 4 || strings.Join(v.Rating.Tags, ",") != "solved,incomplete" {
		t.Fatalf("rating %+v", v.Rating)
	}
	var tags struct {
		Tags []struct {
			ID    string            `json:"id"`
			Label map[string]string `json:"label"`
		} `json:"tags"`
	}
	status, b = c.Do("GET", "/api/v1/rating-tags", "", nil)
	json.Unmarshal(b, &tags)
	if status != 200 || len(tags.Tags) == 0 || tags.Tags[0].Label["zh-CN"] == "" || tags.Tags[0].Label["en"] == "" {
		t.Fatalf("rating tags %d %s", status, b)
	}
	// A closed conversation takes no more messages from anyone.
	agent.Must(http.StatusConflict, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages", map[string]string{"text": "还在吗"}, nil)
}

func TestDeskWorksOnPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	run := testutil.Start(t, func(c *config.Config) { c.Database = url })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("en")
	c.Say(conv, "I want to talk to a human please")
	waitFor(t, "automatic assignment", func() bool { return getView(t, c, conv).State == "assigned" })
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages", map[string]string{"text": "Hi, I'm here."}, nil)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", nil, nil)
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":5,"tags":["solved"]}`)); status != http.StatusCreated {
		t.Fatalf("rate: %d %s", status, b)
	}
	if status, _ := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":5}`)); status != http.StatusConflict {
		t.Fatalf("second rating on postgres: %d", status)
	}
	var mine struct{ Conversations []listedItem }
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations?scope=mine", nil, &mine)
	if len(mine.Conversations) != 0 {
		t.Fatalf("closed conversation still mine: %+v", mine)
	}
}

// A console's live stream ends, with an unauthorized error frame the
// console answers by signing in again, once its credential stops holding:
// the agent signed out elsewhere, or an admin disabled the account. It
// does not go on showing the desk to someone who may no longer see it.
func TestDeskStreamEndsWithItsCredential(t *testing.T) {
	run, agent := startStaffed(t)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	for _, tc := range []struct {
		name   string
		revoke func(s *testutil.Staff)
	}{
		{"signed out", func(s *testutil.Staff) { s.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil, nil) }},
		{"account disabled", func(s *testutil.Staff) {
			admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+s.ID+"/disabled", map[string]bool{"disabled": true}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := testutil.Login(t, run.URL, agent.Email, run.Demo[1].Password)
			// Online again: signing out (the case before) set the agent offline.
			s.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
			live := openDeskStream(t, ctx, run.URL, s.Token)
			// While the credential holds, events flow.
			first := c.Start("zh-CN")
			c.Say(first, "转人工")
			live.until("the first handoff", func(f deskFrame) bool {
				return f.Type == "queue" && slices.ContainsFunc(f.Queue, func(it listedItem) bool { return it.ID == first.ID })
			})
			tc.revoke(s)
			time.Sleep(1100 * time.Millisecond) // past the stream's recheck interval
			second := c.Start("zh-CN")
			c.Say(second, "转人工")
			for {
				var f struct {
					Type  string
					Queue []listedItem
					Error *struct{ Code string }
				}
				err := wsjson.Read(ctx, live.ws, &f)
				if err != nil {
					if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
						t.Fatalf("the stream ended with %v, want a policy-violation close after an error frame", err)
					}
					t.Fatal("the stream closed without an error frame first")
				}
				if f.Type == "queue" && slices.ContainsFunc(f.Queue, func(it listedItem) bool { return it.ID == second.ID }) {
					t.Fatal("the stream showed a new handoff after its credential was revoked")
				}
				if f.Type == "error" {
					if f.Error == nil || f.Error.Code != "unauthorized" {
						t.Fatalf("error frame %+v, want code unauthorized", f.Error)
					}
					break
				}
			}
			if _, _, err := live.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("after the error frame: %v, want the socket closed (policy violation)", err)
			}
			if tc.name == "account disabled" {
				admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+s.ID+"/disabled", map[string]bool{"disabled": false}, nil)
			}
		})
	}
}

// A frame the desk's stream does not know is answered with an error frame,
// as on the customer's stream; it was silently dropped.
func TestDeskStreamAnswersUnknownFrames(t *testing.T) {
	run, agent := startStaffed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := testutil.Login(t, run.URL, agent.Email, run.Demo[1].Password)
	live := openDeskStream(t, ctx, run.URL, s.Token)
	wsjson.Write(ctx, live.ws, map[string]any{"type": "pnig"})
	for {
		var f struct {
			Type  string
			Error *struct{ Code, Message string }
		}
		if err := wsjson.Read(ctx, live.ws, &f); err != nil {
			t.Fatal(err)
		}
		if f.Type == "error" {
			if f.Error == nil || f.Error.Code != "invalid" || !strings.Contains(f.Error.Message, "pnig") {
				t.Fatalf("the error frame: %+v", f.Error)
			}
			break
		}
		if f.Type == "pong" {
			t.Fatal("an unknown frame was answered as a ping")
		}
	}
	wsjson.Write(ctx, live.ws, map[string]any{"type": "ping"})
	live.until("pong on the same socket", func(f deskFrame) bool { return f.Type == "pong" })
}

// An agent whose conversation a supervisor hands to someone else is told
// on their stream (it leaves Mine; the composer closes), and hears nothing
// more of it.
func TestATransferReachesTheAgentItLeaves(t *testing.T) {
	run, agent := startStaffed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other := testutil.Login(t, run.URL, run.Demo[2].Email, run.Demo[2].Password)
	other.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "转人工")
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	live := openDeskStream(t, ctx, run.URL, agent.Token) // opened with the conversation already its

	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/assign", map[string]string{"agent_id": other.ID}, nil)
	f := live.until("the conversation, now another's", func(f deskFrame) bool {
		return f.Type == "conversation" && f.Conversation != nil && f.Conversation.ID == conv.ID
	})
	if f.Conversation.State != "assigned" || f.Conversation.Assignee == nil || f.Conversation.Assignee.ID != other.ID {
		t.Fatalf("the transfer as the agent left saw it: %+v", f.Conversation)
	}
	// What is said from now on is not theirs to read.
	c.Say(conv, "我的订单号是 20240001")
	wsjson.Write(ctx, live.ws, map[string]any{"type": "ping"})
	live.until("pong", func(f deskFrame) bool {
		if f.ConversationID == conv.ID || (f.Conversation != nil && f.Conversation.ID == conv.ID) {
			t.Fatalf("after the transfer the agent still got %s frames of the conversation", f.Type)
		}
		return f.Type == "pong"
	})
}

// An agent created without a name is shown to customers as "an agent",
// never by the email address the console falls back to.
func TestCustomersNeverSeeAnAgentsEmail(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const email, password = "li.internal@corp.example", "Nameless-agent-1"
	admin.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]string{"email": email, "role": "agent", "password": password}, nil)
	agent := testutil.Login(t, run.URL, email, password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "转人工")
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages", map[string]string{"text": "您好"}, nil)
	status, body := c.Do("GET", "/api/v1/conversations/"+conv.ID, conv.Token, nil)
	if status != http.StatusOK {
		t.Fatalf("get conversation: %d %s", status, body)
	}
	if strings.Contains(string(body), "li.internal") {
		t.Fatalf("the customer's view names the agent by email: %s", body)
	}
	if !strings.Contains(string(body), "人工客服已接入") {
		t.Fatalf("the customer's view lacks the nameless joined line: %s", body)
	}
}

// While an agent has the conversation it is not rated (the rating would
// be laid at whoever had it then, and the close's request would meet
// "already rated"); once closed it is, once.
func TestAnAgentsServiceIsRatedOnceClosed(t *testing.T) {
	run, agent := startStaffed(t)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	c.Say(conv, "转人工")
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":1}`))
	if status != http.StatusConflict || !strings.Contains(string(b), "closed") {
		t.Fatalf("rating while assigned: %d %s, want 409", status, b)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":4}`)); status != http.StatusCreated {
		t.Fatalf("rating once closed: %d %s", status, b)
	}
}

// An agent added a moment ago who takes a conversation at once is named to
// the customer and on the desk: the names were cached for 5 s, and an id
// not among them showed as no name at all.
func TestANewAgentIsNamedAtOnce(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	solo := admin.AddUser("solo@example.com", "agent", map[string]any{"max_chats": 1})
	solo.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	first := c.Start("en")
	c.Say(first, "human")
	waitFor(t, "first assigned", func() bool { return getView(t, c, first).State == "assigned" })
	conv := c.Start("en")
	if turn := c.Say(conv, "human"); turn.State != "queued" {
		t.Fatalf("asking for a person while the one agent is full: %+v", turn)
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/queue", nil, nil) // the names are cached now
	agent := admin.AddUser("newbie@example.com", "agent", map[string]any{"name": "Newbie Wang"})
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	if v := getView(t, c, conv); v.Agent == nil || v.Agent.Name != "Newbie Wang" {
		t.Fatalf("the customer sees agent %+v, want Newbie Wang", v.Agent)
	}
	var got struct {
		Conversation struct {
			Assignee *struct{ Name string } `json:"assignee"`
		} `json:"conversation"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &got)
	if a := got.Conversation.Assignee; a == nil || a.Name != "Newbie Wang" {
		t.Fatalf("the desk shows assignee %+v, want Newbie Wang", a)
	}
}

// A stream opened with an after_seq past the conversation's last message
// (a client's bug, a tab left open across a restore from backup) still
// delivers the messages that come: the client cannot have seen beyond the
// last one.
func TestAStreamFromBeyondTheLastMessageDeliversWhatComes(t *testing.T) {
	run := testutil.Start(t, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conv := c.Start("en")
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(run.URL, "http")+"/api/v1/conversations/"+conv.ID+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	wsjson.Write(ctx, ws, map[string]any{"type": "auth", "token": conv.Token, "after_seq": 999})
	s := &stream{t: t, ctx: ctx, ws: ws}
	s.until("ready", func(f streamFrame) bool { return f.Type == "ready" })
	c.Say(conv, "how much is shipping?")
	f := s.until("the customer's message", func(f streamFrame) bool { return f.Message != nil && f.Message.Role == "customer" })
	if f.Message.Text != "how much is shipping?" {
		t.Fatalf("the stream's customer message: %+v", f.Message)
	}
}
