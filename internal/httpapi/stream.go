package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/realtime"
)

// ConversationTopic is the realtime topic of a conversation's updates.
func ConversationTopic(id string) string { return "conversation:" + id }

// Topics shared by every console and every queued customer.
const (
	DeskTopic  = "desk"  // conversation updates the desk cares about, notes, queue changes
	QueueTopic = "queue" // queue changes, for queued customers' positions
)

// Update is what the engine publishes after a turn is durable.
type Update struct {
	Conversation conversation.Conversation
	Messages     []conversation.Message
}

// queueEvent and noteEvent travel on the desk topic.
type queueEvent struct{ Queue *desk.Queue }

type noteEvent struct {
	ConversationID string
	Note           desk.Note
}

// HubPublisher adapts a realtime hub to the engine's and the desk's
// publishers. With a Cluster, other nodes hear of each event too, and read
// what changed from the store (app.deliverRemote).
type HubPublisher struct {
	Hub     *realtime.Hub
	Cluster *realtime.Cluster // nil: one node
}

// Publish implements conversation.Publisher. Conversations with people in
// them (queued, assigned, just closed, or just offered the offline form)
// also go to the desk.
func (p HubPublisher) Publish(c *conversation.Conversation, msgs []conversation.Message) {
	u := Update{Conversation: *c, Messages: msgs}
	p.Hub.Publish(realtime.Event{Topic: ConversationTopic(c.ID), Data: u})
	forDesk := c.State != conversation.StateBot
	for _, m := range msgs {
		forDesk = forDesk || m.Outcome == conversation.OutcomeOffline
	}
	if forDesk {
		p.Hub.Publish(realtime.Event{Topic: DeskTopic, Data: u})
	}
	after := c.LastSeq
	if len(msgs) > 0 {
		after = msgs[0].Seq - 1
	}
	p.Cluster.Send(realtime.Remote{Kind: realtime.KindConversation, ID: c.ID, After: after, Desk: forDesk})
}

// PublishQueue implements desk.Publisher.
func (p HubPublisher) PublishQueue(q *desk.Queue) {
	p.Hub.Publish(realtime.Event{Topic: DeskTopic, Data: queueEvent{Queue: q}})
	p.Hub.Publish(realtime.Event{Topic: QueueTopic, Data: queueEvent{Queue: q}})
	p.Cluster.Send(realtime.Remote{Kind: realtime.KindQueue})
}

// PublishNote implements desk.Publisher.
func (p HubPublisher) PublishNote(conversationID string, n desk.Note) {
	p.Hub.Publish(realtime.Event{Topic: DeskTopic, Data: noteEvent{ConversationID: conversationID, Note: n}})
	p.Cluster.Send(realtime.Remote{Kind: realtime.KindNote, ID: conversationID, Ref: n.ID})
}

var (
	_ conversation.Publisher = HubPublisher{}
	_ desk.Publisher         = HubPublisher{}
)

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
	Queue     *queueJSON         `json:"queue,omitempty"`
	Agent     *authorName        `json:"agent,omitempty"`
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
	id, ipKey := r.PathValue("id"), s.limits.clientKey(r)
	return s.serveSocket(w, r, &websocket.AcceptOptions{OriginPatterns: s.origins}, "stream",
		func(ctx context.Context, conn *websocket.Conn) error { return s.serveStream(ctx, conn, id, ipKey) })
}

// serveSocket upgrades r to a WebSocket and runs serve on it until serve
// returns or the server shuts down. An error from serve reaches the client
// as an error frame ({"type":"error","error":{"code","message"}}) before
// the socket closes. A client address holding its cap of WebSockets is
// refused before the upgrade (429).
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions, name string,
	serve func(ctx context.Context, conn *websocket.Conn) error) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		return errcode.Errorf(errcode.Invalid, "this endpoint is a WebSocket: send an Upgrade: websocket request")
	}
	release, err := s.limits.openSocket(s.limits.clientKey(r))
	if err != nil {
		return err
	}
	defer release()
	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		return nil // Accept has answered the client
	}
	conn.SetReadLimit(maxFrameBytes)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Shutdown closes the socket. A context rather than a goroutine per
	// socket watches for it: 10,000 idle customers are 10,000 fewer stacks.
	stop := context.AfterFunc(s.closingCtx, func() {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		cancel()
	})
	defer stop()
	err = serve(ctx, conn)
	switch {
	case err == nil, errors.Is(err, context.Canceled), websocket.CloseStatus(err) != -1:
		conn.Close(websocket.StatusNormalClosure, "")
	case goneAway(err):
		// A phone that lost its signal or a closed tab: not an error.
		s.logger.Debug(name+": the client went away", "error", err)
		conn.CloseNow()
	default:
		code := errcode.Code(err)
		if code == errcode.Internal {
			s.logger.Error(name+" failed", "error", err)
		}
		s.writeFrame(ctx, conn, errorFrame{Type: "error", Error: *errorDetailOf(err)})
		conn.Close(websocket.StatusPolicyViolation, code)
	}
	return nil
}

// goneAway reports whether err says the client dropped the connection
// without a closing handshake.
func goneAway(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// errorFrame is the last frame of a stream that failed.
type errorFrame struct {
	Type  string      `json:"type"`
	Error errorDetail `json:"error"`
}

func (s *Server) serveStream(ctx context.Context, conn *websocket.Conn, id, ipKey string) error {
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
	if err := s.writeFrame(ctx, conn, serverFrame{Type: "ready", State: c.State}); err != nil {
		return err
	}
	// A queued customer follows the queue for their place in line.
	var (
		qsub    *realtime.Subscription
		qevents <-chan realtime.Event
		lastPos queueJSON
	)
	followQueue := func(queued bool) error {
		if queued && qsub == nil {
			qsub = s.hub.Subscribe(QueueTopic)
			qevents = qsub.C
			if pos := s.queuePosition(id); pos != nil && *pos != lastPos {
				lastPos = *pos
				return s.writeFrame(ctx, conn, serverFrame{Type: "queue", Queue: pos})
			}
		}
		if !queued && qsub != nil {
			qsub.Close()
			qsub, qevents, lastPos = nil, nil, queueJSON{}
		}
		return nil
	}
	defer func() {
		if qsub != nil {
			qsub.Close()
		}
	}()
	if sent, err = s.sendBacklog(ctx, conn, c, sent); err != nil {
		return err
	}
	if err := followQueue(c.State == conversation.StateQueued); err != nil {
		return err
	}
	incoming, readErr := s.readFrames(ctx, conn)
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
				if err := s.writeFrame(ctx, conn, serverFrame{Type: "message", Message: &mj}); err != nil {
					return err
				}
				sent = m.Seq
			}
			if st := u.Conversation.State; st != c.State {
				c.State = st
				f := serverFrame{Type: "state", State: st}
				if st == conversation.StateAssigned {
					f.Agent = &authorName{Name: s.userNames(ctx)[u.Conversation.Assignee]}
				}
				if err := s.writeFrame(ctx, conn, f); err != nil {
					return err
				}
				if err := followQueue(st == conversation.StateQueued); err != nil {
					return err
				}
			}
		case ev := <-qevents:
			q := ev.Data.(queueEvent).Queue
			if it, ok := q.Position(id); ok {
				pos := queueJSON{Position: it.Position, WaitSeconds: int64(it.Wait / time.Second)}
				if pos != lastPos {
					lastPos = pos
					if err := s.writeFrame(ctx, conn, serverFrame{Type: "queue", Queue: &pos}); err != nil {
						return err
					}
				}
			}
		case f := <-incoming:
			if err := s.streamFrame(ctx, conn, id, ipKey, auth.Token, f); err != nil {
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
// answered with an error frame; the stream stays open. A message is
// charged to the client address and the conversation as over REST.
func (s *Server) streamFrame(ctx context.Context, conn *websocket.Conn, id, ipKey, token string, f clientFrame) error {
	switch f.Type {
	case "ping":
		return s.writeFrame(ctx, conn, serverFrame{Type: "pong"})
	case "message":
		convKey := conversationKey(id, token)
		err := s.limits.allowIP(ipKey)
		if err == nil {
			err = s.limits.allowMessage(convKey)
		}
		var res *conversation.Result
		if err == nil {
			res, err = s.engine.Handle(ctx, id, token, conversation.Input{Text: f.Text, Choice: f.Choice})
		}
		if err != nil {
			if errcode.Code(err) == errcode.Internal {
				s.logger.Error("stream message", "error", err)
			}
			return s.writeFrame(ctx, conn, serverFrame{Type: "error", ClientID: f.ClientID, Error: errorDetailOf(err)})
		}
		if res.Refused {
			s.limits.refused(ipKey, convKey)
		}
		// The messages themselves arrive through the subscription.
		return s.writeFrame(ctx, conn, serverFrame{Type: "ack", ClientID: f.ClientID, MessageID: res.Customer.ID})
	default:
		return s.writeFrame(ctx, conn, serverFrame{Type: "error", Error: &errorDetail{Code: errcode.Invalid,
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
		if err := s.writeFrame(ctx, conn, serverFrame{Type: "message", Message: &mj}); err != nil {
			return after, err
		}
		after = m.Seq
	}
	return after, nil
}

// writeFrame sends one JSON frame, giving up after writeTimeout.
func (s *Server) writeFrame(ctx context.Context, conn *websocket.Conn, f any) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return wsjson.Write(wctx, conn, f)
}

// readFrames reads a stream's client frames in the background until ctx
// ends or the socket fails; the failure arrives on the second channel.
// Frames over the connection's rate are answered and dropped here (see
// framePacer). The goroutine exits with the connection's context.
func (s *Server) readFrames(ctx context.Context, conn *websocket.Conn) (<-chan clientFrame, <-chan error) {
	incoming := make(chan clientFrame)
	readErr := make(chan error, 1)
	pacer := s.limits.newFramePacer()
	go func() {
		for {
			var f clientFrame
			if err := wsjson.Read(ctx, conn, &f); err != nil {
				readErr <- err
				return
			}
			if ok, err := s.pace(ctx, conn, pacer, f); err != nil {
				readErr <- err
				return
			} else if !ok {
				continue
			}
			select {
			case incoming <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	return incoming, readErr
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
