package monitor

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/token"
)

// This file is the alert manager: it turns the conditions the rules find
// into alerts with a lifecycle (firing, resolved), groups them, mutes them
// (inhibition, silences) and decides when a group is worth a notification,
// with Prometheus Alertmanager's semantics
// (https://prometheus.io/docs/alerting/latest/alertmanager/).

// Matcher operators. Regular expressions are anchored at both ends.
const (
	MatchEqual     = "="
	MatchNotEqual  = "!="
	MatchRegexp    = "=~"
	MatchNotRegexp = "!~"
)

// Matcher selects alerts by one label. A missing label has the value "", so
// `team!="x"` matches an alert without a team.
type Matcher struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Op is one of "=", "!=", "=~", "!~"; empty means "=".
	Op string         `json:"op"`
	re *regexp.Regexp // compiled Value of a regexp matcher, set by compile
}

// ParseMatcher reads a matcher as Alertmanager writes it: `alertname="x"`,
// `level!=info`, `category=~"pay.*"`. The value may be quoted (Go string
// syntax) or bare.
func ParseMatcher(s string) (Matcher, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
		i++
	}
	name, rest := s[:i], strings.TrimLeft(s[i:], " ")
	if name == "" {
		return Matcher{}, errcode.Localized(errcode.Invalid, "matcher %q must start with a label name", "匹配条件 %q 须以标签名开头", s)
	}
	var op string
	for _, o := range []string{MatchRegexp, MatchNotRegexp, MatchNotEqual, MatchEqual} {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return Matcher{}, errcode.Localized(errcode.Invalid, "matcher %q needs one of =, !=, =~, !~ after the label name", "匹配条件 %q 的标签名后须为 =、!=、=~ 或 !~ 之一", s)
	}
	value := strings.TrimSpace(rest[len(op):])
	if strings.HasPrefix(value, `"`) {
		v, err := strconv.Unquote(value)
		if err != nil {
			return Matcher{}, errcode.Localized(errcode.Invalid, "matcher %q: the value is not a well-formed quoted string", "匹配条件 %q：值不是格式正确的带引号字符串", s)
		}
		value = v
	}
	return Matcher{Name: name, Op: op, Value: value}.compile()
}

// ParseMatchers reads a comma-separated list of matchers, optionally in
// braces: `{alertname="x", level=~"warning|info"}`.
func ParseMatchers(s string) ([]Matcher, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	var (
		out     []Matcher
		start   int
		inQuote bool
	)
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch {
			case inQuote && s[i] == '\\':
				i++
				continue
			case s[i] == '"':
				inQuote = !inQuote
				continue
			case inQuote || s[i] != ',':
				continue
			}
		}
		if part := strings.TrimSpace(s[start:i]); part != "" {
			m, err := ParseMatcher(part)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		start = i + 1
	}
	return out, nil
}

// compile checks the matcher and returns it ready to match.
func (m Matcher) compile() (Matcher, error) {
	if m.Op == "" {
		m.Op = MatchEqual
	}
	if m.Name == "" {
		return m, errcode.Localized(errcode.Invalid, "a matcher needs a label name", "匹配条件需要标签名")
	}
	switch m.Op {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		if m.re == nil {
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return m, errcode.Localized(errcode.Invalid, "matcher %s: %q is not a valid regular expression", "匹配条件 %s：%q 不是有效的正则表达式", m.Name, m.Value)
			}
			m.re = re
		}
	default:
		return m, errcode.Localized(errcode.Invalid, "matcher %s: unknown operator %q", "匹配条件 %s：未知运算符 %q", m.Name, m.Op)
	}
	return m, nil
}

// Matches reports whether labels satisfy the matcher. An invalid matcher
// matches nothing.
func (m Matcher) Matches(labels map[string]string) bool {
	if m.re == nil && (m.Op == MatchRegexp || m.Op == MatchNotRegexp) {
		var err error
		if m, err = m.compile(); err != nil {
			return false
		}
	}
	v := labels[m.Name]
	switch m.Op {
	case MatchEqual, "":
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// String writes the matcher as ParseMatcher reads it.
func (m Matcher) String() string {
	return m.Name + cmp.Or(m.Op, MatchEqual) + strconv.Quote(m.Value)
}

func matchesAll(ms []Matcher, labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

func compileMatchers(ms []Matcher) ([]Matcher, error) {
	out := make([]Matcher, len(ms))
	for i, m := range ms {
		c, err := m.compile()
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// InhibitRule mutes the alerts matching Target while a firing alert other
// than themselves matches Source and has the same values (missing = "") for
// every label in Equal. A store outage inhibiting the error-rate alerts it
// causes is the typical use.
type InhibitRule struct {
	Source []Matcher `json:"source"`
	Target []Matcher `json:"target"`
	Equal  []string  `json:"equal,omitempty"`
}

// Silence mutes the alerts matching all its matchers from StartsAt until
// EndsAt. It is made by an operator and shared by all nodes through the
// store.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether the silence mutes alerts at now: StartsAt ≤ now < EndsAt.
func (s *Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Matches reports whether the silence's matchers all select labels,
// whether or not it is active.
func (s *Silence) Matches(labels map[string]string) bool { return matchesAll(s.Matchers, labels) }

// MaxSilence is the longest a silence may last.
const MaxSilence = 30 * 24 * time.Hour

// SilenceStore keeps silences for every node.
type SilenceStore interface {
	// SaveSilence inserts or replaces the silence with s.ID.
	SaveSilence(ctx context.Context, s Silence) error
	// Silences returns the silences ending after since.
	Silences(ctx context.Context, since time.Time) ([]Silence, error)
}

// AlertGroup is what one notification is about: the alerts sharing the
// values of the route's GroupBy labels.
type AlertGroup struct {
	// Key identifies the group: its labels, as `{alertname="x"}`.
	Key    string            `json:"key"`
	Labels map[string]string `json:"labels"`
	// Status is firing if any of Alerts is firing, else resolved.
	Status string `json:"status"`
	// Level is the highest level of the firing alerts, or of all the
	// alerts when the group has resolved.
	Level string `json:"level"`
	// Reach is the highest level of all of Alerts, the resolved ones
	// included: a channel that heard a critical alert fire hears it end,
	// even when the notification is a warning's (another alert of the
	// group fires on).
	Reach string `json:"reach"`
	// Alerts are the firing alerts that are not muted, then those resolved
	// since the previous notification of the group.
	Alerts []Alert `json:"alerts"`
}

// AlertRoute says how alerts are grouped and how often a group notifies;
// zero values take Alertmanager's defaults, except GroupWait.
type AlertRoute struct {
	// GroupBy are the labels whose values form a group (default
	// ["alertname"]); ["..."] groups by every label.
	GroupBy []string
	// GroupWait is how long a new group collects alerts before its first
	// notification (default 2s: our rules see a whole tick at once).
	GroupWait time.Duration
	// GroupInterval is the least time between two notifications of a group
	// about a change: a new alert, a resolved one (default 1m).
	GroupInterval time.Duration
	// RepeatInterval is how often an unchanged firing group is sent again
	// (default 4h).
	RepeatInterval time.Duration
	// SendResolved says whether resolved alerts are notified (default true).
	SendResolved *bool
}

// ManagerOptions configures NewManager.
type ManagerOptions struct {
	Route   AlertRoute
	Inhibit []InhibitRule
	// Silences persists silences; nil keeps them in memory only.
	Silences SilenceStore
	// Notify is handed each notification, outside the manager's lock and in
	// order. It must not block (queue into the outbox) and must not call
	// Evaluate.
	Notify func(AlertGroup)
	// OnChange is told each transition of an alert (firing, resolved), muted
	// or not, outside the lock and in order, before the notifications of the
	// same Evaluate. It must not block and must not call Evaluate.
	OnChange func(a Alert)
	// Leading, if set, says whether this node sends notifications. With
	// several nodes every node evaluates the same rules over the same
	// figures (Options.Peers), so every console lists the same alerts, but
	// only the leader notifies; a follower keeps the notification timing
	// as if it had sent, so that a node taking the lead does not send again
	// what its predecessor sent.
	Leading func() bool
	// Keep is how long resolved alerts stay in Recent (default 24h).
	Keep   time.Duration
	Logger *slog.Logger
}

// maxResolved bounds the resolved history, whatever Keep says, so a
// flapping rule cannot grow it without end.
const maxResolved = 2000

// Manager owns the alerts' lifecycle. Evaluate is driven by the rule loop
// with the time it should use; every other method may be called at any
// time from any goroutine. Alerts it hands out share their label maps:
// treat them as read-only.
//
// Notification timing is Alertmanager's, with two choices of ours: a group
// never notified yet (its alerts were all muted) sends as soon as it has an
// unmuted alert and GroupWait has passed; and an alert whose silence or
// inhibition ends is news again, sent after GroupInterval rather than
// waiting for RepeatInterval.
type Manager struct {
	route        AlertRoute
	sendResolved bool
	inhibit      []InhibitRule
	store        SilenceStore
	notify       func(AlertGroup)
	onChange     func(Alert)
	leading      func() bool
	keep         time.Duration
	logger       *slog.Logger

	// evalMu serialises Evaluate, so callbacks run in order without
	// holding mu.
	evalMu sync.Mutex

	mu         sync.RWMutex
	lastNow    time.Time               // the now of the latest Evaluate
	firing     map[string]*Alert       // by fingerprint
	resolved   []Alert                 // by EndsAt, oldest first
	groups     map[string]*notifyGroup // by key
	silences   map[string]silenceEntry // by id
	silenceSeq uint64                  // counts local silence changes
}

type silenceEntry struct {
	s   Silence
	seq uint64 // silenceSeq when changed here; 0 when loaded from the store
}

// notifyGroup is the state of one AlertGroup between notifications.
type notifyGroup struct {
	key       string
	labels    map[string]string
	createdAt time.Time
	firing    map[string]bool  // fingerprints of its firing alerts, muted or not
	resolved  map[string]Alert // resolved since the last notification, which had them firing
	notified  bool
	lastSent  time.Time
	// sentFiring are the alerts the last notification had firing that
	// have been neither muted nor resolved since.
	sentFiring map[string]bool
}

// NewManager returns a manager with no alerts; call LoadSilences before the
// first Evaluate when silences are stored. Invalid inhibit matchers match
// nothing (validate them with ParseMatcher when reading configuration).
func NewManager(opts ManagerOptions) *Manager {
	r := opts.Route
	if len(r.GroupBy) == 0 {
		r.GroupBy = []string{"alertname"}
	}
	if r.GroupWait <= 0 {
		r.GroupWait = 2 * time.Second
	}
	if r.GroupInterval <= 0 {
		r.GroupInterval = time.Minute
	}
	if r.RepeatInterval <= 0 {
		r.RepeatInterval = 4 * time.Hour
	}
	if opts.Keep <= 0 {
		opts.Keep = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Manager{
		route:        r,
		sendResolved: r.SendResolved == nil || *r.SendResolved,
		store:        opts.Silences,
		notify:       opts.Notify,
		onChange:     opts.OnChange,
		leading:      opts.Leading,
		keep:         opts.Keep,
		logger:       opts.Logger.With("component", "alerts"),
		firing:       map[string]*Alert{},
		groups:       map[string]*notifyGroup{},
		silences:     map[string]silenceEntry{},
	}
	for _, rule := range opts.Inhibit {
		src, err1 := compileMatchers(rule.Source)
		tgt, err2 := compileMatchers(rule.Target)
		if err1 != nil || err2 != nil {
			m.logger.Warn("inhibit rule ignored", "error", cmp.Or(err1, err2))
			continue
		}
		m.inhibit = append(m.inhibit, InhibitRule{Source: src, Target: tgt, Equal: rule.Equal})
	}
	return m
}

// Evaluate takes every condition the rules find true at now. New ones
// start firing, known ones are updated, missing ones resolve; then groups
// that are due are notified. All timing follows now: call it on every tick,
// even with nothing firing.
func (m *Manager) Evaluate(ctx context.Context, now time.Time, firing []Alert) {
	m.evalMu.Lock()
	defer m.evalMu.Unlock()

	m.mu.Lock()
	m.lastNow = now
	var changes []Alert
	seen := make(map[string]bool, len(firing))
	for _, in := range firing {
		a := intake(in)
		if seen[a.Fingerprint] {
			// The same alert twice in one evaluation: the last report wins.
			cur := m.firing[a.Fingerprint]
			cur.Value, cur.Threshold, cur.Summary, cur.SummaryZH, cur.Level = a.Value, a.Threshold, a.Summary, a.SummaryZH, a.Level
			continue
		}
		seen[a.Fingerprint] = true
		if cur, ok := m.firing[a.Fingerprint]; ok {
			cur.Value, cur.Threshold, cur.Summary, cur.SummaryZH, cur.Level = a.Value, a.Threshold, a.Summary, a.SummaryZH, a.Level
			continue
		}
		a.Status, a.StartsAt, a.EndsAt = StatusFiring, now, time.Time{}
		m.firing[a.Fingerprint] = &a
		g := m.groupFor(a.Labels, now)
		g.firing[a.Fingerprint] = true
		delete(g.resolved, a.Fingerprint) // fired again before its resolution was sent
		changes = append(changes, a)
	}
	var gone []*Alert
	for fp, a := range m.firing {
		if !seen[fp] {
			gone = append(gone, a)
		}
	}
	slices.SortFunc(gone, func(a, b *Alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	for _, a := range gone {
		delete(m.firing, a.Fingerprint)
		a.Status, a.EndsAt = StatusResolved, now
		m.resolved = append(m.resolved, *a)
		g := m.groups[m.groupKey(a.Labels)]
		delete(g.firing, a.Fingerprint)
		if m.sendResolved && g.sentFiring[a.Fingerprint] {
			g.resolved[a.Fingerprint] = *a
		}
		changes = append(changes, *a)
	}
	m.pruneLocked(now)
	m.muteLocked(now)
	// Transitions carry the mute state they start with.
	for i := range changes {
		if a, ok := m.firing[changes[i].Fingerprint]; ok && changes[i].Status == StatusFiring {
			changes[i] = *a
		}
	}
	notes := m.flushLocked(now)
	m.mu.Unlock()

	for _, a := range changes {
		m.logger.Info("alert changed", "status", a.Status, "alertname", a.Name(), "level", a.Level,
			"fingerprint", a.Fingerprint, "muted", a.Muted())
		if m.onChange != nil {
			m.onChange(a)
		}
	}
	if m.leading != nil && !m.leading() {
		return // the leader notifies
	}
	for _, g := range notes {
		m.logger.Info("alert group notified", "group", g.Key, "status", g.Status, "alerts", len(g.Alerts))
		if m.notify != nil {
			m.notify(g)
		}
	}
}

// intake copies a reported condition into an alert the manager owns.
func intake(in Alert) Alert {
	a := in
	a.Labels = maps.Clone(in.Labels)
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Level == "" {
		a.Level = a.Labels["level"]
	} else if _, ok := a.Labels["level"]; !ok {
		a.Labels["level"] = a.Level
	}
	a.Fingerprint = Fingerprint(a.Labels)
	a.Silenced, a.Inhibited = nil, nil
	return a
}

func (m *Manager) groupKey(labels map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range m.groupLabelNames(labels) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// groupLabelNames are the GroupBy labels that labels hold.
func (m *Manager) groupLabelNames(labels map[string]string) []string {
	if len(m.route.GroupBy) == 1 && m.route.GroupBy[0] == "..." {
		return slices.Sorted(maps.Keys(labels))
	}
	var names []string
	for _, k := range m.route.GroupBy {
		if _, ok := labels[k]; ok {
			names = append(names, k)
		}
	}
	return names
}

func (m *Manager) groupFor(labels map[string]string, now time.Time) *notifyGroup {
	key := m.groupKey(labels)
	if g, ok := m.groups[key]; ok {
		return g
	}
	gl := map[string]string{}
	for _, k := range m.groupLabelNames(labels) {
		gl[k] = labels[k]
	}
	g := &notifyGroup{key: key, labels: gl, createdAt: now, firing: map[string]bool{},
		resolved: map[string]Alert{}, sentFiring: map[string]bool{}}
	m.groups[key] = g
	return g
}

// pruneLocked forgets resolved alerts older than Keep and silences that
// have ended.
func (m *Manager) pruneLocked(now time.Time) {
	cut := 0
	for cut < len(m.resolved) && (m.resolved[cut].EndsAt.Before(now.Add(-m.keep)) || len(m.resolved)-cut > maxResolved) {
		cut++
	}
	if cut > 0 {
		m.resolved = slices.Delete(m.resolved, 0, cut)
	}
	for id, e := range m.silences {
		if !now.Before(e.s.EndsAt) {
			delete(m.silences, id)
		}
	}
}

// muteLocked fills Silenced and Inhibited on every firing alert. Sources
// of inhibition are all firing alerts, muted or not, as in Alertmanager.
func (m *Manager) muteLocked(now time.Time) {
	var active []Silence
	for _, e := range m.silences {
		if e.s.Active(now) {
			active = append(active, e.s)
		}
	}
	slices.SortFunc(active, func(a, b Silence) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range m.firing {
		var silenced, inhibited []string
		for _, s := range active {
			if s.Matches(a.Labels) {
				silenced = append(silenced, s.ID)
			}
		}
		for _, r := range m.inhibit {
			if !matchesAll(r.Target, a.Labels) {
				continue
			}
			for _, src := range m.firing {
				if src.Fingerprint != a.Fingerprint && !slices.Contains(inhibited, src.Fingerprint) &&
					matchesAll(r.Source, src.Labels) && equalLabels(r.Equal, src.Labels, a.Labels) {
					inhibited = append(inhibited, src.Fingerprint)
				}
			}
		}
		slices.Sort(inhibited)
		a.Silenced, a.Inhibited = silenced, inhibited
	}
}

func equalLabels(names []string, a, b map[string]string) bool {
	for _, n := range names {
		if a[n] != b[n] {
			return false
		}
	}
	return true
}

// flushLocked decides, group by group, what to notify at now.
func (m *Manager) flushLocked(now time.Time) []AlertGroup {
	var out []AlertGroup
	for _, key := range slices.Sorted(maps.Keys(m.groups)) {
		g := m.groups[key]
		var firing []Alert
		for fp := range g.firing {
			a := m.firing[fp]
			if a.Muted() {
				// Muting forgets that it was sent: when the mute ends, the
				// alert is news again.
				delete(g.sentFiring, fp)
				continue
			}
			firing = append(firing, *a)
		}
		send := false
		if !g.notified {
			send = len(firing) > 0 && !now.Before(g.createdAt.Add(m.route.GroupWait))
		} else {
			changed := len(g.resolved) > 0
			for _, a := range firing {
				changed = changed || !g.sentFiring[a.Fingerprint]
			}
			send = changed && !now.Before(g.lastSent.Add(m.route.GroupInterval)) ||
				len(firing) > 0 && !now.Before(g.lastSent.Add(m.route.RepeatInterval))
		}
		if send {
			out = append(out, g.notification(firing))
			g.notified, g.lastSent = true, now
			clear(g.sentFiring)
			for _, a := range firing {
				g.sentFiring[a.Fingerprint] = true
			}
			clear(g.resolved)
		}
		if len(g.firing) == 0 && len(g.resolved) == 0 {
			delete(m.groups, key)
		}
	}
	return out
}

func (g *notifyGroup) notification(firing []Alert) AlertGroup {
	byStart := func(a, b Alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), strings.Compare(a.Fingerprint, b.Fingerprint))
	}
	slices.SortFunc(firing, byStart)
	resolved := slices.SortedFunc(maps.Values(g.resolved), byStart)
	n := AlertGroup{Key: g.key, Labels: maps.Clone(g.labels), Status: StatusResolved,
		Alerts: append(firing, resolved...)}
	levels := resolved
	if len(firing) > 0 {
		n.Status, levels = StatusFiring, firing
	}
	for _, a := range levels {
		if alertLevelRank(a.Level) > alertLevelRank(n.Level) {
			n.Level = a.Level
		}
	}
	for _, a := range n.Alerts {
		if alertLevelRank(a.Level) > alertLevelRank(n.Reach) {
			n.Reach = a.Level
		}
	}
	return n
}

func alertLevelRank(level string) int {
	switch level {
	case LevelInfo:
		return 1
	case LevelWarning:
		return 2
	case LevelCritical:
		return 3
	}
	return 0
}

// Active returns the firing alerts, newest first, with their mute state as
// of the latest Evaluate or silence change.
func (m *Manager) Active() []Alert {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Alert, 0, len(m.firing))
	for _, a := range m.firing {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(b.StartsAt.Compare(a.StartsAt), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	return out
}

// Recent returns firing and resolved alerts (those resolved within Keep),
// the latest change (start or end) first; limit ≤ 0 means all.
func (m *Manager) Recent(limit int) []Alert {
	m.mu.RLock()
	out := make([]Alert, 0, len(m.firing)+len(m.resolved))
	for _, a := range m.firing {
		out = append(out, *a)
	}
	out = append(out, m.resolved...)
	m.mu.RUnlock()
	changed := func(a Alert) time.Time {
		if a.Status == StatusResolved {
			return a.EndsAt
		}
		return a.StartsAt
	}
	slices.SortStableFunc(out, func(a, b Alert) int {
		return cmp.Or(changed(b).Compare(changed(a)), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Alert returns the alert with the fingerprint: firing, or else its latest
// resolution still kept.
func (m *Manager) Alert(fingerprint string) (Alert, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if a, ok := m.firing[fingerprint]; ok {
		return *a, true
	}
	for i := len(m.resolved) - 1; i >= 0; i-- {
		if m.resolved[i].Fingerprint == fingerprint {
			return m.resolved[i], true
		}
	}
	return Alert{}, false
}

// AddSilence checks s, gives it an id and a creation time, stores it and
// applies it from now on. A zero StartsAt means now.
func (m *Manager) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	now := time.Now().UTC()
	if len(s.Matchers) == 0 {
		return Silence{}, errcode.Localized(errcode.Invalid, "a silence needs at least one matcher", "静默至少需要一个匹配条件")
	}
	ms, err := compileMatchers(s.Matchers)
	if err != nil {
		return Silence{}, err
	}
	s.Matchers = ms
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	switch {
	case !s.EndsAt.After(s.StartsAt):
		return Silence{}, errcode.Localized(errcode.Invalid, "a silence must end after it starts", "静默的结束时间须晚于开始时间")
	case !s.EndsAt.After(now):
		return Silence{}, errcode.Localized(errcode.Invalid, "a silence must end in the future", "静默的结束时间须在未来")
	case s.EndsAt.Sub(s.StartsAt) > MaxSilence:
		return Silence{}, errcode.Localized(errcode.Invalid, "a silence may last at most %d days", "静默最长 %d 天", int(MaxSilence/(24*time.Hour)))
	}
	s.ID, s.CreatedAt = token.ID("s", 12), now
	if m.store != nil {
		if err := m.store.SaveSilence(ctx, s); err != nil {
			return Silence{}, fmt.Errorf("add silence: %w", err)
		}
	}
	m.putSilence(s, now)
	m.logger.Info("silence added", "silence", s.ID, "created_by", s.CreatedBy, "ends_at", s.EndsAt)
	return s, nil
}

// ExpireSilence ends a silence at now (a pending one never starts).
func (m *Manager) ExpireSilence(ctx context.Context, id string, now time.Time) error {
	m.mu.RLock()
	e, ok := m.silences[id]
	m.mu.RUnlock()
	if !ok && m.store != nil {
		// Perhaps made on another node since the last LoadSilences.
		list, err := m.store.Silences(ctx, now)
		if err != nil {
			return fmt.Errorf("expire silence %s: %w", id, err)
		}
		for _, s := range list {
			if s.ID == id {
				e, ok = silenceEntry{s: s}, true
			}
		}
	}
	if !ok || !now.Before(e.s.EndsAt) {
		return errcode.Localized(errcode.NotFound, "no active or pending silence %s", "没有生效中或待生效的静默 %s", id)
	}
	s := e.s
	s.EndsAt = now
	if s.StartsAt.After(now) {
		s.StartsAt = now
	}
	if m.store != nil {
		if err := m.store.SaveSilence(ctx, s); err != nil {
			return fmt.Errorf("expire silence %s: %w", id, err)
		}
	}
	m.putSilence(s, now)
	m.logger.Info("silence expired", "silence", id)
	return nil
}

// putSilence records a silence changed here and refreshes the mute state
// shown by Active; notifications follow at the next Evaluate.
func (m *Manager) putSilence(s Silence, now time.Time) {
	if ms, err := compileMatchers(s.Matchers); err == nil {
		s.Matchers = ms
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.silenceSeq++
	m.silences[s.ID] = silenceEntry{s: s, seq: m.silenceSeq}
	m.muteLocked(later(now, m.lastNow))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Silences returns the silences that have not ended at now, pending ones
// included, newest first: from the store when there is one, so that those
// made on other nodes show.
func (m *Manager) Silences(ctx context.Context, now time.Time) ([]Silence, error) {
	var out []Silence
	if m.store != nil {
		list, err := m.store.Silences(ctx, now)
		if err != nil {
			return nil, fmt.Errorf("list silences: %w", err)
		}
		out = list
	} else {
		m.mu.RLock()
		for _, e := range m.silences {
			if now.Before(e.s.EndsAt) {
				out = append(out, e.s)
			}
		}
		m.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b Silence) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// LoadSilences replaces the silences in memory with the stored ones that
// have not ended at now, keeping those changed here meanwhile. It is one
// small query: call it at start and on every tick, so silences made or
// expired on other nodes apply here.
func (m *Manager) LoadSilences(ctx context.Context, now time.Time) error {
	if m.store == nil {
		return nil
	}
	m.mu.RLock()
	start := m.silenceSeq
	m.mu.RUnlock()
	list, err := m.store.Silences(ctx, now)
	if err != nil {
		return fmt.Errorf("load silences: %w", err)
	}
	fresh := make(map[string]silenceEntry, len(list))
	for _, s := range list {
		ms, err := compileMatchers(s.Matchers)
		if err != nil {
			m.logger.Warn("stored silence ignored", "silence", s.ID, "error", err)
			continue
		}
		s.Matchers = ms
		fresh[s.ID] = silenceEntry{s: s}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, e := range m.silences {
		if e.seq > start {
			fresh[id] = e // changed here while the query ran
		}
	}
	m.silences = fresh
	m.muteLocked(later(now, m.lastNow))
	return nil
}
