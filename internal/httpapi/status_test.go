package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// publicStatus is what GET /api/v1/status says, as far as these tests look.
type publicStatus struct {
	Status     string `json:"status"`
	Overall    string `json:"overall"`
	Level      int    `json:"level"`
	Components []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Note   string `json:"note"`
		NoteZH string `json:"note_zh"`
	} `json:"components"`
	Incident *struct {
		ID       string `json:"id"`
		Phase    string `json:"phase"`
		Severity string `json:"severity"`
		Updates  []struct {
			Text   string `json:"text"`
			TextZH string `json:"text_zh"`
		} `json:"updates"`
	} `json:"incident"`
}

// getStatus reads the public status without signing in; raw is the body.
func getStatus(t *testing.T, base string) (st publicStatus, raw string) {
	t.Helper()
	c := &testutil.Client{T: t, Base: base}
	code, body := c.Do("GET", "/api/v1/status", "", nil)
	if err := json.Unmarshal(body, &st); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/status: %d %s", code, body)
	}
	return st, string(body)
}

// humanAgents is the status page's "Human agents" line.
func (st publicStatus) humanAgents() (status, note, noteZH string) {
	for _, c := range st.Components {
		if c.Name == "Human agents" {
			return c.Status, c.Note, c.NoteZH
		}
	}
	return "", "", ""
}

// waitStatus polls the public status until ok says yes, for up to 15 s.
func waitStatus(t *testing.T, base, what string, ok func(publicStatus) bool) publicStatus {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, raw := getStatus(t, base)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the public status never showed %s: %s", what, raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The public status tells the truth about the human agents: with nobody
// online the line is degraded and says customers can leave a message, in
// both languages; the page's overall status follows the worst line while
// the service posture (status) stays normal.
func TestPublicStatusHumanAgentsOnline(t *testing.T) {
	run := testutil.Start(t, nil)
	st, raw := getStatus(t, run.URL)
	status, note, noteZH := st.humanAgents()
	if status != "degraded_performance" || !strings.Contains(note, "leave a message") || !strings.Contains(noteZH, "留言") {
		t.Errorf("no agent online, yet human agents = %q %q %q: %s", status, note, noteZH, raw)
	}
	if st.Status != "operational" || st.Overall != "degraded_performance" {
		t.Errorf("no agent online: status %q, overall %q; want operational, degraded_performance", st.Status, st.Overall)
	}
	// Nothing has happened yet: the history is an empty list, not null.
	if !strings.Contains(raw, `"history":[]`) {
		t.Errorf("a fresh server's status history: %s", raw)
	}

	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	st = waitStatus(t, run.URL, "human agents operational", func(st publicStatus) bool {
		s, _, _ := st.humanAgents()
		return s == "operational"
	})
	if _, note, noteZH := st.humanAgents(); note != "" || noteZH != "" {
		t.Errorf("an agent is online, yet the line says %q / %q", note, noteZH)
	}
	if st.Status != "operational" || st.Overall != "operational" {
		t.Errorf("all is well: status %q, overall %q", st.Status, st.Overall)
	}
}

// Outside the desk's hours an online agent takes no conversations: the
// line says so in a note, and stays operational (the schedule is no fault:
// the banner must not call the service degraded every night).
func TestPublicStatusHumanAgentsOutsideHours(t *testing.T) {
	closed := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.Timezone, c.Desk.Days, c.Desk.Open, c.Desk.Close = "UTC", []string{closed}, "00:00", "23:59"
	})
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	time.Sleep(time.Second) // the desk's router has seen the agent
	st, raw := getStatus(t, run.URL)
	status, note, noteZH := st.humanAgents()
	if status != "operational" || !strings.Contains(note, "hours") || !strings.Contains(noteZH, "时间") || st.Overall != "operational" {
		t.Errorf("outside the desk's hours, human agents = %q %q %q: %s", status, note, noteZH, raw)
	}
}

// A declared incident shows on the public status as an open incident the
// overall status does not call operational, and no staff name reaches the
// public: not from the declaration, a phase an operator set, a posture an
// operator set, or the resolution. The internal incident API keeps them.
func TestPublicStatusDuringADeclaredIncident(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var me struct {
		User struct{ Name string } `json:"user"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, &me)
	if me.User.Name == "" {
		t.Fatal("the demo admin has no name")
	}
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	waitStatus(t, run.URL, "operational", func(st publicStatus) bool { return st.Overall == "operational" })

	var declared struct {
		Incident struct{ ID string } `json:"incident"`
	}
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents",
		map[string]string{"title": "Delivery tracking delayed", "severity": "warning"}, &declared)
	id := declared.Incident.ID
	noNames := func(when string) publicStatus {
		t.Helper()
		st, raw := getStatus(t, run.URL)
		for _, name := range []string{me.User.Name, run.Demo[0].Email} {
			if strings.Contains(raw, name) {
				t.Errorf("%s: the public status names %q: %s", when, name, raw)
			}
		}
		return st
	}

	st := noNames("declared")
	if st.Incident == nil || st.Incident.ID != id || st.Incident.Phase != "investigating" || len(st.Incident.Updates) == 0 {
		t.Fatalf("declared: incident = %+v", st.Incident)
	}
	if st.Status != "operational" || st.Overall == "operational" || st.Overall == "" {
		t.Errorf("declared: status %q, overall %q; want the posture normal and the overall not operational", st.Status, st.Overall)
	}
	if u := st.Incident.Updates[0]; !strings.Contains(u.Text, "Delivery tracking delayed") || u.TextZH == "" {
		t.Errorf("declared: the update says %q / %q", u.Text, u.TextZH)
	}

	admin.Must(http.StatusOK, "POST", "/api/v1/incidents/"+id+"/updates", map[string]string{"phase": "identified"}, nil)
	st = noNames("phase set")
	if st.Incident == nil || st.Incident.Phase != "identified" || len(st.Incident.Updates) < 2 {
		t.Fatalf("phase set: incident = %+v", st.Incident)
	}
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"shipping"},
		"human": true, "reason": fmt.Sprintf("%s checks the courier API", me.User.Name)}, nil)
	st = noNames("posture set")
	if st.Status != "partial_outage" || st.Overall != "partial_outage" || len(st.Incident.Updates) < 3 {
		t.Errorf("posture set: status %q, overall %q, incident %+v", st.Status, st.Overall, st.Incident)
	}

	// Staff still see who did what.
	var full struct {
		Timeline []struct{ Text string } `json:"timeline"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/incidents/"+id, nil, &full)
	if len(full.Timeline) == 0 || !strings.Contains(full.Timeline[0].Text, me.User.Name) {
		t.Errorf("the internal timeline lost the actor: %+v", full.Timeline)
	}

	admin.Must(http.StatusOK, "POST", "/api/v1/posture/automatic", nil, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/incidents/"+id+"/resolve", nil, nil)
	st = waitStatus(t, run.URL, "the incident resolved", func(st publicStatus) bool { return st.Incident == nil })
	noNames("resolved")
	if st.Overall != "operational" {
		t.Errorf("resolved: overall %q", st.Overall)
	}
}

// An incident Steward opens by itself is on the public page with a neutral
// title and neutral updates: its title was the first alert's summary and
// its lines named alerts and playbooks ("alerts: nlu-trouble:level1") and,
// for a failing channel, its name, host and Go error. Throttled sources
// are not named either (a partner's name).
func TestPublicStatusOfAnIncidentStewardOpened(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.EnableFaultInjection = true })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusCreated, "POST", "/api/v1/admin/faults", map[string]any{"point": "nlu", "duration_s": 60}, nil)
	st := waitStatus(t, run.URL, "the incident Steward opened", func(st publicStatus) bool {
		return st.Incident != nil && st.Level >= 1 && len(st.Incident.Updates) >= 2
	})
	_, raw := getStatus(t, run.URL)
	for _, internal := range []string{"nlu-trouble", "bot-failing", "component_down", "health checks", "alerts:", "告警预案"} {
		if strings.Contains(raw, internal) {
			t.Errorf("the public status says %q: %s", internal, raw)
		}
	}
	if !strings.Contains(raw, `"title":"Service disruption"`) && !strings.Contains(raw, `"title":"Degraded service"`) {
		t.Errorf("the incident's public title: %s", raw)
	}
	_ = st
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 0, "throttle": map[string]float64{"acme-partner": 2},
		"reason": "flood"}, nil)
	st = waitStatus(t, run.URL, "the throttle", func(st publicStatus) bool { return st.Status == "degraded_performance" || st.Level == 0 })
	if _, raw := getStatus(t, run.URL); strings.Contains(raw, "acme-partner") {
		t.Errorf("the public status names the throttled source: %s", raw)
	}
}
