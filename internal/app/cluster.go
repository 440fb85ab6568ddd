package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/realtime"
)

// Several nodes may serve one PostgreSQL database (docs/deploy.md). Each
// serves customers and consoles and passes its live events to the others
// (realtime.Cluster over LISTEN/NOTIFY) and its monitor signals
// (monitor.PeerStore), so every node's rules and console see the whole
// service. One node, the leader, also runs what must run once: the
// incident controller, the outbox, the desk's assignments, the alert
// notifications and the backups. Leadership is an advisory lock held on a
// connection, so it passes to another node within about a second of the
// leader dying or losing the database.

// leaderName is the advisory lock the nodes compete for.
const leaderName = "steward-leader"

// Cluster timings: how often a follower tries to take the lead (and the
// leader checks its lease), and how often a node rereads the posture (in
// case an event was missed) and the silences.
const (
	leaderCheck = time.Second
	followEvery = 2 * time.Second
)

// leader tracks whether this node leads.
type leader struct{ on atomic.Bool }

func (l *leader) Leading() bool { return l.on.Load() }

// lead competes for leadership until ctx ends and, while this node leads,
// runs duties with a context that ends when the lead is lost.
func (a *App) lead(ctx context.Context, duties func(ctx context.Context, wg *sync.WaitGroup)) {
	logger := a.logger.With("node", a.node)
	for ctx.Err() == nil {
		lease, err := a.db.TryLead(ctx, leaderName, leaderCheck)
		if err != nil || lease == nil {
			if err != nil && ctx.Err() == nil {
				logger.Warn("cannot reach the database to compete for the lead", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(leaderCheck):
			}
			continue
		}
		if a.db.Clustered() {
			logger.Info("this node leads: it runs the monitor rules, the incident controller, the outbox and assignments")
		}
		a.leader.on.Store(true)
		lctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		duties(lctx, &wg)
		a.desk.Kick()
		select {
		case <-ctx.Done():
		case <-lease.Lost():
			logger.Warn("this node lost the lead (its database connection failed); another node takes over")
		}
		a.leader.on.Store(false)
		cancel()
		wg.Wait()
		lease.Release()
	}
}

// deliverRemote makes another node's event this node's: it reads what
// changed from the store and publishes it to the local subscribers, as if
// it had happened here. Conversations nobody here watches cost nothing.
func (a *App) deliverRemote(ev realtime.Remote) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	local := httpapi.HubPublisher{Hub: a.hub}
	switch ev.Kind {
	case realtime.KindConversation:
		watched := a.hub.Subscribers(httpapi.ConversationTopic(ev.ID)) > 0
		forDesk := ev.Desk && a.hub.Subscribers(httpapi.DeskTopic) > 0
		if ev.Desk {
			a.desk.Kick() // the queue may have changed, and the leader assigns
		}
		if !watched && !forDesk {
			return
		}
		c, err := a.engine.Conversation(ctx, ev.ID)
		if err != nil {
			a.logger.Warn("follow another node's conversation", "conversation", ev.ID, "error", err)
			return
		}
		msgs, err := a.engine.Transcript(ctx, c, ev.After)
		if err != nil {
			a.logger.Warn("follow another node's conversation", "conversation", ev.ID, "error", err)
			return
		}
		local.Publish(c, msgs)
	case realtime.KindQueue:
		a.desk.Kick()
	case realtime.KindNote:
		notes, err := a.db.Notes(ctx, ev.ID)
		if err != nil {
			a.logger.Warn("follow another node's note", "conversation", ev.ID, "error", err)
			return
		}
		for _, n := range notes {
			if n.ID == ev.Ref {
				local.PublishNote(ev.ID, n)
			}
		}
	case realtime.KindPosture:
		a.reloadPosture(ctx)
	case realtime.KindResync:
		a.hub.DropAll()
		a.desk.Kick()
		a.reloadPosture(ctx)
	}
}

func (a *App) reloadPosture(ctx context.Context) {
	if a.crisis.ctl == nil {
		return
	}
	if err := a.crisis.ctl.Reload(ctx); err != nil {
		a.logger.Warn("reload the posture", "error", err)
	}
}

// follow rereads now and then what other nodes change: the posture on a
// follower, in case an event from the leader was lost, and the silences on
// every node, so that one made in any console mutes the leader's
// notifications and shows as muted everywhere.
func (a *App) follow(ctx context.Context) {
	t := time.NewTicker(followEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !a.leader.Leading() {
				a.reloadPosture(ctx)
			}
			if err := a.crisis.alerts.LoadSilences(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.logger.Warn("reload the silences", "error", err)
			}
		}
	}
}
