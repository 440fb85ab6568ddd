// Package drill runs fault-injection drills against a running Steward over
// its HTTP API, as customers and an operator would see it: simulated
// customers keep writing, a fault is injected through
// POST /api/v1/admin/faults, and the drill measures when Steward noticed,
// when it acted, when it recovered, and what customers got meanwhile.
package drill

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-cs/steward/internal/knowledge"
)

// Scorecard is one drill's result.
type Scorecard struct {
	Scenario         string          `json:"scenario"`
	DetectedAfterS   *float64        `json:"detected_after_s"`
	MitigatedAfterS  *float64        `json:"mitigated_after_s"`
	RecoveredAfterS  *float64        `json:"recovered_after_s"`
	FaultRemovedS    *float64        `json:"fault_removed_after_s"`
	Customer5xx      int             `json:"customer_5xx"`
	LostMessages     int             `json:"lost_messages"`
	PostureChanges   []PostureChange `json:"posture_changes"`
	Notifications    int             `json:"notifications"`
	Passed           bool            `json:"passed"`
	Failures         []string        `json:"failures,omitempty"`
	Turns            int             `json:"turns"`
	TurnsDuringFault int             `json:"turns_during_fault"`
	Unserved         int             `json:"unserved"` // messages during the fault with no answer, human or notice
	Throttled        int             `json:"throttled"`
	// Generated counts the answers the language model wrote (scenarios
	// with a model), GeneratedDuringFault those while the fault was on.
	Generated            int      `json:"generated,omitempty"`
	GeneratedDuringFault int      `json:"generated_during_fault,omitempty"`
	Alerts               []string `json:"alerts"`
	// AlertLog is each new alert the drill saw fire, in order, with when
	// and on what (its category, component or source): what a failed
	// drill's posture changes answered to.
	AlertLog   []AlertSeen `json:"alert_log"`
	Incident   string      `json:"incident,omitempty"`
	Mitigation string      `json:"mitigation,omitempty"`
	DurationS  float64     `json:"duration_s"`
}

// PostureChange is a posture the drill saw, with when.
type PostureChange struct {
	AfterS      float64 `json:"after_s"`
	Level       int     `json:"level"`
	Description string  `json:"description"`
}

// AlertSeen is an alert the drill saw fire for the first time.
type AlertSeen struct {
	AfterS float64 `json:"after_s"`
	Name   string  `json:"name"`
	On     string  `json:"on,omitempty"` // category=…, component=… or source=…
}

// maxAlertLog bounds the alert log of one drill.
const maxAlertLog = 40

// Targets every drill is held to.
const (
	MaxDetect   = 10 * time.Second
	MaxMitigate = 30 * time.Second
)

// Scenario is one drill.
type Scenario struct {
	Name        string
	Description string
	// inject starts the fault; clear removes it.
	inject func(ctx context.Context, r *run) error
	clear  func(ctx context.Context, r *run) error
	// mitigated reports whether the service has acted on the fault.
	mitigated func(r *run, p postureView) bool
	// mitigation describes what counts as acting.
	mitigation string
	// relevant picks the alerts that count as detecting the fault.
	relevant func(alertname string, labels map[string]string) bool
	// model: the drilled server needs a language model and a fallback
	// (NeedsModel), and a share of the customers' questions are ones the
	// intent model is unsure of, which the language model answers.
	model bool
}

// NeedsModel reports whether the scenario drills a server with a language
// model and a fallback model configured.
func (s Scenario) NeedsModel() bool { return s.model }

// Scenarios are the named drills, in the order "all" runs them.
func Scenarios() []Scenario {
	anyAlert := func(string, map[string]string) bool { return true }
	postureAtLeast := func(level int) func(*run, postureView) bool {
		return func(_ *run, p postureView) bool { return p.Level >= level }
	}
	return []Scenario{
		{Name: "nlu-errors", Description: "intent recognition fails on every call",
			inject: setFault(map[string]any{"point": "nlu", "error_rate": 1}), clear: clearFault("nlu"),
			mitigated: postureAtLeast(1), mitigation: "level 1: every question handed to a person (or the offline form)",
			relevant: anyAlert},
		{Name: "nlu-latency", Description: "intent recognition takes 2.5 s per call",
			inject: setFault(map[string]any{"point": "nlu", "latency_ms": 2500}), clear: clearFault("nlu"),
			mitigated: postureAtLeast(1), mitigation: "level 1: questions go around the slow model to a person",
			relevant: anyAlert},
		{Name: "bad-release", Description: "a damaged knowledge release (questions moved to the wrong answers) is published",
			inject:    injectBadRelease,
			clear:     clearBadRelease, // the rollback is the fix; without one, the good release comes back
			mitigated: postureAtLeast(2), mitigation: "level 2: rolled back to the last good release, bot for VIP only",
			relevant: anyAlert},
		{Name: "store-write-failures", Description: "every conversation write to the database fails",
			inject: setFault(map[string]any{"point": "store.write", "error_rate": 1}), clear: clearFault("store.write"),
			mitigated: postureAtLeast(3), mitigation: "level 3: minimal release; messages kept in the local spool",
			relevant: anyAlert},
		{Name: "store-latency", Description: "every conversation write to the database takes 3 s",
			inject: setFault(map[string]any{"point": "store.write", "latency_ms": 3000}), clear: clearFault("store.write"),
			mitigated: postureAtLeast(3), mitigation: "level 3: minimal release; slow writes go to the local spool",
			relevant: anyAlert},
		{Name: "notifier-outage", Description: "the primary notification channel rejects every send",
			inject:     injectNotifierOutage,
			clear:      clearNotifierOutage,
			mitigated:  func(r *run, _ postureView) bool { return r.backupGotAlert.Load() },
			mitigation: "the failing channel's alert reached operators through the other channel; notices wait in the outbox",
			relevant:   func(name string, _ map[string]string) bool { return name == "notifier_failing" }},
		{Name: "traffic-flood", Description: "one source floods the chat with messages",
			inject: startFlood, clear: stopFlood,
			mitigated:  func(_ *run, p postureView) bool { return len(p.Throttle) > 0 },
			mitigation: "the flooding source is throttled; other customers are served as usual",
			relevant:   func(name string, _ map[string]string) bool { return name == "traffic_flood" }},
		{Name: "quality-drop", Description: "the bot answers one category's questions with wrong entries; customers flag them and rate low",
			inject: func(ctx context.Context, r *run) error {
				return setFault(map[string]any{"point": "answers", "scope": r.category, "error_rate": 1})(ctx, r)
			},
			clear:     clearFault("answers"),
			mitigated: postureAtLeast(1), mitigation: "level 1: the category handed to people",
			relevant: anyAlert},
		{Name: "llm-primary-outage", Description: "the primary language model fails every call; a fallback model is configured",
			model:  true,
			inject: setFault(map[string]any{"point": "llm", "scope": "primary", "error_rate": 1}), clear: clearFault("llm"),
			// Every generated answer since the fault came from the fallback:
			// the primary fails each call it gets.
			mitigated:  func(r *run, _ postureView) bool { return r.generatedDuring.Load() >= 3 },
			mitigation: "the fallback model answers the questions the bot is unsure of; the posture stays normal",
			relevant: func(name string, labels map[string]string) bool {
				return name == "llm_failing" && labels["component"] == "llm.primary"
			}},
	}
}

// Find returns the named scenario.
func Find(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenarios.
func Names() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

// Timing of a drill.
type Timing struct {
	Warmup      time.Duration // normal traffic before the fault (default 12s)
	HoldFault   time.Duration // keep the fault this long after mitigation (default 5s)
	MaxFault    time.Duration // remove the fault after this even if unmitigated (default 40s)
	MaxRecovery time.Duration // give up waiting for recovery after this (default 90s)
	Watch       time.Duration // after recovery, watch for flapping (default 6s)
	Customers   int           // concurrent simulated customers (default 6)
	Think       time.Duration // pause between a customer's messages (default 250ms)
}

func (t *Timing) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Warmup, 12*time.Second)
	def(&t.HoldFault, 5*time.Second)
	def(&t.MaxFault, 40*time.Second)
	def(&t.MaxRecovery, 90*time.Second)
	def(&t.Watch, 6*time.Second)
	def(&t.Think, 250*time.Millisecond)
	if t.Customers <= 0 {
		t.Customers = 6
	}
}

// Target is a running Steward with fault injection on.
type Target struct {
	URL   string
	Token string // an admin's bearer token (or API key)
	// Primary and Backup receive the server's notifications (webhook
	// channels named "drill-primary" and "drill-backup"); optional.
	Primary, Backup *Receiver
	// Entries are the knowledge base's entries: the customers' questions.
	Entries []knowledge.Entry
}

// Run runs one scenario against t.
func Run(ctx context.Context, t Target, s Scenario, timing Timing) (*Scorecard, error) {
	timing.defaults()
	r, err := newRun(t, s, timing)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

type question struct {
	text, entry, category, locale string
}

// pool is the customers' questions: every question variant of every
// entry, with the entry it should be answered from.
func pool(entries []knowledge.Entry) []question {
	var out []question
	for _, e := range entries {
		for _, loc := range knowledge.Locales {
			c, ok := e.Locales[loc]
			if !ok {
				continue
			}
			for _, q := range c.Questions {
				out = append(out, question{text: q, entry: e.ID, category: e.Category, locale: loc})
			}
		}
	}
	return out
}

// biggestCategory is the category with the most questions.
func biggestCategory(qs []question) string {
	n := map[string]int{}
	for _, q := range qs {
		n[q.category]++
	}
	var cats []string
	for c := range n {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool { return n[cats[i]] > n[cats[j]] || n[cats[i]] == n[cats[j]] && cats[i] < cats[j] })
	if len(cats) == 0 {
		return ""
	}
	return cats[0]
}

type run struct {
	t        Target
	s        Scenario
	timing   Timing
	api      *client
	qs       []question
	category string
	card     Scorecard

	start, faultAt, clearedAt  time.Time
	faultOn                    atomic.Bool
	backupGotAlert             atomic.Bool
	generated, generatedDuring atomic.Int64

	mu          sync.Mutex
	acked       map[string][]string // conversation id → acked customer message ids
	tokens      map[string]string
	fivexx      int
	unserved    int
	turns       int
	during      int
	throttle    int
	declared    string // the incident the notifier drill declared
	goodRelease int64  // the release active before bad-release damaged it
	flood       context.CancelFunc
	floodWG     sync.WaitGroup
}

func newRun(t Target, s Scenario, timing Timing) (*run, error) {
	qs := pool(t.Entries)
	if len(qs) == 0 {
		return nil, fmt.Errorf("the knowledge base has no questions to ask")
	}
	r := &run{t: t, s: s, timing: timing, api: newClient(t.URL, t.Token), qs: qs, acked: map[string][]string{},
		tokens: map[string]string{}}
	r.category = biggestCategory(qs)
	r.card.Scenario = s.Name
	return r, nil
}

func (r *run) since(t time.Time) float64 { return roundS(t.Sub(r.faultAt)) }

func roundS(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond).Milliseconds()) / 1000
}

func ptr(x float64) *float64 { return &x }

func (r *run) execute(ctx context.Context) (*Scorecard, error) {
	r.start = time.Now()
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range r.timing.Customers {
		wg.Go(func() { r.customer(loadCtx, i) })
	}
	defer func() {
		stopLoad()
		wg.Wait()
		stopFlood(context.Background(), r)
	}()
	if err := sleep(ctx, r.timing.Warmup); err != nil {
		return nil, err
	}
	before, err := r.api.firing(ctx)
	if err != nil {
		return nil, err
	}
	notifiedBefore := r.notifications()
	r.faultAt = time.Now()
	r.faultOn.Store(true)
	var detected, mitigated, cleared, recovered time.Time
	// Whatever ends the drill (an error, Ctrl-C, a deadline), the fault does
	// not outlive it: a failed poll used to leave every write failing on
	// the server for the fault's five minutes.
	defer func() {
		if cleared.IsZero() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := r.s.clear(cctx, r); err != nil {
				slog.Warn("drill: could not clear the fault", "scenario", r.s.Name, "error", err)
			}
		}
	}()
	if err := r.s.inject(ctx, r); err != nil {
		return nil, fmt.Errorf("inject %s: %w", r.s.Name, err)
	}
	// The clock starts when the fault is in place: the injection's answer.
	// Most injections answer at once; bad-release answers when the damaged
	// release is live, after its training and quality report (several
	// seconds in which customers still get the good release, and nothing
	// can be detected).
	r.faultAt = time.Now()
	var last postureView
	alerts, seen := map[string]bool{}, map[string]bool{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := r.faultAt.Add(r.timing.MaxFault + r.timing.MaxRecovery + r.timing.Watch)
	for now := time.Now(); now.Before(deadline); now = time.Now() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		now = time.Now()
		firing, err := r.api.firing(ctx)
		if err != nil {
			return nil, err
		}
		relevantFiring := false
		// In a stable order (by name, then fingerprint), so that the alert
		// log lists alerts first seen in one poll the same way every time.
		fps := slices.Collect(maps.Keys(firing))
		slices.SortFunc(fps, func(x, y string) int {
			return cmp.Or(strings.Compare(firing[x].name, firing[y].name), strings.Compare(x, y))
		})
		for _, fp := range fps {
			a := firing[fp]
			if _, old := before[fp]; old || !r.s.relevant(a.name, a.labels) {
				continue
			}
			// Burn-rate alerts look back 5 minutes to 6 hours by design:
			// they count as detection, not as a service still broken.
			relevantFiring = relevantFiring || a.name != "slo_burn"
			alerts[a.name] = true
			if !seen[fp] && len(r.card.AlertLog) < maxAlertLog {
				r.card.AlertLog = append(r.card.AlertLog, AlertSeen{AfterS: r.since(now), Name: a.name, On: alertOn(a.labels)})
			}
			seen[fp] = true
			if detected.IsZero() {
				detected = now
			}
		}
		p, err := r.api.posture(ctx)
		if err != nil {
			return nil, err
		}
		if p.Level != last.Level || p.Description != last.Description {
			r.card.PostureChanges = append(r.card.PostureChanges, PostureChange{AfterS: r.since(now), Level: p.Level,
				Description: p.Description})
			last = p
		}
		if p.Incident != "" {
			r.card.Incident = p.Incident
		}
		if r.s.Name == "notifier-outage" && r.t.Backup != nil && !r.backupGotAlert.Load() {
			r.backupGotAlert.Store(r.t.Backup.Saw("notifier_failing"))
		}
		if mitigated.IsZero() && r.s.mitigated(r, p) {
			mitigated = now
		}
		switch {
		case cleared.IsZero() && ((!mitigated.IsZero() && !detected.IsZero() &&
			now.Sub(later(mitigated, detected)) >= r.timing.HoldFault) || now.Sub(r.faultAt) >= r.timing.MaxFault):
			// Held until it is both noticed and acted on: a fault that
			// acts on itself (the fallback model answers at once) would
			// otherwise be gone before anyone heard of it.
			if err := r.s.clear(ctx, r); err != nil {
				return nil, fmt.Errorf("clear %s: %w", r.s.Name, err)
			}
			cleared = now
			r.faultOn.Store(false)
		case !cleared.IsZero() && recovered.IsZero() && p.normal() && !relevantFiring && r.recoveredExtra(ctx):
			recovered = now
			deadline = now.Add(r.timing.Watch)
		}
		if !cleared.IsZero() && recovered.IsZero() && now.Sub(cleared) > r.timing.MaxRecovery {
			break
		}
	}
	stopLoad()
	wg.Wait()
	stopFlood(ctx, r)
	if err := r.waitSpool(ctx); err != nil {
		r.card.Failures = append(r.card.Failures, err.Error())
	}
	lost, err := r.lost(ctx)
	if err != nil {
		return nil, err
	}
	r.card.LostMessages = lost
	r.card.Notifications = r.notifications() - notifiedBefore
	for a := range alerts {
		r.card.Alerts = append(r.card.Alerts, a)
	}
	slices.Sort(r.card.Alerts)
	if !detected.IsZero() {
		r.card.DetectedAfterS = ptr(r.since(detected))
	}
	if !mitigated.IsZero() {
		r.card.MitigatedAfterS = ptr(r.since(mitigated))
	}
	if !cleared.IsZero() {
		r.card.FaultRemovedS = ptr(r.since(cleared))
	}
	if !recovered.IsZero() {
		r.card.RecoveredAfterS = ptr(r.since(recovered))
	}
	r.mu.Lock()
	r.card.Customer5xx, r.card.Unserved, r.card.Turns, r.card.TurnsDuringFault, r.card.Throttled =
		r.fivexx, r.unserved, r.turns, r.during, r.throttle
	r.mu.Unlock()
	r.card.Generated, r.card.GeneratedDuringFault = int(r.generated.Load()), int(r.generatedDuring.Load())
	r.card.Mitigation = r.s.mitigation
	r.card.DurationS = roundS(time.Since(r.start))
	r.judge(recovered)
	if r.card.PostureChanges == nil {
		r.card.PostureChanges = []PostureChange{}
	}
	if r.card.Alerts == nil {
		r.card.Alerts = []string{}
	}
	if r.card.AlertLog == nil {
		r.card.AlertLog = []AlertSeen{}
	}
	return &r.card, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// recoveredExtra holds scenario-specific conditions of recovery.
func (r *run) recoveredExtra(ctx context.Context) bool {
	if r.s.Name == "notifier-outage" && r.t.Primary != nil {
		// Every notice meant for the primary channel has arrived.
		h, err := r.api.outbox(ctx)
		return err == nil && h["notify:drill-primary"].Pending == 0 && h["notify:drill-primary"].Healthy
	}
	return true
}

func (r *run) judge(recovered time.Time) {
	c := &r.card
	fail := func(format string, args ...any) { c.Failures = append(c.Failures, fmt.Sprintf(format, args...)) }
	switch {
	case c.DetectedAfterS == nil:
		fail("not detected")
	case *c.DetectedAfterS > MaxDetect.Seconds():
		fail("detected after %.1fs (target %s)", *c.DetectedAfterS, MaxDetect)
	}
	switch {
	case c.MitigatedAfterS == nil:
		fail("not mitigated")
	case *c.MitigatedAfterS > MaxMitigate.Seconds():
		fail("mitigated after %.1fs (target %s)", *c.MitigatedAfterS, MaxMitigate)
	}
	if recovered.IsZero() {
		fail("did not recover within %s of the fault's removal", r.timing.MaxRecovery)
	}
	if c.Customer5xx > 0 {
		fail("%d customer-facing 5xx", c.Customer5xx)
	}
	if c.LostMessages > 0 {
		fail("%d acknowledged messages lost", c.LostMessages)
	}
	if c.Unserved > 0 {
		fail("%d messages got neither an answer, a person nor a notice", c.Unserved)
	}
	// No flapping: once degraded, back to normal once, and never degraded
	// again.
	normals, degraded, degradedAfterNormal := 0, false, false
	for _, p := range c.PostureChanges {
		switch {
		case p.Level == 0 && p.Description == "normal service":
			if degraded {
				normals++
			}
		case normals > 0:
			degradedAfterNormal = true
		default:
			degraded = true
		}
	}
	if degradedAfterNormal || normals > 1 {
		// The whole story, since a failed CI run shows little more than
		// this line: the postures, and the alerts they answered to.
		fail("the posture flapped: %d returns to normal (postures: %s; alerts: %s)", normals,
			postureStory(c.PostureChanges), alertStory(c.AlertLog))
	}
	c.Passed = len(c.Failures) == 0
}

// alertOn names what an alert is about, from its labels.
func alertOn(labels map[string]string) string {
	for _, k := range []string{"category", "component", "source"} {
		if v := labels[k]; v != "" {
			return k + "=" + v
		}
	}
	return ""
}

func postureStory(ps []PostureChange) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%.1fs %s", p.AfterS, p.Description))
	}
	return strings.Join(parts, " → ")
}

func alertStory(as []AlertSeen) string {
	if len(as) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(as))
	for _, a := range as {
		s := fmt.Sprintf("%.1fs %s", a.AfterS, a.Name)
		if a.On != "" {
			s += "{" + a.On + "}"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// customer is one simulated customer: short conversations of a few
// questions, a flag for each wrong answer, a rating at the end.
func (r *run) customer(ctx context.Context, n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	vip := n%4 == 0
	for ctx.Err() == nil {
		locale := knowledge.LocaleZH
		if rng.IntN(3) == 0 {
			locale = knowledge.LocaleEN
		}
		conv, status, err := r.api.start(ctx, locale, vip, "web")
		if ctx.Err() != nil {
			return
		}
		r.count(status, err, false)
		if err != nil || conv == nil {
			_ = sleep(ctx, r.timing.Think)
			continue
		}
		r.mu.Lock()
		r.tokens[conv.id] = conv.token
		r.mu.Unlock()
		wrong := 0
		for range 3 {
			q := r.pick(rng, locale)
			turn, status, err := r.api.say(ctx, conv, q.text)
			if ctx.Err() != nil {
				return
			}
			r.count(status, err, false)
			if err == nil && turn != nil {
				r.note(conv.id, turn)
				if q.entry != "" && turn.wrongFor(q.entry) {
					wrong++
					_, _ = r.api.flag(ctx, conv, turn.answerID())
				}
				if turn.state != "bot" {
					break
				}
			}
			if sleep(ctx, r.timing.Think) != nil {
				return
			}
		}
		stars := 5
		if wrong > 0 {
			stars = 1
		}
		_, _ = r.api.rate(ctx, conv, stars)
	}
}

// pick chooses a question, half of them from the drill's category so a
// scoped fault is felt; in a scenario with a language model, a quarter are
// questions the knowledge base has no entry for (unsure), which the model
// is asked about.
func (r *run) pick(rng *rand.Rand, locale string) question {
	if r.s.model && rng.IntN(4) == 0 {
		qs := unsureQuestions[locale]
		return question{text: qs[rng.IntN(len(qs))], locale: locale}
	}
	for range 20 {
		q := r.qs[rng.IntN(len(r.qs))]
		if q.locale != locale {
			continue
		}
		if rng.IntN(2) == 0 && q.category != r.category {
			continue
		}
		return q
	}
	return r.qs[rng.IntN(len(r.qs))]
}

// unsureQuestions are vague questions about the shop, near several entries
// and answered by none: the bot is unsure of them, so a language model, if
// there is one, is asked.
var unsureQuestions = map[string][]string{
	knowledge.LocaleZH: {
		"请问一下",
		"你好我想问个事",
		"有个情况想说明一下",
		"能不能跟我说说具体流程",
	},
	knowledge.LocaleEN: {
		"what should I do now",
		"tell me more",
		"I need some help with something",
		"can you walk me through the process",
	},
}

// count tallies a customer request.
func (r *run) count(status int, err error, flood bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if flood {
		if status == 429 {
			r.throttle++
		}
		if status >= 500 {
			r.fivexx++
		}
		return
	}
	r.turns++
	if r.faultOn.Load() {
		r.during++
	}
	if status >= 500 {
		r.fivexx++
	}
}

// note records an acknowledged turn and whether it served the customer.
func (r *run) note(conv string, t *turnView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked[conv] = append(r.acked[conv], t.customerID)
	if len(t.replies) == 0 && t.state == "bot" {
		r.unserved++
	}
	if t.generated() {
		r.generated.Add(1)
		if r.faultOn.Load() {
			r.generatedDuring.Add(1)
		}
	}
}

// waitSpool waits until the server's spool has written everything.
func (r *run) waitSpool(ctx context.Context) error {
	for range 120 {
		n, err := r.api.spoolPending(ctx)
		if err == nil && n == 0 {
			return nil
		}
		if sleep(ctx, 250*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("the spool still held customer writes 30s after the drill")
}

// lost counts acknowledged customer messages missing from their transcript.
func (r *run) lost(ctx context.Context) (int, error) {
	r.mu.Lock()
	acked := r.acked
	tokens := r.tokens
	r.mu.Unlock()
	lost := 0
	for conv, ids := range acked {
		have, err := r.api.transcript(ctx, conv, tokens[conv])
		if err != nil {
			return 0, fmt.Errorf("read transcript %s: %w", conv, err)
		}
		for _, id := range ids {
			if !have[id] {
				lost++
			}
		}
	}
	return lost, nil
}

func (r *run) notifications() int {
	n := 0
	if r.t.Primary != nil {
		n += r.t.Primary.Unique()
	}
	if r.t.Backup != nil {
		n += r.t.Backup.Unique()
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func setFault(body map[string]any) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		b := map[string]any{"duration_s": 300}
		for k, v := range body {
			b[k] = v
		}
		return r.api.do(ctx, "POST", "/api/v1/admin/faults", b, nil)
	}
}

func clearFault(point string) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		var out struct {
			Cleared *bool `json:"cleared"`
		}
		if err := r.api.do(ctx, "DELETE", "/api/v1/admin/faults/"+point, nil, &out); err != nil {
			return err
		}
		if out.Cleared != nil && !*out.Cleared {
			// Faults live in the process that took them: behind a load
			// balancer the DELETE reached another node, and the fault goes on.
			return fmt.Errorf("the server had no %s fault to clear: point --url at one node, not a load balancer", point)
		}
		return nil
	}
}

// injectNotifierOutage breaks the primary channel and gives Steward
// something to say: an incident an operator declares.
func injectNotifierOutage(ctx context.Context, r *run) error {
	if err := setFault(map[string]any{"point": "notify", "scope": "drill-primary", "error_rate": 1})(ctx, r); err != nil {
		return err
	}
	var out struct {
		Incident struct {
			ID string `json:"id"`
		} `json:"incident"`
	}
	if err := r.api.do(ctx, "POST", "/api/v1/incidents", map[string]any{"title": "Drill: notifier outage",
		"title_zh": "演练：通知渠道故障", "severity": "warning"}, &out); err != nil {
		return err
	}
	r.declared = out.Incident.ID
	return nil
}

// clearNotifierOutage mends the channel and resolves the declared incident.
func clearNotifierOutage(ctx context.Context, r *run) error {
	if err := clearFault("notify")(ctx, r); err != nil {
		return err
	}
	if r.declared == "" {
		return nil // the declaration itself failed
	}
	return r.api.do(ctx, "POST", "/api/v1/incidents/"+r.declared+"/resolve", map[string]any{"note": "drill over"}, nil)
}

// activeRelease is the knowledge release the server serves.
func (r *run) activeRelease(ctx context.Context) (int64, error) {
	var l struct {
		ActiveID int64 `json:"active_id"`
	}
	err := r.api.do(ctx, "GET", "/api/v1/kb/releases", nil, &l)
	return l.ActiveID, err
}

// injectBadRelease notes the good release, then publishes a damaged one.
func injectBadRelease(ctx context.Context, r *run) error {
	good, err := r.activeRelease(ctx)
	if err != nil {
		return err
	}
	r.goodRelease = good
	return setFault(map[string]any{"point": "kb.bad_release"})(ctx, r)
}

// clearBadRelease is nothing when Steward rolled the damage back itself; a
// drill that ends otherwise (not mitigated, interrupted) puts the good
// release back, so that customers are not left with the damaged one.
func clearBadRelease(ctx context.Context, r *run) error {
	if r.goodRelease == 0 {
		return nil
	}
	active, err := r.activeRelease(ctx)
	if err != nil || active == r.goodRelease {
		return err
	}
	return r.api.do(ctx, "POST", fmt.Sprintf("/api/v1/kb/releases/%d/activate", r.goodRelease),
		map[string]string{"reason": "drill over: the damaged release is taken back"}, nil)
}

// startFlood sends as fast as it can from one source.
func startFlood(ctx context.Context, r *run) error {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.flood = cancel
	for i := range 6 {
		r.floodWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for fctx.Err() == nil {
				conv, status, err := r.api.start(fctx, knowledge.LocaleZH, false, "drill-flood")
				if fctx.Err() != nil {
					return // stopped mid-request: not an answer from the server
				}
				r.count(status, err, true)
				if err != nil || conv == nil {
					_ = sleep(fctx, 20*time.Millisecond)
					continue
				}
				for range 5 {
					_, status, _ := r.api.say(fctx, conv, r.qs[rng.IntN(len(r.qs))].text)
					if fctx.Err() != nil {
						return
					}
					r.count(status, nil, true)
					if status == 429 {
						_ = sleep(fctx, 20*time.Millisecond)
					}
				}
			}
		})
	}
	return nil
}

func stopFlood(ctx context.Context, r *run) error {
	if r.flood != nil {
		r.flood()
		r.floodWG.Wait()
		r.flood = nil
	}
	return nil
}
