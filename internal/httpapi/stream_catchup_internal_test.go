package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/realtime"
	"github.com/steward-cs/steward/internal/store"
)

// A customer's stream whose subscription was dropped (too slow for the
// hub, or a node that lost the cluster's events) catches up from the
// store with the conversation's state too. It used to resend the missed
// messages only: a close missed that way left the customer's composer open
// until a send failed.
// streamRig is a customer's stream over a real WebSocket on loopback, on a
// real SQLite store, with no turns of its own: the test drives it.
type streamRig struct {
	db     *store.DB
	hub    *realtime.Hub
	c      *conversation.Conversation
	cs     *conversationStream
	client *websocket.Conn
}

func newStreamRig(t *testing.T, ctx context.Context) *streamRig {
	t.Helper()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eng := conversation.NewEngine(db, conversation.Options{Logger: slog.New(slog.DiscardHandler)})
	c, tok, _, err := eng.Start(ctx, conversation.StartRequest{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	hub := realtime.NewHub(4)
	srv := &Server{engine: eng, hub: hub, logger: slog.New(slog.DiscardHandler)}
	conns, done := make(chan *websocket.Conn, 1), make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		conns <- conn
		<-done
	}))
	t.Cleanup(func() { close(done); hs.Close() })
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	// ended: the socket takes no turns of its own. seen: what the stream
	// last told the customer.
	sk := &socket{srv: srv, conn: <-conns, ctx: ctx, ended: true}
	seen := *c
	cs := &conversationStream{s: srv, sk: sk, id: c.ID, token: tok, c: &seen, sent: c.LastSeq}
	cs.sub = hub.SubscribeFunc(ConversationTopic(c.ID), 0, func() {})
	t.Cleanup(cs.close)
	return &streamRig{db: db, hub: hub, c: c, cs: cs, client: client}
}

// save stores the next turn of the conversation with msgs (seq after seq)
// and state, and returns it, without telling the hub.
func (r *streamRig) save(t *testing.T, ctx context.Context, state conversation.State, texts ...string) conversation.Turn {
	t.Helper()
	next := *r.c
	next.State, next.UpdatedAt = state, time.Now().UTC()
	var msgs []conversation.Message
	for _, text := range texts {
		next.LastSeq++
		msgs = append(msgs, conversation.Message{ID: text, ConversationID: r.c.ID, Seq: next.LastSeq,
			Role: conversation.RoleSystem, Text: text, Locale: "en", CreatedAt: next.UpdatedAt})
	}
	if state == conversation.StateClosed {
		next.ClosedAt = next.UpdatedAt
	}
	if err := r.db.SaveTurn(ctx, conversation.Turn{Conversation: &next, Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	*r.c = next
	return conversation.Turn{Conversation: &next, Messages: msgs}
}

// frames reads n frames, each as "message ID" or "TYPE STATE".
func (r *streamRig) frames(t *testing.T, ctx context.Context, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var f serverFrame
		err := wsjson.Read(rctx, r.client, &f)
		cancel()
		if err != nil {
			t.Fatalf("the stream sent %v, then: %v; want %d frames", got, err, n)
		}
		if f.Type == "message" {
			got = append(got, "message "+f.Message.ID)
		} else {
			got = append(got, f.Type+" "+string(f.State))
		}
	}
	return got
}

// A customer's stream whose subscription was dropped (too slow for the
// hub, or a node that lost the cluster's events) catches up from the
// store with the conversation's state too. It used to resend the missed
// messages only: a close missed that way left the customer's composer open
// until a send failed.
func TestDroppedStreamCatchesUpTheState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := newStreamRig(t, ctx)
	// The conversation is closed while this stream hears nothing of it.
	r.save(t, ctx, conversation.StateClosed, "m-bye")
	r.hub.DropAll()
	if err := r.cs.turn(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	if got := r.frames(t, ctx, 2); got[0] != "message m-bye" || got[1] != "state closed" {
		t.Fatalf("after the drop the stream sent %v, want [message m-bye, state closed]", got)
	}
}

// An event that skips a message (another node's, still on its way) sends
// the one skipped from the store first: the customer used to get the later
// one and never the other.
func TestStreamFillsAGapFromTheStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := newStreamRig(t, ctx)
	r.save(t, ctx, conversation.StateBot, "m-elsewhere") // its event has not come
	here := r.save(t, ctx, conversation.StateBot, "m-here")
	if err := r.cs.update(ctx, Update{Conversation: *here.Conversation, Messages: here.Messages}); err != nil {
		t.Fatal(err)
	}
	if got := r.frames(t, ctx, 2); got[0] != "message m-elsewhere" || got[1] != "message m-here" {
		t.Fatalf("the stream sent %v, want [message m-elsewhere, message m-here]", got)
	}
}
