package desk

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
)

// Item is a conversation waiting in the queue.
type Item struct {
	Conversation conversation.Conversation
	Position     int           // 1 is next
	Wait         time.Duration // a rough estimate of the time until an agent takes it
	// AfterHours: nobody is online and the wait runs past closing time (or
	// starts after it), so it goes on when the desk opens again.
	AfterHours bool
	Preview    string // the customer's latest message
	// Since is when it began waiting for a person this time: when it was
	// queued or, after an agent's console went silent, when it was put
	// back (it keeps its queued_at, and so its place in line). The wait
	// measured from queued_at counted the time an agent served it.
	Since time.Time
}

// Queue is the queue as of the last routing pass.
type Queue struct {
	Items        []Item
	AgentsOnline int
	At           time.Time
	signature    string
}

// Position returns a queued conversation's place and estimated wait.
func (q *Queue) Position(id string) (Item, bool) {
	for _, it := range q.Items {
		if it.Conversation.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Snapshot returns the queue as of the last routing pass.
func (d *Desk) Snapshot() *Queue { return d.queue.Load() }

// Route assigns queued conversations to agents (unless assignment is
// manual), then republishes the queue if it changed. The highest priority
// goes first, then the longest waiting; each goes to the least-loaded
// online agent who speaks its language, preferring agents with its
// category among their skills.
func (d *Desk) Route(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Now()
	convs, err := d.store.ConversationsIn(ctx, conversation.StateQueued, conversation.StateAssigned)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	users, err := d.store.Users(ctx)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	d.lookedAt(users)
	load := map[string]int{}
	for _, c := range convs {
		if c.State == conversation.StateAssigned {
			load[c.Assignee]++
		}
	}
	var online []*auth.User
	slots := 0
	byID := map[string]*auth.User{}
	for i := range users {
		u := &users[i]
		byID[u.ID] = u
		if d.online(u, now) {
			online = append(online, u)
			slots += max(u.MaxChats, 1)
		}
	}
	leading := d.opts.Leading == nil || d.opts.Leading()
	// A conversation whose agent has gone goes back to the queue, ahead of
	// those that came later (it keeps its queued_at): its customer would
	// otherwise write to nobody.
	for i := range convs {
		c := &convs[i]
		if !leading || c.State != conversation.StateAssigned || !d.gone(byID[c.Assignee], now) {
			continue
		}
		next, _, err := d.engine.Apply(ctx, c.ID, requeueChange(c.Assignee))
		if err != nil {
			if errcode.Code(err) == errcode.Internal {
				return fmt.Errorf("route %s: %w", c.ID, err)
			}
			continue // it moved on meanwhile (claimed, closed)
		}
		load[c.Assignee]--
		d.logger.Info("requeued: the agent has gone", "conversation", c.ID, "agent", c.Assignee)
		*c = *next
	}
	var queued []conversation.Conversation
	for _, c := range convs {
		if c.State != conversation.StateQueued {
			continue
		}
		// Within opening hours, and after them for the conversations that
		// were queued before closing: they were promised a person, and
		// agents still online at closing time used to free up while those
		// customers waited until morning.
		if !d.opts.ManualOnly && (d.opts.Hours.Open(now) || d.opts.Hours.Open(c.QueuedAt)) && leading {
			assigned, err := d.assign(ctx, online, load, &c)
			if err != nil {
				return err
			}
			if assigned {
				continue
			}
		}
		queued = append(queued, c)
	}
	q := &Queue{AgentsOnline: len(online), At: now}
	d.readHandle(ctx, now)
	handle := d.averageHandle()
	// A preview changes only with a new message: reuse the last pass's.
	previews := map[string]Item{}
	for _, it := range d.queue.Load().Items {
		previews[it.Conversation.ID] = it
	}
	var sig strings.Builder
	fmt.Fprintf(&sig, "%d;", len(online))
	for i, c := range queued {
		it := Item{Conversation: c, Position: i + 1, Wait: estimateWait(i+1, slots, handle)}
		if len(online) == 0 {
			// Nobody to serve it now: the wait runs in opening hours only,
			// so one that runs past closing time (or starts after it) goes
			// on when the desk opens. Agents still online after closing
			// serve those queued before it, at the usual rate.
			done := d.opts.Hours.AddOpen(now, it.Wait)
			it.AfterHours = done.After(now.Add(it.Wait))
			it.Wait = done.Sub(now).Round(time.Second)
		}
		prev, seen := previews[c.ID]
		if seen && prev.Conversation.LastSeq == c.LastSeq {
			it.Preview, it.Since = prev.Preview, prev.Since
		} else {
			var requeued time.Time
			it.Preview, requeued = d.preview(ctx, &c)
			switch {
			case !requeued.IsZero():
				it.Since = requeued
			case seen: // the requeue, if any, is further back than the messages read now
				it.Since = prev.Since
			default:
				it.Since = c.QueuedAt
			}
		}
		if it.Since.Before(c.QueuedAt) {
			it.Since = c.QueuedAt
		}
		q.Items = append(q.Items, it)
		// What the customer is told changes the signature: the wait in
		// minutes, or in hours once it runs past closing time (it counts
		// down all night, and need not be sent again every minute).
		shown := it.Wait / time.Minute
		if it.AfterHours {
			shown = it.Wait / time.Hour
		}
		fmt.Fprintf(&sig, "%s:%d:%d:%t:%d;", c.ID, it.Position, shown, it.AfterHours, c.LastSeq)
	}
	q.signature = sig.String()
	prev := d.queue.Swap(q)
	if prev == nil || prev.signature != q.signature {
		if d.pub != nil {
			d.pub.PublishQueue(q)
		}
	}
	return nil
}

// requeueChange puts a conversation assigned to agentID back in the queue
// and tells the customer; it refuses (leaving it be) if the conversation
// is no longer that agent's.
func requeueChange(agentID string) conversation.Change {
	return func(c *conversation.Conversation) ([]conversation.Message, error) {
		if c.State != conversation.StateAssigned || c.Assignee != agentID {
			return nil, errcode.Errorf(errcode.Conflict, "conversation %s is no longer %s's", c.ID, agentID)
		}
		c.State, c.Assignee, c.AssignedAt = conversation.StateQueued, "", time.Time{}
		return []conversation.Message{{Role: conversation.RoleSystem, Outcome: conversation.OutcomeRequeued,
			Text: phrase(phraseRequeued, c.Locale)}}, nil
	}
}

// pick chooses the agent for c: online, speaking its language, below their
// chat limit; specialists in its category first, then generalists, then
// the rest (overflow); then the least loaded.
// assign gives queued conversation c to the best agent with a free slot,
// and reports whether it did. The store checks the agent's limit again as
// it saves the assignment: an agent whose slots a claim took since load
// was counted (on this node or another) counts as full, and the next best
// is tried.
func (d *Desk) assign(ctx context.Context, online []*auth.User, load map[string]int, c *conversation.Conversation) (bool, error) {
	for {
		agent := pick(online, load, c)
		if agent == nil {
			return false, nil
		}
		_, _, err := d.engine.ApplyWithin(ctx, c.ID, max(agent.MaxChats, 1), assignChange(agent, false))
		switch {
		case err == nil:
			load[agent.ID]++
			d.logger.Info("assigned", "conversation", c.ID, "agent", agent.ID)
			return true, nil
		case errors.Is(err, conversation.ErrAssigneeFull):
			load[agent.ID] = max(agent.MaxChats, 1)
		case errcode.Code(err) == errcode.Internal:
			return false, fmt.Errorf("route %s: %w", c.ID, err)
		default:
			return false, nil // the conversation moved on (closed, claimed) meanwhile: fine
		}
	}
}

func pick(online []*auth.User, load map[string]int, c *conversation.Conversation) *auth.User {
	var cands []*auth.User
	for _, u := range online {
		if speaks(u, c.Locale) && load[u.ID] < max(u.MaxChats, 1) {
			cands = append(cands, u)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.SliceStable(cands, func(i, j int) bool {
		si, sj := skillRank(cands[i], c.Category), skillRank(cands[j], c.Category)
		if si != sj {
			return si > sj
		}
		if load[cands[i].ID] != load[cands[j].ID] {
			return load[cands[i].ID] < load[cands[j].ID]
		}
		return cands[i].ID < cands[j].ID
	})
	return cands[0]
}

// estimateWait is position × handle time ÷ the chats the online agents can
// hold at once: slots free up at that rate. With nobody online it assumes one.
func estimateWait(position, slots int, handle time.Duration) time.Duration {
	w := time.Duration(position) * handle / time.Duration(max(slots, 1))
	return max(w.Round(time.Second), 30*time.Second)
}

// preview returns the customer's latest message, shortened, and when the
// conversation was last put back in the queue, if that is among the
// messages read.
func (d *Desk) preview(ctx context.Context, c *conversation.Conversation) (string, time.Time) {
	msgs, err := d.engine.Transcript(ctx, c, max(c.LastSeq-6, 0))
	if err != nil {
		return "", time.Time{}
	}
	var text string
	var requeued time.Time
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.Role == conversation.RoleCustomer && text == "" {
			text = shorten(m.Text, 80)
		}
		if m.Outcome == conversation.OutcomeRequeued && requeued.IsZero() {
			requeued = m.CreatedAt
		}
	}
	return text, requeued
}

func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// skillRank is 2 for an agent with c's category among their skills, 1 for a
// generalist (no skills listed), 0 for a specialist in something else.
func skillRank(u *auth.User, category string) int {
	switch {
	case category != "" && contains(u.Skills, category):
		return 2
	case len(u.Skills) == 0 || category == "":
		return 1
	}
	return 0
}
