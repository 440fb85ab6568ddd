package monitor

import (
	"fmt"
	"time"
)

// SLO sources.
const (
	SLOTurns  = "turns"  // bot turns that did not fail
	SLOWrites = "writes" // customer messages written to the store within their turn
)

// SLO is a service-level objective with multiwindow burn-rate alerts.
type SLO struct {
	Name      string  `yaml:"name" json:"name"`
	Source    string  `yaml:"source" json:"source"`
	Objective float64 `yaml:"objective" json:"objective"` // e.g. 0.995
}

// BurnWindow is one multiwindow burn-rate condition: the error budget burns
// faster than Factor over both Long and Short (Google SRE workbook, ch. 5).
type BurnWindow struct {
	Long, Short time.Duration
	Factor      float64
	Level       string
}

// BurnWindows are the workbook's page and ticket conditions: 2 % of a
// 30-day budget in an hour, 5 % in six hours.
var BurnWindows = []BurnWindow{
	{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Level: LevelCritical},
	{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6, Level: LevelWarning},
}

// DefaultSLOs are "bot turn succeeded" and "customer message persisted".
func DefaultSLOs() []SLO {
	return []SLO{
		{Name: "bot_turn_success", Source: SLOTurns, Objective: 0.995},
		{Name: "message_persisted", Source: SLOWrites, Objective: 0.999},
	}
}

// Validate checks a configured SLO.
func (s SLO) Validate() error {
	if s.Name == "" || (s.Source != SLOTurns && s.Source != SLOWrites) {
		return fmt.Errorf("slo %q: needs a name and source turns or writes", s.Name)
	}
	if !(s.Objective > 0 && s.Objective < 1) { // NaN too: its burn rate was NaN, and never fired
		return fmt.Errorf("slo %s: objective must be between 0 and 1 (e.g. 0.995)", s.Name)
	}
	return nil
}

// errorRatio is the bad share of events in c, and the number of events.
func (s SLO) errorRatio(c *Counts) (float64, int) {
	if s.Source == SLOWrites {
		// Each write once, at its turn: a spooled write is bad, those
		// spooled behind it (never tried on the store) included, and its
		// replay is not a good write (the store's attempts, WriteFails
		// over Writes, counted neither right).
		return ratio(c.PersistFails, c.Persisted), c.Persisted
	}
	total := c.All.Turns + c.All.Diverted
	return ratio(c.All.Errors, total), total
}

// BurnRate is how many times faster than sustainable the budget burns
// over the last d.
func (s SLO) BurnRate(m *Monitor, now time.Time, d time.Duration) float64 {
	c := m.Window(now, d)
	r, _ := s.errorRatio(&c)
	return r / (1 - s.Objective)
}

func (s SLO) eval(m *Monitor, now time.Time) []Alert {
	var found []Alert
	for _, w := range BurnWindows {
		long, short := s.BurnRate(m, now, w.Long), s.BurnRate(m, now, w.Short)
		if m.opts.Metrics != nil {
			// Every window's gauge, even once a page-level alert is found:
			// the dashboards' 30 m and 6 h burn froze while it fired.
			m.opts.Metrics.setBurn(s.Name, w.Short, short)
			m.opts.Metrics.setBurn(s.Name, w.Long, long)
		}
		if found == nil && long > w.Factor && short > w.Factor {
			// The page-level condition covers the ticket one.
			found = []Alert{{Labels: map[string]string{"alertname": "slo_burn", "slo": s.Name, "window": w.Long.String()},
				Level: w.Level, Value: roundTo(short, 2), Threshold: w.Factor,
				Summary: fmt.Sprintf("SLO %s: error budget burning %.1f× (%s) and %.1f× (%s), limit %.1f×",
					s.Name, long, w.Long, short, w.Short, w.Factor),
				SummaryZH: fmt.Sprintf("SLO %s：错误预算消耗速度 %.1f 倍（%s）与 %.1f 倍（%s），上限 %.1f 倍",
					s.Name, long, DurationZH(w.Long), short, DurationZH(w.Short), w.Factor)}}
		}
	}
	return found
}
