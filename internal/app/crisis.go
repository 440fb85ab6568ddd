package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/realtime"
	"github.com/steward-cs/steward/internal/spool"
	"github.com/steward-cs/steward/internal/store"
)

// SpoolFile is the journal of customer writes the database could not take.
const SpoolFile = "spool.jsonl"

// crisis is the crisis-response machinery: signals, alerts, the incident
// controller, notifications and the spool that keeps customers' messages
// through a database outage.
type crisis struct {
	logger   *slog.Logger
	faults   *incident.Faults // nil unless fault injection is on
	metrics  *monitor.Metrics
	mon      *monitor.Monitor
	alerts   *monitor.Manager
	ctl      *incident.Controller
	outbox   *jobs.Outbox
	spool    *spool.Store
	channels map[string]notify.Channel
	minLevel map[string]int
	facts    *facts
	// deskHours are the desk's opening hours (nil: always open).
	deskHours *desk.Hours
	// landed tells the other nodes of a spooled write that reached the
	// store (set by finish, before the spool runs).
	landed func(*conversation.Conversation, []conversation.Message)
	// ticketLanded tells the consoles, here and on other nodes, of a
	// spooled offline message that reached the store (set by finish).
	ticketLanded func()
	// groups are the alert groups waiting to be paged (pageGroups): the
	// monitor's loop hands them over and goes on, never waiting for the
	// outbox or for the incident controller's lock (held through its
	// database writes, which a hung disk makes last).
	groups chan monitor.AlertGroup
	// life ends when the server stops: notices sent directly (sendDirect)
	// stop retrying then. Set by run.
	lifeMu sync.Mutex
	life   context.Context
}

// openCrisis builds what can be built before the engine: the faults, the
// metrics, the monitor and the spool the engine writes through.
func openCrisis(ctx context.Context, cfg config.Config, db *store.DB, node string, lead *leader, logger *slog.Logger) (*crisis, error) {
	c := &crisis{logger: logger.With("component", "crisis"), metrics: monitor.NewMetrics(), facts: &facts{},
		groups: make(chan monitor.AlertGroup, groupQueue)}
	c.metrics.WatchWriter(func() monitor.WriterStats {
		s := db.WriterStats()
		return monitor.WriterStats{Batches: s.Batches, Writes: s.Writes, Busy: s.Busy}
	})
	if cfg.EnableFaultInjection {
		c.faults = incident.NewFaults()
		logger.Warn("fault injection is ON: drills may break this server on purpose (never run production this way)")
	}
	channels, err := buildChannels(cfg.Notify.Channels, nil)
	if err != nil {
		return nil, err
	}
	c.channels, c.minLevel = map[string]notify.Channel{}, map[string]int{}
	for _, ch := range cfg.Notify.Channels {
		level := ch.MinLevel
		if level == "" {
			level = notify.LevelWarning
		}
		c.minLevel[ch.Name] = notify.LevelRank(level)
		c.channels[ch.Name] = &incident.FaultyChannel{Channel: channels[ch.Name], Name: ch.Name, Faults: c.faults}
	}
	c.outbox = jobs.New(db, jobs.Options{Handlers: map[string]jobs.Handler{"notify:": c.send}, Logger: logger,
		MaxBackoff: 10 * time.Second, OnChange: func(kind string, h jobs.KindHealth) {
			c.logger.Warn("notification channel health changed", "kind", kind, "healthy", h.Healthy, "error", h.LastError)
		}})
	c.facts.outbox = c.outbox
	// With several nodes every node evaluates the rules over every node's
	// signals, so every console shows the same alerts; the leader alone
	// notifies. A single node always notifies.
	var peers monitor.PeerStore
	var leading, pages func() bool
	if db.Clustered() {
		peers, leading, pages = db, lead.Leading, lead.Pages
	}
	c.alerts = monitor.NewManager(monitor.ManagerOptions{
		Route: monitor.AlertRoute{GroupWait: cfg.Monitor.GroupWait, GroupInterval: cfg.Monitor.GroupInterval,
			RepeatInterval: cfg.Monitor.RepeatInterval},
		Inhibit: defaultInhibitions(), Silences: db, Notify: c.notifyGroup, Leading: pages, Logger: logger})
	c.facts.leading = leading
	if err := c.alerts.LoadSilences(ctx, time.Now()); err != nil {
		return nil, err
	}
	rules := monitor.MergeRules(monitor.DefaultRules(), cfg.Monitor.Rules)
	var slos []monitor.SLO
	if len(cfg.Monitor.SLOs) > 0 {
		slos = cfg.Monitor.SLOs
	}
	probes := map[string]monitor.Prober{
		"store": func(ctx context.Context) error {
			if err := c.faults.Inject(ctx, incident.FaultStoreWrite, ""); err != nil {
				return err
			}
			return db.Ping(ctx)
		},
		"nlu": func(ctx context.Context) error {
			if err := c.faults.Inject(ctx, incident.FaultNLU, ""); err != nil {
				return err
			}
			if ix := c.facts.index(); ix != nil {
				ix.Analyze(nlu.Prepare("你好，我的订单什么时候发货"))
			}
			return nil
		},
	}
	if db.Clustered() {
		// Named for its node: clock_skew judges each node's own clock
		// (summed over two nodes, one skewed made exactly half the
		// failures, never the more than half the rule asks for).
		probes["clock@"+node] = clockProbe(db.ClockOffset, MaxClockOffset, logger)
	}
	c.mon = monitor.New(monitor.Options{Node: node, Peers: peers, Rollups: db, Rules: rules, SLOs: slos, Facts: c.facts, Alerts: c.alerts,
		Metrics: c.metrics, Logger: logger, Probes: probes})
	var inner conversation.Store = db
	if c.faults != nil {
		inner = &incident.FaultyStore{Store: db, Faults: c.faults}
	}
	if c.spool, err = spool.Open(ctx, filepath.Join(cfg.DataDir, SpoolFile), &countingStore{Store: inner, mon: c.mon},
		spool.Options{Logger: logger, WriteTimeout: 2 * time.Second,
			// The postmortem's "customer messages held in the local
			// spool": a new conversation's greeting or an agent's reply
			// spooled is not one (every spooled write was counted).
			OnWrite: func(_ string, stored bool) {
				c.mon.Record(monitor.Signal{Kind: monitor.KindPersist, Failed: !stored, Component: "store"})
			},
			OnSpool: func(_ string, customer int, _ error) {
				for range customer {
					c.mon.Record(monitor.Signal{Kind: monitor.KindWrite, Spooled: true, Component: "store"})
				}
			},
			OnLanded: func(conv *conversation.Conversation, msgs []conversation.Message) {
				if c.landed != nil {
					c.landed(conv, msgs)
				}
			},
			Tickets: db,
			OnTicketLanded: func(string) {
				if c.ticketLanded != nil {
					c.ticketLanded()
				}
			},
			OnDrain: func(n int) { c.logger.Info("spooled customer writes reached the store", "writes", n) }}); err != nil {
		return nil, fmt.Errorf("open the spool: %w", err)
	}
	c.facts.spool = c.spool
	return c, nil
}

// finish builds the incident controller once the engine, the desk and the
// knowledge base exist.
func (c *crisis) finish(ctx context.Context, cfg config.Config, a *App) error {
	c.facts.kb, c.facts.desk, c.facts.engine, c.facts.mon = a.kb, a.desk, a.engine, c.mon
	// The engine told this node's streams of a spooled turn when it was
	// spooled; the other nodes read the store, so they hear of it once it
	// is there.
	c.landed = func(conv *conversation.Conversation, msgs []conversation.Message) {
		a.cluster.Send(realtime.Remote{Kind: realtime.KindConversation, ID: conv.ID, After: msgs[0].Seq - 1,
			Desk: conv.State != conversation.StateBot})
	}
	c.ticketLanded = httpapi.HubPublisher{Hub: a.hub, Cluster: a.cluster}.PublishTickets
	if dopts, err := deskOptions(cfg.Desk); err == nil {
		c.deskHours = dopts.Hours
	}
	c.facts.noteRelease(time.Time{})
	var err error
	alone := a.leader.Alone
	c.ctl, err = incident.New(ctx, incident.Options{Store: soloStore{Store: a.db, alone: alone}, Engine: a.engine,
		Knowledge: soloKnowledge{Knowledge: a.kb, alone: alone}, Alerts: c.alerts,
		History: c.mon, Pager: c, Audit: a.audit, RecoverAfter: cfg.Incident.RecoverAfter, URL: cfg.Incident.PublicURL,
		Playbooks: incident.MergePlaybooks(incident.DefaultPlaybooks(), cfg.Incident.Playbooks), Metrics: c.metrics,
		Logger: a.logger, Changed: func() { a.cluster.Send(realtime.Remote{Kind: realtime.KindPosture}) }})
	c.facts.ctl = c.ctl
	return err
}

// api is what the HTTP layer exposes.
func (c *crisis) api(a *App) *httpapi.Crisis {
	h := &httpapi.Crisis{Monitor: c.mon, Metrics: c.metrics, Alerts: c.alerts, Controller: c.ctl, Outbox: c.outbox,
		Components: c.components, SpoolPending: c.spool.Pending, SpoolHealthy: c.spool.Healthy, MetricsToken: a.cfg.Monitor.MetricsToken}
	if c.faults != nil {
		h.Faults = c.faults
		h.BadRelease = func(ctx context.Context) (*knowledge.Release, error) {
			act := a.kb.Active()
			if act == nil || act.Release == nil {
				return nil, errcode.Localized(errcode.Unavailable, "no active release to damage", "没有可供损坏的已启用知识库版本")
			}
			entries := act.Release.Content
			if len(entries) == 0 {
				return nil, errcode.Localized(errcode.Unavailable, "the active release holds no entries", "已启用的知识库版本没有条目")
			}
			return a.kb.Publish(ctx, knowledge.Actor{ID: "system:drill", Name: "Steward drill"}, knowledge.PublishOptions{
				Note: "drill: a damaged release (questions moved to the wrong entries)", Entries: knowledge.Damaged(entries),
				Override: true, Reason: "fault injection drill: kb.bad_release"})
		}
	}
	return h
}

// run starts the workers every node runs; they stop when ctx ends. The
// monitor records and probes on every node and evaluates its rules only
// on the leader.
func (c *crisis) run(ctx context.Context, wg *sync.WaitGroup) {
	c.lifeMu.Lock()
	c.life = ctx
	c.lifeMu.Unlock()
	wg.Go(func() { c.mon.Run(ctx) })
	wg.Go(func() { c.spool.Run(ctx) })
	wg.Go(func() { c.pageGroups(ctx) })
}

// groupQueue is how many alert groups may wait to be paged; groupDrain is
// how long the ones still waiting at shutdown may take.
const (
	groupQueue = 64
	groupDrain = 5 * time.Second
)

// pageGroups pages the alert groups notifyGroup queued, in order, until
// ctx ends; then those still waiting, for up to groupDrain.
func (c *crisis) pageGroups(ctx context.Context) {
	for {
		select {
		case g := <-c.groups:
			c.pageGroup(g)
		case <-ctx.Done():
			deadline := time.After(groupDrain)
			for {
				select {
				case g := <-c.groups:
					c.pageGroup(g)
				case <-deadline:
					if n := len(c.groups); n > 0 {
						c.logger.Error("alert groups not paged at shutdown", "groups", n)
					}
					return
				default:
					return
				}
			}
		}
	}
}

// lead starts what only the leader runs; ctx ends when the lead is lost.
func (c *crisis) lead(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { c.ctl.Run(ctx) })
	wg.Go(func() { c.outbox.Run(ctx) })
}

// close releases the spool after the workers stopped.
func (c *crisis) close() {
	if err := c.spool.Close(); err != nil {
		c.logger.Warn("close the spool", "error", err)
	}
}

// defaultInhibitions keep one root cause from paging many times: a store
// outage mutes what it causes, and so does a failing intent model.
func defaultInhibitions() []monitor.InhibitRule {
	must := func(s string) monitor.Matcher {
		m, err := monitor.ParseMatcher(s)
		if err != nil {
			panic(err)
		}
		return m
	}
	return []monitor.InhibitRule{
		{Source: []monitor.Matcher{must(`component="store"`), must(`level="critical"`)},
			Target: []monitor.Matcher{must(`component!="store"`)}},
		{Source: []monitor.Matcher{must(`component="nlu"`), must(`alertname="component_down"`)},
			Target: []monitor.Matcher{must(`alertname=~"bot_errors|slow_turns|answer_rate_drop|confidence_drop|fallback_surge|handoff_surge|slo_burn"`)}},
	}
}

// Page queues n for every channel whose level it reaches; it returns how
// many. A resolution is held to the same level as the firing it ends: a
// channel that never heard of a warning (an on-call group that takes only
// critical pages, and @-mentions someone for each) does not hear of its
// end either.
func (c *crisis) Page(ctx context.Context, n notify.Notice) int {
	payload, err := json.Marshal(n)
	if err != nil {
		c.logger.Error("encode notice", "error", err)
		return 0
	}
	k := 0
	names := make([]string, 0, len(c.channels))
	for name := range c.channels {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if notify.LevelRank(n.RoutingLevel()) < c.minLevel[name] {
			continue
		}
		if err := c.enqueue(ctx, name, n.ID, payload); err != nil {
			c.logger.Error("the outbox cannot take a notice: sending it directly", "channel", name, "notice", n.ID, "error", err)
			c.sendDirect(name, n)
		}
		k++
	}
	return k
}

// A notice goes through the outbox (durable, retried, sent once across
// nodes), whose jobs live in the database. When the database is what
// fails, the outbox cannot take the notice that says so: a notice the
// outbox refuses, or does not take within enqueueWait (a hung disk), is
// sent directly from this node instead, retried until it is sent, a day
// has passed or the server stops. A notice whose enqueue only timed out
// may then arrive twice: a duplicate page is better than none.
const (
	enqueueWait      = 3 * time.Second
	directTimeout    = 30 * time.Second
	directMaxAge     = 24 * time.Hour
	directMaxBackoff = 5 * time.Minute
)

// enqueue queues one notice for one channel, waiting at most enqueueWait.
func (c *crisis) enqueue(ctx context.Context, name, id string, payload []byte) error {
	done := make(chan error, 1)
	go func() { done <- c.outbox.Enqueue(ctx, "notify:"+name, id+"/"+name, payload) }()
	select {
	case err := <-done:
		return err
	case <-time.After(enqueueWait):
		return fmt.Errorf("the store did not take it within %s", enqueueWait)
	}
}

// sendDirect sends n to the channel name from this node, in the
// background, with the outbox's retry rules (a permanent failure stops, a
// Retry-After is honoured).
func (c *crisis) sendDirect(name string, n notify.Notice) {
	ch := c.channels[name]
	c.lifeMu.Lock()
	life := c.life
	c.lifeMu.Unlock()
	if life == nil {
		life = context.Background()
	}
	go func() {
		giveUp := time.Now().Add(directMaxAge)
		wait := time.Second
		for {
			ctx, cancel := context.WithTimeout(life, directTimeout)
			err := ch.Send(ctx, n)
			cancel()
			c.mon.Record(monitor.Signal{Kind: monitor.KindNotify, Failed: err != nil, Component: "notify"})
			if err == nil {
				c.logger.Info("sent a notice directly", "channel", name, "notice", n.ID)
				return
			}
			if notify.IsPermanent(err) || time.Now().After(giveUp) {
				c.logger.Error("gave up sending a notice directly", "channel", name, "notice", n.ID, "error", err)
				return
			}
			next := wait
			if after, ok := notify.RetryAfter(err); ok {
				next = max(next, after)
			}
			next = min(next, time.Until(giveUp))
			c.logger.Warn("a notice sent directly failed; trying again", "channel", name, "notice", n.ID, "in", next, "error", err)
			select {
			case <-life.Done():
				c.logger.Error("the server stopped before a notice could be sent", "channel", name, "notice", n.ID)
				return
			case <-time.After(next):
			}
			wait = min(2*wait, directMaxBackoff)
		}
	}()
}

// notifyGroup is the alert manager's notification of a group: it queues
// the group for pageGroups and returns at once, as the manager calls it
// from the monitor's loop.
func (c *crisis) notifyGroup(g monitor.AlertGroup) {
	if c.groups == nil {
		c.pageGroup(g)
		return
	}
	select {
	case c.groups <- g:
	default:
		// Groups pile up only while paging itself hangs; this one is not
		// kept waiting behind them.
		c.logger.Error("alert groups are waiting to be paged: paging this one beside them", "waiting", len(c.groups),
			"group", g.Key)
		go c.pageGroup(g)
	}
}

// pageGroup turns an alert group into a notice and pages it, through the
// incident controller when there is one (its timeline notes the page).
func (c *crisis) pageGroup(g monitor.AlertGroup) {
	n := notify.Notice{Level: g.Level, Reach: g.Reach, Status: g.Status, Labels: g.Labels, At: time.Now().UTC()}
	var en, zh string
	for _, a := range g.Alerts {
		mark := "🔥"
		if a.Status == monitor.StatusResolved {
			mark = "✅"
		}
		en += fmt.Sprintf("%s %s\n", mark, a.Summary)
		zh += fmt.Sprintf("%s %s\n", mark, a.SummaryZH)
	}
	name := g.Labels["alertname"]
	n.Title = fmt.Sprintf("[%s] %s (%d)", g.Status, name, len(g.Alerts))
	n.TitleZH = fmt.Sprintf("[%s] %s（%d 条）", map[string]string{"firing": "告警", "resolved": "已恢复"}[g.Status], name, len(g.Alerts))
	n.Text, n.TextZH = en, zh
	n.ID = fmt.Sprintf("alert-%s-%s-%d", monitor.Fingerprint(map[string]string{"k": g.Key}), g.Status, n.At.UnixNano())
	if c.ctl != nil {
		c.ctl.Page(context.Background(), n)
		return
	}
	c.Page(context.Background(), n)
}

// send is the outbox handler of "notify:<channel>" jobs.
func (c *crisis) send(ctx context.Context, j jobs.Job) error {
	name := j.Kind[len("notify:"):]
	ch, ok := c.channels[name]
	if !ok {
		return notify.Permanent(fmt.Errorf("no notification channel %q is configured", name))
	}
	var n notify.Notice
	if err := json.Unmarshal(j.Payload, &n); err != nil {
		return notify.Permanent(fmt.Errorf("decode notice: %w", err))
	}
	err := ch.Send(ctx, n)
	c.mon.Record(monitor.Signal{Kind: monitor.KindNotify, Failed: err != nil, Component: "notify"})
	return err
}

// components are the status page's lines.
func (c *crisis) components(ctx context.Context) []httpapi.Component {
	p := c.ctl.Posture()
	firing := c.alerts.Active()
	has := func(component string) string {
		worst := "operational"
		for _, a := range firing {
			if a.Labels["component"] != component {
				continue
			}
			if a.Level == monitor.LevelCritical {
				return "major_outage"
			}
			worst = "degraded_performance"
		}
		return worst
	}
	bot := "operational"
	switch {
	case p.Level >= incident.Level2:
		bot = "major_outage"
	case p.Level == incident.Level1 && p.All:
		bot = "major_outage"
	case p.Level == incident.Level1:
		bot = "partial_outage"
	case has("bot") != "operational" || has("nlu") != "operational":
		bot = "degraded_performance"
	}
	kb := "operational"
	if p.Level >= incident.Level2 {
		kb = "degraded_performance"
	}
	agents := c.humanAgents(has("desk"))
	return []httpapi.Component{
		{Name: "Chat assistant", NameZH: "智能客服", Status: bot},
		agents,
		{Name: "Knowledge base", NameZH: "知识库", Status: kb},
		{Name: "Message storage", NameZH: "消息存储", Status: has("store")},
		{Name: "Notifications", NameZH: "通知", Status: has("notify")},
	}
}

// humanAgents is the status page's line for the desk: alerts decide its
// status (worst). Within the desk's hours with nobody online to take a
// conversation it is degraded, which customers would otherwise find out
// only by asking for a person and getting the offline form; outside the
// hours it stays operational (a closed desk is the schedule, not a fault,
// and every night's banner would otherwise say the service is degraded)
// with a note saying so. Who is online comes from the
// desk router's last pass, so the public endpoint reads no store for it.
func (c *crisis) humanAgents(worst string) httpapi.Component {
	line := httpapi.Component{Name: "Human agents", NameZH: "人工客服", Status: worst}
	d := c.facts.desk
	if d == nil || worst != "operational" {
		return line
	}
	switch q := d.Snapshot(); {
	case !c.deskHours.Open(time.Now()):
		line.Note, line.NoteZH = "outside service hours; leave a message", "当前不在人工服务时间，可留言"
	case q != nil && q.AgentsOnline == 0:
		line.Status = "degraded_performance"
		line.Note, line.NoteZH = "no agent online; leave a message", "暂无客服在线，可留言"
	}
	return line
}

// facts tell the rules what the signals do not.
type facts struct {
	outbox *jobs.Outbox
	kb     *knowledge.Service
	desk   *desk.Desk
	engine *conversation.Engine
	mon    *monitor.Monitor
	ctl    *incident.Controller

	backup backupStatus
	spool  *spool.Store // set once it is open
	// leading says whether this node leads (nil: a single node, which
	// does): every node evaluates the rules, and only one may count the
	// conversations served from the queue, or the queue forecast's
	// service rate would be counted once per node.
	leading func() bool

	mu      sync.Mutex
	release releaseWatch
	queued  map[string]time.Time
}

// SpoolRejected is how many acknowledged writes the spool set aside, and
// where (the spool_rejected rule).
func (f *facts) SpoolRejected() (int, string, error) {
	if f.spool == nil {
		return 0, "", nil
	}
	return f.spool.Rejected()
}

// releaseWatch follows the served release: which, since when, and whether
// the service went back to it.
type releaseWatch struct {
	id        int64
	activated time.Time
	returned  bool // an older release gone back to
}

// note records that id is served at now, a change if it is another.
func (w *releaseWatch) note(id int64, now time.Time) {
	if id == w.id {
		return
	}
	// Release ids grow: a lower one is a release served before, gone back
	// to (a rollback, or an older release activated by hand).
	w.returned = w.id != 0 && id < w.id
	w.id, w.activated = id, now
}

// suspect is the served release and its activation while it is a new one.
func (w *releaseWatch) suspect() (int64, time.Time) {
	if w.returned {
		return 0, time.Time{}
	}
	return w.id, w.activated
}

func (f *facts) index() *knowledge.Index {
	if f.engine == nil {
		return nil
	}
	return f.engine.Index()
}

// noteRelease tracks when the served release changed (at start: never).
func (f *facts) noteRelease(now time.Time) {
	if f.kb == nil {
		return
	}
	var id int64
	if a := f.kb.Active(); a != nil && a.Release != nil {
		id = a.Release.ID
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.release.note(id, now)
}

// SuspectRelease is the served release while it is a new one (see
// monitor.Facts).
func (f *facts) SuspectRelease() (int64, time.Time) {
	f.noteRelease(time.Now())
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.release.suspect()
}

// Release is the served release and when this node started serving it.
func (f *facts) Release() (int64, time.Time) {
	f.noteRelease(time.Now())
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.release.id, f.release.activated
}

// Queue reports the human queue, and records the conversations that left
// it for an agent since the last look.
func (f *facts) Queue() monitor.QueueState {
	if f.desk == nil {
		return monitor.QueueState{}
	}
	q := f.desk.Snapshot()
	if q == nil {
		return monitor.QueueState{}
	}
	now := time.Now()
	st := monitor.QueueState{Length: len(q.Items), Agents: q.AgentsOnline}
	cur := make(map[string]time.Time, len(q.Items))
	for _, it := range q.Items {
		// Since the conversation last began waiting: a requeued one keeps
		// its queued_at (its place in line), and the time an agent served
		// it fired the queue-wait alert the moment it came back.
		since := it.Since
		if since.IsZero() {
			since = it.Conversation.QueuedAt
		}
		cur[it.Conversation.ID] = since
		if w := now.Sub(since); w > st.OldestWait && !since.IsZero() {
			st.OldestWait = w
		}
	}
	f.mu.Lock()
	prev := f.queued
	f.queued = cur
	f.mu.Unlock()
	counts := f.mon != nil && (f.leading == nil || f.leading())
	for id, at := range prev {
		if _, still := cur[id]; !still && counts {
			f.mon.Record(monitor.Signal{Kind: monitor.KindQueue, Joined: false, Wait: now.Sub(at)})
		}
	}
	return st
}

// Epoch is the later of the served release's activation and the last
// posture change.
func (f *facts) Epoch() time.Time {
	_, at := f.Release()
	if f.ctl != nil {
		if since := f.ctl.Posture().Since; since.After(at) {
			at = since
		}
	}
	return at
}

// FailingChannels are the notification channels the outbox finds failing.
func (f *facts) FailingChannels() map[string]string {
	out := map[string]string{}
	if f.outbox == nil {
		return out
	}
	for kind, h := range f.outbox.Health() {
		if !h.Healthy && len(kind) > len("notify:") {
			out[kind[len("notify:"):]] = h.LastError
		}
	}
	return out
}

// countingStore records every conversation write as a signal.
type countingStore struct {
	conversation.Store
	mon *monitor.Monitor
}

func (s *countingStore) CreateConversation(ctx context.Context, c *conversation.Conversation, greeting []conversation.Message) error {
	err := s.Store.CreateConversation(ctx, c, greeting)
	s.mon.Record(monitor.Signal{Kind: monitor.KindWrite, Failed: err != nil, Component: "store"})
	return err
}

func (s *countingStore) SaveTurn(ctx context.Context, t conversation.Turn) error {
	err := s.Store.SaveTurn(ctx, t)
	s.mon.Record(monitor.Signal{Kind: monitor.KindWrite, Failed: err != nil, Component: "store"})
	return err
}

// observeLLM is told the result of each question for the language model:
// it counts in the metrics, and is a probe of the "llm" component for the
// llm_failing rule. A question the model failed, or that its open breaker
// kept from it, is a failed probe; one over the budget or the concurrency
// bound, one whose customer went away during the call ("cancelled") and
// one the model refused ("rejected") say nothing of the model's health
// and are no probe.
func (c *crisis) observeLLM() func(result string, took time.Duration) {
	count := c.metrics.LLMObserver()
	return func(result string, took time.Duration) {
		count(result, took)
		switch result {
		case "answered", "no_answer", "failed", "open":
			c.mon.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "llm",
				Failed: result == "failed" || result == "open", Latency: took})
		}
	}
}

// observeProviders is told each call of the failover between two
// language models: it counts in the metrics, and each call the primary was
// asked, or skipped while its breaker is open, is a probe of the
// "llm.primary" component, so that llm_failing warns of a primary that is
// down while the fallback answers (the questions themselves, the "llm"
// probes, then fail only when both do).
func (c *crisis) observeProviders() func(provider, result string) {
	count := c.metrics.LLMProviderObserver()
	return func(provider, result string) {
		count(provider, result)
		if provider != "primary" {
			return
		}
		switch result {
		case "answered", "failed", "skipped":
			c.mon.Record(monitor.Signal{Kind: monitor.KindProbe, Component: "llm.primary", Failed: result != "answered"})
		}
	}
}

// observer turns the engine's turns into signals.
type observer struct{ mon *monitor.Monitor }

func (o observer) ObserveTurn(t conversation.TurnInfo) {
	src := conversation.DefaultSource
	if t.Conversation != nil && t.Conversation.Source != "" {
		src = t.Conversation.Source
	}
	o.mon.Record(monitor.Signal{Kind: monitor.KindTurn, Outcome: t.Outcome, DivertedNotice: t.DivertedTo == conversation.OutcomeNotice,
		Category: t.Category, Source: src,
		Confidence: t.Confidence, Negative: t.Negative, Latency: t.Latency, Failed: t.Failed, Component: t.Component, Flagged: t.Firewall != ""})
	if t.Conversation != nil && t.Conversation.State == conversation.StateQueued &&
		(t.Outcome == string(conversation.OutcomeHandoff) || t.Outcome == monitor.OutcomeDiverted) {
		o.mon.Record(monitor.Signal{Kind: monitor.KindQueue, Joined: true})
	}
}

// MaxClockOffset is how far a node's clock may be off the database
// server's before its "clock" probe fails (and, most of a minute later,
// clock_skew warns).
const MaxClockOffset = 2 * time.Second

// clockProbe fails while offset says this node's clock is more than max
// off the database server's, and logs when that starts and ends. An
// unreachable database is the store probe's to report, not a clock fault.
func clockProbe(offset func(context.Context) (time.Duration, error), max time.Duration, logger *slog.Logger) monitor.Prober {
	var off atomic.Bool // the last answer was off
	return func(ctx context.Context) error {
		d, err := offset(ctx)
		if err != nil || (d <= max && d >= -max) {
			if err == nil && off.Swap(false) {
				logger.Info("this node's clock agrees with the database server's again", "offset", d.Round(time.Millisecond))
			}
			return nil
		}
		err = fmt.Errorf("this node's clock is %s ahead of the database server's (negative: behind), more than %s: check its time synchronisation (chrony, systemd-timesyncd)",
			d.Round(time.Millisecond), max)
		if !off.Swap(true) {
			logger.Warn("clock skew", "error", err)
		}
		return err
	}
}

// deskStore is the desk's store with offline messages written through the
// spool, which journals them while the database is away: the offline form
// is what a degraded posture offers, the database's own outage included.
type deskStore struct {
	*store.DB
	spool *spool.Store
}

// AddTicket implements desk.Store.
func (s deskStore) AddTicket(ctx context.Context, t *desk.Ticket, maxOpen int) error {
	return s.spool.AddTicket(ctx, t, maxOpen)
}

// OpenTickets implements desk.Store.
func (s deskStore) OpenTickets(ctx context.Context, conversationID string) (int, error) {
	return s.spool.OpenTickets(ctx, conversationID)
}
