package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/knowledge"
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
//
// A lock in the database cannot elect anyone while the database is down,
// which is the outage level 3 answers. So a node that cannot reach the
// database for aloneAfter acts alone: it runs its own incident controller
// and pages, as a single node would, serving the posture it decides
// without storing it (the store is closed to that controller: soloStore).
// Every node cut off does the same, each for its own customers. Once it
// reaches the database again it competes for the lead as before: a node
// that wins keeps the posture it served and stores it, with the incident;
// the others take the leader's.

// leaderName is the advisory lock the nodes compete for.
const leaderName = "steward-leader"

// Cluster timings: how often a follower tries to take the lead (and the
// leader checks its lease), and how often a node rereads the posture (in
// case an event was missed) and the silences.
const (
	leaderCheck = time.Second
	followEvery = 2 * time.Second
	// aloneAfter is how long a node tries to reach the database before it
	// acts alone; tryLeadWait bounds one try (a server that vanished
	// without a word would otherwise hold it for the kernel's TCP timeout).
	aloneAfter  = 3 * time.Second
	tryLeadWait = 3 * time.Second
)

// leader tracks whether this node leads, or acts alone.
type leader struct{ on, alone atomic.Bool }

// Leading reports whether this node leads the nodes that share the database.
func (l *leader) Leading() bool { return l.on.Load() }

// Alone reports whether this node acts alone, without the database.
func (l *leader) Alone() bool { return l.alone.Load() }

// Pages reports whether this node sends the alerts' notifications: the
// leader does, and so does a node acting alone, or nobody would be paged
// about the database outage itself.
func (l *leader) Pages() bool { return l.on.Load() || l.alone.Load() }

// reachable reports whether the database answers a ping on the write
// pool within tryLeadWait.
func (a *App) reachable(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, tryLeadWait)
	defer cancel()
	return a.db.Ping(pctx) == nil
}

// lead competes for leadership until ctx ends and, while this node leads,
// runs duties with a context that ends when the lead is lost.
func (a *App) lead(ctx context.Context, duties func(ctx context.Context, wg *sync.WaitGroup)) {
	logger := a.logger.With("node", a.node)
	var (
		unreachable time.Time // since when the database is out of reach
		stopAlone   func()    // while this node acts alone
	)
	defer func() {
		if stopAlone != nil {
			stopAlone()
		}
	}()
	for ctx.Err() == nil {
		tctx, cancel := context.WithTimeout(ctx, tryLeadWait)
		lease, err := a.db.TryLead(tctx, leaderName, leaderCheck)
		cancel()
		if err != nil && ctx.Err() == nil && a.reachable(ctx) {
			// The database answers: what failed was this node's own (its
			// lock connections all busy with turns, one of them slow).
			// Taken for an outage, it made this node act alone beside a
			// leader that was fine, and page twice.
			logger.Warn("could not compete for the lead this time; the database answers", "error", err)
			err, lease = nil, nil
		}
		if err != nil && ctx.Err() == nil {
			logger.Warn("cannot reach the database to compete for the lead", "error", err)
			if unreachable.IsZero() {
				unreachable = time.Now()
			}
			if stopAlone == nil && a.db.Clustered() && time.Since(unreachable) >= aloneAfter {
				stopAlone = a.actAlone(ctx, logger)
			}
		}
		if err == nil {
			unreachable = time.Time{}
			if stopAlone != nil {
				stopAlone()
				stopAlone = nil
				if lease == nil {
					a.reloadPosture(ctx) // the leader's, in place of this node's own
				}
			}
		}
		if err != nil || lease == nil {
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

// actAlone runs this node's incident controller without the database
// (see the top of this file) until the returned stop is called.
func (a *App) actAlone(ctx context.Context, logger *slog.Logger) (stop func()) {
	logger.Error("the database is out of reach: this node acts alone, and degrades and pages on its own until it is back",
		"after", aloneAfter)
	a.leader.alone.Store(true)
	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.crisis.ctl.Run(actx) })
	return func() {
		cancel()
		wg.Wait()
		// Only now, with its controller stopped, may this node write the
		// incident and the posture again.
		a.leader.alone.Store(false)
		logger.Warn("the database is back: this node no longer acts alone")
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
		if a.crisis.spool != nil {
			a.crisis.spool.Moved(ev.ID) // this node's copy is stale now
		}
		watched := a.hub.Subscribers(httpapi.ConversationTopic(ev.ID)) > 0
		forDesk := ev.Desk && a.hub.Subscribers(httpapi.DeskTopic) > 0
		if ev.Desk {
			a.desk.Kick() // the queue may have changed, and the leader assigns
		}
		if !watched && !forDesk {
			return
		}
		// What cannot be read now is not lost: those who watch it are
		// dropped, and catch up from the store as after falling behind.
		// (Only logged, the agent's reply never reached the customer's
		// stream here, nor the console, until a later message showed a
		// gap.)
		lost := func(err error) {
			a.logger.Warn("follow another node's conversation: its watchers here read it again", "conversation", ev.ID, "error", err)
			topics := []string{httpapi.ConversationTopic(ev.ID)}
			if forDesk {
				topics = append(topics, httpapi.DeskTopic)
			}
			a.hub.Drop(topics...)
		}
		c, err := a.engine.Conversation(ctx, ev.ID)
		if err != nil {
			lost(err)
			return
		}
		msgs, err := a.engine.Transcript(ctx, c, ev.After)
		if err != nil {
			lost(err)
			return
		}
		local.Publish(c, msgs)
	case realtime.KindQueue:
		a.desk.Kick()
	case realtime.KindNote:
		notes, err := a.db.Notes(ctx, ev.ID)
		if err != nil {
			a.logger.Warn("follow another node's note: the consoles here read again", "conversation", ev.ID, "error", err)
			a.hub.Drop(httpapi.DeskTopic)
			return
		}
		for _, n := range notes {
			if n.ID == ev.Ref {
				local.PublishNote(ev.ID, n)
			}
		}
	case realtime.KindTickets:
		local.PublishTickets()
	case realtime.KindRating:
		r, err := a.db.Rating(ctx, ev.ID)
		if err != nil || r == nil {
			a.logger.Warn("follow another node's rating", "conversation", ev.ID, "error", err)
			return
		}
		local.PublishRating(ev.ID, *r)
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
			if !a.leader.Leading() && !a.leader.Alone() {
				a.reloadPosture(ctx)
			}
			if err := a.crisis.alerts.LoadSilences(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.logger.Warn("reload the silences", "error", err)
			}
		}
	}
}

// errAlone refuses the incident controller's writes while this node acts
// alone: the database may come back before the node notices, and what it
// wrote then would race the leader's incident and posture.
var errAlone = errors.New("this node acts alone while the database is out of its reach: the leader stores the incident once it is back")

// soloStore is the incident controller's store, closed to writes while the
// node acts alone.
type soloStore struct {
	incident.Store
	alone func() bool
}

func (s soloStore) SavePosture(ctx context.Context, p incident.Posture) error {
	if s.alone() {
		return errAlone
	}
	return s.Store.SavePosture(ctx, p)
}

func (s soloStore) CreateIncident(ctx context.Context, i *incident.Incident) error {
	if s.alone() {
		return errAlone
	}
	return s.Store.CreateIncident(ctx, i)
}

func (s soloStore) UpdateIncident(ctx context.Context, i *incident.Incident) error {
	if s.alone() {
		return errAlone
	}
	return s.Store.UpdateIncident(ctx, i)
}

func (s soloStore) AppendEvent(ctx context.Context, id string, e *incident.Event) error {
	if s.alone() {
		return errAlone
	}
	return s.Store.AppendEvent(ctx, id, e)
}

func (s soloStore) SaveNoticeText(ctx context.Context, level int, n incident.Notice, by string) error {
	if s.alone() {
		return errAlone
	}
	return s.Store.SaveNoticeText(ctx, level, n, by)
}

// soloKnowledge is the knowledge base as the incident controller sees it:
// no rollback (a new release, written to the database) while alone.
type soloKnowledge struct {
	incident.Knowledge
	alone func() bool
}

func (k soloKnowledge) Rollback(ctx context.Context, a knowledge.Actor, to int64, reason string) (*knowledge.Release, error) {
	if k.alone() {
		return nil, errcode.Localized(errcode.Unavailable, "cannot roll the knowledge base back while the database is out of reach",
			"数据库无法连接，暂不能回滚知识库")
	}
	return k.Knowledge.Rollback(ctx, a, to, reason)
}
