package store_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// cuttingProxy forwards TCP to a PostgreSQL server. Once armed, it cuts
// the next connection whose answer reaches a message of type at after
// rows data rows: everything before it is passed on, then both sides are
// closed. The client has had its query accepted and some of its answer,
// and loses the connection while reading the rest, as it does when the
// server is killed mid-answer in a failover.
type cuttingProxy struct {
	ln    net.Listener
	at    byte // set before arming
	rows  int
	armed atomic.Bool
	cuts  atomic.Int64
}

func newCuttingProxy(t *testing.T, target string) *cuttingProxy {
	p := &cuttingProxy{}
	p.ln = relay(t, target, func(c, u net.Conn) {
		go func() { io.Copy(u, c); u.Close() }()
		go p.answers(c, u)
	})
	return p
}

// arm makes the proxy cut the next answer at a message of type at that
// follows rows data rows.
func (p *cuttingProxy) arm(at byte, rows int) {
	p.at, p.rows = at, rows
	p.armed.Store(true)
}

// answers passes the server's messages (a type byte, then a length that
// counts itself) to the client one by one, and cuts the connection where
// it is armed to.
func (p *cuttingProxy) answers(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	head := make([]byte, 5)
	rows := 0 // data rows in the current answer
	for {
		if _, err := io.ReadFull(server, head); err != nil {
			return
		}
		body := make([]byte, int(binary.BigEndian.Uint32(head[1:]))-4)
		if _, err := io.ReadFull(server, body); err != nil {
			return
		}
		if p.armed.Load() && head[0] == p.at && rows == p.rows && p.armed.CompareAndSwap(true, false) {
			p.cuts.Add(1)
			return
		}
		switch head[0] {
		case 'D':
			rows++
		case 'Z': // ready for the next query
			rows = 0
		}
		if _, err := client.Write(append(head, body...)); err != nil {
			return
		}
	}
}

// A read whose connection is lost after the query was accepted, while its
// answer is on the way, is the database being unavailable, not an internal
// error: a one-row read runs again on a fresh connection and succeeds, a
// list says "unavailable" (503, try again). Such reads used to answer 500.
// (A cut before the first row fails the query itself, which was already
// run again.)
func TestReadCutOffMidAnswerIsUnavailable(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(testutil.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttingProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	db := testutil.OpenStore(t, store.Options{DatabaseURL: u.String()})
	c := newConversation("c-cut")
	if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTurn(ctx, turn(c, "在吗")); err != nil {
		t.Fatal(err)
	}

	proxy.arm('C', 1) // the row came, the end of the answer did not
	got, err := db.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatalf("a one-row read cut off mid-answer: %v, want it read again on a fresh connection", err)
	}
	if got.ID != c.ID || proxy.cuts.Load() != 1 {
		t.Fatalf("read %q after %d cuts, want %q after 1", got.ID, proxy.cuts.Load(), c.ID)
	}

	proxy.arm('D', 1) // the first row came, the second did not
	_, err = db.Messages(ctx, c.ID, 0)
	if proxy.cuts.Load() != 2 {
		t.Fatalf("the proxy cut %d answers, want 2", proxy.cuts.Load())
	}
	if !errcode.Is(err, errcode.Unavailable) {
		t.Fatalf("a list cut off mid-answer: %v (code %s), want unavailable", err, errcode.Code(err))
	}
	msgs, err := db.Messages(ctx, c.ID, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("the list read again: %d messages, %v; want 3", len(msgs), err)
	}
}
