package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/token"
)

// Engine serves under the posture it is given.
type Engine interface {
	SetPosture(p *conversation.Posture)
}

// Knowledge is the part of the knowledge lifecycle a level 2 or 3 posture uses.
type Knowledge interface {
	Active() *knowledge.Active
	Rollback(ctx context.Context, a knowledge.Actor, to int64, reason string) (*knowledge.Release, error)
}

// Alerts are the firing alerts.
type Alerts interface {
	Active() []monitor.Alert
}

// History is the signal history a postmortem is written from.
type History interface {
	Flush(ctx context.Context)
	History(ctx context.Context, from, to time.Time) ([]monitor.Rollup, error)
}

// Pager sends a notice to the configured channels (through the outbox).
// It must not block; it returns how many channels it was queued for.
type Pager interface {
	Page(ctx context.Context, n notify.Notice) int
}

// Options configure a Controller.
type Options struct {
	Store     Store
	Engine    Engine
	Knowledge Knowledge
	Alerts    Alerts
	History   History
	Pager     Pager // optional
	Audit     *audit.Log
	Playbooks []Playbook // nil: DefaultPlaybooks
	// RecoverAfter is how long the alerts behind a posture must stay quiet
	// before it steps down (default 15s); each relapse within FlapWindow
	// (default 10m) doubles it, up to 8×.
	RecoverAfter time.Duration
	FlapWindow   time.Duration
	Interval     time.Duration // default 1s
	// URL is the console's base URL, for links in notices.
	URL     string
	Metrics *monitor.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// Changed, if set, is called after this node changed the posture, a
	// notice text or an incident, for the other nodes to Reload. It must
	// not block.
	Changed func()
}

// Actor is who changes things by hand.
type Actor struct{ ID, Name string }

// steward is the actor for what the controller does on its own.
var steward = Actor{ID: "system", Name: "Steward"}

// Controller turns alerts into posture changes and incidents.
type Controller struct {
	opts      Options
	logger    *slog.Logger
	playbooks []Playbook

	// op serialises the controller's steps and operators' actions: they
	// read and change the open incident. mu guards what readers on the
	// hot path take (the posture, the notices).
	op sync.Mutex
	mu sync.Mutex
	// serveMu makes each serve hand the engine the posture in force as it
	// runs: an operator's notice edit, reading the posture just before a
	// step changed it, handed the engine the old one after the step's own
	// serve, and the engine kept it until the next change.
	serveMu sync.Mutex
	posture Posture
	notices map[int]Notice
	current *Incident // the open incident, if any
	seen    map[string]monitor.Alert
	// adopt holds the alerts of the open incident as loaded from the store
	// (a restart, a node taking the lead, a reload): on the next step those
	// still firing are the incident's already, not new ones to put on its
	// timeline again or whose approvals to ask for again.
	adopt     map[string]bool
	calmSince time.Time // when the desired posture first fell below the current one
	// unsaved: the posture served is not the one stored, since the store
	// refused it (the outage level 3 is for): each step tries again.
	unsaved bool
	// unrecorded: the open incident's timeline lacks the posture served,
	// since the store refused it when it changed; each step tries again.
	unrecorded bool
	// handPhase is the open incident whose phase a person set while its
	// alerts fired (handFiring) or not: trackIncident leaves that phase
	// until they start or stop.
	handPhase  string
	handFiring bool
	lastDown   time.Time
	flaps      int
	limiter    *limiter
}

// New loads the persisted posture and notices and returns a controller.
func New(ctx context.Context, opts Options) (*Controller, error) {
	if opts.RecoverAfter <= 0 {
		opts.RecoverAfter = 15 * time.Second
	}
	if opts.FlapWindow <= 0 {
		opts.FlapWindow = 10 * time.Minute
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Playbooks == nil {
		opts.Playbooks = DefaultPlaybooks()
	}
	c := &Controller{opts: opts, logger: opts.Logger.With("component", "incident"), seen: map[string]monitor.Alert{},
		limiter: newLimiter()}
	for i := range opts.Playbooks {
		p := opts.Playbooks[i]
		if err := p.Compile(); err != nil {
			return nil, err
		}
		c.playbooks = append(c.playbooks, p)
	}
	if err := c.load(ctx, false); err != nil {
		return nil, err
	}
	c.serve()
	return c, nil
}

// load reads the posture, the notice texts and the open incident from the
// store; the caller holds op (or owns c alone). keepServed keeps a posture
// this node serves but could not store (TakeLead); otherwise the stored one
// replaces it.
func (c *Controller) load(ctx context.Context, keepServed bool) error {
	posture, err := c.opts.Store.LoadPosture(ctx)
	if err != nil {
		return fmt.Errorf("load posture: %w", err)
	}
	notices, err := c.opts.Store.NoticeTexts(ctx)
	if err != nil {
		return fmt.Errorf("load notice texts: %w", err)
	}
	incs, err := c.opts.Store.Incidents(ctx, 20)
	if err != nil {
		return fmt.Errorf("load incidents: %w", err)
	}
	var current *Incident
	for i := range incs {
		if incs[i].Open() {
			current = &incs[i]
			break
		}
	}
	c.mu.Lock()
	if !keepServed || !c.unsaved || posture.Manual {
		c.posture, c.unsaved = posture, false
	}
	c.notices = notices
	c.mu.Unlock()
	c.current = current
	c.adopt = nil
	if current != nil {
		c.adopt = map[string]bool{}
		for _, fp := range current.Alerts {
			c.adopt[fp] = true
		}
	}
	return nil
}

// Reload takes up what another node changed: the posture, the notice texts
// and the open incident, as stored. Nodes that share a database call it
// when told of a change and now and then besides; the leader calls it
// before each step.
func (c *Controller) Reload(ctx context.Context) error {
	return c.reload(ctx, false)
}

// TakeLead is Reload for a node that takes the lead, before it runs the
// controller: a posture it served without storing it, while it acted alone
// through a database outage, is kept and stored on the next step rather
// than replaced by the older stored one. The new leader saw the outage
// itself; what the store holds was written before it. A posture an
// operator set by hand in the meantime wins all the same.
func (c *Controller) TakeLead(ctx context.Context) error {
	return c.reload(ctx, true)
}

func (c *Controller) reload(ctx context.Context, keepServed bool) error {
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	before := c.posture
	c.mu.Unlock()
	was := c.current
	if err := c.load(ctx, keepServed); err != nil {
		return err
	}
	if inc := c.current; !keepServed && inc != nil && was != nil && was.ID == inc.ID && was.Phase != inc.Phase && inc.Phase != PhaseResolved {
		// A phase set on another node while this one led is a person's
		// (only the leader steps): it stands as one set here would
		// (Update).
		c.handPhase, c.handFiring = inc.ID, ownAlerts(inc, c.opts.Alerts.Active()) > 0
	}
	c.mu.Lock()
	after := c.posture
	c.mu.Unlock()
	if !reflect.DeepEqual(before, after) {
		c.logger.Info("posture changed on another node", "level", after.Level, "by", after.SetBy)
	}
	c.serve()
	return nil
}

// changed tells the other nodes that the posture, a notice or the open
// incident changed here.
func (c *Controller) changed() {
	if c.opts.Changed != nil {
		c.opts.Changed()
	}
}

// Posture returns the current posture.
func (c *Controller) Posture() Posture {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posture
}

// Current returns the open incident, if any.
func (c *Controller) Current() *Incident {
	c.op.Lock()
	defer c.op.Unlock()
	if c.current == nil {
		return nil
	}
	i := *c.current
	return &i
}

// Notice returns the text customers see under p.
func (c *Controller) Notice(p Posture) Notice {
	// A posture's own notice of two empty texts ({"zh":"","en":""}, which
	// "both or neither" lets through) is none: it hid the level's notice
	// from customers.
	if p.Notice != nil && (p.Notice.ZH != "" || p.Notice.EN != "") {
		return *p.Notice
	}
	if p.Level == Normal {
		return Notice{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.notices[p.Level]; ok {
		return n
	}
	return DefaultNotices[p.Level]
}

// Notices returns the notice text of each level.
func (c *Controller) Notices() map[int]Notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int]Notice{}
	for l, n := range DefaultNotices {
		out[l] = n
	}
	for l, n := range c.notices {
		out[l] = n
	}
	return out
}

// SetNotice edits the notice text of a level.
func (c *Controller) SetNotice(ctx context.Context, a Actor, level int, n Notice) error {
	defer c.changed()
	if level < Level1 || level > Level3 {
		return errcode.Localized(errcode.Invalid, "level must be 1, 2 or 3", "级别须为 1、2 或 3")
	}
	if n.ZH == "" || n.EN == "" {
		return errcode.Localized(errcode.Invalid, "a notice needs both zh and en text", "公告需要同时提供中文和英文文本")
	}
	if len([]rune(n.ZH)) > 500 || len([]rune(n.EN)) > 500 {
		return errcode.Localized(errcode.Invalid, "notice texts are at most 500 characters", "公告文本最多 500 个字符")
	}
	if err := c.opts.Store.SaveNoticeText(ctx, level, n, a.ID); err != nil {
		return err
	}
	c.mu.Lock()
	c.notices[level] = n
	c.mu.Unlock()
	c.audit(ctx, a, "incident.notice.edit", fmt.Sprintf("level:%d", level), map[string]any{"zh": n.ZH, "en": n.EN})
	c.serve()
	return nil
}

// Allow reports whether a message from source may pass the posture's
// throttle now.
func (c *Controller) Allow(source string) bool {
	c.mu.Lock()
	rate, ok := c.posture.Throttle[source]
	c.mu.Unlock()
	if !ok {
		return true
	}
	return c.limiter.allow(source, rate, c.opts.Now())
}

// Refresh hands the engine the posture again: after the knowledge base's
// active release changed, level 3's essential entries are the new
// release's (the engine judged "essential" by the release that was active
// when the posture was served).
func (c *Controller) Refresh() { c.serve() }

// serve hands the posture to the engine.
func (c *Controller) serve() {
	c.serveMu.Lock()
	defer c.serveMu.Unlock()
	c.mu.Lock()
	p := c.posture
	c.mu.Unlock()
	if c.opts.Metrics != nil {
		c.opts.Metrics.Posture.Set(float64(p.Level))
	}
	if c.opts.Engine == nil {
		return
	}
	if p.Level == Normal {
		c.opts.Engine.SetPosture(nil)
		return
	}
	n := c.Notice(p)
	ep := &conversation.Posture{Level: p.Level, All: p.All, Categories: p.Categories, Intents: p.Intents, Human: p.Human,
		VIPOnly: p.Level == Level2, Notice: map[string]string{knowledge.LocaleZH: n.ZH, knowledge.LocaleEN: n.EN},
		IncidentID: p.IncidentID}
	if p.Level == Level3 && c.opts.Knowledge != nil {
		if a := c.opts.Knowledge.Active(); a != nil {
			ep.Minimal = a.Minimal
		}
	}
	c.opts.Engine.SetPosture(ep)
}

// Run steps the controller every Interval until ctx is done.
func (c *Controller) Run(ctx context.Context) {
	// Run starts when this node takes the lead: the hold starts again, so
	// that a node leading again does not step down on a calm it measured
	// before it stopped leading. (A reread of what another node changed
	// restarted it too, so a note posted every few seconds kept customers
	// on the degraded posture for good.)
	c.op.Lock()
	c.calmSince = time.Time{}
	c.op.Unlock()
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Step(ctx, c.opts.Now()); err != nil {
				c.logger.Error("incident controller step", "error", err)
			}
		}
	}
}

// Step looks at the firing alerts once and acts.
func (c *Controller) Step(ctx context.Context, now time.Time) error {
	c.op.Lock()
	defer c.op.Unlock()
	alerts := c.opts.Alerts.Active()
	var acts []Action
	desired := Posture{}
	confirm := false
	for i := range alerts {
		a := &alerts[i]
		pb := c.playbook(a)
		if pb == nil {
			continue
		}
		act := pb.action(a)
		acts = append(acts, act)
		if act.Ask {
			continue // waits for approval
		}
		desired = merge(desired, act.Posture)
		confirm = confirm || (act.Confirm && act.Kind != ActionNotify)
	}
	// A database that refuses the incident's writes must not keep the
	// posture from changing: level 3 is the answer to that very database
	// failing. What could not be written is tried again next step.
	trackErr := c.trackAlerts(ctx, now, alerts, acts)
	saveErr := c.saveServed(ctx, now)
	err := c.stepPosture(ctx, now, alerts, acts, desired, confirm)
	return errors.Join(trackErr, saveErr, err)
}

// saveServed stores the posture served if the store refused it before, and
// names the open incident in it if the incident could not be opened then.
func (c *Controller) saveServed(ctx context.Context, now time.Time) error {
	if err := c.openServed(ctx, now); err != nil {
		return err
	}
	c.mu.Lock()
	p := c.posture
	named := c.current != nil && !p.IsNormal() && !p.Manual && p.IncidentID == ""
	record := named || c.unrecorded && c.current != nil
	c.mu.Unlock()
	if record {
		// The incident opened after the posture it answers was served
		// (its alerts opened it once the store took writes again), or it
		// could not record the change when it was made.
		if err := c.recordServed(ctx, now, c.current, p); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if record || c.current == nil {
		c.unrecorded = false
	}
	if named {
		p.IncidentID = c.current.ID
		c.posture, c.unsaved = p, true
	}
	unsaved := c.unsaved
	c.mu.Unlock()
	if named {
		c.serve() // customers' notices name the incident whether or not it is stored yet
	}
	if !unsaved {
		return nil
	}
	if err := c.opts.Store.SavePosture(ctx, p); err != nil {
		return fmt.Errorf("save posture (served, not yet stored): %w", err)
	}
	c.mu.Lock()
	if reflect.DeepEqual(c.posture, p) {
		c.unsaved = false
	}
	c.mu.Unlock()
	c.changed()
	return nil
}

// openServed opens an incident for a degraded posture that has none. Its
// alerts open one when the store takes writes again (trackAlerts), but a
// short outage is over by then: the posture was served, stored by no one,
// and without this the outage would leave no incident, no timeline and no
// postmortem. The incident starts when the posture did.
func (c *Controller) openServed(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	p := c.posture
	c.mu.Unlock()
	if c.current != nil || p.IsNormal() {
		return nil
	}
	level := monitor.LevelWarning
	if p.Level >= Level2 {
		level = monitor.LevelCritical
	}
	since := p.Since
	if since.IsZero() {
		since = now
	}
	who := steward
	if p.SetBy != "" && p.SetBy != steward.ID {
		who = Actor{ID: p.SetBy, Name: p.SetByName}
	}
	al := degradedAlert(p, since, level)
	if err := c.open(ctx, now, &al, who); err != nil {
		return fmt.Errorf("open an incident for the posture served: %w", err)
	}
	inc := c.current
	inc.Manual = p.Manual
	return c.recordServed(ctx, now, inc, p)
}

// degradedAlert is what opens an incident for a degraded posture that has
// none. Its title says what the posture does, not why: the title is on the
// public status page, and an operator's reason ("Zhang San checks the
// courier API") is for the staff, on the posture's line of the timeline.
func degradedAlert(p Posture, at time.Time, level string) monitor.Alert {
	en, zh := p.Describe()
	return monitor.Alert{Summary: "service degraded: " + en, SummaryZH: "服务降级：" + zh, Level: level,
		StartsAt: at, Labels: map[string]string{"alertname": "manual"}}
}

// recordServed puts a posture served before its incident could be written
// on that incident: the level it reached, when it mitigated, and a line on
// the timeline, so that the postmortem tells the outage as it was served.
func (c *Controller) recordServed(ctx context.Context, now time.Time, inc *Incident, p Posture) error {
	since := p.Since
	if since.IsZero() {
		since = now
	}
	inc.MaxLevel = max(inc.MaxLevel, p.Level)
	if inc.MitigatedAt.IsZero() || since.Before(inc.MitigatedAt) {
		inc.MitigatedAt = since
	}
	if inc.Phase == PhaseInvestigating {
		inc.Phase = PhaseIdentified
	}
	inc.UpdatedAt = now
	if err := c.opts.Store.UpdateIncident(ctx, inc); err != nil {
		return fmt.Errorf("record the posture served on incident %s: %w", inc.ID, err)
	}
	en, zh := p.Describe()
	at := since.UTC().Format(time.RFC3339)
	return c.event(ctx, now, EventPosture, Actor{ID: p.SetBy, Name: p.SetByName},
		"posture: "+en+" (served since "+at+", before the database took writes again)",
		"服务状态："+zh+"（自 "+at+" 起生效，数据库恢复写入前未能记录）",
		map[string]any{"to": p.Level, "posture": p})
}

// stepPosture moves the posture towards what the alerts' playbooks desire.
func (c *Controller) stepPosture(ctx context.Context, now time.Time, alerts []monitor.Alert, acts []Action, desired Posture, confirm bool) error {
	c.mu.Lock()
	cur := c.posture
	c.mu.Unlock()
	if cur.Manual {
		// A calm measured before the operator took over does not count
		// after they hand back: the hold starts again then.
		c.calmSince = time.Time{}
		return c.trackIncident(ctx, now, alerts)
	}
	switch {
	case !cur.covers(desired):
		next := merge(cur, desired)
		if cur.IsNormal() && !c.lastDown.IsZero() && now.Sub(c.lastDown) < c.opts.FlapWindow {
			c.flaps++
		}
		c.calmSince = time.Time{}
		if _, err := c.apply(ctx, now, next, steward, why{"alerts: " + describeActions(acts), "告警预案：" + describeActions(acts)}); err != nil {
			return err
		}
	case !desired.covers(cur): // desired is lower: wait out the hold
		if confirm || (c.current != nil && c.current.AwaitingConfirm) {
			c.calmSince = time.Time{}
			break
		}
		if c.calmSince.IsZero() {
			c.calmSince = now
		}
		if now.Sub(c.calmSince) >= c.hold() {
			c.calmSince = time.Time{}
			if desired.IsNormal() {
				c.lastDown = now
			}
			if _, err := c.apply(ctx, now, desired, steward, why{"recovered: the alerts stayed resolved for " + c.hold().String(),
				"已恢复：告警已持续恢复 " + monitor.DurationZH(c.hold())}); err != nil {
				return err
			}
		}
	default:
		c.calmSince = time.Time{}
	}
	if confirm && c.current != nil && !c.current.AwaitingConfirm {
		// A playbook wants a person to confirm the recovery: when the
		// posture rose for it, and again when its fault came back after a
		// confirmation (given before this fault was over).
		c.current.AwaitingConfirm = true
		if err := c.opts.Store.UpdateIncident(ctx, c.current); err != nil {
			return err
		}
	}
	// The flaps are forgotten after FlapWindow of normal service, not of
	// time since the last recovery: a relapse that itself lasts longer than
	// the window is still a relapse, and keeps its longer hold.
	if !c.lastDown.IsZero() && now.Sub(c.lastDown) > c.opts.FlapWindow && c.Posture().IsNormal() {
		c.flaps = 0
	}
	return c.trackIncident(ctx, now, alerts)
}

// hold is how long the alerts must stay quiet before stepping down.
func (c *Controller) hold() time.Duration {
	return c.opts.RecoverAfter << min(c.flaps, 3)
}

func (c *Controller) playbook(a *monitor.Alert) *Playbook {
	for i := range c.playbooks {
		if c.playbooks[i].matches(a) {
			return &c.playbooks[i]
		}
	}
	return nil
}

// opens reports whether an alert with this action opens an incident.
func (c *Controller) opens(a *monitor.Alert, act Action) bool {
	pb := c.playbook(a)
	if a.Name() == "slo_burn" && act.Kind == ActionNotify {
		// A burn alert looks back hours and pages on its own; an incident
		// it opened alone was resolved in the same step (trackIncident
		// does not keep one open for it), paging "Resolved" while the
		// budget still burned.
		return pb != nil && pb.OpenIncident
	}
	if a.Level == monitor.LevelCritical || act.Kind != ActionNotify {
		return true
	}
	return pb != nil && pb.OpenIncident
}

// trackAlerts puts new and resolved alerts on the open incident's
// timeline, opening one when an alert calls for it.
func (c *Controller) trackAlerts(ctx context.Context, now time.Time, alerts []monitor.Alert, acts []Action) error {
	firing := map[string]bool{}
	adopt := c.adopt
	c.adopt = nil
	var errs []error
	for i := range alerts {
		a := alerts[i]
		firing[a.Fingerprint] = true
		if _, ok := c.seen[a.Fingerprint]; ok || adopt[a.Fingerprint] {
			c.seen[a.Fingerprint] = a
			continue
		}
		// Seen only once it is on the incident: an alert whose incident
		// could not be written is new again next step, not lost.
		if err := c.trackNew(ctx, now, a, acts); err != nil {
			errs = append(errs, err)
			continue
		}
		c.seen[a.Fingerprint] = a
	}
	for fp, a := range c.seen {
		if firing[fp] {
			continue
		}
		if c.current != nil && slices.Contains(c.current.Alerts, fp) {
			text, textZH := "alert resolved: "+a.Summary, "告警恢复："+a.SummaryZH
			// An approval its playbook waited for is withdrawn: approved
			// later, it would degrade service for a fault that is over
			// (and the alert firing again asks again).
			if pending := slices.DeleteFunc(slices.Clone(c.current.Pending), func(p Action) bool { return p.Alert == fp }); len(pending) != len(c.current.Pending) {
				was := c.current.Pending
				c.current.Pending = pending
				if err := c.opts.Store.UpdateIncident(ctx, c.current); err != nil {
					c.current.Pending = was
					errs = append(errs, err)
					continue
				}
				text += " — the approval its playbook waited for is withdrawn"
				textZH += " —— 预案等待的批准已撤回"
			}
			if err := c.event(ctx, now, EventAlertResolved, steward, text, textZH,
				map[string]any{"fingerprint": fp, "alertname": a.Name()}); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		delete(c.seen, fp)
	}
	return errors.Join(errs...)
}

// trackNew puts a newly firing alert on the open incident, opening one if
// the alert calls for it.
func (c *Controller) trackNew(ctx context.Context, now time.Time, a monitor.Alert, acts []Action) error {
	var act Action
	for _, x := range acts {
		if x.Alert == a.Fingerprint {
			act = x
		}
	}
	if c.current == nil && c.opens(&a, act) {
		if err := c.open(ctx, now, &a, steward); err != nil {
			return err
		}
	}
	if c.current == nil {
		return nil
	}
	inc := c.current
	if !slices.Contains(inc.Alerts, a.Fingerprint) {
		inc.Alerts = append(inc.Alerts, a.Fingerprint)
	}
	if monitor.LevelRank(a.Level) > monitor.LevelRank(inc.Severity) {
		inc.Severity = a.Level
	}
	if inc.DetectedAt.IsZero() {
		inc.DetectedAt = a.StartsAt
	}
	if from := impactFrom(&a); !inc.Manual && from.Before(inc.StartedAt) {
		inc.StartedAt = from
	}
	text, textZH := "alert firing: "+a.Summary, "告警触发："+a.SummaryZH
	if act.Ask && !slices.ContainsFunc(inc.Pending, func(p Action) bool { return p.Alert == act.Alert }) {
		inc.Pending = append(inc.Pending, act)
		text += " — playbook " + act.Playbook + " waits for approval"
		textZH += " —— 预案 " + act.Playbook + " 等待人工批准"
	}
	if err := c.event(ctx, now, EventAlert, steward, text, textZH, map[string]any{"fingerprint": a.Fingerprint,
		"alertname": a.Name(), "level": a.Level, "labels": a.Labels, "value": a.Value, "playbook": act.Playbook}); err != nil {
		return err
	}
	if err := c.opts.Store.UpdateIncident(ctx, inc); err != nil {
		return err
	}
	return nil
}

// trackIncident moves the open incident through its phases.
func (c *Controller) trackIncident(ctx context.Context, now time.Time, alerts []monitor.Alert) error {
	inc := c.current
	if inc == nil || inc.Manual {
		return nil
	}
	own := ownAlerts(inc, alerts)
	p := c.Posture()
	if own == 0 && p.IsNormal() && !p.Manual {
		return c.resolve(ctx, now, steward, why{"the alerts are resolved and service is back to normal", "告警已恢复，服务已恢复正常"}, false)
	}
	if c.handPhase == inc.ID {
		if (own > 0) == c.handFiring {
			return nil // the person's phase stands until the alerts change
		}
		c.handPhase = ""
	}
	switch {
	case own == 0 && inc.Phase != PhaseMonitoring:
		return c.setPhase(ctx, now, inc, PhaseMonitoring, steward, "the alerts are resolved; watching before returning to normal",
			"告警已恢复，观察中，稍后恢复正常服务")
	case own > 0 && inc.Phase == PhaseMonitoring:
		return c.setPhase(ctx, now, inc, PhaseIdentified, steward, "alerts fire again", "告警再次触发")
	}
	return nil
}

// ownAlerts counts the firing alerts that keep inc open.
func ownAlerts(inc *Incident, alerts []monitor.Alert) int {
	own := 0
	for _, a := range alerts {
		// An SLO burn alert looks back up to six hours by design: it pages
		// about the budget, and does not keep an incident open once its
		// causes are over.
		if slices.Contains(inc.Alerts, a.Fingerprint) && a.Name() != "slo_burn" {
			own++
		}
	}
	return own
}

func (c *Controller) setPhase(ctx context.Context, now time.Time, inc *Incident, phase string, a Actor, text, textZH string) error {
	inc.Phase, inc.UpdatedAt = phase, now
	if err := c.opts.Store.UpdateIncident(ctx, inc); err != nil {
		return err
	}
	return c.event(ctx, now, EventPhase, a, "phase "+phase+": "+text, "阶段："+phaseZH[phase]+"，"+textZH, map[string]any{"phase": phase})
}

// phaseZH names the phases in Chinese, as the console does.
var phaseZH = map[string]string{PhaseInvestigating: "调查中", PhaseIdentified: "已定位", PhaseMonitoring: "观察中", PhaseResolved: "已解决"}

// impactFrom is when an alert's customers were first affected: the first
// bad second its rule saw, or when it fired if the rule cannot tell.
func impactFrom(a *monitor.Alert) time.Time {
	if !a.ImpactFrom.IsZero() && a.ImpactFrom.Before(a.StartsAt) {
		return a.ImpactFrom
	}
	return a.StartsAt
}

// open opens an incident for alert a, by who: Steward for an alert, the
// operator whose posture it answers for one they set.
func (c *Controller) open(ctx context.Context, now time.Time, a *monitor.Alert, who Actor) error {
	inc := &Incident{ID: token.ID("inc", 10), Title: a.Summary, TitleZH: a.SummaryZH, Severity: a.Level,
		Phase: PhaseInvestigating, OpenedBy: who.ID, OpenedByName: who.Name, StartedAt: impactFrom(a), DetectedAt: a.StartsAt, UpdatedAt: now}
	if err := c.opts.Store.CreateIncident(ctx, inc); err != nil {
		return err
	}
	c.mu.Lock()
	c.current = inc
	c.mu.Unlock()
	c.changed() // the other nodes show it, and do not open another
	c.logger.Warn("incident opened", "incident", inc.ID, "alert", a.Name(), "level", a.Level)
	if err := c.event(ctx, now, EventOpened, who, "incident opened: "+a.Summary, "事件开启："+a.SummaryZH, nil); err != nil {
		return err
	}
	c.page(ctx, now, notify.Notice{ID: inc.ID + "-opened", Level: a.Level, Status: notify.StatusFiring,
		Title: "Incident: " + a.Summary, TitleZH: "故障事件：" + a.SummaryZH,
		Text: "Steward opened an incident and is acting on it.", TextZH: "Steward 已开启故障事件并自动处置。",
		Labels: map[string]string{"incident": inc.ID}, URL: c.link(inc.ID)})
	return nil
}

func (c *Controller) link(id string) string {
	if c.opts.URL == "" {
		return ""
	}
	return c.opts.URL + "/console/incidents#" + id
}

// Problem is part of a posture change that failed while the change itself
// stood (the knowledge base could not be rolled back): the operator who
// set the posture must hear of it, not only the timeline.
type Problem struct {
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}

// why is the reason of a posture change in English and Chinese: the
// controller's own in both, an operator's the same words twice.
type why struct{ en, zh string }

// apply changes the posture, acts on the change, and records it. The
// problems are the actions of the change that failed.
func (c *Controller) apply(ctx context.Context, now time.Time, next Posture, a Actor, w why) (problems []Problem, _ error) {
	reason := w.en
	defer c.changed()
	c.mu.Lock()
	prev := c.posture
	inc := c.current
	c.mu.Unlock()
	var errs []error
	if inc == nil && !next.IsNormal() {
		al := degradedAlert(next, now, monitor.LevelWarning)
		if err := c.open(ctx, now, &al, a); err != nil {
			// The posture changes all the same: the store that refuses the
			// incident may be the very trouble it answers. The incident
			// opens once the store takes it (trackAlerts, saveServed).
			errs = append(errs, fmt.Errorf("open an incident: %w", err))
		} else {
			inc = c.current
			inc.Manual = next.Manual
		}
	}
	next.Since, next.SetBy, next.SetByName, next.Reason, next.ReasonZH = now, a.ID, a.Name, reason, ""
	if w.zh != w.en {
		next.ReasonZH = w.zh
	}
	// The incident a posture serves is the controller's to say, never the
	// caller's (PUT /api/v1/posture decodes a whole Posture).
	next.IncidentID = ""
	if inc != nil && !next.IsNormal() {
		next.IncidentID = inc.ID
	}
	// Level 2 serves the last good release: entering it rolls back once per
	// incident, from below or from level 3 (disaster recovery serves the
	// minimal part of the active release, so 0 → 3 → 2 had rolled nothing
	// back), and never again (each rollback goes one good release further).
	if next.Level == Level2 && prev.Level != Level2 && c.opts.Knowledge != nil && !c.rolledBack(ctx, inc) {
		if pr := c.rollback(ctx, now, a, reason); pr != nil {
			problems = append(problems, *pr)
		}
	}
	// Served first, stored after: customers get the posture even when the
	// store refuses it, and each step tries to store it again.
	c.mu.Lock()
	c.posture = next
	c.unsaved = false
	c.mu.Unlock()
	c.serve()
	if err := c.opts.Store.SavePosture(ctx, next); err != nil {
		c.mu.Lock()
		c.unsaved = true
		c.mu.Unlock()
		errs = append(errs, fmt.Errorf("save posture: %w", err))
	}
	en, zh := next.Describe()
	c.logger.Warn("posture changed", "level", next.Level, "posture", en, "by", a.ID)
	c.audit(ctx, a, "incident.posture", "posture", map[string]any{"from": prev, "to": next, "reason": reason})
	if inc != nil {
		if next.Level > inc.MaxLevel {
			inc.MaxLevel = next.Level
		}
		if !next.IsNormal() && inc.MitigatedAt.IsZero() {
			inc.MitigatedAt = now
		}
		if inc.Phase == PhaseInvestigating && !next.IsNormal() {
			inc.Phase = PhaseIdentified
		}
		inc.UpdatedAt = now
		err := c.opts.Store.UpdateIncident(ctx, inc)
		if err == nil {
			err = c.event(ctx, now, EventPosture, a, "posture: "+en+" ("+reason+")", "服务状态："+zh+"（"+w.zh+"）",
				map[string]any{"from": prev.Level, "to": next.Level, "posture": next})
		}
		// A posture the incident could not record (the store refusing
		// writes: the very outage level 3 answers) is recorded by a later
		// step, as served since it was (saveServed); the page goes out
		// either way. Both used to be skipped for good, and the
		// postmortem had no line for the level served.
		c.mu.Lock()
		c.unrecorded = err != nil
		c.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("record the posture on incident %s: %w", inc.ID, err))
		}
		level := notify.LevelWarning
		if next.Level >= Level2 {
			level = notify.LevelCritical
		}
		status := notify.StatusFiring
		if next.IsNormal() {
			// Back to normal reaches every channel that heard of the
			// degradation: a channel that takes only critical pages heard
			// of level 2 and must hear that it is over.
			level, status = notify.LevelWarning, notify.StatusResolved
			if inc.MaxLevel >= Level2 {
				level = notify.LevelCritical
			}
		}
		c.page(ctx, now, notify.Notice{ID: fmt.Sprintf("%s-posture-%d", inc.ID, now.UnixMilli()), Level: level, Status: status,
			Title: "Posture: " + en, TitleZH: "服务状态：" + zh, Text: reason, TextZH: w.zh,
			Labels: map[string]string{"incident": inc.ID}, URL: c.link(inc.ID)})
	}
	return problems, errors.Join(errs...)
}

func (c *Controller) rollback(ctx context.Context, now time.Time, a Actor, reason string) *Problem {
	r, err := c.opts.Knowledge.Rollback(ctx, knowledge.Actor{ID: "system:incident", Name: "Steward incident controller"}, 0,
		"incident: "+reason)
	text, textZH := "", ""
	var problem *Problem
	if err != nil {
		c.logger.Error("roll back knowledge release", "error", err)
		why, whyZH := errcode.Message(err), errcode.MessageZH(err)
		if whyZH == "" {
			whyZH = why
		}
		text, textZH = "could not roll back the knowledge base: "+why, "知识库回滚失败："+whyZH
		problem = &Problem{Message: text, MessageZH: textZH}
	}
	data := map[string]any{"action": "rollback"}
	if err == nil {
		text, textZH = fmt.Sprintf("rolled the knowledge base back to release %d", r.ID), fmt.Sprintf("知识库已回滚至版本 %d", r.ID)
		data["release"] = r.ID
	}
	if err := c.event(ctx, now, EventAction, a, text, textZH, data); err != nil {
		c.logger.Error("incident timeline", "error", err)
	}
	return problem
}

// rolledBack reports whether the knowledge base was rolled back for inc
// already: its timeline holds a rollback that succeeded.
func (c *Controller) rolledBack(ctx context.Context, inc *Incident) bool {
	if inc == nil {
		return false
	}
	events, err := c.opts.Store.Events(ctx, inc.ID)
	if err != nil {
		c.logger.Warn("read the incident's timeline", "incident", inc.ID, "error", err)
		return false
	}
	for _, e := range events {
		if e.Kind == EventAction && e.Data["action"] == "rollback" && e.Data["release"] != nil {
			return true
		}
	}
	return false
}

// event appends to the open incident's timeline.
func (c *Controller) event(ctx context.Context, now time.Time, kind string, a Actor, text, textZH string, data map[string]any) error {
	c.mu.Lock()
	inc := c.current
	c.mu.Unlock()
	if inc == nil {
		return nil
	}
	e := &Event{At: now, Kind: kind, Actor: a.ID, ActorName: a.Name, Text: text, TextZH: textZH, Data: data}
	if err := c.opts.Store.AppendEvent(ctx, inc.ID, e); err != nil {
		return fmt.Errorf("incident %s timeline: %w", inc.ID, err)
	}
	return nil
}

// page queues a notice and notes it on the timeline.
func (c *Controller) page(ctx context.Context, now time.Time, n notify.Notice) {
	if c.opts.Pager == nil {
		return
	}
	if n.At.IsZero() {
		n.At = now
	}
	if k := c.opts.Pager.Page(ctx, n); k > 0 {
		if err := c.event(ctx, now, EventNotification, steward, fmt.Sprintf("notified %d %s: %s", k, channels(k), n.Title),
			fmt.Sprintf("已通知 %d 个渠道：%s", k, n.TitleZH), map[string]any{"channels": k, "notice": n.ID}); err != nil {
			c.logger.Error("incident timeline", "error", err)
		}
	}
}

// channels is "channel" or "channels", as k asks.
func channels(k int) string {
	if k == 1 {
		return "channel"
	}
	return "channels"
}

// Page lets other parts (the alert manager's groups) notify and leave a
// trace on the open incident's timeline.
func (c *Controller) Page(ctx context.Context, n notify.Notice) {
	c.op.Lock()
	defer c.op.Unlock()
	c.page(ctx, c.opts.Now(), n)
}

func (c *Controller) audit(ctx context.Context, a Actor, action, object string, detail map[string]any) {
	if c.opts.Audit == nil {
		return
	}
	if err := c.opts.Audit.Record(ctx, audit.Entry{Actor: a.ID, ActorName: a.Name, Action: action, Object: object, Detail: detail}); err != nil {
		c.logger.Error("audit", "action", action, "error", err)
	}
}

// resolve ends the open incident. byHand: an operator resolved it, and
// its alerts are forgotten with it (below).
func (c *Controller) resolve(ctx context.Context, now time.Time, a Actor, note why, byHand bool) error {
	inc := c.current
	inc.Phase, inc.ResolvedAt, inc.UpdatedAt, inc.Pending, inc.AwaitingConfirm = PhaseResolved, now, now, nil, false
	if err := c.event(ctx, now, EventResolved, a, "resolved: "+note.en, "已解决："+note.zh, nil); err != nil {
		return err
	}
	md, err := c.Postmortem(ctx, inc)
	if err != nil {
		c.logger.Error("write postmortem", "incident", inc.ID, "error", err)
	}
	inc.Postmortem = md
	if err := c.opts.Store.UpdateIncident(ctx, inc); err != nil {
		return err
	}
	c.audit(ctx, a, "incident.resolve", "incident:"+inc.ID, map[string]any{"note": note.en})
	c.page(ctx, now, notify.Notice{ID: inc.ID + "-resolved", Level: inc.Severity, Status: notify.StatusResolved,
		Title: "Resolved: " + inc.Title, TitleZH: "已恢复：" + inc.TitleZH, Text: note.en, TextZH: note.zh,
		Labels: map[string]string{"incident": inc.ID}, URL: c.link(inc.ID)})
	c.mu.Lock()
	c.current = nil
	c.mu.Unlock()
	// Resolved by hand, its alerts are forgotten with it: one still firing
	// (an incident resolved too early) is news for the incident it opens
	// next, which would otherwise have none and call them resolved at once.
	// Resolved by itself, the only alerts still firing are those that keep
	// no incident open (slo_burn, trackIncident): forgotten, such an alert
	// was news at the next step, opened an incident that resolved at once,
	// and so on every second for as long as its window stayed hot, with a
	// page each time.
	if byHand {
		for _, fp := range inc.Alerts {
			delete(c.seen, fp)
		}
	}
	c.logger.Info("incident resolved", "incident", inc.ID)
	return nil
}

// ---- operators ----

// SetPosture sets the posture by hand; it stays until the operator hands
// back to automatic (Automatic).
func (c *Controller) SetPosture(ctx context.Context, a Actor, p Posture, reason string) (Posture, []Problem, error) {
	return c.SetPostureKeeping(ctx, a, p, reason, Keep{})
}

// Keep names what a posture set by hand takes from the posture in force
// when the change is made, where it gives none of its own: a form that
// edits the level and its scope only sent back the throttles, the notice
// and the intents it had read seconds before, undoing a throttle the
// controller had set meanwhile.
type Keep struct {
	// Throttle: the sources limited now stay limited.
	Throttle bool
	// Notice: a notice of the posture's own (both languages) stays, when
	// the level does not change.
	Notice bool
	// Intents: a level-1 scope's intents stay, when the level stays 1
	// and the new scope is not "all".
	Intents bool
}

func (k Keep) apply(cur, p Posture) Posture {
	if k.Throttle && len(p.Throttle) == 0 && len(cur.Throttle) > 0 {
		p.Throttle = maps.Clone(cur.Throttle)
	}
	if k.Notice && p.Notice == nil && cur.Notice != nil && cur.Level == p.Level && cur.Notice.ZH != "" && cur.Notice.EN != "" {
		n := *cur.Notice
		p.Notice = &n
	}
	if k.Intents && len(p.Intents) == 0 && p.Level == Level1 && !p.All && cur.Level == Level1 {
		p.Intents = slices.Clone(cur.Intents)
	}
	return p
}

// SetPostureKeeping is SetPosture keeping what keep names of the posture in
// force, read under the same lock as the change.
func (c *Controller) SetPostureKeeping(ctx context.Context, a Actor, p Posture, reason string, keep Keep) (Posture, []Problem, error) {
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	p = keep.apply(c.posture, p)
	c.mu.Unlock()
	if err := p.Validate(); err != nil {
		return Posture{}, nil, err // invalid, in both languages
	}
	if reason == "" {
		return Posture{}, nil, errcode.Localized(errcode.Invalid, "say why (reason)", "请说明理由（reason）")
	}
	reason = guard.MaskString(reason) // paged to every channel, kept in the timeline
	p.Manual = true
	problems, err := c.apply(ctx, c.opts.Now(), p, a, why{reason, reason})
	if err != nil {
		return Posture{}, problems, err
	}
	return c.Posture(), problems, nil
}

// Automatic hands the posture back to the controller.
func (c *Controller) Automatic(ctx context.Context, a Actor) (Posture, error) {
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	p := c.posture
	c.mu.Unlock()
	if !p.Manual {
		return p, nil
	}
	p.Manual = false
	c.mu.Lock()
	if c.current != nil && c.current.Manual {
		// The operator hands the incident back too: it resolves when its
		// alerts are over and service is normal again.
		c.current.Manual = false
	}
	c.mu.Unlock()
	if _, err := c.apply(ctx, c.opts.Now(), p, a, why{"handed back to automatic", "交还自动处置"}); err != nil {
		return Posture{}, err
	}
	return c.Posture(), nil
}

// Declare opens an incident by hand.
func (c *Controller) Declare(ctx context.Context, a Actor, title, titleZH, severity string) (*Incident, error) {
	defer c.changed()
	c.op.Lock()
	defer c.op.Unlock()
	if title == "" || len([]rune(title)) > 200 || len([]rune(titleZH)) > 200 {
		return nil, errcode.Localized(errcode.Invalid, "title is required (at most 200 characters)", "必须填写标题（最多 200 个字符）")
	}
	if titleZH == "" {
		titleZH = title
	}
	// An operator's words go to every channel and the title to the public
	// status page: a customer's number typed into them is masked like the
	// rest of what Steward stores and sends.
	title, titleZH = guard.MaskString(title), guard.MaskString(titleZH)
	switch severity {
	case "":
		severity = monitor.LevelWarning
	case monitor.LevelInfo, monitor.LevelWarning, monitor.LevelCritical:
	default:
		return nil, errcode.Localized(errcode.Invalid, "severity must be info, warning or critical", "严重程度须为 info、warning 或 critical")
	}
	c.mu.Lock()
	var open string
	if c.current != nil {
		open = c.current.ID
	}
	c.mu.Unlock()
	if open == "" {
		// Another node (the leader) may have opened one that this node has
		// not reread yet: two open incidents left the older one open for
		// good, since every node then followed the newer.
		incs, err := c.opts.Store.Incidents(ctx, 20)
		if err != nil {
			return nil, err
		}
		for i := range incs {
			if incs[i].Open() {
				open = incs[i].ID
				break
			}
		}
	}
	if open != "" {
		return nil, errcode.Localized(errcode.Conflict, "incident %s is open; add to it or resolve it first", "事件 %s 尚未解决：请在其中更新，或先将其解决", open)
	}
	now := c.opts.Now()
	inc := &Incident{ID: token.ID("inc", 10), Title: title, TitleZH: titleZH, Severity: severity, Phase: PhaseInvestigating,
		Manual: true, OpenedBy: a.ID, OpenedByName: a.Name, StartedAt: now, DetectedAt: now, UpdatedAt: now}
	if err := c.opts.Store.CreateIncident(ctx, inc); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.current = inc
	c.mu.Unlock()
	if err := c.event(ctx, now, EventOpened, a, "declared by "+a.Name+": "+title, a.Name+" 宣布事件："+titleZH, nil); err != nil {
		return nil, err
	}
	c.audit(ctx, a, "incident.declare", "incident:"+inc.ID, map[string]any{"title": title, "severity": severity})
	c.page(ctx, now, notify.Notice{ID: inc.ID + "-opened", Level: severity, Status: notify.StatusFiring, Title: "Incident: " + title,
		TitleZH: "故障事件：" + titleZH, Text: "declared by " + a.Name, TextZH: a.Name + " 宣布", URL: c.link(inc.ID)})
	return inc, nil
}

// Update changes an incident's phase and/or adds a note to its timeline.
func (c *Controller) Update(ctx context.Context, a Actor, id, phase, note string) (*Incident, error) {
	defer c.changed()
	c.op.Lock()
	defer c.op.Unlock()
	inc, err := c.openIncident(id)
	if err != nil {
		return nil, err
	}
	if note, err = checkNote(note); err != nil {
		return nil, err
	}
	now := c.opts.Now()
	switch phase {
	case "":
	case PhaseInvestigating, PhaseIdentified, PhaseMonitoring:
		if err := c.setPhase(ctx, now, inc, phase, a, "set by "+a.Name, a.Name+" 设置"); err != nil {
			return nil, err
		}
		// The controller moved the phase back at its next step ("alerts
		// fire again" when they had never stopped): it now leaves a
		// person's phase until the alerts start or stop.
		c.handPhase, c.handFiring = inc.ID, ownAlerts(inc, c.opts.Alerts.Active()) > 0
	case PhaseResolved:
		return c.resolveByHand(ctx, a, inc, note) // under c.op already: Resolve would wait for itself
	default:
		return nil, errcode.Localized(errcode.Invalid, "phase must be investigating, identified, monitoring or resolved", "阶段须为 investigating、identified、monitoring 或 resolved")
	}
	if note != "" {
		if err := c.event(ctx, now, EventNote, a, a.Name+": "+note, a.Name+"："+note, nil); err != nil {
			return nil, err
		}
	}
	c.audit(ctx, a, "incident.update", "incident:"+id, map[string]any{"phase": phase, "note": note})
	out := *inc
	return &out, nil
}

// MaxNote bounds a note on an incident (characters): it goes to the
// timeline and to every notification channel.
const MaxNote = 4000

// checkNote refuses a note that is too long and masks the personal data
// in it: a note goes to every channel, and an operator types in what a
// customer said.
func checkNote(note string) (string, error) {
	if utf8.RuneCountInString(note) > MaxNote {
		return "", errcode.Localized(errcode.TooLarge, "note exceeds %d characters", "备注超过 %d 个字符", MaxNote)
	}
	return guard.MaskString(note), nil
}

// Resolve ends an incident by hand. The posture returns to normal, one an
// operator set included: a degraded posture always has an incident (setting
// one opens it), and one left degraded after its incident was resolved
// opened a new incident at the next step, paging every channel, with a
// line blaming a database outage that never happened, and again after
// each resolution.
func (c *Controller) Resolve(ctx context.Context, a Actor, id, note string) (*Incident, error) {
	note, err := checkNote(note)
	if err != nil {
		return nil, err
	}
	defer c.changed()
	c.op.Lock()
	defer c.op.Unlock()
	inc, err := c.openIncident(id)
	if err != nil {
		return nil, err
	}
	return c.resolveByHand(ctx, a, inc, note)
}

// resolveByHand is Resolve under c.op.
func (c *Controller) resolveByHand(ctx context.Context, a Actor, inc *Incident, note string) (*Incident, error) {
	text := why{note, note}
	if note == "" {
		text = why{"resolved by " + a.Name, "由 " + a.Name + " 解决"}
	}
	now := c.opts.Now()
	if p := c.Posture(); !p.IsNormal() {
		if _, err := c.apply(ctx, now, Posture{}, a, why{"incident resolved by hand", "事件已手动解决"}); err != nil {
			return nil, err
		}
	}
	if err := c.resolve(ctx, now, a, text, true); err != nil {
		return nil, err
	}
	return c.opts.Store.Incident(ctx, inc.ID)
}

// ActionRef names a pending action to approve: by its playbook and alert
// when given, which is what the person approving saw; else by its place in
// the list, which changes under them (another operator approves one, an
// action is withdrawn when its alert resolves).
type ActionRef struct {
	Index    int
	Playbook string
	Alert    string // the alert's fingerprint
}

// Approve applies an action that waits for a person.
func (c *Controller) Approve(ctx context.Context, a Actor, id string, ref ActionRef) (*Incident, error) {
	defer c.changed()
	c.op.Lock()
	defer c.op.Unlock()
	inc, err := c.openIncident(id)
	if err != nil {
		return nil, err
	}
	index := ref.Index
	if ref.Playbook != "" || ref.Alert != "" {
		index = slices.IndexFunc(inc.Pending, func(act Action) bool {
			return (ref.Playbook == "" || act.Playbook == ref.Playbook) && (ref.Alert == "" || act.Alert == ref.Alert)
		})
		if index < 0 {
			return nil, errcode.Localized(errcode.Conflict,
				"playbook %s's action is no longer pending on incident %s (approved by someone else, or its alert resolved)",
				"预案 %s 的操作已不在事件 %s 的待批准列表中（已被他人批准，或其告警已恢复）", ref.Playbook, id)
		}
	}
	if index < 0 || index >= len(inc.Pending) {
		return nil, errcode.Localized(errcode.NotFound, "incident %s has no pending action %d", "事件 %s 没有待批准的操作 %d", id, index)
	}
	act := inc.Pending[index]
	inc.Pending = slices.Delete(inc.Pending, index, index+1)
	now := c.opts.Now()
	next := merge(c.Posture(), act.Posture)
	next.Manual = true // approved by a person: it stays until handed back
	if _, err := c.apply(ctx, now, next, a, why{"approved playbook " + act.Playbook, "已批准预案 " + act.Playbook}); err != nil {
		return nil, err
	}
	out := *inc
	return &out, nil
}

// ConfirmRecovery lets a playbook with confirmed recovery step down.
func (c *Controller) ConfirmRecovery(ctx context.Context, a Actor, id string) (*Incident, error) {
	c.op.Lock()
	defer c.op.Unlock()
	defer c.changed() // the leader, which steps down, may be another node
	inc, err := c.openIncident(id)
	if err != nil {
		return nil, err
	}
	if !inc.AwaitingConfirm {
		return nil, errcode.Localized(errcode.Conflict, "incident %s does not wait for a confirmation", "事件 %s 不在等待确认", id)
	}
	// A confirmation says the fault is over: while the incident's alerts
	// still fire it would only take the gate away, and the controller
	// would step down unchecked once they stopped. Only the alerts that
	// degrade service count: an SLO burn looks back hours, and a
	// notify-only alert (a rejected spool file, a failed backup) can
	// outlast the fault by far, holding customers on the degraded posture
	// after the operator saw it was over.
	for _, al := range c.opts.Alerts.Active() {
		pb := c.playbook(&al)
		if pb == nil || pb.action(&al).Kind == ActionNotify {
			continue
		}
		if slices.Contains(inc.Alerts, al.Fingerprint) {
			return nil, errcode.Localized(errcode.Conflict,
				"the incident's alert %s still fires: confirm the recovery once its alerts are resolved",
				"事件的告警 %s 仍在触发：请在告警恢复后再确认恢复", al.Name())
		}
	}
	now := c.opts.Now()
	inc.AwaitingConfirm = false
	if err := c.opts.Store.UpdateIncident(ctx, inc); err != nil {
		return nil, err
	}
	if err := c.event(ctx, now, EventAction, a, a.Name+" confirmed the recovery", a.Name+" 确认已恢复", nil); err != nil {
		return nil, err
	}
	c.audit(ctx, a, "incident.confirm", "incident:"+id, nil)
	out := *inc
	return &out, nil
}

func (c *Controller) openIncident(id string) (*Incident, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil || c.current.ID != id {
		return nil, errcode.Localized(errcode.NotFound, "no open incident %s", "没有未解决的事件 %s", id)
	}
	return c.current, nil
}

// Incidents lists recent incidents, newest first.
func (c *Controller) Incidents(ctx context.Context, limit int) ([]Incident, error) {
	return c.opts.Store.Incidents(ctx, limit)
}

// Incident returns an incident with its timeline.
func (c *Controller) Incident(ctx context.Context, id string) (*Incident, []Event, error) {
	inc, err := c.opts.Store.Incident(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ev, err := c.opts.Store.Events(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return inc, ev, nil
}

// limiter is a token bucket per throttled source.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

func (l *limiter) allow(key string, rate float64, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	burst := max(rate, 1)
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
