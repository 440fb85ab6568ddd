package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

// startBoth runs fn against a Steward on SQLite and one on PostgreSQL.
func startBoth(t *testing.T, fn func(t *testing.T, c *testutil.Client)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, &testutil.Client{T: t, Base: testutil.StartApp(t, nil)})
	})
	t.Run("postgres", func(t *testing.T) {
		url := testutil.PostgresURL(t)
		fn(t, &testutil.Client{T: t, Base: testutil.StartApp(t, func(c *config.Config) { c.Database = url })})
	})
}

func TestConversationRoundTrip(t *testing.T) {
	startBoth(t, func(t *testing.T, c *testutil.Client) {
		conv := c.Start("en")
		if conv.ID == "" || conv.Token == "" || conv.State != "bot" || len(conv.Messages) != 1 || conv.Messages[0].Role != "bot" {
			t.Fatalf("created %+v", conv)
		}
		turn := c.Say(conv, "how much does shipping cost")
		if turn.State != "bot" || len(turn.Messages) != 1 {
			t.Fatalf("turn %+v", turn)
		}
		r := turn.Messages[0]
		if r.Role != "bot" || r.Outcome != "answer" || r.Entry == nil || r.Entry.Category != "shipping" || r.Confidence == nil || *r.Confidence <= 0 || *r.Confidence > 1 {
			t.Fatalf("reply %+v", r)
		}
		zh := c.Say(conv, "我想退货，怎么操作")
		if z := zh.Messages[0]; z.Outcome != "answer" || z.Entry == nil || z.Entry.Category != "returns" || !strings.ContainsAny(z.Text, "退货") {
			t.Fatalf("zh reply %+v", z)
		}
		got := c.Get(conv)
		if len(got.Messages) != 5 || got.Locale != "zh-CN" {
			t.Fatalf("transcript has %d messages, locale %s", len(got.Messages), got.Locale)
		}
		wantRoles := []string{"bot", "customer", "bot", "customer", "bot"}
		for i, m := range got.Messages {
			if m.Role != wantRoles[i] || m.Seq != int64(i+1) || m.ID == "" {
				t.Fatalf("message %d = %+v, want role %s seq %d", i, m, wantRoles[i], i+1)
			}
		}
		if got.Messages[1].Text != "how much does shipping cost" {
			t.Fatalf("customer text stored as %q", got.Messages[1].Text)
		}
	})
}

// startStaffed starts Steward with manual assignment and one agent online,
// so that a handoff joins the queue and stays there.
func startStaffed(t *testing.T) (*testutil.Running, *testutil.Staff) {
	t.Helper()
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	return run, agent
}

func TestHandoff(t *testing.T) {
	run, _ := startStaffed(t)
	c := &testutil.Client{T: t, Base: run.URL}
	cases := []struct {
		name   string
		say    []string
		reason string
	}{
		{"request zh", []string{"转人工"}, "request"},
		{"request en", []string{"I want to talk to a human please"}, "request"},
		{"request after an answer", []string{"运费怎么算", "人工客服"}, "request"},
		{"second consecutive fallback", []string{"asdkjh qwpeoiru zxmcnb", "今天天气怎么样"}, "unresolved"},
		// Small talk between two failures answers no question: the ladder
		// goes on (a stuck customer types "在吗" and "你是机器人吗").
		{"fallbacks around small talk", []string{"asdkjh qwpeoiru zxmcnb", "在吗", "今天天气怎么样"}, "unresolved"},
		{"anger", []string{"你们这什么垃圾服务，气死我了！！！我要投诉！"}, "emotion"},
		{"anger en", []string{"THIS IS RIDICULOUS, you people are useless scammers!!!"}, "emotion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conv := c.Start("zh-CN")
			var turn testutil.Turn
			for i, text := range tc.say {
				turn = c.Say(conv, text)
				if i < len(tc.say)-1 && turn.State != "bot" {
					t.Fatalf("handed off too early, after %q", text)
				}
			}
			if turn.State != "queued" || len(turn.Messages) != 1 || turn.Messages[0].Outcome != "handoff" {
				t.Fatalf("after %q: %+v, want a handoff to the queue", tc.say, turn)
			}
			// What the customer writes while queued is kept, unanswered by the bot.
			queued := c.Say(conv, "还在吗？")
			if queued.State != "queued" || len(queued.Messages) != 0 || queued.Customer.ID == "" {
				t.Fatalf("while queued: %+v", queued)
			}
			got := c.Get(conv)
			if last := got.Messages[len(got.Messages)-1]; last.Text != "还在吗？" {
				t.Fatalf("last stored message %q", last.Text)
			}
		})
	}
	// One fallback followed by an answer resets the ladder.
	conv := c.Start("en")
	if turn := c.Say(conv, "qwrtp zxcvb"); turn.Messages[0].Outcome != "fallback" {
		t.Fatalf("gibberish: %+v", turn.Messages[0])
	}
	if turn := c.Say(conv, "how do I get an invoice"); turn.Messages[0].Outcome != "answer" {
		t.Fatalf("invoice question: %+v", turn.Messages[0])
	}
	if turn := c.Say(conv, "qwrtp zxcvb"); turn.State != "bot" || turn.Messages[0].Outcome != "fallback" {
		t.Fatalf("a fallback after an answer handed off: %+v", turn)
	}
}

func TestClarifyChoiceAnswersThatEntry(t *testing.T) {
	c := &testutil.Client{T: t, Base: testutil.StartApp(t, nil)}
	conv := c.Start("en")
	body := []byte(`{"text":"Shipping fees","choice":"shipping-fee"}`)
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", conv.Token, body)
	var turn testutil.Turn
	json.Unmarshal(b, &turn)
	if status != 200 || turn.Messages[0].Entry == nil || turn.Messages[0].Entry.ID != "shipping-fee" {
		t.Fatalf("choice: %d %s", status, b)
	}
}

// Every endpoint rejects bad input with a JSON error, and stores nothing.
func TestBadInput(t *testing.T) {
	c := &testutil.Client{T: t, Base: testutil.StartApp(t, nil)}
	conv := c.Start("zh-CN")
	msgs := "/api/v1/conversations/" + conv.ID + "/messages"
	one := "/api/v1/conversations/" + conv.ID
	big := `{"text":"` + strings.Repeat("a", 70<<10) + `"}`
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"create: malformed JSON", "POST", "/api/v1/conversations", "", `{"locale":`, 400, "invalid"},
		{"create: unknown locale", "POST", "/api/v1/conversations", "", `{"locale":"fr"}`, 400, "invalid"},
		{"create: unknown field", "POST", "/api/v1/conversations", "", `{"lang":"en"}`, 400, "invalid"},
		{"create: wrong type", "POST", "/api/v1/conversations", "", `{"locale":5}`, 400, "invalid"},
		{"create: bad UTF-8", "POST", "/api/v1/conversations", "", "{\"locale\":\"en\",\"customer\":{\"name\":\"\xff\xfe\"}}", 400, "invalid"},
		{"create: name too long", "POST", "/api/v1/conversations", "", `{"customer":{"name":"` + strings.Repeat("名", 101) + `"}}`, 400, "invalid"},
		{"create: oversized body", "POST", "/api/v1/conversations", "", big, 413, "invalid"},
		{"create: two values", "POST", "/api/v1/conversations", "", `{} {}`, 400, "invalid"},
		{"create: a stray brace after the value", "POST", "/api/v1/conversations", "", `{"locale":"en"}}`, 400, "invalid"},
		{"message: stray brackets after the value", "POST", msgs, conv.Token, `{"text":"hello"}]]]`, 400, "invalid"},
		{"create: wrong method", "PUT", "/api/v1/conversations", "", `{}`, 405, "invalid"},
		{"message: no token", "POST", msgs, "", `{"text":"hi"}`, 401, "unauthorized"},
		{"message: wrong token", "POST", msgs, "wrong", `{"text":"hi"}`, 401, "unauthorized"},
		{"message: unknown conversation (as a wrong token: ids do not leak)", "POST", "/api/v1/conversations/cnope/messages", conv.Token, `{"text":"hi"}`, 401, "unauthorized"},
		{"message: wrong token and a malformed body (the token is judged first)", "POST", msgs, "wrong", `{"text":"hi"`, 401, "unauthorized"},
		{"message: wrong token and no text", "POST", msgs, "wrong", `{}`, 401, "unauthorized"},
		{"message: malformed JSON", "POST", msgs, conv.Token, `{"text":"hi"`, 400, "invalid"},
		{"message: not an object", "POST", msgs, conv.Token, `"hi"`, 400, "invalid"},
		{"message: empty body", "POST", msgs, conv.Token, ``, 400, "invalid"},
		{"message: missing text", "POST", msgs, conv.Token, `{}`, 400, "invalid"},
		{"message: empty text", "POST", msgs, conv.Token, `{"text":""}`, 400, "invalid"},
		{"message: blank text", "POST", msgs, conv.Token, `{"text":"  \n\t "}`, 400, "invalid"},
		{"message: text is a number", "POST", msgs, conv.Token, `{"text":42}`, 400, "invalid"},
		{"message: 4001 characters", "POST", msgs, conv.Token, `{"text":"` + strings.Repeat("字", 4001) + `"}`, 413, "invalid"},
		{"message: bad UTF-8", "POST", msgs, conv.Token, "{\"text\":\"ab\xc3\x28\"}", 400, "invalid"},
		{"message: oversized body", "POST", msgs, conv.Token, big, 413, "invalid"},
		{"message: unknown field", "POST", msgs, conv.Token, `{"text":"hi","admin":true}`, 400, "invalid"},
		// PostgreSQL cannot store a NUL in text: such a turn used to wait in
		// the spool for good, holding up the conversation's later writes.
		{"message: NUL character", "POST", msgs, conv.Token, `{"text":"a\u0000b"}`, 400, "invalid"},
		{"create: NUL character", "POST", "/api/v1/conversations", "", `{"customer":{"name":"\u0000"}}`, 400, "invalid"},
		{"message: wrong method", "DELETE", msgs, conv.Token, ``, 405, "invalid"},
		{"get: no token", "GET", one, "", ``, 401, "unauthorized"},
		{"get: wrong token", "GET", one, "x" + conv.Token, ``, 401, "unauthorized"},
		{"get: unknown conversation (as a wrong token: ids do not leak)", "GET", "/api/v1/conversations/cnope", conv.Token, ``, 401, "unauthorized"},
		{"get: wrong method", "PATCH", one, conv.Token, `{}`, 405, "invalid"},
		// PostgreSQL cannot compare text holding them: a 500 to anyone with a token.
		{"get: NUL in the path", "GET", "/api/v1/conversations/%00", conv.Token, ``, 400, "invalid"},
		{"get: not UTF-8 in the path", "GET", "/api/v1/conversations/%FF", conv.Token, ``, 400, "invalid"},
		{"unanswered: NUL in a query value", "GET", "/api/v1/kb/unanswered?days=%00", "", ``, 400, "invalid"},
		{"stream: not a WebSocket", "GET", one + "/stream", "", ``, 400, "invalid"},
		{"stream: wrong method", "POST", one + "/stream", "", `{}`, 405, "invalid"},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", ``, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" || tc.method == "POST" {
				body = []byte(tc.body)
			}
			status, b := c.Do(tc.method, tc.path, tc.token, body)
			var e struct {
				Error struct {
					Code, Message string
					MessageZH     string `json:"message_zh"`
				}
			}
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("%d %q is not a JSON error: %v", status, b, err)
			}
			if status != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("got %d %s, want %d %s", status, b, tc.status, tc.code)
			}
			// What was wrong is said in both languages, not only in the
			// generic Chinese sentence a page picks by the code.
			if e.Error.MessageZH == "" {
				t.Errorf("%d %s: no message_zh", status, b)
			}
		})
	}
	if got := c.Get(conv); len(got.Messages) != 1 {
		t.Fatalf("rejected requests stored messages: transcript has %d", len(got.Messages))
	}
	// A backslash typed before "u0000" is text, not a NUL.
	if status, b := c.Do("POST", msgs, conv.Token, []byte(`{"text":"path C:\\u0000 ok"}`)); status != http.StatusOK {
		t.Fatalf("text with an escaped backslash before u0000: %d %s", status, b)
	}
	// An empty body of unknown length (chunked, as some HTTP clients send
	// a POST without data) starts a conversation with the defaults, as no
	// body does; it used to be refused as "body is empty".
	for _, body := range []string{"", " \n"} {
		req, err := http.NewRequest("POST", c.Base+"/api/v1/conversations", io.NopCloser(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.TransferEncoding = []string{"chunked"}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("a chunked body %q: %d %s, want 201", body, resp.StatusCode, b)
		}
	}
	// A message sent again with its client_id (its answer was lost on the
	// way) is answered with the turn already stored, not stored twice.
	keyed := `{"text":"how do I reset my password","client_id":"web-7f3a"}`
	var turns [2]struct {
		Customer struct {
			ID       string
			ClientID string `json:"client_id"`
		} `json:"customer_message"`
		Messages []struct{ ID string }
	}
	for i := range turns {
		status, b := c.Do("POST", msgs, conv.Token, []byte(keyed))
		if err := json.Unmarshal(b, &turns[i]); status != 200 || err != nil {
			t.Fatalf("send %d with a client_id: %d %s", i+1, status, b)
		}
	}
	if turns[1].Customer.ID != turns[0].Customer.ID || turns[1].Customer.ClientID != "web-7f3a" ||
		len(turns[1].Messages) == 0 || turns[1].Messages[0].ID != turns[0].Messages[0].ID {
		t.Fatalf("the retry answered %+v, want the first turn %+v", turns[1], turns[0])
	}
	if status, b := c.Do("POST", msgs, conv.Token, []byte(`{"text":"hi","client_id":"`+strings.Repeat("k", 300)+`"}`)); status != 200 {
		t.Fatalf("an over-long client_id (not kept, not an error): %d %s", status, b)
	}
	// The limit is inclusive: exactly 4,000 characters are accepted.
	if turn := c.Say(conv, strings.Repeat("字", 4000)); turn.Customer.ID == "" {
		t.Fatal("a 4000-character message was not stored")
	}
}

type frame struct {
	Type      string `json:"type"`
	State     string `json:"state"`
	ClientID  string `json:"client_id"`
	MessageID string `json:"message_id"`
	Message   *testutil.Message
	Error     *struct{ Code, Message string }
}

func TestStream(t *testing.T) {
	run, _ := startStaffed(t)
	base := run.URL
	c := &testutil.Client{T: t, Base: base}
	conv := c.Start("en")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/conversations/" + conv.ID + "/stream"

	read := func(ws *websocket.Conn) frame {
		t.Helper()
		var f frame
		if err := wsjson.Read(ctx, ws, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	// A wrong token gets an error frame and a closed socket.
	bad, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	wsjson.Write(ctx, bad, map[string]any{"type": "auth", "token": "nope"})
	if f := read(bad); f.Type != "error" || f.Error == nil || f.Error.Code != "unauthorized" {
		t.Fatalf("wrong token: %+v", f)
	}
	bad.CloseNow()

	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	wsjson.Write(ctx, ws, map[string]any{"type": "auth", "token": conv.Token})
	if f := read(ws); f.Type != "ready" || f.State != "bot" {
		t.Fatalf("first frame %+v", f)
	}
	if f := read(ws); f.Type != "message" || f.Message.Seq != 1 {
		t.Fatalf("backlog %+v", f)
	}
	// A message sent over REST arrives live: the customer's, then the reply.
	c.Say(conv, "how do I reset my password")
	if f := read(ws); f.Message == nil || f.Message.Role != "customer" || f.Message.Seq != 2 {
		t.Fatalf("live customer message %+v", f)
	}
	if f := read(ws); f.Message == nil || f.Message.Role != "bot" || f.Message.Outcome != "answer" {
		t.Fatalf("live reply %+v", f)
	}
	// A message sent on the socket is acknowledged and streamed.
	wsjson.Write(ctx, ws, map[string]any{"type": "message", "text": "human", "client_id": "k1"})
	seen := map[string]bool{}
	var stored string
	for !(seen["ack"] && seen["handoff"] && seen["state"]) {
		f := read(ws)
		switch {
		case f.Type == "ack" && f.ClientID == "k1":
			seen["ack"] = true
			stored = f.MessageID
		case f.Type == "message" && f.Message.Outcome == "handoff":
			seen["handoff"] = true
		case f.Type == "state" && f.State == "queued":
			seen["state"] = true
		}
	}
	// A frame of the wrong shape (a number for the text, not JSON, binary)
	// is answered with an error frame that says what is wrong, and the
	// socket stays open: it used to close with 1007.
	// (The queued customer's place in line may come between: skipped.)
	answer := func() frame {
		t.Helper()
		for {
			if f := read(ws); f.Type != "queue" {
				return f
			}
		}
	}
	for _, bad := range []struct {
		typ  websocket.MessageType
		data string
		want string
	}{
		{websocket.MessageText, `{"type":"message","text":5}`, `field "text" must be a string, not a number`},
		{websocket.MessageText, `{"type":"message",`, "not valid JSON"},
		{websocket.MessageBinary, `{"type":"ping"}`, "binary"},
		// Bytes that are not UTF-8 were quietly turned into U+FFFD; REST refuses them.
		{websocket.MessageText, "{\"type\":\"message\",\"text\":\"ab\xc3\x28\"}", "not valid UTF-8"},
	} {
		if err := ws.Write(ctx, bad.typ, []byte(bad.data)); err != nil {
			t.Fatal(err)
		}
		if f := answer(); f.Type != "error" || f.Error == nil || f.Error.Code != "invalid" || !strings.Contains(f.Error.Message, bad.want) {
			t.Fatalf("the frame %s: %+v, want an invalid error saying %q", bad.data, f, bad.want)
		}
	}
	// Sent again with its client_id (the ack was lost with the socket), the
	// message is acknowledged as the one stored, not stored twice.
	wsjson.Write(ctx, ws, map[string]any{"type": "message", "text": "human", "client_id": "k1"})
	if f := answer(); f.Type != "ack" || f.ClientID != "k1" || f.MessageID == "" || f.MessageID != stored {
		t.Fatalf("the message sent again: %+v, want the ack of %s", f, stored)
	}
	wsjson.Write(ctx, ws, map[string]any{"type": "ping"})
	if f := answer(); f.Type != "pong" {
		t.Fatalf("after the bad frames: %+v, want pong on the same socket", f)
	}
	// Resuming after seq 3 replays exactly what came later.
	ws2, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.CloseNow()
	wsjson.Write(ctx, ws2, map[string]any{"type": "auth", "token": conv.Token, "after_seq": 3})
	if f := read(ws2); f.Type != "ready" || f.State != "queued" {
		t.Fatalf("resume ready %+v", f)
	}
	for want := int64(4); want <= 5; want++ {
		if f := read(ws2); f.Message == nil || f.Message.Seq != want {
			t.Fatalf("resume: %+v, want seq %d", f, want)
		}
	}
	_ = http.StatusOK
}

// A low rating of a conversation people served (or that waited for them)
// is left out of the bot's low_ratings rule; one of a conversation whose
// handoff nobody could take (the offline form offered) still judges the
// bot.
func TestLowRatingsOfStaffedConversationsAreLeftOut(t *testing.T) {
	run, agent := startStaffed(t)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	rate := func(conv testutil.Conversation) {
		t.Helper()
		if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":1}`)); status != http.StatusCreated {
			t.Fatalf("rate: %d %s", status, b)
		}
	}
	counts := func() (low, leftOut int) {
		t.Helper()
		var m struct {
			Windows map[string]struct {
				Low     int `json:"low_ratings"`
				LeftOut int `json:"low_ratings_left_out"`
			} `json:"windows"`
		}
		admin.Must(http.StatusOK, "GET", "/api/v1/monitor", nil, &m)
		return m.Windows["5m0s"].Low, m.Windows["5m0s"].LeftOut
	}

	served := c.Start("zh-CN")
	if turn := c.Say(served, "转人工"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+served.ID+"/claim", nil, nil)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+served.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	rate(served)
	if low, out := counts(); low != 1 || out != 1 {
		t.Fatalf("after a low rating of a served conversation: %d low, %d left out; want 1 and 1", low, out)
	}

	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "offline"}, nil)
	alone := c.Start("zh-CN")
	if turn := c.Say(alone, "转人工"); turn.State != "bot" || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("asking for a person with nobody online: %+v", turn)
	}
	rate(alone)
	if low, out := counts(); low != 2 || out != 1 {
		t.Fatalf("after a low rating of a conversation nobody could take: %d low, %d left out; want 2 and 1", low, out)
	}
}

// Every path a route serves answers a method it does not take with 405,
// the methods it takes in Allow, and a JSON error; the hand-kept lists
// had drifted, and some paths answered 404 "no such endpoint".
func TestEveryRouteAnswersAWrongMethodWith405(t *testing.T) {
	c := &testutil.Client{T: t, Base: testutil.StartApp(t, nil)}
	methods := map[string][]string{}
	for _, p := range httpapi.Routes() {
		method, path, _ := strings.Cut(p, " ")
		methods[path] = append(methods[path], method)
	}
	wild := regexp.MustCompile(`\{[a-z]+\}`)
	for path, have := range methods {
		var wrong string
		for _, m := range []string{"PATCH", "PUT", "DELETE", "POST", "GET"} {
			if !slices.Contains(have, m) && !(m == "GET" && slices.Contains(have, "HEAD")) {
				wrong = m
				break
			}
		}
		url := wild.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "x")
		req, err := http.NewRequest(wrong, c.Base+url, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		jsonErr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		allow := strings.Split(resp.Header.Get("Allow"), ", ")
		slices.Sort(allow)
		slices.Sort(have)
		if resp.StatusCode != http.StatusMethodNotAllowed || jsonErr != nil || body.Error.Code != "invalid" || !slices.Equal(allow, have) {
			t.Errorf("%s %s: %d, Allow %q, error %+v (%v); want 405, Allow %q and a JSON error",
				wrong, url, resp.StatusCode, resp.Header.Get("Allow"), body.Error, jsonErr, strings.Join(have, ", "))
		}
	}
}
