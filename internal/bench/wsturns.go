package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// clientFrame is a frame of the stream protocol a client sends.
type clientFrame struct {
	Type     string `json:"type"`
	Token    string `json:"token,omitempty"`
	AfterSeq int64  `json:"after_seq,omitempty"`
	Text     string `json:"text,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

// serverFrame is a frame of the stream protocol the server sends.
type serverFrame struct {
	Type      string        `json:"type"` // ready, message, state, queue, ack, error, pong
	State     string        `json:"state,omitempty"`
	Message   *messageFrame `json:"message,omitempty"`
	ClientID  string        `json:"client_id,omitempty"`
	MessageID string        `json:"message_id,omitempty"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// streamURL is the WebSocket URL of a conversation's stream.
func streamURL(base, id string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/conversations/" + id + "/stream"
}

// openStream opens a conversation's stream and authenticates on it (the
// token travels in the first frame, never in the URL), asking for the
// messages after afterSeq; it returns once the server said ready.
func openStream(ctx context.Context, client *http.Client, base string, c *conversationReply, afterSeq int64) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, streamURL(base, c.ID), &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, kindErrorf("ws_dial", "open the stream of %s: %w", c.ID, err)
	}
	conn.SetReadLimit(1 << 20)
	if err := wsjson.Write(ctx, conn, clientFrame{Type: "auth", Token: c.Token, AfterSeq: afterSeq}); err != nil {
		conn.CloseNow()
		return nil, kindErrorf("ws_write", "authenticate on the stream of %s: %w", c.ID, err)
	}
	for {
		var f serverFrame
		if err := wsjson.Read(ctx, conn, &f); err != nil {
			conn.CloseNow()
			return nil, kindErrorf("ws_closed", "wait for ready on the stream of %s: %w", c.ID, err)
		}
		switch f.Type {
		case "ready":
			return conn, nil
		case "error":
			conn.CloseNow()
			code := ""
			if f.Error != nil {
				code = f.Error.Code
			}
			return nil, kindErrorf("ws_error "+code, "the stream of %s refused: %+v", c.ID, f.Error)
		}
	}
}

// wsCustomer is one simulated customer of the ws-turns scenario: one
// conversation and its stream, messages sent on the socket.
type wsCustomer struct {
	client *http.Client
	base   string
	ask    *asker
	ledger *ledger
	conv   *conv
	conn   *websocket.Conn
	state  string
	sent   int
	// leaving is set when the last turn handed the customer to the desk: the
	// next turn starts a new conversation.
	leaving  bool
	outcomes tally
}

func (c *wsCustomer) tally() tally { return c.outcomes }

func (c *wsCustomer) begin(ctx context.Context) error { return c.open(ctx) }

func (c *wsCustomer) end() { c.close() }

func (c *wsCustomer) open(ctx context.Context) error {
	c.close()
	cr, err := createConversation(ctx, c.client, c.base, c.ask.locale())
	if err != nil {
		return err
	}
	c.conv = &conv{id: cr.ID, token: cr.Token}
	c.ledger.add(c.conv)
	conn, err := openStream(ctx, c.client, c.base, cr, cr.lastSeq())
	if err != nil {
		return err
	}
	c.conn, c.state, c.leaving = conn, "bot", false
	return nil
}

// close closes the customer's socket with a close handshake, as a browser
// leaving the page does.
func (c *wsCustomer) close() {
	if c.conn != nil {
		closeStream(c.conn)
		c.conn = nil
	}
}

// closeStream closes a socket with a close handshake (bounded by the
// library's own 5 s wait for the server's answer).
func closeStream(conn *websocket.Conn) {
	if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		conn.CloseNow()
	}
}

// turn sends one message on the socket and reads frames until the bot's
// reply to it has arrived: the ack (the message is durable) names the
// customer's message, which comes back as a message frame followed by the
// replies.
func (c *wsCustomer) turn(ctx context.Context) error {
	if c.conn == nil || c.leaving {
		if err := c.open(ctx); err != nil {
			return err
		}
	}
	c.sent++
	c.conv.sent++
	id := strconv.Itoa(c.sent)
	if err := wsjson.Write(ctx, c.conn, clientFrame{Type: "message", Text: c.ask.next().Text, ClientID: id}); err != nil {
		c.close()
		return kindErrorf("ws_write", "send on the stream: %w", err)
	}
	var (
		ack     string
		custSeq int64         = -1
		seen                  = map[string]int64{} // customer messages of this turn by id
		bot     *messageFrame                      // the newest bot message
	)
	for {
		var f serverFrame
		if err := wsjson.Read(ctx, c.conn, &f); err != nil {
			c.close()
			if ctx.Err() != nil {
				return fmt.Errorf("wait for the reply: %w", ctx.Err())
			}
			return kindErrorf("ws_closed", "read the stream: %w", err)
		}
		switch f.Type {
		case "ack":
			if f.ClientID == id {
				ack = f.MessageID
				c.conv.acked = append(c.conv.acked, ack)
				if s, ok := seen[ack]; ok {
					custSeq = s
				}
			}
		case "error":
			if f.ClientID == id || f.ClientID == "" {
				code := ""
				if f.Error != nil {
					code = f.Error.Code
				}
				return kindErrorf("ws_error "+code, "the stream refused the message: %+v", f.Error)
			}
		case "state":
			c.state = f.State
		case "message":
			if m := f.Message; m != nil {
				switch m.Role {
				case "customer":
					seen[m.ID] = m.Seq
					if m.ID == ack {
						custSeq = m.Seq
					}
				case "bot":
					if bot == nil || m.Seq > bot.Seq {
						bot = m
					}
				}
			}
		}
		if ack == "" || custSeq < 0 {
			continue
		}
		if bot != nil && bot.Seq > custSeq {
			c.outcomes[bot.Outcome]++
			c.leaving = bot.Outcome == "handoff" || bot.Outcome == "offline"
			return nil
		}
		if c.state != "bot" {
			c.leaving = true
			return kindErrorf("no_reply", "the bot did not reply (state %s)", c.state)
		}
	}
}

// runWSTurns runs the ws-turns scenario against base.
func runWSTurns(ctx context.Context, o *Options, base string, qs []question) (*TurnsResult, *ledger, error) {
	return runCustomers(ctx, o, "ws-turns", func(client *http.Client, i int, led *ledger) customer {
		return &wsCustomer{client: client, base: base, ask: newAsker(qs, i), ledger: led, outcomes: tally{}}
	})
}
