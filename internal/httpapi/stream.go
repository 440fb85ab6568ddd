package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/realtime"
)

// ConversationTopic is the realtime topic of a conversation's updates.
func ConversationTopic(id string) string { return "conversation:" + id }

// Update is what the engine publishes after a turn is durable.
type Update struct {
	State    conversation.State
	Messages []conversation.Message
}

// HubPublisher adapts a realtime hub to the engine's Publisher.
type HubPublisher struct{ Hub *realtime.Hub }

// Publish implements conversation.Publisher.
func (p HubPublisher) Publish(id string, state conversation.State, msgs []conversation.Message) {
	p.Hub.Publish(realtime.Event{Topic: ConversationTopic(id), Data: Update{State: state, Messages: msgs}})
}

var _ conversation.Publisher = HubPublisher{}

// Frames of the stream protocol.
type clientFrame struct {
	Type     string `json:"type"` // "auth" first, then "message" or "ping"
	Token    string `json:"token,omitempty"`
	AfterSeq int64  `json:"after_seq,omitempty"`
	Text     string `json:"text,omitempty"`
	Choice   string `json:"choice,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

type serverFrame struct {
	Type      string             `json:"type"` // ready, message, state, ack, error, pong
	State     conversation.State `json:"state,omitempty"`
	Message   *messageJSON       `json:"message,omitempty"`
	ClientID  string             `json:"client_id,omitempty"`
	MessageID string             `json:"message_id,omitempty"`
	Error     *errorDetail       `json:"error,omitempty"`
}

const (
	authTimeout   = 10 * time.Second
	writeTimeout  = 10 * time.Second
	pingInterval  = 30 * time.Second
	maxFrameBytes = maxBody
)

// stream serves a conversation's live messages over a WebSocket. The first
// client frame authenticates ({"type":"auth","token":...,"after_seq":N});
// the server then sends every message after N, and live ones as they are
// stored. Clients may also send messages on the socket.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		return errcode.Errorf(errcode.Invalid, "this endpoint is a WebSocket: send an Upgrade: websocket request")
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.origins})
	if err != nil {
		return nil // Accept has answered the client
	}
	conn.SetReadLimit(maxFrameBytes)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			conn.Close(websocket.StatusGoingAway, "server shutting down")
			cancel()
		case <-ctx.Done():
		}
	}()
	err = s.serveStream(ctx, conn, id)
	switch {
	case err == nil, errors.Is(err, context.Canceled), websocket.CloseStatus(err) != -1:
		conn.Close(websocket.StatusNormalClosure, "")
	default:
		code := errcode.Code(err)
		if code == errcode.Internal {
			s.logger.Error("stream failed", "error", err)
		}
		s.send(ctx, conn, serverFrame{Type: "error", Error: &errorDetail{Code: publicCode(code), Message: errcode.Message(err)}})
		conn.Close(websocket.StatusPolicyViolation, code)
	}
	return nil
}

func (s *Server) serveStream(ctx context.Context, conn *websocket.Conn, id string) error {
	var auth clientFrame
	actx, cancel := context.WithTimeout(ctx, authTimeout)
	err := wsjson.Read(actx, conn, &auth)
	cancel()
	if err != nil {
		if websocket.CloseStatus(err) != -1 {
			return err
		}
		return errcode.Errorf(errcode.Unauthorized, "the first frame must be {\"type\":\"auth\",\"token\":...} within %s", authTimeout)
	}
	if auth.Type != "auth" {
		return errcode.Errorf(errcode.Unauthorized, "the first frame must be of type \"auth\", not %q", auth.Type)
	}
	c, err := s.engine.Authorize(ctx, id, auth.Token)
	if err != nil {
		return err
	}
	// Subscribe before reading the backlog so that nothing falls between.
	sub := s.hub.Subscribe(ConversationTopic(id))
	defer sub.Close()
	sent := max(auth.AfterSeq, 0)
	if err := s.send(ctx, conn, serverFrame{Type: "ready", State: c.State}); err != nil {
		return err
	}
	if sent, err = s.sendBacklog(ctx, conn, c, sent); err != nil {
		return err
	}
	incoming := make(chan clientFrame)
	readErr := make(chan error, 1)
	go func() {
		for {
			var f clientFrame
			if err := wsjson.Read(ctx, conn, &f); err != nil {
				readErr <- err
				return
			}
			select {
			case incoming <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	dropped := sub.Dropped()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-dropped:
			// Too slow for the hub: catch up from the store instead.
			sub.Close()
			sub = s.hub.Subscribe(ConversationTopic(id))
			dropped = sub.Dropped()
			if sent, err = s.sendBacklog(ctx, conn, c, sent); err != nil {
				return err
			}
		case ev := <-sub.C:
			u := ev.Data.(Update)
			for _, m := range u.Messages {
				if m.Seq <= sent {
					continue
				}
				mj := toJSON(m)
				if err := s.send(ctx, conn, serverFrame{Type: "message", Message: &mj}); err != nil {
					return err
				}
				sent = m.Seq
			}
			if u.State != c.State {
				c.State = u.State
				if err := s.send(ctx, conn, serverFrame{Type: "state", State: u.State}); err != nil {
					return err
				}
			}
		case f := <-incoming:
			if err := s.streamFrame(ctx, conn, id, auth.Token, f); err != nil {
				return err
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		}
	}
}

// streamFrame handles a client frame after authentication. A bad message is
// answered with an error frame; the stream stays open.
func (s *Server) streamFrame(ctx context.Context, conn *websocket.Conn, id, token string, f clientFrame) error {
	switch f.Type {
	case "ping":
		return s.send(ctx, conn, serverFrame{Type: "pong"})
	case "message":
		res, err := s.engine.Handle(ctx, id, token, conversation.Input{Text: f.Text, Choice: f.Choice})
		if err != nil {
			if errcode.Code(err) == errcode.Internal {
				s.logger.Error("stream message", "error", err)
			}
			return s.send(ctx, conn, serverFrame{Type: "error", ClientID: f.ClientID,
				Error: &errorDetail{Code: publicCode(errcode.Code(err)), Message: errcode.Message(err)}})
		}
		// The messages themselves arrive through the subscription.
		return s.send(ctx, conn, serverFrame{Type: "ack", ClientID: f.ClientID, MessageID: res.Customer.ID})
	default:
		return s.send(ctx, conn, serverFrame{Type: "error", Error: &errorDetail{Code: errcode.Invalid,
			Message: "unknown frame type " + jsonString(f.Type) + " (want \"message\" or \"ping\")"}})
	}
}

func (s *Server) sendBacklog(ctx context.Context, conn *websocket.Conn, c *conversation.Conversation, after int64) (int64, error) {
	msgs, err := s.engine.Transcript(ctx, c, after)
	if err != nil {
		return after, err
	}
	for _, m := range msgs {
		mj := toJSON(m)
		if err := s.send(ctx, conn, serverFrame{Type: "message", Message: &mj}); err != nil {
			return after, err
		}
		after = m.Seq
	}
	return after, nil
}

func (s *Server) send(ctx context.Context, conn *websocket.Conn, f serverFrame) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return wsjson.Write(wctx, conn, f)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
