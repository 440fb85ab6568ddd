package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/realtime"
)

// deskFrame is a frame of the console's live stream.
type deskFrame struct {
	Type           string           `json:"type"` // ready, queue, conversation, message, note, tickets, rating, pong, error (last, but for an unknown client frame)
	User           *userJSON        `json:"user,omitempty"`
	Queue          *[]itemJSON      `json:"queue,omitempty"`
	AgentsOnline   *int             `json:"agents_online,omitempty"`
	Conversation   *itemJSON        `json:"conversation,omitempty"`
	ConversationID string           `json:"conversation_id,omitempty"`
	Message        *deskMessageJSON `json:"message,omitempty"`
	Note           *noteJSON        `json:"note,omitempty"`
	Rating         *ratingJSON      `json:"rating,omitempty"`
}

// deskBuffer is how many events a console may fall behind before it must
// resynchronise: the desk topic carries every conversation with people in
// it, so it needs more room than one customer's stream.
const deskBuffer = 256

// presenceBeat is how often a console's stream keeps its agent online.
const presenceBeat = 30 * time.Second

// deskStream serves the console's live updates over a WebSocket. It
// authenticates with the session cookie sent with the handshake (the
// WebSocket library refuses cross-origin handshakes, so a cookie alone
// cannot be ridden by another site), or with a first frame
// {"type":"auth","token":...} carrying a bearer token or API key.
//
// The credential is checked again while the stream lives, so that signing
// out, a disabled account, a changed role or a deleted API key end a
// console's live view too: before the events of a turn at most once a
// second (credentialRecheck), and at every presence beat.
func (s *Server) deskStream(w http.ResponseWriter, r *http.Request) error {
	var p *auth.Principal
	var cred deskCredential
	// A console signed in with its cookie counts against its person's own
	// cap of sockets, not its address's: a whole office behind one NAT
	// address (or a helpdesk whose customers share the agents' address)
	// held the address's cap with its chat widgets and consoles, and the
	// agents past it got no stream, no presence beat, and were routed
	// around as gone.
	capKey := ""
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if p, err = s.auth.FromCookie(r.Context(), c.Value); err != nil {
			return err
		}
		cred = deskCredential{value: c.Value, cookie: true}
		capKey = "user:" + p.User.ID
	}
	return s.serveSocket(w, r, nil /* same origin only */, "desk stream", capKey, presenceBeat,
		func(ctx context.Context, sk *socket) (liveStream, error) { return s.openDeskStream(ctx, sk, p, cred) })
}

// credentialRecheck is how often a console's stream checks its credential
// again while events flow.
const credentialRecheck = time.Second

// deskCredential is what a console's stream signed in with: the session
// cookie's value, or a bearer token or API key.
type deskCredential struct {
	value  string
	cookie bool
}

// deskStream is a console's live desk on a socket.
type deskStream struct {
	s       *Server
	sk      *socket
	user    *auth.User
	sub     *realtime.Subscription
	cred    deskCredential
	checked time.Time // when cred was last found good
	// had holds the conversations assigned to the user as far as the
	// stream knows (an agent's, not a supervisor's, who sees all): when
	// one is transferred to someone else, the console is told once, then
	// no more. It was never told, kept the conversation in Mine with its
	// composer on, and its replies met 403s.
	had map[string]bool
}

// openDeskStream authenticates the console (unless its cookie did),
// subscribes to the desk and sends the queue.
func (s *Server) openDeskStream(ctx context.Context, sk *socket, p *auth.Principal, cred deskCredential) (_ liveStream, err error) {
	if p == nil {
		var f clientFrame
		actx, cancel := context.WithTimeout(ctx, authTimeout)
		err := wsjson.Read(actx, sk.conn, &f)
		cancel()
		if err != nil {
			if websocket.CloseStatus(err) != -1 {
				return nil, err
			}
			return nil, errcode.Errorf(errcode.Unauthorized, "sign in first, or send {\"type\":\"auth\",\"token\":...} within %s", authTimeout)
		}
		if f.Type != "auth" {
			return nil, errcode.Errorf(errcode.Unauthorized, "the first frame must be of type \"auth\", not %q", f.Type)
		}
		if p, err = s.auth.FromBearer(ctx, f.Token); err != nil {
			return nil, err
		}
		cred = deskCredential{value: f.Token}
	}
	user := p.User
	if !user.Can(auth.DeskRead) {
		return nil, auth.ErrNotPermitted("use the desk")
	}
	ds := &deskStream{s: s, sk: sk, user: user, sub: s.hub.SubscribeFunc(DeskTopic, deskBuffer, sk.wake),
		cred: cred, checked: time.Now(), had: map[string]bool{}}
	defer func() {
		if err != nil {
			ds.close()
		}
	}()
	if !user.Can(auth.DeskReadAll) {
		mine, err := s.desk.List(ctx, user, desk.ScopeMine)
		if err != nil {
			return nil, err
		}
		for _, c := range mine {
			ds.had[c.ID] = true
		}
	}
	// The beat before "ready": the console reads its presence when ready
	// comes, and an agent online but not heard from (a laptop closed
	// overnight) read "offline" while this beat, just after, put them
	// back online and routing gave them conversations.
	if err := s.desk.Touch(ctx, user.ID); err != nil {
		s.logger.Warn("presence beat", "error", err)
	}
	uj := toUserJSON(user)
	if err := s.writeFrame(ctx, sk.conn, deskFrame{Type: "ready", User: &uj}); err != nil {
		return nil, err
	}
	q, err := s.desk.Queue(ctx, user)
	if err != nil {
		return nil, err
	}
	if err := s.sendQueue(ctx, sk.conn, queueEvent{Queue: q}); err != nil {
		return nil, err
	}
	return ds, nil
}

func (ds *deskStream) close() { ds.sub.Close() }

// turn implements liveStream. The keepalive is also the agent's presence
// beat.
func (ds *deskStream) turn(ctx context.Context, frames []clientFrame, keepalive bool) error {
	s, conn := ds.s, ds.sk.conn
	select {
	case <-ds.sub.Dropped():
		// Too slow: the console resynchronises from the API when told.
		return errcode.Errorf(errcode.Unavailable, "the console fell behind; reconnect to resynchronise")
	default:
	}
	if err := ds.recheck(ctx, keepalive); err != nil {
		return err
	}
	// The events queued now; later ones wake the next turn.
	for _, ev := range ds.sub.Take() {
		if err := ds.event(ctx, ev.Data); err != nil {
			return err
		}
	}
	for _, f := range frames {
		var reply any = deskFrame{Type: "pong"}
		if f.Type != "ping" {
			// As the customer's stream does: a frame it takes no notice of is
			// said to be one, not silently dropped.
			reply = errorFrame{Type: "error", Error: errorDetail{Code: errcode.Invalid,
				Message: fmt.Sprintf("unknown frame type %q: the desk's stream takes {\"type\":\"ping\"} only", f.Type)}}
		}
		if err := s.writeFrame(ctx, conn, reply); err != nil {
			return err
		}
	}
	if keepalive {
		if err := s.desk.Touch(ctx, ds.user.ID); err != nil {
			s.logger.Warn("presence beat", "error", err)
		}
		return ping(ctx, conn)
	}
	return nil
}

// recheck checks the stream's credential again, unless it was found good
// less than credentialRecheck ago (always at a keepalive), and takes the
// account as it is now: a changed role changes what the stream shows. A
// credential that no longer holds, or an account that may no longer use
// the desk, ends the stream (the console then signs in again); a database
// that cannot answer just now does not.
func (ds *deskStream) recheck(ctx context.Context, keepalive bool) error {
	if !keepalive && time.Since(ds.checked) < credentialRecheck {
		return nil
	}
	var p *auth.Principal
	var err error
	if ds.cred.cookie {
		p, err = ds.s.auth.FromCookie(ctx, ds.cred.value)
	} else {
		p, err = ds.s.auth.FromBearer(ctx, ds.cred.value)
	}
	switch code := errcode.Code(err); {
	case err == nil:
	case code == errcode.Unauthorized || code == errcode.Forbidden:
		return err
	default:
		ds.s.logger.Warn("desk stream: checking the credential again failed; the stream goes on", "error", err)
		return nil
	}
	if !p.User.Can(auth.DeskRead) {
		return auth.ErrNotPermitted("use the desk")
	}
	ds.user, ds.checked = p.User, time.Now()
	return nil
}

// visible is the read rule of the desk for live events.
func visible(u *auth.User, c *conversation.Conversation) bool {
	return u.Can(auth.DeskReadAll) || c.Assignee == "" || c.Assignee == u.ID
}

func (ds *deskStream) event(ctx context.Context, data any) error {
	s, conn, u := ds.s, ds.sk.conn, ds.user
	switch ev := data.(type) {
	case queueEvent:
		return s.sendQueue(ctx, conn, ev)
	case Update:
		c := &ev.Conversation
		if !visible(u, c) {
			if !ds.had[c.ID] {
				return nil
			}
			// Taken from them: the conversation as it is now (whose, in
			// what state), none of what is said in it from here on.
			delete(ds.had, c.ID)
			it := s.toItem(c, s.userNames(ctx, c.Assignee), time.Now())
			return s.writeFrame(ctx, conn, deskFrame{Type: "conversation", Conversation: &it})
		}
		switch {
		case c.State == conversation.StateClosed:
			delete(ds.had, c.ID)
		case c.Assignee == u.ID && !u.Can(auth.DeskReadAll):
			ds.had[c.ID] = true
		}
		it := s.toItem(c, s.userNames(ctx, c.Assignee), time.Now())
		if err := s.writeFrame(ctx, conn, deskFrame{Type: "conversation", Conversation: &it}); err != nil {
			return err
		}
		for _, m := range ev.Messages {
			mj := toDeskJSON(m)
			if err := s.writeFrame(ctx, conn, deskFrame{Type: "message", ConversationID: c.ID, Message: &mj}); err != nil {
				return err
			}
		}
	case noteEvent:
		c, err := s.engine.Conversation(ctx, ev.ConversationID)
		if err != nil || !visible(u, c) {
			return nil
		}
		nj := toNoteJSON(ev.Note)
		return s.writeFrame(ctx, conn, deskFrame{Type: "note", ConversationID: ev.ConversationID, Note: &nj})
	case ticketsEvent:
		return s.writeFrame(ctx, conn, deskFrame{Type: "tickets"})
	case ratingEvent:
		c, err := s.engine.Conversation(ctx, ev.ConversationID)
		if err != nil || !visible(u, c) {
			return nil
		}
		rj := toRatingJSON(&ev.Rating)
		return s.writeFrame(ctx, conn, deskFrame{Type: "rating", ConversationID: ev.ConversationID, Rating: &rj})
	}
	return nil
}

func (s *Server) sendQueue(ctx context.Context, conn *websocket.Conn, ev queueEvent) error {
	items := s.queueItems(ctx, ev.Queue)
	n := ev.Queue.AgentsOnline
	return s.writeFrame(ctx, conn, deskFrame{Type: "queue", Queue: &items, AgentsOnline: &n})
}
