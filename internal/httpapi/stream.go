package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
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
// them (queued, assigned, just closed, just offered the offline form, or
// thanked for a message left on it) also go to the desk: the consoles count
// new offline messages and show them in an open transcript.
func (p HubPublisher) Publish(c *conversation.Conversation, msgs []conversation.Message) {
	u := Update{Conversation: *c, Messages: msgs}
	p.Hub.Publish(realtime.Event{Topic: ConversationTopic(c.ID), Data: u})
	forDesk := c.State != conversation.StateBot
	for _, m := range msgs {
		forDesk = forDesk || m.Outcome == conversation.OutcomeOffline || m.Outcome == conversation.OutcomeTicket
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

// PublishTickets implements desk.Publisher.
func (p HubPublisher) PublishTickets() {
	p.Hub.Publish(realtime.Event{Topic: DeskTopic, Data: ticketsEvent{}})
	p.Cluster.Send(realtime.Remote{Kind: realtime.KindTickets})
}

// ticketsEvent says the offline-message tickets changed.
type ticketsEvent struct{}

// PublishRating tells the consoles that the customer rated a conversation.
func (p HubPublisher) PublishRating(conversationID string, r quality.Rating) {
	p.Hub.Publish(realtime.Event{Topic: DeskTopic, Data: ratingEvent{ConversationID: conversationID, Rating: r}})
	p.Cluster.Send(realtime.Remote{Kind: realtime.KindRating, ID: conversationID})
}

// ratingEvent is a customer's rating of a conversation.
type ratingEvent struct {
	ConversationID string
	Rating         quality.Rating
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
	return s.serveSocket(w, r, &websocket.AcceptOptions{OriginPatterns: s.origins}, "stream", "", pingInterval,
		func(ctx context.Context, sk *socket) (liveStream, error) { return s.openStream(ctx, sk, id, ipKey) })
}

// conversationStream is a customer's conversation on a socket.
type conversationStream struct {
	s                *Server
	sk               *socket
	id, ipKey, token string
	c                *conversation.Conversation
	sent             int64 // the last message sent
	sub              *realtime.Subscription
	// A queued customer follows the queue for their place in line.
	qsub    *realtime.Subscription
	lastPos queueJSON
}

// openStream authenticates the customer, subscribes to the conversation
// and sends the messages they missed.
func (s *Server) openStream(ctx context.Context, sk *socket, id, ipKey string) (_ liveStream, err error) {
	var auth clientFrame
	actx, cancel := context.WithTimeout(ctx, authTimeout)
	err = wsjson.Read(actx, sk.conn, &auth)
	cancel()
	if err != nil {
		if websocket.CloseStatus(err) != -1 {
			return nil, err
		}
		return nil, errcode.Errorf(errcode.Unauthorized, "the first frame must be {\"type\":\"auth\",\"token\":...} within %s", authTimeout)
	}
	if auth.Type != "auth" {
		return nil, errcode.Errorf(errcode.Unauthorized, "the first frame must be of type \"auth\", not %q", auth.Type)
	}
	c, err := s.engine.Authorize(ctx, id, auth.Token)
	if err != nil {
		return nil, err
	}
	// A client cannot have seen past the conversation's last message: an
	// after_seq beyond it (a client's bug, a stale tab of a restored
	// database) would have hidden every message up to that number.
	cs := &conversationStream{s: s, sk: sk, id: id, ipKey: ipKey, token: auth.Token, c: c,
		sent: min(max(auth.AfterSeq, 0), c.LastSeq)}
	// Subscribe before reading the backlog so that nothing falls between.
	cs.sub = s.hub.SubscribeFunc(ConversationTopic(id), 0, sk.wake)
	defer func() {
		if err != nil {
			cs.close()
		}
	}()
	// And read the conversation again: a change published between the
	// authorisation's read and the subscription (an agent joining, a
	// close) was in neither, and the "ready" frame said the old state
	// until the next event.
	if fresh, err := s.engine.Conversation(ctx, id); err == nil {
		c, cs.c = fresh, fresh
	}
	if err := cs.write(ctx, serverFrame{Type: "ready", State: c.State}); err != nil {
		return nil, err
	}
	if err := cs.sendBacklog(ctx); err != nil {
		return nil, err
	}
	if err := cs.followQueue(ctx, c.State == conversation.StateQueued); err != nil {
		return nil, err
	}
	return cs, nil
}

func (cs *conversationStream) write(ctx context.Context, f serverFrame) error {
	return cs.s.writeFrame(ctx, cs.sk.conn, f)
}

func (cs *conversationStream) sendBacklog(ctx context.Context) (err error) {
	cs.sent, err = cs.s.sendBacklog(ctx, cs.sk.conn, cs.c, cs.sent)
	return err
}

// followQueue starts or stops following the queue.
func (cs *conversationStream) followQueue(ctx context.Context, queued bool) error {
	if queued && cs.qsub == nil {
		cs.qsub = cs.s.hub.SubscribeFunc(QueueTopic, 0, cs.sk.wake)
		if pos := cs.s.queuePosition(cs.id); pos != nil && *pos != cs.lastPos {
			cs.lastPos = *pos
			return cs.write(ctx, serverFrame{Type: "queue", Queue: pos})
		}
	}
	if !queued && cs.qsub != nil {
		cs.qsub.Close()
		cs.qsub, cs.lastPos = nil, queueJSON{}
	}
	return nil
}

func (cs *conversationStream) close() {
	cs.sub.Close()
	if cs.qsub != nil {
		cs.qsub.Close()
	}
}

// turn implements liveStream.
func (cs *conversationStream) turn(ctx context.Context, frames []clientFrame, keepalive bool) error {
	select {
	case <-cs.sub.Dropped():
		// Too slow for the hub, or another node's events were lost: catch
		// up from the store instead, the conversation's state included (a
		// close missed here left the customer's composer open).
		cs.sub.Close()
		cs.sub = cs.s.hub.SubscribeFunc(ConversationTopic(cs.id), 0, cs.sk.wake)
		if err := cs.catchUp(ctx); err != nil {
			return err
		}
	default:
		// The events queued now; later ones wake the next turn.
		for _, ev := range cs.sub.Take() {
			if err := cs.update(ctx, ev.Data.(Update)); err != nil {
				return err
			}
		}
	}
	if cs.qsub != nil {
		select {
		case <-cs.qsub.Dropped():
			// Follow the queue afresh: the place in line now, then its moves.
			cs.qsub.Close()
			cs.qsub = nil
			if err := cs.followQueue(ctx, cs.c.State == conversation.StateQueued); err != nil {
				return err
			}
		default:
			for _, ev := range cs.qsub.Take() {
				if err := cs.queued(ctx, ev.Data.(queueEvent).Queue); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range frames {
		if err := cs.s.streamFrame(ctx, cs.sk.conn, cs.id, cs.ipKey, cs.token, f); err != nil {
			return err
		}
	}
	if keepalive {
		return ping(ctx, cs.sk.conn)
	}
	return nil
}

// update sends the new messages of u, and its state if it changed.
func (cs *conversationStream) update(ctx context.Context, u Update) error {
	for _, m := range u.Messages {
		if m.Seq <= cs.sent {
			continue
		}
		if m.Seq > cs.sent+1 {
			// One before it has not come here (another node's event still
			// on its way): the store has it, and the customer gets both in
			// order rather than this one and never the other.
			if err := cs.sendBacklog(ctx); err != nil {
				return err
			}
			if m.Seq <= cs.sent {
				continue
			}
		}
		mj := toJSON(m)
		if err := cs.write(ctx, serverFrame{Type: "message", Message: &mj}); err != nil {
			return err
		}
		cs.sent = m.Seq
	}
	return cs.setState(ctx, &u.Conversation)
}

// catchUp sends what the stream missed, from the store: the messages after
// the last one sent, and the conversation's state if it changed.
func (cs *conversationStream) catchUp(ctx context.Context) error {
	if err := cs.sendBacklog(ctx); err != nil {
		return err
	}
	c, err := cs.s.engine.Conversation(ctx, cs.id)
	if err != nil {
		return err
	}
	return cs.setState(ctx, c)
}

// setState tells the customer the conversation's state, if it changed.
func (cs *conversationStream) setState(ctx context.Context, c *conversation.Conversation) error {
	st := c.State
	if st == cs.c.State {
		return nil
	}
	cs.c.State = st
	f := serverFrame{Type: "state", State: st}
	if st == conversation.StateAssigned {
		f.Agent = &authorName{Name: cs.s.publicNames(ctx, c.Assignee)[c.Assignee]}
	}
	if err := cs.write(ctx, f); err != nil {
		return err
	}
	return cs.followQueue(ctx, st == conversation.StateQueued)
}

// queued sends the customer's new place in q, if it moved.
func (cs *conversationStream) queued(ctx context.Context, q *desk.Queue) error {
	it, ok := q.Position(cs.id)
	if !ok {
		return nil
	}
	pos := queueJSON{Position: it.Position, WaitSeconds: int64(it.Wait / time.Second), AfterHours: it.AfterHours}
	if pos == cs.lastPos {
		return nil
	}
	cs.lastPos = pos
	return cs.write(ctx, serverFrame{Type: "queue", Queue: &pos})
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
			res, err = s.engine.Handle(ctx, id, token, conversation.Input{Text: f.Text, Choice: f.Choice, ClientID: f.ClientID})
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

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
