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
