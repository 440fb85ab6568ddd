package monitor

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rule types.
const (
	RuleErrorRate     = "error_rate"     // failed turns / turns over Window > Threshold
	RuleLatency       = "latency"        // p95 turn latency (s) over Window > Threshold
	RuleWriteFailures = "write_failures" // failed store writes / writes > Threshold
	RuleProbe         = "probe"          // failed probes of Component / probes > Threshold
	RuleProbeLatency  = "probe_latency"  // p95 probe latency (s) of Component > Threshold
	RuleDrop          = "drop"           // Field (answer_rate, confidence) fell by more than Threshold vs Baseline, per category
	RuleSurge         = "surge"          // ratio Field (fallback, handoff, negative) > max(Threshold, Factor × baseline)
	RuleCount         = "count"          // Field (low_ratings, flags) per category ≥ Threshold in Window
	RuleFlood         = "flood"          // turns/s of one source > max(Threshold, Factor × baseline)
	RuleQueueForecast = "queue_forecast" // the queue wait will exceed Target within Threshold seconds
	RuleNotifier      = "notifier"       // a notification channel is failing
	RuleBackup        = "backup"         // the last scheduled backup, or its verification, failed
	RuleSpoolRejected = "spool_rejected" // acknowledged writes the spool could not replay are set aside
)

// Rule is one detector, configurable in YAML; zero fields take the
// type's defaults.
type Rule struct {
	Name      string        `yaml:"name" json:"name"`
	Type      string        `yaml:"type" json:"type"`
	Level     string        `yaml:"level" json:"level"`
	Window    time.Duration `yaml:"window" json:"window"`
	Baseline  time.Duration `yaml:"baseline" json:"baseline,omitempty"`
	Threshold float64       `yaml:"threshold" json:"threshold"`
	Factor    float64       `yaml:"factor" json:"factor,omitempty"`
	MinEvents int           `yaml:"min_events" json:"min_events,omitempty"`
	Field     string        `yaml:"field" json:"field,omitempty"`
	Component string        `yaml:"component" json:"component,omitempty"`
	Target    time.Duration `yaml:"target" json:"target,omitempty"`
	Disabled  bool          `yaml:"disabled" json:"disabled,omitempty"`
}

// Facts are what rules need to know beyond the signals.
type Facts interface {
	// Release is the active knowledge release and when it was activated.
	Release() (id int64, activated time.Time)
	// SuspectRelease is the active release and its activation when it is
	// a new one, the likely cause of an answer-quality alert; 0 when the
	// service went back to it (a rollback): that release served well
	// before, and blaming it would roll back again, one good release
	// further, at the next quality alert.
	SuspectRelease() (id int64, activated time.Time)
	// Queue is the human queue now.
	Queue() QueueState
	// FailingChannels maps each failing notification channel to its error.
	FailingChannels() map[string]string
	// Epoch is when the service last changed on purpose (a release
	// activated, the posture changed): answer-quality windows start
	// there, since what customers saw before says nothing about now.
	Epoch() time.Time
}

// BackupFacts is what the backup rule reads: the Facts of a server that
// takes scheduled backups implement it too.
type BackupFacts interface {
	// BackupFailure is why the last scheduled backup or its verification
	// failed; "" when it succeeded, or none has run yet.
	BackupFailure() string
}

// SpoolFacts is what the spool_rejected rule reads: the Facts of a server
// whose conversation writes go through the spool implement it too.
type SpoolFacts interface {
	// SpoolRejected is how many writes the spool set aside as impossible
	// to replay, and the file that holds them (0 once an operator moved
	// it away); an error if the file is there but cannot be read.
	SpoolRejected() (writes int, file string, err error)
}

// QueueState is the human queue as the forecast sees it.
type QueueState struct {
	Length     int
	OldestWait time.Duration
	Agents     int
}

// DefaultRules are the detectors Steward runs unless configured otherwise.
// Short windows keep detection within seconds; MinEvents keeps a quiet
// night from paging on one bad turn.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "bot_errors", Type: RuleErrorRate, Level: LevelCritical, Window: 15 * time.Second, Threshold: 0.05, MinEvents: 5},
		{Name: "slow_turns", Type: RuleLatency, Level: LevelWarning, Window: 15 * time.Second, Threshold: 1.5, MinEvents: 5},
		{Name: "store_write_failures", Type: RuleWriteFailures, Level: LevelCritical, Window: 15 * time.Second, Threshold: 0.05, MinEvents: 3},
		{Name: "component_down", Type: RuleProbe, Component: "store", Level: LevelCritical, Window: 10 * time.Second, Threshold: 0.3, MinEvents: 3},
		{Name: "component_down", Type: RuleProbe, Component: "nlu", Level: LevelCritical, Window: 10 * time.Second, Threshold: 0.3, MinEvents: 3},
		{Name: "component_slow", Type: RuleProbeLatency, Component: "store", Level: LevelWarning, Window: 10 * time.Second, Threshold: 1, MinEvents: 3},
		{Name: "component_slow", Type: RuleProbeLatency, Component: "nlu", Level: LevelWarning, Window: 10 * time.Second, Threshold: 0.5, MinEvents: 3},
		// Several nodes: one whose clock is off the database server's (the
		// "clock" probe, most of a minute).
		{Name: "clock_skew", Type: RuleProbe, Component: "clock", Level: LevelWarning, Window: time.Minute, Threshold: 0.5, MinEvents: 10},
		// The language model (llm, optional): each question put to it, or
		// left unasked because its breaker is open, is a probe. Its failing
		// costs generated answers, not service (the bot's own flow answers
		// instead), so it warns and nothing more.
		{Name: "llm_failing", Type: RuleProbe, Component: "llm", Level: LevelWarning, Window: time.Minute, Threshold: 0.5, MinEvents: 5},
		// With llm.fallback, the primary model's own calls: it is down
		// while the fallback answers, which the questions do not show. A
		// window of 12 s, not a minute: it fires once half of a window's
		// calls fail, so a minute of good calls before an outage held the
		// warning back 30 s (the llm-primary-outage drill, with 12 s of
		// calls before its fault, heard of it after 11 s; now 6 to 8);
		// three calls are enough, the three failures in a row that open
		// the primary's breaker and leave it alone for 30 s.
		{Name: "llm_failing", Type: RuleProbe, Component: "llm.primary", Level: LevelWarning, Window: 12 * time.Second, Threshold: 0.5, MinEvents: 3},
		{Name: "answer_rate_drop", Type: RuleDrop, Field: "answer_rate", Level: LevelWarning, Window: 20 * time.Second, Baseline: 10 * time.Minute, Threshold: 0.2, MinEvents: 10},
		{Name: "confidence_drop", Type: RuleDrop, Field: "confidence", Level: LevelWarning, Window: 20 * time.Second, Baseline: 10 * time.Minute, Threshold: 0.2, MinEvents: 10},
		{Name: "fallback_surge", Type: RuleSurge, Field: "fallback", Level: LevelWarning, Window: 30 * time.Second, Baseline: 10 * time.Minute, Threshold: 0.3, Factor: 2, MinEvents: 10},
		{Name: "handoff_surge", Type: RuleSurge, Field: "handoff", Level: LevelInfo, Window: 60 * time.Second, Baseline: 10 * time.Minute, Threshold: 0.3, Factor: 2, MinEvents: 10},
		{Name: "negative_emotion", Type: RuleSurge, Field: "negative", Level: LevelWarning, Window: 60 * time.Second, Baseline: 10 * time.Minute, Threshold: 0.25, Factor: 2, MinEvents: 10},
		{Name: "low_ratings", Type: RuleCount, Field: "low_ratings", Level: LevelWarning, Window: 2 * time.Minute, Threshold: 3},
		{Name: "wrong_answer_flags", Type: RuleCount, Field: "flags", Level: LevelWarning, Window: 2 * time.Minute, Threshold: 3},
		{Name: "traffic_flood", Type: RuleFlood, Level: LevelWarning, Window: 10 * time.Second, Baseline: 10 * time.Minute, Threshold: 50, Factor: 5},
		{Name: "queue_wait_forecast", Type: RuleQueueForecast, Level: LevelWarning, Window: 5 * time.Minute, Threshold: 600, Target: 5 * time.Minute},
		{Name: "notifier_failing", Type: RuleNotifier, Level: LevelWarning},
		{Name: "backup_failed", Type: RuleBackup, Level: LevelWarning},
		// Customers were told these messages were kept, and they are not
		// in the database: someone must read the file. It lasts until the
		// file is moved away.
		{Name: "spool_rejected", Type: RuleSpoolRejected, Level: LevelWarning},
	}
}

// Validate checks a configured rule.
func (r Rule) Validate() error {
	if r.Name == "" {
		return fmt.Errorf("a rule needs a name")
	}
	switch r.Level {
	case LevelInfo, LevelWarning, LevelCritical:
	default:
		return fmt.Errorf("rule %s: level must be info, warning or critical, not %q", r.Name, r.Level)
	}
	switch r.Type {
	case RuleErrorRate, RuleLatency, RuleWriteFailures, RuleFlood, RuleQueueForecast, RuleNotifier, RuleBackup, RuleSpoolRejected:
	case RuleProbe, RuleProbeLatency:
		if r.Component == "" {
			return fmt.Errorf("rule %s: a %s rule needs a component", r.Name, r.Type)
		}
	case RuleDrop:
		if r.Field != "answer_rate" && r.Field != "confidence" {
			return fmt.Errorf("rule %s: a drop rule's field is answer_rate or confidence, not %q", r.Name, r.Field)
		}
	case RuleSurge:
		if r.Field != "fallback" && r.Field != "handoff" && r.Field != "negative" {
			return fmt.Errorf("rule %s: a surge rule's field is fallback, handoff or negative, not %q", r.Name, r.Field)
		}
	case RuleCount:
		if r.Field != "low_ratings" && r.Field != "flags" {
			return fmt.Errorf("rule %s: a count rule's field is low_ratings or flags, not %q", r.Name, r.Field)
		}
	default:
		return fmt.Errorf("rule %s: unknown type %q", r.Name, r.Type)
	}
	if r.Type != RuleNotifier && r.Type != RuleQueueForecast && r.Type != RuleBackup && r.Type != RuleSpoolRejected && r.Window <= 0 {
		return fmt.Errorf("rule %s: window must be positive", r.Name)
	}
	if r.Window > 6*time.Hour || r.Baseline > 6*time.Hour {
		return fmt.Errorf("rule %s: windows are at most 6h", r.Name)
	}
	// A threshold no figure can pass (NaN, an infinity) turned the rule
	// off without a word: comparisons with NaN are all false. (A negative
	// one fires whenever the rule has its events, which is a choice.)
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		return fmt.Errorf("rule %s: threshold must be a number, not %v", r.Name, r.Threshold)
	}
	if math.IsNaN(r.Factor) || math.IsInf(r.Factor, 0) {
		return fmt.Errorf("rule %s: factor must be a number, not %v", r.Name, r.Factor)
	}
	if r.MinEvents < 0 {
		return fmt.Errorf("rule %s: min_events must be at least 0, not %d", r.Name, r.MinEvents)
	}
	if r.Type == RuleFlood && r.Baseline <= r.Window {
		// The baseline is the time before the window: none, and every
		// source's limit was not a number, which every rate passed.
		return fmt.Errorf("rule %s: a flood rule's baseline (%s) must be longer than its window (%s)", r.Name, r.Baseline, r.Window)
	}
	return nil
}

// MergeRules overlays configured rules on the defaults: a rule with the
// name (and component) of a default replaces it, others are added.
func MergeRules(defaults, configured []Rule) []Rule {
	out := slices.Clone(defaults)
	for _, c := range configured {
		i := slices.IndexFunc(out, func(d Rule) bool { return d.Name == c.Name && d.Component == c.Component })
		if i < 0 {
			out = append(out, c)
			continue
		}
		d := out[i]
		if c.Type == "" {
			c.Type = d.Type
		}
		if c.Level == "" {
			c.Level = d.Level
		}
		if c.Window == 0 {
			c.Window = d.Window
		}
		if c.Baseline == 0 {
			c.Baseline = d.Baseline
		}
		if c.Threshold == 0 {
			c.Threshold = d.Threshold
		}
		if c.Factor == 0 {
			c.Factor = d.Factor
		}
		if c.MinEvents == 0 {
			c.MinEvents = d.MinEvents
		}
		if c.Field == "" {
			c.Field = d.Field
		}
		if c.Target == 0 {
			c.Target = d.Target
		}
		out[i] = c
	}
	return out
}

func (r Rule) alert(labels map[string]string, value float64, en, zh string) Alert {
	l := map[string]string{"alertname": r.Name}
	for k, v := range labels {
		l[k] = v
	}
	return Alert{Labels: l, Level: r.Level, Value: roundTo(value, 4), Threshold: r.Threshold, Summary: en, SummaryZH: zh}
}

func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

// eval returns the alerts the rule finds at now.
func (r Rule) eval(m *Monitor, now time.Time) []Alert {
	switch r.Type {
	case RuleErrorRate:
		c := m.Window(now, r.Window)
		total := c.All.Turns + c.All.Diverted
		if total >= r.MinEvents && ratio(c.All.Errors, total) > r.Threshold {
			v := ratio(c.All.Errors, total)
			a := r.alert(map[string]string{"component": "bot"}, v,
				fmt.Sprintf("%s of bot turns failed in the last %s", pct(v), r.Window),
				fmt.Sprintf("最近 %s 内 %s 的机器人回复失败", DurationZH(r.Window), pct(v)))
			a.ImpactFrom = m.FirstBad(now, r.Window, func(c *Counts) bool { return c.All.Errors > 0 })
			return []Alert{a}
		}
	case RuleLatency:
		c := m.Window(now, r.Window)
		if c.All.Turns+c.All.Diverted >= r.MinEvents {
			if p95 := c.Latency.Quantile(0.95); p95 > r.Threshold {
				a := r.alert(map[string]string{"component": "bot"}, p95,
					fmt.Sprintf("p95 turn latency %.2fs over the last %s (limit %.2fs)", p95, r.Window, r.Threshold),
					fmt.Sprintf("最近 %s 回复延迟 p95 为 %.2f 秒（上限 %.2f 秒）", DurationZH(r.Window), p95, r.Threshold))
				a.ImpactFrom = m.FirstBad(now, r.Window, func(c *Counts) bool { return c.Latency.Quantile(0.95) > r.Threshold })
				return []Alert{a}
			}
		}
	case RuleWriteFailures:
		c := m.Window(now, r.Window)
		if c.WriteFails >= r.MinEvents && ratio(c.WriteFails, c.Writes) > r.Threshold {
			v := ratio(c.WriteFails, c.Writes)
			a := r.alert(map[string]string{"component": "store"}, v,
				fmt.Sprintf("%s of store writes failed in the last %s (messages are kept in the local spool)", pct(v), r.Window),
				fmt.Sprintf("最近 %s 内 %s 的数据库写入失败（消息已暂存本地）", DurationZH(r.Window), pct(v)))
			a.ImpactFrom = m.FirstBad(now, r.Window, func(c *Counts) bool { return c.WriteFails > 0 })
			return []Alert{a}
		}
	case RuleProbe:
		c := m.Window(now, r.Window)
		var out []Alert
		// A probe of one node's own ("clock@node": its clock against the
		// database server's) is judged per node: summed over the nodes,
		// one skewed node of two made exactly half the failures, never
		// more, and clock_skew could not fire.
		for _, key := range probeKeys(c, r.Component) {
			p := c.Probes[key]
			if p.OK+p.Failed < r.MinEvents || ratio(p.Failed, p.OK+p.Failed) <= r.Threshold {
				continue
			}
			v := ratio(p.Failed, p.OK+p.Failed)
			labels, on, onZH := map[string]string{"component": r.Component}, "", ""
			if _, node, ok := strings.Cut(key, "@"); ok {
				labels["node"], on, onZH = node, " on node "+node, "（节点 "+node+"）"
			}
			a := r.alert(labels, v,
				fmt.Sprintf("%s is failing its health checks%s (%s failed in %s)", r.Component, on, pct(v), r.Window),
				fmt.Sprintf("%s%s 健康检查失败（%s 内失败 %s）", componentZH(r.Component), onZH, DurationZH(r.Window), pct(v)))
			a.ImpactFrom = m.FirstBad(now, r.Window, func(c *Counts) bool { p := c.Probes[key]; return p != nil && p.Failed > 0 })
			out = append(out, a)
		}
		if len(out) > 0 {
			return out
		}
	case RuleProbeLatency:
		c := m.Window(now, r.Window)
		p := c.Probes[r.Component]
		// A probe a second gives a window of ten or so, whose p95 is its
		// slowest: one stall (a pause, one slow fsync) is not a slow
		// component, and it sent every customer to people. Two are.
		if p != nil && p.OK+p.Failed >= r.MinEvents && p.Latency.Over(r.Threshold) >= minSlowProbes {
			if p95 := p.Latency.Quantile(0.95); p95 > r.Threshold {
				a := r.alert(map[string]string{"component": r.Component}, p95,
					fmt.Sprintf("%s is slow: p95 %.2fs over %s (limit %.2fs)", r.Component, p95, r.Window, r.Threshold),
					fmt.Sprintf("%s 响应变慢：%s 内 p95 为 %.2f 秒（上限 %.2f 秒）", componentZH(r.Component), DurationZH(r.Window), p95, r.Threshold))
				a.ImpactFrom = m.FirstBad(now, r.Window, func(c *Counts) bool {
					p := c.Probes[r.Component]
					return p != nil && p.Latency.Quantile(0.95) > r.Threshold
				})
				return []Alert{a}
			}
		}
	case RuleDrop:
		return r.evalDrop(m, now)
	case RuleSurge:
		return r.evalSurge(m, now)
	case RuleCount:
		return r.evalCount(m, now)
	case RuleFlood:
		return r.evalFlood(m, now)
	case RuleQueueForecast:
		return r.evalQueue(m, now)
	case RuleNotifier:
		if m.opts.Facts == nil {
			return nil
		}
		var out []Alert
		for name, msg := range m.opts.Facts.FailingChannels() {
			out = append(out, r.alert(map[string]string{"component": "notify", "channel": name}, 1,
				fmt.Sprintf("notification channel %s is failing: %s", name, msg),
				fmt.Sprintf("通知渠道 %s 发送失败：%s", name, msg)))
		}
		return out
	case RuleBackup:
		f, ok := m.opts.Facts.(BackupFacts)
		if !ok {
			return nil
		}
		if msg := f.BackupFailure(); msg != "" {
			return []Alert{r.alert(map[string]string{"component": "backup"}, 1,
				"the scheduled backup failed: "+msg, "定时备份失败："+msg)}
		}
	case RuleSpoolRejected:
		f, ok := m.opts.Facts.(SpoolFacts)
		if !ok {
			return nil
		}
		n, file, err := f.SpoolRejected()
		if err != nil {
			return []Alert{r.alert(map[string]string{"component": "store"}, 1,
				fmt.Sprintf("the spool's file of writes it could not replay cannot be read: %v", err),
				fmt.Sprintf("无法读取本地暂存中无法补写的消息文件：%v", err))}
		}
		if n > 0 {
			return []Alert{r.alert(map[string]string{"component": "store"}, float64(n),
				fmt.Sprintf("%d acknowledged customer writes could not be replayed into the database and are set aside in %s: read them, then move the file away", n, file),
				fmt.Sprintf("%d 条已确认的客户消息无法补写入数据库，已另存于 %s：请查看后移走该文件", n, file))}
		}
	}
	return nil
}

func componentZH(c string) string {
	switch c {
	case "store":
		return "数据库"
	case "nlu":
		return "语义理解"
	case "knowledge":
		return "知识库"
	case "notify":
		return "通知"
	case "backup":
		return "备份"
	case "llm":
		return "大语言模型"
	case "llm.primary":
		return "主用大语言模型"
	case "clock":
		return "时钟"
	}
	return c
}

// groups returns "all" and each category of c with its counts.
func groups(c *Counts) map[string]Group {
	out := map[string]Group{"all": c.All}
	for name, g := range c.Categories {
		out[name] = *g
	}
	return out
}

// qualityWindow sums the quality signals of the last r.Window, from the
// epoch on if it is more recent.
func (r Rule) qualityWindow(m *Monitor, now time.Time) Counts {
	from := now.Add(-r.Window)
	if m.opts.Facts != nil {
		if e := m.opts.Facts.Epoch(); e.After(from) {
			// An epoch after now is a posture change made since this
			// evaluation took its time (the controller runs beside it):
			// nothing has happened since it. Ignoring it counted the whole
			// window, what the change had just put behind it, and the
			// alerts fired again the moment the service went back to
			// normal (the quality-drop drill flapped).
			from = e
			if e.After(now) {
				from = now
			}
		}
	}
	return m.Between(from, now)
}

// probeKeys returns the probe counts of component in c: its own, and each
// node's ("component@node"), in order.
func probeKeys(c Counts, component string) []string {
	var keys []string
	for k := range c.Probes {
		if k == component || strings.HasPrefix(k, component+"@") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// minSlowProbes is how many probes over its limit make a component slow.
const minSlowProbes = 2

// SuspectRelease is how long after its activation a release is the
// suspected cause of an answer-quality alert.
const SuspectRelease = 10 * time.Minute

// releaseLabels marks an alert on answer quality that began within
// SuspectRelease (or the rule's baseline, if longer) of the active
// release's activation: the release is the likely cause, and its playbook
// rolls back. The mark is decided when the alert begins and kept while it
// fires on under the same release: decided again at every evaluation, it
// fell away once the window passed, and the alert changed identity under
// the playbooks' feet (a ✅ resolved page while quality was still bad, a
// pending rollback's approval withdrawn, the category sent to people
// instead).
func (r Rule) releaseLabels(m *Monitor, now time.Time, labels map[string]string) map[string]string {
	if m.opts.Facts == nil {
		return labels
	}
	id, at := m.opts.Facts.SuspectRelease()
	recent := !at.IsZero() && now.Sub(at) < max(r.Baseline, SuspectRelease)
	if id > 0 && (recent || m.suspected(r.Name, labels["category"], id)) {
		labels["release"] = strconv.FormatInt(id, 10)
		labels["after_release"] = "true"
	}
	return labels
}

func (r Rule) evalDrop(m *Monitor, now time.Time) []Alert {
	win := r.qualityWindow(m, now)
	base := m.Between(now.Add(-r.Baseline), now.Add(-r.Window))
	// After a release the baseline is what was served before it.
	if m.opts.Facts != nil {
		if _, at := m.opts.Facts.Release(); !at.IsZero() && now.Sub(at) < r.Baseline && now.Sub(at) > 0 {
			base = m.Between(now.Add(-r.Baseline), at)
		}
	}
	bg := groups(&base)
	var out []Alert
	for name, g := range groups(&win) {
		b, ok := bg[name]
		if !ok || g.Turns < r.MinEvents || b.Turns < 2*r.MinEvents {
			continue
		}
		var now_, was float64
		if r.Field == "answer_rate" {
			now_, was = g.AnswerRate(), b.AnswerRate()
		} else {
			now_, was = g.MeanConfidence(), b.MeanConfidence()
		}
		if was <= 0.05 || now_ >= was*(1-r.Threshold) {
			continue
		}
		drop := 1 - now_/was
		what, whatZH := "answer rate", "回答率"
		if r.Field == "confidence" {
			what, whatZH = "mean confidence", "平均置信度"
		}
		labels := r.releaseLabels(m, now, map[string]string{"category": name})
		scope, scopeZH := "category "+name, "分类「"+name+"」"
		if name == "all" {
			scope, scopeZH = "all questions", "全部问题"
		}
		out = append(out, r.alert(labels, drop,
			fmt.Sprintf("%s of %s fell %s (%.2f → %.2f) over %s", what, scope, pct(drop), was, now_, r.Window),
			fmt.Sprintf("%s%s下降 %s（%.2f → %.2f），统计窗口 %s", scopeZH, whatZH, pct(drop), was, now_, DurationZH(r.Window))))
	}
	return out
}

func (r Rule) field(g Group) (int, int) {
	switch r.Field {
	case "fallback":
		return g.Fallback, g.Turns
	case "handoff":
		return g.Handoff + g.Offline, g.Turns
	case "negative":
		return g.Negative, g.Turns + g.Diverted
	}
	return 0, 0
}

func (r Rule) evalSurge(m *Monitor, now time.Time) []Alert {
	win := r.qualityWindow(m, now)
	base := m.Between(now.Add(-r.Baseline), now.Add(-r.Window))
	n, total := r.field(win.All)
	if total < r.MinEvents {
		return nil
	}
	v := ratio(n, total)
	limit := r.Threshold
	if bn, bt := r.field(base.All); bt >= r.MinEvents {
		limit = math.Max(limit, r.Factor*ratio(bn, bt))
	}
	if v <= limit {
		return nil
	}
	names := map[string][2]string{"fallback": {"unanswered (fallback) replies", "未能回答"}, "handoff": {"transfers to humans", "转人工"},
		"negative": {"negative customer messages", "负面情绪消息"}}[r.Field]
	return []Alert{r.alert(r.releaseLabels(m, now, map[string]string{"category": "all"}), v,
		fmt.Sprintf("%s surged to %s of turns over %s (limit %s)", names[0], pct(v), r.Window, pct(limit)),
		fmt.Sprintf("%s比例升至 %s（%s 内，上限 %s）", names[1], pct(v), DurationZH(r.Window), pct(limit)))}
}

func (r Rule) evalCount(m *Monitor, now time.Time) []Alert {
	win := r.qualityWindow(m, now)
	var out []Alert
	for name, g := range groups(&win) {
		// Feedback on what was served before the epoch is left out (it
		// came late: a customer rating a conversation that began before a
		// rollback).
		count := func(g *Group) int { return g.Flags - g.StaleFlags }
		what, whatZH := "answers flagged as wrong", "条回答被标记为错误"
		if r.Field == "low_ratings" {
			count = func(g *Group) int { return g.LowRating - g.StaleLowRating }
			what, whatZH = "low ratings (1–2 stars)", "个低分评价（1–2 星）"
		}
		n := count(&g)
		if name == "all" && len(win.Categories) > 0 {
			// A category that explains it raises its own alert; "all"
			// fires only for what no single category reaches.
			top := 0
			for _, cg := range win.Categories {
				top = max(top, count(cg))
			}
			if float64(top) >= r.Threshold {
				continue
			}
		}
		if float64(n) < r.Threshold {
			continue
		}
		out = append(out, r.alert(r.releaseLabels(m, now, map[string]string{"category": name}), float64(n),
			fmt.Sprintf("%d %s in category %s over %s", n, what, name, r.Window),
			fmt.Sprintf("分类「%s」%s 内有 %d %s", name, DurationZH(r.Window), n, whatZH)))
	}
	return out
}

// evalFlood finds the sources whose rate passes Factor × their baseline
// (and Threshold). A source that floods keeps the limit it first passed
// for as long as it floods (Monitor.floods): its baseline takes in its own
// flood, throttled messages included, and at five times the baseline a
// steady flood had raised its own limit past itself within two minutes,
// lost its alert, and with it the throttle, for good.
func (r Rule) evalFlood(m *Monitor, now time.Time) []Alert {
	win := m.Window(now, r.Window)
	base := m.Between(now.Add(-r.Baseline), now.Add(-r.Window))
	baseSecs := (r.Baseline - r.Window).Seconds()
	fired := m.floodLimits(r.Name, nil)
	flooding := map[string]float64{}
	defer m.floodLimits(r.Name, flooding)
	var out []Alert
	for src, n := range win.Sources {
		rate := float64(n) / r.Window.Seconds()
		limit := math.Max(r.Threshold, r.Factor*float64(base.Sources[src])/baseSecs)
		if prev, ok := fired[src]; ok {
			limit = math.Min(limit, prev)
		}
		if rate <= limit {
			continue
		}
		flooding[src] = limit
		a := r.alert(map[string]string{"source": src}, rate,
			fmt.Sprintf("traffic flood from source %s: %.1f messages/s (limit %.1f)", src, rate, limit),
			fmt.Sprintf("来源 %s 流量激增：每秒 %.1f 条消息（上限 %.1f）", src, rate, limit))
		a.Threshold = roundTo(limit, 2) // the throttle holds the source to it
		out = append(out, a)
	}
	return out
}

// evalQueue forecasts the human queue: at the current arrival rate λ and
// service rate μ (per second, over Window), the wait of a newcomer is
// about length/μ; it grows by (λ−μ)/μ per second. The rule warns when it
// will pass Target within Threshold seconds (or already has).
func (r Rule) evalQueue(m *Monitor, now time.Time) []Alert {
	if m.opts.Facts == nil {
		return nil
	}
	q := m.opts.Facts.Queue()
	if q.Length == 0 {
		return nil
	}
	win := m.Window(now, r.Window)
	secs := r.Window.Seconds()
	lambda := float64(win.Queued) / secs
	mu := float64(win.Served) / secs
	target := r.Target.Seconds()
	var eta float64 // seconds until the wait passes the target
	switch {
	case q.OldestWait.Seconds() >= target:
		eta = 0
	case mu == 0 && q.Agents == 0:
		eta = math.Max(0, target-q.OldestWait.Seconds())
	case mu == 0:
		return nil // agents online but nothing served yet: no rate to forecast from
	default:
		wait := float64(q.Length) / mu
		if wait >= target {
			eta = 0
		} else if lambda > mu {
			eta = (target - wait) / ((lambda - mu) / mu)
		} else {
			return nil
		}
	}
	if eta > r.Threshold {
		return nil
	}
	return []Alert{r.alert(map[string]string{"component": "desk"}, eta,
		fmt.Sprintf("queue wait will pass %s in about %.0f minutes (%d waiting, %d agents online)", r.Target, eta/60, q.Length, q.Agents),
		fmt.Sprintf("预计约 %.0f 分钟后排队等待将超过 %s（%d 人排队，%d 名客服在线）", eta/60, DurationZH(r.Target), q.Length, q.Agents))}
}
