package incident

import (
	"fmt"
	"strings"

	"github.com/steward-cs/steward/internal/monitor"
)

// Playbook actions.
const (
	ActionLevel1   = "level1"   // degrade a scope: a person or the fallback flow
	ActionLevel2   = "level2"   // roll back to the last good release, bot for VIP customers only
	ActionLevel3   = "level3"   // disaster recovery: the minimal release
	ActionThrottle = "throttle" // limit the flooding source
	ActionNotify   = "notify"   // tell people, change nothing
)

// Playbook maps alerts to an action. The first playbook whose matchers
// all match an alert decides what it does.
type Playbook struct {
	Name  string   `yaml:"name" json:"name"`
	Match []string `yaml:"match" json:"match"` // Alertmanager-style matchers: alertname="bot_errors", component=~"nlu|store"
	// Action is level1, level2, level3, throttle or notify.
	Action string `yaml:"action" json:"action"`
	// Scope of a level1 action: all, or category (the alert's category
	// label; "all" there means everything).
	Scope string `yaml:"scope" json:"scope,omitempty"`
	// Human: a level1 scope goes to a person (else the fallback flow).
	Human bool `yaml:"human" json:"human,omitempty"`
	// Approval: auto (default) acts at once; ask waits for a person.
	Approval string `yaml:"approval" json:"approval,omitempty"`
	// Recovery: auto (default) steps back after the hold; confirm waits
	// for a person.
	Recovery string `yaml:"recovery" json:"recovery,omitempty"`
	// OpenIncident opens an incident even for a notify action (critical
	// alerts always do).
	OpenIncident bool `yaml:"open_incident" json:"open_incident,omitempty"`

	matchers []monitor.Matcher
}

// Action is what a playbook asks for one alert.
type Action struct {
	Playbook   string  `json:"playbook"`
	Kind       string  `json:"kind"`
	Alert      string  `json:"alert"` // fingerprint
	AlertName  string  `json:"alertname"`
	Posture    Posture `json:"posture"`
	Ask        bool    `json:"ask,omitempty"`
	Confirm    bool    `json:"confirm,omitempty"`
	Summary    string  `json:"summary"`
	SummaryZH  string  `json:"summary_zh"`
	alertLevel string
}

// Compile parses and checks the playbook.
func (p *Playbook) Compile() error {
	if p.Name == "" {
		return fmt.Errorf("a playbook needs a name")
	}
	p.matchers = p.matchers[:0]
	for _, s := range p.Match {
		m, err := monitor.ParseMatcher(s)
		if err != nil {
			return fmt.Errorf("playbook %s: %w", p.Name, err)
		}
		p.matchers = append(p.matchers, m)
	}
	switch p.Action {
	case ActionLevel1, ActionLevel2, ActionLevel3, ActionThrottle, ActionNotify:
	default:
		return fmt.Errorf("playbook %s: action must be level1, level2, level3, throttle or notify, not %q", p.Name, p.Action)
	}
	switch p.Scope {
	case "", "all", "category":
	default:
		return fmt.Errorf("playbook %s: scope must be all or category, not %q", p.Name, p.Scope)
	}
	switch p.Approval {
	case "", "auto", "ask":
	default:
		return fmt.Errorf("playbook %s: approval must be auto or ask, not %q", p.Name, p.Approval)
	}
	switch p.Recovery {
	case "", "auto", "confirm":
	default:
		return fmt.Errorf("playbook %s: recovery must be auto or confirm, not %q", p.Name, p.Recovery)
	}
	return nil
}

func (p *Playbook) matches(a *monitor.Alert) bool {
	for _, m := range p.matchers {
		if !m.Matches(a.Labels) {
			return false
		}
	}
	return true
}

// action is what p does about a.
func (p *Playbook) action(a *monitor.Alert) Action {
	act := Action{Playbook: p.Name, Kind: p.Action, Alert: a.Fingerprint, AlertName: a.Name(), Ask: p.Approval == "ask",
		Confirm: p.Recovery == "confirm", Summary: a.Summary, SummaryZH: a.SummaryZH, alertLevel: a.Level}
	switch p.Action {
	case ActionLevel1:
		act.Posture = Posture{Level: Level1, Human: p.Human, All: true}
		if cat := a.Labels["category"]; p.Scope == "category" && cat != "" && cat != "all" {
			act.Posture.All, act.Posture.Categories = false, []string{cat}
		}
	case ActionLevel2:
		act.Posture = Posture{Level: Level2}
	case ActionLevel3:
		act.Posture = Posture{Level: Level3}
	case ActionThrottle:
		if src := a.Labels["source"]; src != "" {
			act.Posture = Posture{Throttle: map[string]float64{src: max(a.Threshold, 1)}}
		}
	}
	return act
}

// DefaultPlaybooks are what Steward does unless configured otherwise.
func DefaultPlaybooks() []Playbook {
	quality := `alertname=~"answer_rate_drop|confidence_drop|fallback_surge|wrong_answer_flags|low_ratings"`
	return []Playbook{
		{Name: "store-trouble", Match: []string{`component="store"`, `alertname=~"store_write_failures|component_down|component_slow"`}, Action: ActionLevel3},
		{Name: "nlu-trouble", Match: []string{`component="nlu"`}, Action: ActionLevel1, Scope: "all", Human: true},
		{Name: "bot-failing", Match: []string{`alertname=~"bot_errors|slow_turns"`}, Action: ActionLevel1, Scope: "all", Human: true},
		{Name: "bad-release", Match: []string{quality, `after_release="true"`}, Action: ActionLevel2},
		// A drop in one category goes to people; a drop across everything
		// with no release behind it (a new topic, a burst of nonsense) is
		// reported: handing every customer to the desk would drown it.
		{Name: "quality-drop", Match: []string{`alertname=~"answer_rate_drop|confidence_drop|wrong_answer_flags|low_ratings"`,
			`category!="all"`}, Action: ActionLevel1, Scope: "category", Human: true},
		// The default source "web" is every anonymous widget customer at
		// once: a spike there is demand (a sale, an outage elsewhere), not
		// an attack to throttle. It is reported; per-client limits and the
		// queue forecast handle it.
		{Name: "flood", Match: []string{`alertname="traffic_flood"`, `source!="web"`}, Action: ActionThrottle},
		{Name: "notifier", Match: []string{`alertname="notifier_failing"`}, Action: ActionNotify, OpenIncident: true},
		{Name: "slo-burn", Match: []string{`alertname="slo_burn"`}, Action: ActionNotify},
		{Name: "everything-else", Match: nil, Action: ActionNotify},
	}
}

// MergePlaybooks puts configured playbooks before the defaults (so they
// win), replacing defaults of the same name.
func MergePlaybooks(defaults, configured []Playbook) []Playbook {
	names := map[string]bool{}
	out := append([]Playbook(nil), configured...)
	for _, p := range configured {
		names[p.Name] = true
	}
	for _, d := range defaults {
		if !names[d.Name] {
			out = append(out, d)
		}
	}
	return out
}

func describeActions(acts []Action) string {
	var parts []string
	for _, a := range acts {
		parts = append(parts, a.Playbook+":"+a.Kind)
	}
	return strings.Join(parts, ", ")
}
