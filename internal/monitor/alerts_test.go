package monitor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/store"
)

// alert is a condition as a rule reports it. extra are label pairs.
func alert(name, level string, extra ...string) monitor.Alert {
	labels := map[string]string{"alertname": name, "level": level}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return monitor.Alert{Labels: labels, Level: level, Summary: name}
}

// alertID names an alert in expectations: its alertname, and its category
// when it has one.
func alertID(a monitor.Alert) string {
	if c := a.Labels["category"]; c != "" {
		return a.Name() + "/" + c
	}
	return a.Name()
}

// describe writes a notification as "firing[a b -c]": the group's status,
// then its alerts by name, firing ones first, resolved ones with a minus.
func describe(g monitor.AlertGroup) string {
	var firing, resolved []string
	for _, a := range g.Alerts {
		if a.Status == monitor.StatusResolved {
			resolved = append(resolved, "-"+alertID(a))
		} else {
			if len(resolved) > 0 {
				return "firing after resolved: " + g.Key
			}
			firing = append(firing, alertID(a))
		}
	}
	slices.Sort(firing)
	slices.Sort(resolved)
	return g.Status + "[" + strings.Join(append(firing, resolved...), " ") + "]"
}

func matchers(t testing.TB, ss ...string) []monitor.Matcher {
	t.Helper()
	out := make([]monitor.Matcher, len(ss))
	for i, s := range ss {
		m, err := monitor.ParseMatcher(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness records what a manager tells its callbacks.
type harness struct {
	m       *monitor.Manager
	mu      sync.Mutex
	notes   []monitor.AlertGroup
	changes []string // "+a" firing, "-a" resolved
}

func newHarness(opts monitor.ManagerOptions) *harness {
	h := &harness{}
	opts.Logger = quietLogger()
	opts.Notify = func(g monitor.AlertGroup) {
		h.m.Active() // callbacks run outside the lock: this must not deadlock
		h.mu.Lock()
		h.notes = append(h.notes, g)
		h.mu.Unlock()
	}
	opts.OnChange = func(a monitor.Alert) {
		h.m.Recent(1)
		sign := "+"
		if a.Status == monitor.StatusResolved {
			sign = "-"
		}
		h.mu.Lock()
		h.changes = append(h.changes, sign+alertID(a))
		h.mu.Unlock()
	}
	h.m = monitor.NewManager(opts)
	return h
}

// take returns and forgets what was recorded.
func (h *harness) take() (notes, changes []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, g := range h.notes {
		notes = append(notes, describe(g))
	}
	changes = h.changes
	h.notes, h.changes = nil, nil
	return notes, changes
}

func active(m *monitor.Manager, id string) (monitor.Alert, bool) {
	for _, a := range m.Active() {
		if alertID(a) == id {
			return a, true
		}
	}
	return monitor.Alert{}, false
}

// step is one Evaluate at t0+at with the conditions firing; do runs just
// before it, check just after.
type step struct {
	at      time.Duration
	firing  []monitor.Alert
	do      func(t *testing.T, m *monitor.Manager, now time.Time)
	notes   []string // notifications sent by this Evaluate, in order
	changes []string // transitions told to OnChange, in order
	check   func(t *testing.T, m *monitor.Manager, t0 time.Time)
}

func TestAlertScenarios(t *testing.T) {
	a := alert("a", monitor.LevelWarning)
	b := alert("b", monitor.LevelCritical)
	pay := alert("x", monitor.LevelWarning, "category", "pay")
	ship := alert("x", monitor.LevelCritical, "category", "ship")
	noResolved := false

	storeDown := alert("store_unavailable", monitor.LevelCritical)
	errRate := alert("error_rate", monitor.LevelCritical, "category", "pay")
	lowConf := alert("low_confidence", monitor.LevelWarning, "category", "pay")
	kbGap := alert("kb_gap", monitor.LevelInfo)
	catDown := alert("category_down", monitor.LevelCritical, "category", "pay")
	lowConfShip := alert("low_confidence", monitor.LevelWarning, "category", "ship")

	storeInhibits := func(t testing.TB) []monitor.InhibitRule {
		return []monitor.InhibitRule{
			{Source: matchers(t, `alertname="store_unavailable"`), Target: matchers(t, `level=~"warning|info"`)},
			{Source: matchers(t, `alertname="store_unavailable"`), Target: matchers(t, `alertname="error_rate"`)},
		}
	}
	categoryInhibits := func(t testing.TB) []monitor.InhibitRule {
		return []monitor.InhibitRule{{Source: matchers(t, `alertname="category_down"`),
			Target: matchers(t, `alertname="low_confidence"`), Equal: []string{"category"}}}
	}
	silence := func(ms string, d time.Duration, comment string) func(*testing.T, *monitor.Manager, time.Time) {
		return func(t *testing.T, m *monitor.Manager, now time.Time) {
			if _, err := m.AddSilence(context.Background(), monitor.Silence{Matchers: matchers(t, ms), Comment: comment,
				CreatedBy: "ops", StartsAt: now, EndsAt: now.Add(d)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	expire := func(comment string) func(*testing.T, *monitor.Manager, time.Time) {
		return func(t *testing.T, m *monitor.Manager, now time.Time) {
			list, err := m.Silences(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range list {
				if s.Comment == comment {
					if err := m.ExpireSilence(context.Background(), s.ID, now); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
			t.Fatalf("no silence %q", comment)
		}
	}
	startsAt := func(id string, at time.Duration) func(*testing.T, *monitor.Manager, time.Time) {
		return func(t *testing.T, m *monitor.Manager, t0 time.Time) {
			got, ok := active(m, id)
			if !ok || !got.StartsAt.Equal(t0.Add(at)) {
				t.Fatalf("%s: firing %v since %v, want since t0+%v", id, ok, got.StartsAt.Sub(t0), at)
			}
		}
	}
	muted := func(id string, silenced bool, inhibitedBy ...monitor.Alert) func(*testing.T, *monitor.Manager, time.Time) {
		return func(t *testing.T, m *monitor.Manager, t0 time.Time) {
			got, ok := active(m, id)
			if !ok {
				t.Fatalf("%s is not in Active()", id)
			}
			var want []string
			for _, src := range inhibitedBy {
				want = append(want, monitor.Fingerprint(src.Labels))
			}
			slices.Sort(want)
			if (len(got.Silenced) > 0) != silenced || !slices.Equal(got.Inhibited, want) {
				t.Fatalf("%s: silenced by %v, inhibited by %v; want silenced %v, inhibited by %v",
					id, got.Silenced, got.Inhibited, silenced, want)
			}
		}
	}

	s := time.Second
	tests := []struct {
		name    string
		route   monitor.AlertRoute
		inhibit func(t testing.TB) []monitor.InhibitRule
		steps   []step
	}{
		{
			name: "the same alert reported again and again is one alert",
			steps: []step{
				{at: 0, firing: []monitor.Alert{a, a}, changes: []string{"+a"}},
				{at: 1 * s, firing: []monitor.Alert{a}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}, check: startsAt("a", 0)},
				{at: 30 * s, firing: []monitor.Alert{a}},
				{at: 62 * s, firing: []monitor.Alert{a}, check: func(t *testing.T, m *monitor.Manager, t0 time.Time) {
					if n := len(m.Active()); n != 1 {
						t.Fatalf("%d active alerts, want 1", n)
					}
				}},
			},
		},
		{
			name: "a known alert keeps its start and takes the new value",
			steps: []step{
				{at: 0, firing: []monitor.Alert{withValue(a, 0.2)}, changes: []string{"+a"}},
				{at: 10 * s, firing: []monitor.Alert{withValue(a, 0.7)}, notes: []string{"firing[a]"},
					check: func(t *testing.T, m *monitor.Manager, t0 time.Time) {
						got, _ := m.Alert(monitor.Fingerprint(a.Labels))
						if got.Value != 0.7 || !got.StartsAt.Equal(t0) || got.Status != monitor.StatusFiring {
							t.Fatalf("alert = %+v", got)
						}
					}},
			},
		},
		{
			name: "group_wait batches two alerts of a new group into one notification",
			steps: []step{
				{at: 0, firing: []monitor.Alert{pay}, changes: []string{"+x/pay"}},
				{at: 1 * s, firing: []monitor.Alert{pay, ship}, changes: []string{"+x/ship"}},
				{at: 2 * s, firing: []monitor.Alert{pay, ship}, notes: []string{"firing[x/pay x/ship]"}},
			},
		},
		{
			name: "groups are separate: each waits and notifies by itself",
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 1 * s, firing: []monitor.Alert{a, b}, changes: []string{"+b"}},
				{at: 2 * s, firing: []monitor.Alert{a, b}, notes: []string{"firing[a]"}},
				{at: 3 * s, firing: []monitor.Alert{a, b}, notes: []string{"firing[b]"}},
			},
		},
		{
			name:  "group_by category puts one alertname into two groups",
			route: monitor.AlertRoute{GroupBy: []string{"category"}},
			steps: []step{
				{at: 0, firing: []monitor.Alert{pay, ship, errRate}, changes: []string{"+x/pay", "+x/ship", "+error_rate/pay"}},
				{at: 2 * s, firing: []monitor.Alert{pay, ship, errRate},
					notes: []string{"firing[error_rate/pay x/pay]", "firing[x/ship]"}},
			},
		},
		{
			name: "group_interval holds an alert joining a notified group",
			steps: []step{
				{at: 0, firing: []monitor.Alert{pay}, changes: []string{"+x/pay"}},
				{at: 2 * s, firing: []monitor.Alert{pay}, notes: []string{"firing[x/pay]"}},
				{at: 10 * s, firing: []monitor.Alert{pay, ship}, changes: []string{"+x/ship"}},
				{at: 61 * s, firing: []monitor.Alert{pay, ship}},
				{at: 62 * s, firing: []monitor.Alert{pay, ship}, notes: []string{"firing[x/pay x/ship]"}},
				{at: 200 * s, firing: []monitor.Alert{pay, ship}},
			},
		},
		{
			name:  "repeat_interval re-sends an unchanged firing group",
			route: monitor.AlertRoute{RepeatInterval: 10 * time.Minute},
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 5 * time.Minute, firing: []monitor.Alert{a}},
				{at: 10*time.Minute + 1*s, firing: []monitor.Alert{a}},
				{at: 10*time.Minute + 2*s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 15 * time.Minute, firing: []monitor.Alert{a}},
				{at: 20*time.Minute + 2*s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
			},
		},
		{
			name: "a resolved group is notified exactly once, at the next group_interval, then dropped",
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 30 * s, changes: []string{"-a"}},
				{at: 61 * s},
				{at: 62 * s, notes: []string{"resolved[-a]"}},
				{at: 2 * time.Minute},
				{at: 5 * time.Hour},
			},
		},
		{
			name: "an alert resolving in a firing group is sent with the ones still firing",
			steps: []step{
				{at: 0, firing: []monitor.Alert{pay, ship}, changes: []string{"+x/pay", "+x/ship"}},
				{at: 2 * s, firing: []monitor.Alert{pay, ship}, notes: []string{"firing[x/pay x/ship]"}},
				{at: 30 * s, firing: []monitor.Alert{pay}, changes: []string{"-x/ship"}},
				{at: 62 * s, firing: []monitor.Alert{pay}, notes: []string{"firing[x/pay -x/ship]"}},
				{at: 3 * time.Minute, firing: []monitor.Alert{pay}},
			},
		},
		{
			name:  "send_resolved false: resolution is not notified",
			route: monitor.AlertRoute{SendResolved: &noResolved},
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 30 * s, changes: []string{"-a"}},
				{at: 62 * s},
				{at: 5 * time.Hour},
			},
		},
		{
			name: "a group resolving before its first notification sends nothing",
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 1 * s, changes: []string{"-a"}},
				{at: 2 * s},
				{at: 62 * s},
				{at: 5 * time.Hour},
			},
		},
		{
			name: "firing again after resolving is a new firing period",
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 30 * s, changes: []string{"-a"}},
				{at: 62 * s, notes: []string{"resolved[-a]"}},
				{at: 90 * s, firing: []monitor.Alert{a}, changes: []string{"+a"}, check: startsAt("a", 90*s)},
				{at: 92 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"},
					check: func(t *testing.T, m *monitor.Manager, t0 time.Time) {
						var periods []string
						for _, r := range m.Recent(0) {
							periods = append(periods, fmt.Sprintf("%s@%v", r.Status, r.StartsAt.Sub(t0)))
						}
						if want := []string{"firing@1m30s", "resolved@0s"}; !slices.Equal(periods, want) {
							t.Fatalf("Recent = %v, want %v", periods, want)
						}
					}},
			},
		},
		{
			name:    "a store outage inhibits warnings, infos and error rates, then lets them through",
			inhibit: storeInhibits,
			steps: []step{
				{at: 0, firing: []monitor.Alert{storeDown, errRate, lowConf, kbGap},
					changes: []string{"+store_unavailable", "+error_rate/pay", "+low_confidence/pay", "+kb_gap"},
					check:   muted("error_rate/pay", false, storeDown)},
				{at: 2 * s, firing: []monitor.Alert{storeDown, errRate, lowConf, kbGap},
					notes: []string{"firing[store_unavailable]"},
					check: func(t *testing.T, m *monitor.Manager, t0 time.Time) {
						muted("low_confidence/pay", false, storeDown)(t, m, t0)
						muted("kb_gap", false, storeDown)(t, m, t0)
						muted("store_unavailable", false)(t, m, t0)
					}},
				{at: 30 * s, firing: []monitor.Alert{storeDown, errRate, lowConf, kbGap}},
				// The outage ends: what it hid is news now, its resolution waits for group_interval.
				{at: 40 * s, firing: []monitor.Alert{errRate, lowConf, kbGap}, changes: []string{"-store_unavailable"},
					notes: []string{"firing[error_rate/pay]", "firing[kb_gap]", "firing[low_confidence/pay]"},
					check: muted("error_rate/pay", false)},
				{at: 62 * s, firing: []monitor.Alert{errRate, lowConf, kbGap}, notes: []string{"resolved[-store_unavailable]"}},
			},
		},
		{
			name:    "an inhibition applies only between alerts with equal labels",
			inhibit: categoryInhibits,
			steps: []step{
				{at: 0, firing: []monitor.Alert{catDown, lowConf, lowConfShip},
					changes: []string{"+category_down/pay", "+low_confidence/pay", "+low_confidence/ship"}},
				{at: 2 * s, firing: []monitor.Alert{catDown, lowConf, lowConfShip},
					notes: []string{"firing[category_down/pay]", "firing[low_confidence/ship]"},
					check: func(t *testing.T, m *monitor.Manager, t0 time.Time) {
						muted("low_confidence/pay", false, catDown)(t, m, t0)
						muted("low_confidence/ship", false)(t, m, t0)
					}},
			},
		},
		{
			name: "an alert matching both sides of a rule does not inhibit itself",
			inhibit: func(t testing.TB) []monitor.InhibitRule {
				return []monitor.InhibitRule{{Source: matchers(t, `level="critical"`), Target: matchers(t, `alertname=~".+"`),
					Equal: []string{"category"}}}
			},
			steps: []step{
				{at: 0, firing: []monitor.Alert{errRate, lowConf, b}, changes: []string{"+error_rate/pay", "+low_confidence/pay", "+b"}},
				{at: 2 * s, firing: []monitor.Alert{errRate, lowConf, b}, notes: []string{"firing[b]", "firing[error_rate/pay]"},
					check: muted("low_confidence/pay", false, errRate)},
			},
		},
		{
			name: "a silence mutes notifications, not the alert; its end lets the alert through",
			steps: []step{
				{at: 0, do: silence(`alertname="a"`, 10*time.Minute, "maintenance"),
					firing: []monitor.Alert{a, b}, changes: []string{"+a", "+b"}, check: muted("a", true)},
				{at: 2 * s, firing: []monitor.Alert{a, b}, notes: []string{"firing[b]"}},
				{at: 5 * time.Minute, firing: []monitor.Alert{a, b}},
				{at: 10*time.Minute - 1*s, firing: []monitor.Alert{a, b}},
				{at: 10 * time.Minute, firing: []monitor.Alert{a, b}, notes: []string{"firing[a]"}, check: muted("a", false)},
			},
		},
		{
			name: "silencing a notified alert, then expiring the silence, notifies it again",
			steps: []step{
				{at: 0, firing: []monitor.Alert{pay, ship}, changes: []string{"+x/pay", "+x/ship"}},
				{at: 2 * s, firing: []monitor.Alert{pay, ship}, notes: []string{"firing[x/pay x/ship]"}},
				{at: 30 * s, do: silence(`category="ship"`, time.Hour, "ship"), firing: []monitor.Alert{pay, ship},
					check: muted("x/ship", true)},
				{at: 3 * time.Minute, firing: []monitor.Alert{pay, ship}},
				{at: 4 * time.Minute, do: expire("ship"), firing: []monitor.Alert{pay, ship},
					notes: []string{"firing[x/pay x/ship]"}, check: muted("x/ship", false)},
			},
		},
		{
			name:  "a silenced alert that resolves sends no resolution",
			route: monitor.AlertRoute{RepeatInterval: time.Hour},
			steps: []step{
				{at: 0, firing: []monitor.Alert{a}, changes: []string{"+a"}},
				{at: 2 * s, firing: []monitor.Alert{a}, notes: []string{"firing[a]"}},
				{at: 10 * s, do: silence(`alertname="a"`, time.Hour, "quiet"), firing: []monitor.Alert{a}},
				{at: 20 * s, changes: []string{"-a"}},
				{at: 2 * time.Minute},
				{at: 2 * time.Hour},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := monitor.ManagerOptions{Route: tt.route}
			if tt.inhibit != nil {
				opts.Inhibit = tt.inhibit(t)
			}
			h := newHarness(opts)
			// Silences are checked against the wall clock, so the scenario
			// starts now.
			t0 := time.Now().UTC().Truncate(time.Second)
			for _, st := range tt.steps {
				now := t0.Add(st.at)
				if st.do != nil {
					st.do(t, h.m, now)
				}
				h.m.Evaluate(context.Background(), now, st.firing)
				notes, changes := h.take()
				if !slices.Equal(notes, st.notes) {
					t.Errorf("t0+%v: notifications %q, want %q", st.at, notes, st.notes)
				}
				if !slices.Equal(changes, st.changes) {
					t.Errorf("t0+%v: transitions %q, want %q", st.at, changes, st.changes)
				}
				if st.check != nil {
					st.check(t, h.m, t0)
				}
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

func withValue(a monitor.Alert, v float64) monitor.Alert {
	a.Value = v
	return a
}

// A notification carries what an operator needs: the group's labels, its
// level, and alerts with their fingerprints and times.
func TestAlertGroupContents(t *testing.T) {
	h := newHarness(monitor.ManagerOptions{})
	t0 := time.Now().UTC()
	pay := alert("x", monitor.LevelInfo, "category", "pay")
	ship := alert("x", monitor.LevelCritical, "category", "ship")
	h.m.Evaluate(context.Background(), t0, []monitor.Alert{pay, ship})
	h.m.Evaluate(context.Background(), t0.Add(2*time.Second), []monitor.Alert{pay, ship})
	h.m.Evaluate(context.Background(), t0.Add(10*time.Second), []monitor.Alert{pay})
	h.m.Evaluate(context.Background(), t0.Add(62*time.Second), []monitor.Alert{pay})
	h.m.Evaluate(context.Background(), t0.Add(70*time.Second), nil)
	h.m.Evaluate(context.Background(), t0.Add(122*time.Second), nil)
	if len(h.notes) != 3 {
		t.Fatalf("%d notifications, want 3", len(h.notes))
	}
	first, second, last := h.notes[0], h.notes[1], h.notes[2]
	if first.Key != `{alertname="x"}` || first.Labels["alertname"] != "x" || len(first.Labels) != 1 ||
		first.Status != monitor.StatusFiring || first.Level != monitor.LevelCritical {
		t.Fatalf("first notification = %+v", first)
	}
	for _, a := range first.Alerts {
		if a.Fingerprint != monitor.Fingerprint(a.Labels) || !a.StartsAt.Equal(t0) || !a.EndsAt.IsZero() {
			t.Fatalf("alert in notification = %+v", a)
		}
	}
	// The critical one resolved: the group's level is that of what still fires.
	if second.Level != monitor.LevelInfo || describe(second) != "firing[x/pay -x/ship]" ||
		!second.Alerts[1].EndsAt.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("second notification = %s level %s", describe(second), second.Level)
	}
	// ...but it reaches the channels of the critical one it ends: one that
	// takes only critical notices heard it fire, and must hear it end.
	if second.Reach != monitor.LevelCritical || first.Reach != monitor.LevelCritical || last.Reach != monitor.LevelInfo {
		t.Fatalf("reach of the notifications: %s, %s, %s; want critical, critical, info", first.Reach, second.Reach, last.Reach)
	}
	if last.Status != monitor.StatusResolved || last.Level != monitor.LevelInfo || describe(last) != "resolved[-x/pay]" {
		t.Fatalf("last notification = %s level %s", describe(last), last.Level)
	}
}

func TestAlertMatchers(t *testing.T) {
	labels := map[string]string{"alertname": "error_rate", "level": "warning", "category": "payment"}
	tests := []struct {
		in      string
		want    string // String() of the parsed matcher; "" for a parse error
		matches bool
	}{
		{`alertname="error_rate"`, `alertname="error_rate"`, true},
		{`alertname = "kb_gap"`, `alertname="kb_gap"`, false},
		{`level!=info`, `level!="info"`, true},
		{`level!="warning"`, `level!="warning"`, false},
		{`category=~"pay.*"`, `category=~"pay.*"`, true},
		{`category=~"pay"`, `category=~"pay"`, false}, // anchored
		{`category!~"ship|refund"`, `category!~"ship|refund"`, true},
		{`team=""`, `team=""`, true}, // a missing label is ""
		{`team!=ops`, `team!="ops"`, true},
		{`summary="say \"hi\""`, `summary="say \"hi\""`, false},
		{`level=~"warning|info"`, `level=~"warning|info"`, true},
		{`="x"`, "", false},
		{`alertname`, "", false},
		{`alertname=~"("`, "", false},
		{`alertname="unterminated`, "", false},
		{`9lives="x"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := monitor.ParseMatcher(tt.in)
			if tt.want == "" {
				if !errcode.Is(err, errcode.Invalid) {
					t.Fatalf("ParseMatcher(%q) = %v, %v; want an invalid error", tt.in, m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.String() != tt.want || m.Matches(labels) != tt.matches {
				t.Fatalf("ParseMatcher(%q) = %s matching %v; want %s matching %v", tt.in, m, m.Matches(labels), tt.want, tt.matches)
			}
			// What String writes, ParseMatcher reads back.
			if again, err := monitor.ParseMatcher(m.String()); err != nil || again.String() != m.String() {
				t.Fatalf("round trip of %s: %v, %v", m, again, err)
			}
		})
	}

	list, err := monitor.ParseMatchers(`{alertname="error_rate", category=~"pay,ment|x", level!=info}`)
	if err != nil || len(list) != 3 || list[1].Value != "pay,ment|x" || list[2].String() != `level!="info"` {
		t.Fatalf("ParseMatchers = %v, %v", list, err)
	}
	// A literal matcher works without parsing; an empty Op means "=".
	if !(monitor.Matcher{Name: "level", Value: "warning"}).Matches(labels) ||
		!(monitor.Matcher{Name: "category", Op: "=~", Value: "pay.+"}).Matches(labels) {
		t.Fatal("literal matchers do not match")
	}
}

func TestSilenceValidation(t *testing.T) {
	ctx := context.Background()
	m := monitor.NewManager(monitor.ManagerOptions{Logger: quietLogger()})
	now := time.Now()
	ok := matchers(t, `alertname="a"`)
	tests := []struct {
		name string
		s    monitor.Silence
		code string
	}{
		{"valid", monitor.Silence{Matchers: ok, StartsAt: now, EndsAt: now.Add(time.Hour)}, ""},
		{"starting now by default", monitor.Silence{Matchers: ok, EndsAt: now.Add(time.Hour)}, ""},
		{"pending", monitor.Silence{Matchers: ok, StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}, ""},
		{"thirty days", monitor.Silence{Matchers: ok, StartsAt: now, EndsAt: now.Add(monitor.MaxSilence)}, ""},
		{"no matcher", monitor.Silence{StartsAt: now, EndsAt: now.Add(time.Hour)}, errcode.Invalid},
		{"bad regexp", monitor.Silence{Matchers: []monitor.Matcher{{Name: "a", Op: "=~", Value: "("}},
			EndsAt: now.Add(time.Hour)}, errcode.Invalid},
		{"bad operator", monitor.Silence{Matchers: []monitor.Matcher{{Name: "a", Op: "~", Value: "x"}},
			EndsAt: now.Add(time.Hour)}, errcode.Invalid},
		{"ends before it starts", monitor.Silence{Matchers: ok, StartsAt: now.Add(2 * time.Hour), EndsAt: now.Add(time.Hour)}, errcode.Invalid},
		{"already over", monitor.Silence{Matchers: ok, StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour)}, errcode.Invalid},
		{"longer than thirty days", monitor.Silence{Matchers: ok, StartsAt: now, EndsAt: now.Add(monitor.MaxSilence + time.Minute)}, errcode.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.AddSilence(ctx, tt.s)
			if errcode.Code(err) != tt.code {
				t.Fatalf("AddSilence: err = %v, want code %q", err, tt.code)
			}
			if err == nil && (!strings.HasPrefix(got.ID, "s") || len(got.ID) < 10 || got.CreatedAt.IsZero() || got.StartsAt.IsZero()) {
				t.Fatalf("AddSilence = %+v: want an id, a creation time and a start", got)
			}
		})
	}
	if err := m.ExpireSilence(ctx, "s-nope", now); !errcode.Is(err, errcode.NotFound) {
		t.Fatalf("expiring an unknown silence: err = %v, want not_found", err)
	}
	list, err := m.Silences(ctx, now)
	if err != nil || len(list) != 4 {
		t.Fatalf("Silences = %d, %v; want the 4 valid ones", len(list), err)
	}
	if err := m.ExpireSilence(ctx, list[0].ID, now); err != nil {
		t.Fatal(err)
	}
	if err := m.ExpireSilence(ctx, list[0].ID, now); !errcode.Is(err, errcode.NotFound) {
		t.Fatalf("expiring twice: err = %v, want not_found", err)
	}
	if list, _ := m.Silences(ctx, now); len(list) != 3 {
		t.Fatalf("after expiring one, %d silences left, want 3", len(list))
	}
}

func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "steward.db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Silences live in the store: a new manager (a restart, or another node)
// applies them after LoadSilences, and an expiry on one node reaches the other.
func TestSilencePersistence(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	nodeA := newHarness(monitor.ManagerOptions{Silences: db})
	t0 := time.Now().UTC()
	sil, err := nodeA.m.AddSilence(ctx, monitor.Silence{Matchers: matchers(t, `alertname="a"`, `level=~"warning|info"`),
		Comment: "升级维护", CreatedBy: "ops", EndsAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	nodeB := newHarness(monitor.ManagerOptions{Silences: db})
	if err := nodeB.m.LoadSilences(ctx, t0); err != nil {
		t.Fatal(err)
	}
	a := alert("a", monitor.LevelWarning)
	for _, at := range []time.Duration{0, 2 * time.Second, time.Minute} {
		nodeB.m.Evaluate(ctx, t0.Add(at), []monitor.Alert{a})
	}
	notes, changes := nodeB.take()
	if len(notes) != 0 || !slices.Equal(changes, []string{"+a"}) {
		t.Fatalf("under a stored silence: notifications %q, transitions %q", notes, changes)
	}
	if got := nodeB.m.Active(); len(got) != 1 || !slices.Equal(got[0].Silenced, []string{sil.ID}) {
		t.Fatalf("Active = %+v, want a silenced by %s", got, sil.ID)
	}
	list, err := nodeB.m.Silences(ctx, t0)
	if err != nil || len(list) != 1 || list[0].Comment != "升级维护" || len(list[0].Matchers) != 2 {
		t.Fatalf("Silences on node B = %+v, %v", list, err)
	}

	// Node A expires it (node B's memory still has it); node B's next tick
	// reloads and notifies.
	exp := t0.Add(2 * time.Minute)
	if err := nodeA.m.ExpireSilence(ctx, sil.ID, exp); err != nil {
		t.Fatal(err)
	}
	if err := nodeB.m.LoadSilences(ctx, exp); err != nil {
		t.Fatal(err)
	}
	nodeB.m.Evaluate(ctx, exp, []monitor.Alert{a})
	if notes, _ := nodeB.take(); !slices.Equal(notes, []string{"firing[a]"}) {
		t.Fatalf("after the silence expired elsewhere: notifications %q", notes)
	}

	// A node that never loaded a silence can still expire it.
	s2, err := nodeB.m.AddSilence(ctx, monitor.Silence{Matchers: matchers(t, `alertname="b"`), CreatedBy: "ops",
		EndsAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	nodeC := monitor.NewManager(monitor.ManagerOptions{Silences: db, Logger: quietLogger()})
	if err := nodeC.ExpireSilence(ctx, s2.ID, exp); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.Silences(ctx, exp); len(list) != 0 {
		t.Fatalf("stored silences after both expired: %+v", list)
	}
}

// Resolved alerts stay in Recent for Keep; Alert finds firing and resolved ones.
func TestAlertHistory(t *testing.T) {
	m := monitor.NewManager(monitor.ManagerOptions{Keep: time.Hour, Logger: quietLogger()})
	ctx := context.Background()
	t0 := time.Now().UTC()
	a, b, c := alert("a", monitor.LevelInfo), alert("b", monitor.LevelWarning), alert("c", monitor.LevelCritical)
	m.Evaluate(ctx, t0, []monitor.Alert{a, b})
	m.Evaluate(ctx, t0.Add(time.Minute), []monitor.Alert{b})      // a resolves
	m.Evaluate(ctx, t0.Add(2*time.Minute), []monitor.Alert{b, c}) // c fires
	m.Evaluate(ctx, t0.Add(3*time.Minute), []monitor.Alert{c})    // b resolves
	names := func(as []monitor.Alert) (out []string) {
		for _, x := range as {
			out = append(out, x.Name()+":"+x.Status)
		}
		return out
	}
	if got, want := names(m.Recent(0)), []string{"b:resolved", "c:firing", "a:resolved"}; !slices.Equal(got, want) {
		t.Fatalf("Recent = %v, want %v", got, want)
	}
	if got := names(m.Recent(2)); len(got) != 2 {
		t.Fatalf("Recent(2) = %v", got)
	}
	if got := names(m.Active()); !slices.Equal(got, []string{"c:firing"}) {
		t.Fatalf("Active = %v", got)
	}
	ra, ok := m.Alert(monitor.Fingerprint(a.Labels))
	if !ok || ra.Status != monitor.StatusResolved || !ra.StartsAt.Equal(t0) || !ra.EndsAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Alert(a) = %+v, %v", ra, ok)
	}
	if _, ok := m.Alert("nope"); ok {
		t.Fatal("Alert(nope) found something")
	}
	// Past Keep, a is forgotten; b (resolved later) is not yet.
	m.Evaluate(ctx, t0.Add(time.Hour+2*time.Minute), []monitor.Alert{c})
	if got, want := names(m.Recent(0)), []string{"b:resolved", "c:firing"}; !slices.Equal(got, want) {
		t.Fatalf("Recent after Keep = %v, want %v", got, want)
	}
	if _, ok := m.Alert(monitor.Fingerprint(a.Labels)); ok {
		t.Fatal("a is still kept after Keep")
	}
}

// HTTP handlers read while the rule loop evaluates and operators silence;
// run with -race.
func TestManagerConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	m := monitor.NewManager(monitor.ManagerOptions{Logger: quietLogger(), Route: monitor.AlertRoute{GroupWait: time.Millisecond},
		Inhibit: []monitor.InhibitRule{{Source: matchers(t, `alertname="a0"`), Target: matchers(t, `level="info"`)}},
		Notify:  func(g monitor.AlertGroup) { _ = g.Alerts },
	})
	t0 := time.Now().UTC()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	added := 0 // touched by reader 0 only
	for i := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, a := range m.Active() {
					_ = len(a.Silenced) + len(a.Inhibited) + len(a.Labels)
					m.Alert(a.Fingerprint)
				}
				m.Recent(10)
				m.Silences(ctx, t0)
				if i == 0 && added < 5 {
					added++
					m.AddSilence(ctx, monitor.Silence{Matchers: matchers(t, `alertname="a3"`), EndsAt: time.Now().Add(time.Hour)})
				}
			}
		}()
	}
	for tick := range 300 {
		var firing []monitor.Alert
		for j := range 8 {
			if (tick+j)%3 != 0 {
				firing = append(firing, alert(fmt.Sprintf("a%d", j), []string{"info", "warning", "critical"}[j%3]))
			}
		}
		m.Evaluate(ctx, t0.Add(time.Duration(tick)*time.Second), firing)
	}
	close(stop)
	readers.Wait()
	if len(m.Recent(0)) == 0 {
		t.Fatal("no alerts recorded")
	}
}
