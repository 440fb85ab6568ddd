package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/testutil"
)

// A console signed in with its cookie counts against its person's own cap
// of WebSockets, not its address's: with the address's cap held by chat
// widgets (a helpdesk whose customers share the agents' office address, or
// an office of more agents than the cap behind one NAT), the agents past
// it got no stream, so no presence beat, and routing passed them by as
// gone.
func TestAConsolesStreamIsNotCountedAgainstItsAddress(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Security.MaxWebSocketsPerIP = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(run.URL, "http")
	c := &testutil.Client{T: t, Base: run.URL}
	for range 2 {
		conv := c.Start("en")
		sock, _, err := websocket.Dial(ctx, ws+"/api/v1/conversations/"+conv.ID+"/stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sock.CloseNow()
		wsjson.Write(ctx, sock, map[string]any{"type": "auth", "token": conv.Token})
		var f struct{ Type string }
		if err := wsjson.Read(ctx, sock, &f); err != nil || f.Type != "ready" {
			t.Fatalf("a customer's stream: %+v %v", f, err)
		}
	}
	conv := c.Start("en")
	if sock, resp, err := websocket.Dial(ctx, ws+"/api/v1/conversations/"+conv.ID+"/stream", nil); err == nil {
		sock.CloseNow()
		t.Fatal("a third customer stream from the address was accepted over the cap of 2")
	} else if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third customer stream: %v", err)
	}

	// The agent signs in as the console does, with the session cookie.
	body, _ := json.Marshal(map[string]string{"email": run.Demo[1].Email, "password": run.Demo[1].Password})
	resp, err := http.Post(run.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == httpapi.SessionCookie {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatalf("login set no %s cookie", httpapi.SessionCookie)
	}
	sock, resp, err := websocket.Dial(ctx, ws+"/api/v1/desk/stream",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("the agent's console stream with the address's cap full: %d %v", status, err)
	}
	defer sock.CloseNow()
	var f struct{ Type string }
	if err := wsjson.Read(ctx, sock, &f); err != nil || f.Type != "ready" {
		t.Fatalf("the console's stream: %+v %v", f, err)
	}
}

// A ticket resolved in one console is news to the others: their Messages
// lists showed it open until their next minute's read, and their counts
// until the tab was opened.
func TestAResolvedTicketIsToldToTheOtherConsoles(t *testing.T) {
	run := testutil.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	if turn := c.Say(conv, "转人工"); len(turn.Messages) == 0 || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("a handoff with nobody online: %+v, want the offline form", turn)
	}
	body, _ := json.Marshal(map[string]string{"contact": "13800000000", "message": "请回电"})
	status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body)
	var created struct{ Ticket struct{ ID string } }
	if status != http.StatusCreated || json.Unmarshal(b, &created) != nil {
		t.Fatalf("offline message: %d %s", status, b)
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	other := openDeskStream(t, ctx, run.URL, admin.Token)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/tickets/"+created.Ticket.ID+"/resolve", nil, nil)
	other.until("a tickets frame", func(f deskFrame) bool { return f.Type == "tickets" })
}
