// Package desk is where people take over from the bot: agents and their
// presence, the queue and its routing, the handoff summary and suggested
// replies, canned replies, internal notes, offline messages and ratings.
//
// Every action takes the acting user and checks both the role's permission
// and the object: an agent may only touch conversations that are theirs or
// nobody's; supervisors and admins may touch any.
package desk

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
)

// Store is what the desk keeps beyond conversations and users.
type Store interface {
	ConversationsIn(ctx context.Context, states ...conversation.State) ([]conversation.Conversation, error)
	ClosedConversations(ctx context.Context, assignee string, limit int) ([]conversation.Conversation, error)
	Users(ctx context.Context) ([]auth.User, error)
	User(ctx context.Context, id string) (*auth.User, error)
	// SetPresence records p and at; an empty p records at alone.
	SetPresence(ctx context.Context, userID string, p auth.Presence, at time.Time) error

	AddNote(ctx context.Context, n *Note) error
	Notes(ctx context.Context, conversationID string) ([]Note, error)
	CannedReplies(ctx context.Context, locale string) ([]Canned, error)
	AddCanned(ctx context.Context, c *Canned) error
	DeleteCanned(ctx context.Context, id string) error
	// AddTicket stores t and its sealed originals (Ticket.Originals) in
	// one write, unless its conversation has maxOpen open tickets already
	// (maxOpen > 0), counted as it is stored: it then fails with
	// TicketsFull.
	AddTicket(ctx context.Context, t *Ticket, maxOpen int) error
	Tickets(ctx context.Context, status TicketStatus) ([]Ticket, error)
	// CountTickets counts the tickets of a status (Tickets lists at most
	// TicketsListed of them).
	CountTickets(ctx context.Context, status TicketStatus) (int, error)
	OpenTickets(ctx context.Context, conversationID string) (int, error)
	ConversationTickets(ctx context.Context, conversationID string) ([]Ticket, error)
	ResolveTicket(ctx context.Context, id, by string, at time.Time) (*Ticket, error)
}

// Engine is the conversation engine as the desk uses it: every change to a
// conversation goes through it, serialised with the customer's turns.
type Engine interface {
	Apply(ctx context.Context, id string, change conversation.Change) (*conversation.Conversation, []conversation.Message, error)
	// ApplyWithin is Apply that refuses, with conversation.ErrAssigneeFull,
	// to leave the conversation assigned to an agent who has limit others.
	ApplyWithin(ctx context.Context, id string, limit int, change conversation.Change) (*conversation.Conversation, []conversation.Message, error)
	Conversation(ctx context.Context, id string) (*conversation.Conversation, error)
	Transcript(ctx context.Context, c *conversation.Conversation, afterSeq int64) ([]conversation.Message, error)
	Index() *knowledge.Index
}

// Publisher carries the desk's live events to consoles and customers. It
// must not block.
type Publisher interface {
	PublishQueue(q *Queue)
	PublishNote(conversationID string, n Note)
	// PublishTickets tells the consoles that the offline-message tickets
	// changed other than by a new one (which comes as a message).
	PublishTickets()
}

// Options configure a Desk.
type Options struct {
	// ManualOnly turns automatic assignment off: agents claim from the queue.
	ManualOnly bool
	// PresenceTTL is how long an agent counts as online after their client
	// was last heard from (default 2 minutes).
	PresenceTTL time.Duration
	// Hours are the desk's opening hours; nil means always open.
	Hours *Hours
	// HandleTime is the assumed time an agent spends on a conversation until
	// closed conversations tell better (default 5 minutes).
	HandleTime time.Duration
	// RouteEvery is how often routing runs besides when something changes
	// (default 5 seconds): presence expiring is noticed this way.
	RouteEvery time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	// Leading, if set, says whether this node assigns conversations: of
	// several nodes only the leader does, so that two nodes never give one
	// agent more chats than they take. Every node still keeps the queue
	// for its own consoles and customers.
	Leading func() bool
	// Vault masks personal data in notes and offline messages, keeps the
	// originals sealed and reveals them (nil: masked, nothing kept).
	Vault *guard.Vault
}

// Desk runs the human side of Steward.
type Desk struct {
	store  Store
	engine Engine
	pub    Publisher
	opts   Options
	logger *slog.Logger

	kick  chan struct{}
	queue atomic.Pointer[Queue]

	mu         sync.Mutex // serialises routing decisions
	claiming   sync.Map   // agent id → *sync.Mutex: one agent's claims, one at a time
	handleMu   sync.Mutex
	handleTime time.Duration // moving average of assigned → closed
	handleRead time.Time     // when handleTime was last read from the store (readHandle)

	// deafFrom and deafUntil bound the last time this desk could not hear
	// consoles' beats: from its start (deafFrom: the newest beat the store
	// holds, read at the first look at the users) or the first of a run of
	// failed routing passes (the store was down, and beats failed with it),
	// to the last of them. A console alive when the hearing stopped has
	// its silence counted from deafUntil: after a restart or an outage
	// longer than PresenceTTL, every agent looked gone, and every assigned
	// conversation went back to the queue before the consoles had time to
	// reconnect. Unix nanoseconds; deafFrom 0 until the first look.
	deafFrom, deafUntil atomic.Int64
	failing             atomic.Bool // the last routing pass failed
}

// New returns a desk. Call Run to route in the background.
func New(store Store, engine Engine, pub Publisher, opts Options) *Desk {
	if opts.PresenceTTL <= 0 {
		opts.PresenceTTL = 2 * time.Minute
	}
	if opts.HandleTime <= 0 {
		opts.HandleTime = 5 * time.Minute
	}
	if opts.RouteEvery <= 0 {
		opts.RouteEvery = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Desk{store: store, engine: engine, pub: pub, opts: opts, logger: opts.Logger.With("component", "desk"),
		kick: make(chan struct{}, 1), handleTime: opts.HandleTime}
	d.queue.Store(&Queue{})
	d.deafUntil.Store(opts.Now().UnixNano())
	return d
}

var _ conversation.Desk = (*Desk)(nil)

// Run routes queued conversations until ctx ends: whenever something
// changes (a handoff, an agent coming online, a conversation closing) and
// every RouteEvery.
func (d *Desk) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.RouteEvery)
	defer t.Stop()
	for {
		if err := d.Route(ctx); err != nil && ctx.Err() == nil {
			d.logger.Warn("routing failed", "error", err)
			now := d.opts.Now()
			if !d.failing.Swap(true) {
				d.deafFrom.Store(now.Add(-d.opts.RouteEvery).UnixNano()) // beats may have failed since the last pass
			}
			d.deafUntil.Store(now.UnixNano())
		} else if err == nil {
			d.failing.Store(false)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
		}
	}
}

// Kick asks the router to run soon. It never blocks.
func (d *Desk) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Queued implements conversation.Desk: a handoff wakes the router.
func (d *Desk) Queued(c *conversation.Conversation) { d.Kick() }

// Staffed implements conversation.Desk: the desk is open and an agent who
// speaks the conversation's language is online (busy or not: a busy desk
// queues, an empty one offers the offline form).
func (d *Desk) Staffed(ctx context.Context, c *conversation.Conversation) bool {
	now := d.opts.Now()
	if !d.opts.Hours.Open(now) {
		return false
	}
	users, err := d.store.Users(ctx)
	if err != nil {
		// Queue rather than turn a customer away on a read error: the
		// queue is durable and agents see it when the store recovers.
		d.logger.Warn("staffed: list users", "error", err)
		return true
	}
	d.lookedAt(users)
	for i := range users {
		if d.online(&users[i], now) && speaks(&users[i], c.Locale) {
			return true
		}
	}
	return false
}

// online reports whether u is taking conversations now.
func (d *Desk) online(u *auth.User, now time.Time) bool {
	return u.Can(auth.DeskWork) && u.Presence == auth.Online && now.Sub(d.heard(u)) < d.opts.PresenceTTL
}

// heard is when u's console was last heard from or, for a console that
// was alive when this desk stopped hearing (a restart, a store outage of up
// to maxDeaf), when the desk could hear again (see deafFrom).
func (d *Desk) heard(u *auth.User) time.Time {
	from, until := time.Unix(0, d.deafFrom.Load()), time.Unix(0, d.deafUntil.Load())
	switch {
	case u.PresenceAt.IsZero() || !until.After(u.PresenceAt):
		return u.PresenceAt
	case d.deafFrom.Load() == 0 || !u.PresenceAt.After(from.Add(-d.opts.PresenceTTL)):
		return u.PresenceAt // gone already when the hearing stopped (a laptop closed before the restart)
	case until.Sub(u.PresenceAt) >= d.opts.PresenceTTL+maxDeaf:
		return u.PresenceAt
	}
	return until
}

// lookedAt notes, at the desk's first look at the users, the newest beat
// they hold: the moment the previous process (or node) last heard anyone.
func (d *Desk) lookedAt(users []auth.User) {
	if d.deafFrom.Load() != 0 {
		return
	}
	newest := int64(1)
	for i := range users {
		if !users[i].PresenceAt.IsZero() {
			newest = max(newest, users[i].PresenceAt.UnixNano())
		}
	}
	d.deafFrom.CompareAndSwap(0, newest)
}

// maxDeaf is the longest restart or store outage that consoles are given
// time to come back from: an agent last heard from longer ago than that
// (a console closed for the weekend) is not counted present after it.
const maxDeaf = 10 * time.Minute

// gone reports whether the agent u (nil: no longer a user) can no longer
// answer the conversations they have: disabled, without the desk role, or
// their console not heard from for PresenceTTL (closed, crashed, signed
// out). Presence does not decide it: an agent who set themselves away or
// offline while their console is open still finishes what they have. An
// account whose console was never heard from (an API client) keeps its
// conversations.
func (d *Desk) gone(u *auth.User, now time.Time) bool {
	return !u.Can(auth.DeskWork) || (!u.PresenceAt.IsZero() && now.Sub(d.heard(u)) >= d.opts.PresenceTTL)
}

func speaks(u *auth.User, locale string) bool {
	return len(u.Languages) == 0 || locale == "" || contains(u.Languages, locale)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// noteHandled folds a finished conversation's handling time into the
// moving average used for wait estimates.
func (d *Desk) noteHandled(took time.Duration) {
	if !handled(took) {
		return
	}
	d.handleMu.Lock()
	d.handleTime = foldHandle(d.handleTime, took)
	d.handleMu.Unlock()
}

// handled reports whether took can be a handling time: not a clock's
// mistake (0 or less), nor a conversation left open for a day.
func handled(took time.Duration) bool { return took > 0 && took <= 8*time.Hour }

// foldHandle folds one handling time into the moving average.
func foldHandle(avg, took time.Duration) time.Duration { return (avg*4 + took) / 5 }

// Reading the handling time from the store: how often, and over how
// many of the latest closed conversations.
const (
	handleEvery  = 5 * time.Minute
	handleSample = 50
)

// readHandle sets the handling time from the latest conversations closed
// on any node, at most every handleEvery: each node kept its own average,
// from the closes it served, and started from the 5-minute default after
// every restart, so two nodes told one queued customer two waits, and a
// restart forgot months of closes. Closes here fold in as they happen
// between reads (noteHandled).
func (d *Desk) readHandle(ctx context.Context, now time.Time) {
	d.handleMu.Lock()
	due := d.handleRead.IsZero() || now.Sub(d.handleRead) >= handleEvery
	if due {
		d.handleRead = now
	}
	d.handleMu.Unlock()
	if !due {
		return
	}
	closed, err := d.store.ClosedConversations(ctx, "", handleSample)
	if err != nil {
		d.logger.Warn("read the handling time", "error", err)
		return
	}
	var avg time.Duration
	n := 0
	for i := len(closed) - 1; i >= 0; i-- { // oldest first, as noteHandled folds them
		c := &closed[i]
		took := c.ClosedAt.Sub(c.AssignedAt)
		if c.AssignedAt.IsZero() || !handled(took) {
			continue // closed while queued, or a clock's mistake
		}
		if n == 0 {
			avg = took
		} else {
			avg = foldHandle(avg, took)
		}
		n++
	}
	if n == 0 {
		return // no data yet: the default (or what this node saw) stands
	}
	d.handleMu.Lock()
	d.handleTime = avg
	d.handleMu.Unlock()
}

func (d *Desk) averageHandle() time.Duration {
	d.handleMu.Lock()
	defer d.handleMu.Unlock()
	return d.handleTime
}
