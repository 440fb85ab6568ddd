package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/token"
)

// MaxText bounds an agent's message or note, as a customer's.
const MaxText = conversation.MaxTextRunes

var errForeign = errcode.Localized(errcode.Forbidden, "this conversation is assigned to another agent", "这个会话已分配给其他客服")

// need fails unless actor has p.
func need(actor *auth.User, p auth.Permission, action string) error {
	if actor == nil {
		return errcode.Localized(errcode.Unauthorized, "sign in first", "请先登录")
	}
	if !actor.Can(p) {
		return auth.ErrNotPermitted(action)
	}
	return nil
}

// mayRead is the object rule for reading: every conversation for those who
// read all, otherwise one that is the actor's or nobody's.
func mayRead(actor *auth.User, c *conversation.Conversation) error {
	if actor.Can(auth.DeskReadAll) || c.Assignee == "" || c.Assignee == actor.ID {
		return nil
	}
	return errForeign
}

// mayWrite is the object rule for changing: supervisors any conversation,
// agents one that is theirs or nobody's.
func mayWrite(actor *auth.User, c *conversation.Conversation) error {
	if actor.Can(auth.DeskSupervise) || c.Assignee == "" || c.Assignee == actor.ID {
		return nil
	}
	return errForeign
}

// Conversation returns a conversation the actor may read.
func (d *Desk) Conversation(ctx context.Context, actor *auth.User, id string) (*conversation.Conversation, error) {
	if err := need(actor, auth.DeskRead, "read conversations"); err != nil {
		return nil, err
	}
	c, err := d.engine.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := mayRead(actor, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Transcript returns a readable conversation with its messages and notes.
func (d *Desk) Transcript(ctx context.Context, actor *auth.User, id string) (*conversation.Conversation, []conversation.Message, []Note, error) {
	c, err := d.Conversation(ctx, actor, id)
	if err != nil {
		return nil, nil, nil, err
	}
	msgs, err := d.engine.Transcript(ctx, c, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	notes, err := d.store.Notes(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, msgs, notes, nil
}

// Scope selects the conversations List returns.
type Scope string

// The scopes.
const (
	ScopeMine   Scope = "mine"   // assigned to the actor
	ScopeActive Scope = "active" // queued or assigned to anyone
	ScopeClosed Scope = "closed" // recently closed: the actor's, or everyone's for those who read all
)

// ClosedListed is how many closed conversations List returns, the most
// recently closed first.
const ClosedListed = 100

// List returns the conversations of a scope.
func (d *Desk) List(ctx context.Context, actor *auth.User, scope Scope) ([]conversation.Conversation, error) {
	if err := need(actor, auth.DeskRead, "read conversations"); err != nil {
		return nil, err
	}
	switch scope {
	case ScopeMine:
		all, err := d.store.ConversationsIn(ctx, conversation.StateAssigned)
		if err != nil {
			return nil, err
		}
		var mine []conversation.Conversation
		for _, c := range all {
			if c.Assignee == actor.ID {
				mine = append(mine, c)
			}
		}
		return mine, nil
	case ScopeActive:
		if err := need(actor, auth.DeskReadAll, "see every conversation"); err != nil {
			return nil, err
		}
		return d.store.ConversationsIn(ctx, conversation.StateQueued, conversation.StateAssigned)
	case ScopeClosed:
		assignee := actor.ID
		if actor.Can(auth.DeskReadAll) {
			assignee = ""
		}
		return d.store.ClosedConversations(ctx, assignee, ClosedListed)
	}
	return nil, errcode.Errorf(errcode.Invalid, "scope must be \"mine\", \"active\" or \"closed\", not %q", scope)
}

// Queue returns the queue for the actor, freshly routed.
func (d *Desk) Queue(ctx context.Context, actor *auth.User) (*Queue, error) {
	if err := need(actor, auth.DeskRead, "see the queue"); err != nil {
		return nil, err
	}
	if err := d.Route(ctx); err != nil {
		return nil, err
	}
	return d.Snapshot(), nil
}

// Claim gives a queued conversation to the actor. Claiming one's own is a
// no-op; a supervisor claiming someone else's takes it over.
func (d *Desk) Claim(ctx context.Context, actor *auth.User, id string) (*conversation.Conversation, error) {
	if err := need(actor, auth.DeskWork, "take conversations"); err != nil {
		return nil, err
	}
	d.heardFrom(ctx, actor)
	limit := 0
	if !actor.Can(auth.DeskSupervise) {
		// Agents claim within their limit; supervisors step in regardless.
		// The count here, under the agent's own lock, answers a double
		// click or a second tab at once; the store checks the limit again
		// as it saves the assignment (ApplyWithin), which holds against
		// claims on other nodes and the router too.
		limit = max(actor.MaxChats, 1)
		mu, _ := d.claiming.LoadOrStore(actor.ID, new(sync.Mutex))
		mu.(*sync.Mutex).Lock()
		defer mu.(*sync.Mutex).Unlock()
		mine, err := d.List(ctx, actor, ScopeMine)
		if err != nil {
			return nil, err
		}
		for _, c := range mine {
			if c.ID == id {
				return &c, nil
			}
		}
		if len(mine) >= limit {
			if _, err := d.Conversation(ctx, actor, id); err != nil {
				return nil, err
			}
			return nil, atLimit(len(mine))
		}
	}
	c, _, err := d.engine.ApplyWithin(ctx, id, limit, func(c *conversation.Conversation) ([]conversation.Message, error) {
		if c.State == conversation.StateAssigned && c.Assignee == actor.ID {
			return nil, nil
		}
		if err := mayWrite(actor, c); err != nil {
			return nil, err
		}
		return assignChange(actor, true)(c)
	})
	if errors.Is(err, conversation.ErrAssigneeFull) {
		return nil, atLimit(limit)
	}
	if err != nil {
		return nil, err
	}
	d.Kick()
	return c, nil
}

// atLimit refuses an agent's claim past their limit of n conversations.
func atLimit(n int) error {
	return errcode.Localized(errcode.Conflict, "you are at your limit of %d open conversations; close one first", "您已有 %d 个会话，达到上限：请先结束一个", n)
}

// Assign gives a conversation to another agent (supervisors).
func (d *Desk) Assign(ctx context.Context, actor *auth.User, id, agentID string) (*conversation.Conversation, error) {
	if err := need(actor, auth.DeskSupervise, "reassign conversations"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(agentID) == "" {
		return nil, errcode.Errorf(errcode.Invalid, "agent_id is required")
	}
	agent, err := d.store.User(ctx, agentID)
	if errcode.Code(err) == errcode.NotFound {
		return nil, errcode.Errorf(errcode.Invalid, "no agent with id %q", agentID)
	}
	if err != nil {
		return nil, err
	}
	if !agent.Can(auth.DeskWork) {
		return nil, errcode.Localized(errcode.Invalid, "%s cannot take conversations (role %s or disabled)",
			"%s 不能接待会话（角色为 %s，或已停用）", agent.DisplayName(), agent.Role)
	}
	if now := d.opts.Now(); d.gone(agent, now) {
		// The router would hand it straight back to the queue, and the
		// customer would have waited on nobody meanwhile.
		mins := max(1, int(now.Sub(d.heard(agent)).Minutes()))
		return nil, errcode.Localized(errcode.Conflict,
			"%s's console has not been heard from for %d minutes: they would not see the conversation",
			"%s 的工作台已 %d 分钟无响应，无法接收会话", agent.DisplayName(), mins)
	}
	c, _, err := d.engine.Apply(ctx, id, func(c *conversation.Conversation) ([]conversation.Message, error) {
		if c.State == conversation.StateAssigned && c.Assignee == agent.ID {
			return nil, nil
		}
		return assignChange(agent, true)(c)
	})
	if err != nil {
		return nil, err
	}
	d.Kick()
	return c, nil
}

// assignChange assigns a queued (or, if takeover, an assigned) conversation
// to agent and tells the customer who has joined.
func assignChange(agent *auth.User, takeover bool) conversation.Change {
	return func(c *conversation.Conversation) ([]conversation.Message, error) {
		switch c.State {
		case conversation.StateQueued:
		case conversation.StateAssigned:
			if !takeover {
				return nil, errcode.Localized(errcode.Conflict, "this conversation is already assigned", "这个会话已被其他客服接入")
			}
		case conversation.StateBot:
			return nil, errcode.Localized(errcode.Conflict, "the bot is handling this conversation; it has not asked for a person", "这个会话仍由机器人接待，客户没有要求转人工")
		default:
			return nil, errcode.Localized(errcode.Conflict, "this conversation is closed", "这个会话已结束")
		}
		key := phraseJoined
		if c.State == conversation.StateAssigned {
			key = phraseTransferred
		}
		text := fmt.Sprintf(phrase(key, c.Locale), agent.Name)
		if agent.Name == "" {
			text = phrase(key+"-nameless", c.Locale)
		}
		c.State, c.Assignee, c.AssignedAt = conversation.StateAssigned, agent.ID, c.UpdatedAt
		return []conversation.Message{{Role: conversation.RoleSystem, Outcome: conversation.OutcomeJoined,
			Text: text, Author: author(agent)}}, nil
	}
}

// stateWords says a conversation's state in English and in Chinese, for
// refusals that an agent reads in the console (the state's code, "queued",
// and the conversation's id were shown to them raw).
func stateWords(s conversation.State) []any {
	switch s {
	case conversation.StateBot:
		return []any{"with the bot", "仍由机器人接待"}
	case conversation.StateQueued:
		return []any{"waiting in the queue", "正在排队"}
	case conversation.StateAssigned:
		return []any{"assigned to an agent", "已由客服接待"}
	case conversation.StateClosed:
		return []any{"closed", "已结束"}
	}
	return []any{string(s), string(s)}
}

// author is u as the transcript names them: with the name given, never
// the email (customers read it; the console falls back to "Agent").
func author(u *auth.User) *conversation.Author {
	return &conversation.Author{ID: u.ID, Name: u.Name}
}

// heardFrom notes that actor's console is there: a claim or a reply is as
// sure a sign as the stream's beat, and a console whose stream cannot get
// through (a proxy that refuses WebSockets) had every claim handed back
// to the queue within a second, its agent counted gone. An actor never
// heard from (an API client with no console) stays so: it keeps what it
// claims without beating.
func (d *Desk) heardFrom(ctx context.Context, actor *auth.User) {
	if actor.PresenceAt.IsZero() {
		return
	}
	now := d.opts.Now().UTC()
	if err := d.store.SetPresence(ctx, actor.ID, "", now); err != nil {
		d.logger.Warn("presence from a desk action", "user", actor.ID, "error", err)
		return
	}
	actor.PresenceAt = now
}

// Reply sends an agent's message to the customer.
func (d *Desk) Reply(ctx context.Context, actor *auth.User, id, text string) (conversation.Message, error) {
	if err := need(actor, auth.DeskWork, "reply to customers"); err != nil {
		return conversation.Message{}, err
	}
	text, err := required("text", text, MaxText)
	if err != nil {
		return conversation.Message{}, err
	}
	d.heardFrom(ctx, actor)
	_, msgs, err := d.engine.Apply(ctx, id, func(c *conversation.Conversation) ([]conversation.Message, error) {
		if err := mayWrite(actor, c); err != nil {
			return nil, err
		}
		if c.State != conversation.StateAssigned {
			return nil, errcode.Localized(errcode.Conflict, "this conversation is %[1]s: claim it before replying", "这个会话%[2]s：请先接入再回复", stateWords(c.State)...)
		}
		return []conversation.Message{{Role: conversation.RoleAgent, Text: text, Author: author(actor)}}, nil
	})
	if err != nil {
		return conversation.Message{}, err
	}
	return msgs[0], nil
}

// AddNote adds an internal note, never shown to the customer.
func (d *Desk) AddNote(ctx context.Context, actor *auth.User, id, text string) (Note, error) {
	if err := need(actor, auth.DeskWork, "write notes"); err != nil {
		return Note{}, err
	}
	text, err := required("text", text, MaxText)
	if err != nil {
		return Note{}, err
	}
	c, err := d.engine.Conversation(ctx, id)
	if err != nil {
		return Note{}, err
	}
	if err := mayWrite(actor, c); err != nil {
		return Note{}, err
	}
	n := Note{ID: token.ID("n", 10), ConversationID: id, AuthorID: actor.ID, AuthorName: actor.DisplayName(), Text: text,
		CreatedAt: d.opts.Now().UTC()}
	safe, err := d.opts.Vault.Keep(ctx, id, "note:"+n.ID, text, n.CreatedAt)
	if err != nil {
		d.logger.Error("keep the original of a note", "conversation", id, "error", err)
	}
	n.Text = safe.Text
	if err := d.store.AddNote(ctx, &n); err != nil {
		return Note{}, err
	}
	if d.pub != nil {
		d.pub.PublishNote(id, n)
	}
	return n, nil
}

// Close ends a conversation, optionally asking the customer for a rating.
func (d *Desk) Close(ctx context.Context, actor *auth.User, id string, askRating bool) (*conversation.Conversation, error) {
	if err := need(actor, auth.DeskWork, "close conversations"); err != nil {
		return nil, err
	}
	c, _, err := d.engine.Apply(ctx, id, func(c *conversation.Conversation) ([]conversation.Message, error) {
		if err := mayWrite(actor, c); err != nil {
			return nil, err
		}
		switch {
		case c.State == conversation.StateClosed:
			return nil, errcode.Localized(errcode.Conflict, "this conversation is already closed", "这个会话已经结束")
		case c.State == conversation.StateAssigned:
		case actor.Can(auth.DeskSupervise):
			// Supervisors may close what is queued or still with the bot.
		default:
			return nil, errcode.Localized(errcode.Conflict, "this conversation is %[1]s: claim it before closing it", "这个会话%[2]s：请先接入再结束", stateWords(c.State)...)
		}
		c.State, c.ClosedAt = conversation.StateClosed, c.UpdatedAt
		m := conversation.Message{Role: conversation.RoleSystem, Outcome: conversation.OutcomeClosed,
			Text: phrase(phraseClosed, c.Locale), Author: author(actor)}
		if askRating {
			m.Outcome, m.Text = conversation.OutcomeRatingRequest, phrase(phraseRate, c.Locale)
		}
		return []conversation.Message{m}, nil
	})
	if err != nil {
		return nil, err
	}
	if !c.AssignedAt.IsZero() {
		d.noteHandled(c.ClosedAt.Sub(c.AssignedAt))
	}
	d.Kick()
	return c, nil
}

// Status is an agent's presence and load.
type Status struct {
	Presence auth.Presence
	Load     int
	MaxChats int
}

// SetPresence sets the actor's presence. Going online makes routing run.
func (d *Desk) SetPresence(ctx context.Context, actor *auth.User, p auth.Presence) (Status, error) {
	if err := need(actor, auth.DeskWork, "take conversations"); err != nil {
		return Status{}, err
	}
	now := d.opts.Now().UTC()
	if err := d.store.SetPresence(ctx, actor.ID, p, now); err != nil {
		return Status{}, err
	}
	actor.Presence, actor.PresenceAt = p, now
	d.Kick()
	return d.Status(ctx, actor)
}

// Touch records that a user's console is alive: it keeps them online (or
// away), and, whatever their presence, keeps the conversations they have
// (Route gives those of a console gone silent to others).
func (d *Desk) Touch(ctx context.Context, userID string) error {
	u, err := d.store.User(ctx, userID)
	if err != nil {
		return err
	}
	if !u.Can(auth.DeskWork) {
		return nil
	}
	now := d.opts.Now().UTC()
	wasOnline := d.online(u, now)
	// The time only: a PUT /presence between the read above and this
	// write (the agent going away) used to be overwritten with the status
	// read, and routing went on giving them conversations.
	if err := d.store.SetPresence(ctx, u.ID, "", now); err != nil {
		return err
	}
	if !wasOnline && u.Presence == auth.Online {
		d.Kick()
	}
	return nil
}

// Status returns the actor's presence and load.
func (d *Desk) Status(ctx context.Context, actor *auth.User) (Status, error) {
	if err := need(actor, auth.DeskWork, "take conversations"); err != nil {
		return Status{}, err
	}
	mine, err := d.List(ctx, actor, ScopeMine)
	if err != nil {
		return Status{}, err
	}
	p := actor.Presence
	if p == auth.Online && !d.online(actor, d.opts.Now()) {
		p = auth.Offline // not heard from: routing treats them as gone
	}
	return Status{Presence: p, Load: len(mine), MaxChats: actor.MaxChats}, nil
}

// Agent is a member of the desk as a supervisor sees them.
type Agent struct {
	User   auth.User
	Status Status
}

// Agents lists everyone who takes conversations, with status and load.
func (d *Desk) Agents(ctx context.Context, actor *auth.User) ([]Agent, error) {
	if err := need(actor, auth.DeskReadAll, "see the team"); err != nil {
		return nil, err
	}
	users, err := d.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	d.lookedAt(users)
	assigned, err := d.store.ConversationsIn(ctx, conversation.StateAssigned)
	if err != nil {
		return nil, err
	}
	load := map[string]int{}
	for _, c := range assigned {
		load[c.Assignee]++
	}
	now := d.opts.Now()
	var out []Agent
	for _, u := range users {
		if !u.Can(auth.DeskWork) {
			continue
		}
		// As routing hears it (heard): after a restart a console alive
		// before it counts as heard until it can beat again, so the team
		// view does not call offline an agent routing still counts on.
		p := u.Presence
		if p != auth.Offline && now.Sub(d.heard(&u)) >= d.opts.PresenceTTL {
			p = auth.Offline
		}
		out = append(out, Agent{User: u, Status: Status{Presence: p, Load: load[u.ID], MaxChats: u.MaxChats}})
	}
	return out, nil
}

// Wait returns how long a conversation has waited, for display.
func Wait(c *conversation.Conversation, now time.Time) time.Duration {
	if c.QueuedAt.IsZero() {
		return 0
	}
	end := now
	switch {
	case !c.AssignedAt.IsZero() && c.AssignedAt.After(c.QueuedAt):
		end = c.AssignedAt
	case !c.ClosedAt.IsZero() && c.ClosedAt.After(c.QueuedAt):
		// Closed while still queued: the wait ended there, it does not
		// grow in the closed list for ever.
		end = c.ClosedAt
	}
	return max(end.Sub(c.QueuedAt), 0)
}
