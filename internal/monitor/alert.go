package monitor

import (
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// Alert levels, shown as 一般 / 重要 / 紧急.
const (
	LevelInfo     = "info"
	LevelWarning  = "warning"
	LevelCritical = "critical"
)

// LevelNames are the levels' names in Chinese.
var LevelNames = map[string]string{LevelInfo: "一般", LevelWarning: "重要", LevelCritical: "紧急"}

// Alert statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Alert is a condition a rule found. Its identity is its labels: the same
// rule over the same labels is the same alert however often it is seen.
type Alert struct {
	// Labels always hold "alertname" (the rule) and "level"; others narrow
	// it (category, component, source, slo, window).
	Labels      map[string]string `json:"labels"`
	Level       string            `json:"level"`
	Summary     string            `json:"summary"`
	SummaryZH   string            `json:"summary_zh"`
	Value       float64           `json:"value"`
	Threshold   float64           `json:"threshold"`
	Status      string            `json:"status"`
	Fingerprint string            `json:"fingerprint"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      time.Time         `json:"ends_at,omitzero"` // set once resolved
	// ImpactFrom, when the rule can tell, is the start of the first second
	// of its window in which the bad signal showed (the first failed turn,
	// the first failed probe): customers were affected from then, before
	// the window as a whole crossed the threshold at StartsAt.
	ImpactFrom time.Time `json:"impact_from,omitzero"`
	// Silenced holds the ids of the silences muting it; Inhibited names
	// the fingerprints of the alerts inhibiting it. Either mutes its
	// notifications, never its playbook.
	Silenced  []string `json:"silenced,omitempty"`
	Inhibited []string `json:"inhibited,omitempty"`
}

// Name is the alert's rule.
func (a *Alert) Name() string { return a.Labels["alertname"] }

// Muted reports whether the alert is silenced or inhibited.
func (a *Alert) Muted() bool { return len(a.Silenced) > 0 || len(a.Inhibited) > 0 }

// Fingerprint hashes a label set, independent of its order.
func Fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// LevelRank orders levels: info 1, warning 2, critical 3, unknown 0.
func LevelRank(level string) int { return alertLevelRank(level) }
