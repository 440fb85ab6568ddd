package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// relay listens on loopback and connects each client to target, handing
// both connections to serve; every connection is closed at the end of the
// test.
func relay(t *testing.T, target string, serve func(client, server net.Conn)) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			serve(c, u)
		}
	}()
	return ln
}

// silentProxy forwards TCP to a server until frozen: then it takes what
// either side sends and passes nothing on, and closes nothing, as a host
// that lost its power or its network looks to the other side (no reset,
// no answer).
type silentProxy struct {
	ln     net.Listener
	frozen atomic.Bool
}

func newSilentProxy(t *testing.T, target string) *silentProxy {
	p := &silentProxy{}
	p.ln = relay(t, target, func(c, u net.Conn) {
		go p.pipe(u, c)
		go p.pipe(c, u)
	})
	return p
}

func (p *silentProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

// A PostgreSQL server that goes silent (its host gone without a word)
// fails a node's writes within the write timeout, as unavailable, instead
// of stalling every write of the node for the kernel's TCP timeout; once
// the server answers again, writes go through on fresh connections.
func TestWritesToASilentServerTimeOut(t *testing.T) {
	ctx := context.Background()
	direct := testutil.PostgresURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSilentProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	db := testutil.OpenStore(t, store.Options{DatabaseURL: u.String(), WriteTimeout: time.Second})
	c := newConversation("c-silent")
	if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
		t.Fatal(err)
	}

	proxy.frozen.Store(true)
	start := time.Now()
	err = db.SaveTurn(ctx, turn(c, "还在吗"))
	took := time.Since(start)
	if !errcode.Is(err, errcode.Unavailable) {
		t.Fatalf("a write to a silent server: %v, want unavailable", err)
	}
	if took > 8*time.Second {
		t.Fatalf("a write to a silent server took %s with a 1 s write timeout", took)
	}

	proxy.frozen.Store(false)
	deadline := time.Now().Add(15 * time.Second)
	c2 := newConversation("c-after")
	for {
		err := db.CreateConversation(ctx, c2, []conversation.Message{msg(c2, 1, conversation.RoleBot, "hi")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes after the server answers again: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
