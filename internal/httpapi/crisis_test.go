package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// Without --enable-fault-injection the fault API does not exist.
func TestFaultAPIIsOffByDefault(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	for _, m := range []string{"GET", "POST", "DELETE"} {
		status, body := admin.Do(m, "/api/v1/admin/faults", map[string]any{"point": "nlu"})
		if status != http.StatusNotFound || !strings.Contains(string(body), "fault injection is off") {
			t.Errorf("%s /api/v1/admin/faults = %d %s, want 404", m, status, body)
		}
	}
	// Whether drills are on is the admin's to know: an agent is refused
	// as when they are on.
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	for _, m := range []string{"GET", "POST", "DELETE"} {
		if status, body := agent.Do(m, "/api/v1/admin/faults", map[string]any{"point": "nlu"}); status != http.StatusForbidden {
			t.Errorf("an agent's %s /api/v1/admin/faults = %d %s, want 403", m, status, body)
		}
	}
	// The API's description answers GET only.
	if status, body := admin.Do("POST", "/api/openapi.json", nil); status != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/openapi.json = %d %s, want 405", status, body)
	}
}

type postureBody struct {
	Posture struct {
		Level      int                `json:"level"`
		Manual     bool               `json:"manual"`
		Categories []string           `json:"categories"`
		Throttle   map[string]float64 `json:"throttle"`
		IncidentID string             `json:"incident_id"`
	} `json:"posture"`
	Notice struct{ ZH, EN string } `json:"notice"`
}

// Operators set the posture by hand (audited), customers are told, the
// status page shows it, and handing back to automatic restores service.
func TestPostureByHandTellsCustomers(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Incident.RecoverAfter = time.Second })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	c := &testutil.Client{T: t, Base: run.URL}

	cases := []struct {
		name   string
		who    *testutil.Staff
		body   map[string]any
		status int
		want   string
	}{
		{"an agent may not", agent, map[string]any{"level": 2, "reason": "x"}, 403, "forbidden"},
		{"a reason is required", admin, map[string]any{"level": 2}, 400, "reason"},
		{"level 1 needs a scope", admin, map[string]any{"level": 1, "reason": "x"}, 400, "scope"},
		{"no level 4", admin, map[string]any{"level": 4, "reason": "x"}, 400, "level"},
		{"unknown fields are refused", admin, map[string]any{"level": 2, "reason": "x", "lvl": 1}, 400, "lvl"},
	}
	for _, tc := range cases {
		status, body := tc.who.Do("PUT", "/api/v1/posture", tc.body)
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s, want %d mentioning %q", tc.name, status, body, tc.status, tc.want)
		}
	}
	var pb postureBody
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"refunds"}, "human": true,
		"reason": "the refund system is down"}, &pb)
	if pb.Posture.Level != 1 || !pb.Posture.Manual || pb.Posture.IncidentID == "" {
		t.Fatalf("posture = %+v", pb.Posture)
	}
	// Customers see the notice on their conversation.
	conv := c.Start("en")
	status, body := c.Do("GET", "/api/v1/conversations/"+conv.ID, conv.Token, nil)
	if status != 200 || !strings.Contains(string(body), `"notice":"Some questions are being handled by our staff`) {
		t.Fatalf("conversation while degraded: %d %s", status, body)
	}
	// A refund question goes to a person (none online: the offline form);
	// a shipping question is answered as usual.
	turn := c.Say(conv, "how do I get a refund")
	if len(turn.Messages) == 0 || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("refund question under a refund takeover: %+v", turn.Messages)
	}
	turn = c.Say(conv, "how much is shipping")
	if len(turn.Messages) == 0 || turn.Messages[0].Outcome != "answer" {
		t.Fatalf("shipping question: %+v", turn.Messages)
	}
	// The public status page says so, without signing in.
	var st struct {
		Status   string `json:"status"`
		Level    int    `json:"level"`
		Incident *struct {
			Phase string `json:"phase"`
		} `json:"incident"`
		Components []struct{ Name, Status string } `json:"components"`
	}
	status, body = c.Do("GET", "/api/v1/status", "", nil)
	if err := json.Unmarshal(body, &st); status != 200 || err != nil {
		t.Fatalf("status: %d %s", status, body)
	}
	if st.Status != "partial_outage" || st.Level != 1 || st.Incident == nil || st.Incident.Phase != "identified" || len(st.Components) != 5 {
		t.Fatalf("status page = %+v", st)
	}
	// The change is in the audit trail.
	status, body = admin.Do("GET", "/api/v1/audit?action=incident.posture", nil)
	if status != 200 || !strings.Contains(string(body), "the refund system is down") {
		t.Fatalf("audit: %d %s", status, body)
	}
	// The controller leaves a manual posture alone; handing back restores
	// normal service after the hold.
	time.Sleep(3 * time.Second)
	admin.Must(200, "GET", "/api/v1/posture", nil, &pb)
	if pb.Posture.Level != 1 {
		t.Fatalf("the controller undid a manual posture: %+v", pb.Posture)
	}
	admin.Must(200, "POST", "/api/v1/posture/automatic", nil, &pb)
	deadline := time.Now().Add(20 * time.Second)
	for pb.Posture.Level != 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		admin.Must(200, "GET", "/api/v1/posture", nil, &pb)
	}
	if pb.Posture.Level != 0 {
		t.Fatalf("still degraded after handing back: %+v", pb.Posture)
	}
	status, body = c.Do("GET", "/api/v1/conversations/"+conv.ID, conv.Token, nil)
	if status != 200 || strings.Contains(string(body), `"notice"`) {
		t.Fatalf("the notice outlived the degradation: %s", body)
	}
}

// Silences and notices validate their input; /metrics is Prometheus text.
func TestSilencesNoticesAndMetrics(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	for _, tc := range []struct {
		body   map[string]any
		status int
		want   string
	}{
		{map[string]any{"comment": "x", "duration": "1h"}, 400, "matchers"},
		{map[string]any{"matchers": []string{`alertname="slow_turns"`}, "duration": "1h"}, 400, "comment"},
		{map[string]any{"matchers": []string{`=oops`}, "comment": "x", "duration": "1h"}, 400, "label name"},
		{map[string]any{"matchers": []string{`alertname="slow_turns"`}, "comment": "x", "duration": "-1h"}, 400, "duration"},
		{map[string]any{"matchers": []string{`alertname="slow_turns"`}, "comment": "x", "duration": "2000h"}, 400, ""},
	} {
		if status, body := admin.Do("POST", "/api/v1/silences", tc.body); status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("silence %v: %d %s", tc.body, status, body)
		}
	}
	var sil struct {
		Silence struct{ ID string } `json:"silence"`
	}
	admin.Must(201, "POST", "/api/v1/silences", map[string]any{"matchers": []string{`alertname="slow_turns"`},
		"comment": "known slow upstream during the migration", "duration": "2h"}, &sil)
	var list struct {
		Silences []struct{ ID string } `json:"silences"`
	}
	admin.Must(200, "GET", "/api/v1/silences", nil, &list)
	if len(list.Silences) != 1 || list.Silences[0].ID != sil.Silence.ID {
		t.Fatalf("silences = %+v", list)
	}
	admin.Must(204, "DELETE", "/api/v1/silences/"+sil.Silence.ID, nil, nil)
	admin.Must(200, "GET", "/api/v1/silences", nil, &list)
	if len(list.Silences) != 0 {
		t.Fatalf("an expired silence is still listed: %+v", list)
	}
	if status, body := admin.Do("PUT", "/api/v1/notices/1", map[string]any{"zh": "只有中文"}); status != 400 {
		t.Errorf("a notice without en: %d %s", status, body)
	}
	// The same holds for a notice set with a posture: English customers got the Chinese one.
	if status, body := admin.Do("PUT", "/api/v1/posture", map[string]any{"level": 1, "all": true, "reason": "test",
		"notice": map[string]string{"zh": "只有中文"}}); status != 400 || !strings.Contains(string(body), "both zh and en") {
		t.Errorf("a posture's notice without en: %d %s", status, body)
	}
	admin.Must(200, "PUT", "/api/v1/notices/2", map[string]any{"zh": "系统维护中", "en": "Under maintenance"}, nil)
	var notices struct {
		Notices map[string]struct{ ZH, EN string } `json:"notices"`
	}
	admin.Must(200, "GET", "/api/v1/notices", nil, &notices)
	if notices.Notices["2"].EN != "Under maintenance" || notices.Notices["1"].EN == "" {
		t.Fatalf("notices = %+v", notices)
	}
	c := &testutil.Client{T: t, Base: run.URL}
	c.Say(c.Start("en"), "how much is shipping")
	status, body := c.Do("GET", "/metrics", "", nil)
	for _, want := range []string{`steward_bot_turns_total{failed="false",outcome="answer"} 1`, "steward_posture_level 0",
		"steward_bot_turn_duration_seconds_bucket", "go_goroutines"} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The store's writer: the conversation and the turn were written, in
	// at least one batch, and running them took time.
	series := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, value, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "steward_store_") {
			series[name], _ = strconv.ParseFloat(value, 64)
		}
	}
	if w, b, busy := series["steward_store_batched_writes_total"], series["steward_store_write_batches_total"],
		series["steward_store_writer_busy_seconds_total"]; w < 2 || b < 1 || b > w || busy <= 0 {
		t.Errorf("store writer series: %v writes in %v batches, %v s busy; want at least 2 writes, 1 batch, some time", w, b, busy)
	}
}

// With monitor.metrics_token set, /metrics answers only its bearer token:
// a scrape without it, or with another token (a signed-in admin's
// included), gets a JSON 401 that says what is wanted.
func TestMetricsToken(t *testing.T) {
	const token = "scrape-3f9c2d7e41b8a6c5"
	run := testutil.Start(t, func(c *config.Config) { c.Monitor.MetricsToken = token })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	get := func(auth string) (int, http.Header, string) {
		req, _ := http.NewRequest("GET", run.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	for _, auth := range []string{"", "Bearer " + token[:len(token)-1], "Bearer " + token + "x", "Basic " + token,
		"Bearer " + admin.Token} {
		status, h, body := get(auth)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if status != 401 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "unauthorized" ||
			!strings.Contains(e.Error.Message, "metrics_token") || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: %d %v %s, want a JSON 401 naming metrics_token", auth, status, h.Get("WWW-Authenticate"), body)
		}
		if strings.Contains(body, "go_goroutines") {
			t.Errorf("Authorization %q: the metrics leaked", auth)
		}
	}
	for _, auth := range []string{"Bearer " + token, "bearer " + token} {
		if status, _, body := get(auth); status != 200 || !strings.Contains(body, "steward_posture_level 0") {
			t.Errorf("Authorization %q: %d %.200s, want the metrics", auth, status, body)
		}
	}
}

// A source the posture throttles gets 429 with Retry-After; others pass.
func TestThrottledSourceGets429(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 0, "throttle": map[string]float64{"bulk": 1},
		"reason": "a partner's script is looping"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	limited := 0
	var retryAfter string
	for range 5 {
		req, _ := http.NewRequest("POST", run.URL+"/api/v1/conversations", strings.NewReader(`{"source":"bulk"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	if limited < 3 || retryAfter == "" {
		t.Fatalf("throttled source: %d of 5 limited, Retry-After %q", limited, retryAfter)
	}
	if status, body := c.Do("POST", "/api/v1/conversations", "", []byte(`{"source":"web"}`)); status != 201 {
		t.Fatalf("another source: %d %s", status, body)
	}
	if status, body := c.Do("POST", "/api/v1/conversations", "", []byte(`{"source":"Bad Source!"}`)); status != 400 {
		t.Fatalf("an invalid source: %d %s", status, body)
	}
}

// Level 2 rolls the knowledge base back to the last good release. When it
// cannot (the demo has one release), the posture still changes, and the
// operator who set it hears why in the answer, not only in the timeline.
func TestLevelTwoSaysWhenTheRollbackFailed(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var got struct {
		Posture struct {
			Level int `json:"level"`
		} `json:"posture"`
		Problems []struct {
			Message   string `json:"message"`
			MessageZH string `json:"message_zh"`
		} `json:"problems"`
	}
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 2, "reason": "bad answers everywhere"}, &got)
	if got.Posture.Level != 2 || len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Message, "could not roll back the knowledge base") ||
		!strings.Contains(got.Problems[0].MessageZH, "知识库回滚失败") {
		t.Fatalf("level 2 without a release to roll back to: %+v", got)
	}
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "all": true, "human": true, "reason": "narrower"}, &got)
	if got.Posture.Level != 1 || len(got.Problems) != 0 {
		t.Fatalf("level 1: %+v, want no problems", got)
	}
}

// A posture set with "keep" takes the throttles, the notice and the
// intents in force as the change is made (what the console's form sends):
// the form used to copy them from a read up to 5 s old, so a throttle set
// meanwhile was undone. Without keep a posture is what it says; a name keep
// does not know is refused.
func TestPostureKeepTakesWhatIsInForceAtTheChange(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	type posture struct {
		Level      int                `json:"level"`
		Categories []string           `json:"categories"`
		Intents    []string           `json:"intents"`
		Throttle   map[string]float64 `json:"throttle"`
		Notice     *struct{ ZH, EN string }
	}
	var got struct {
		Posture posture `json:"posture"`
	}
	// What the form read: level 1 on some intents, with a notice of its own.
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 1, "intents": []string{"refund_status"},
		"notice": map[string]string{"zh": "退款咨询暂由人工处理", "en": "Refund questions go to our agents for now"},
		"reason": "refund answers are wrong"}, nil)
	// Meanwhile a flood is throttled (by the controller or another operator).
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 1, "intents": []string{"refund_status"},
		"notice":   map[string]string{"zh": "退款咨询暂由人工处理", "en": "Refund questions go to our agents for now"},
		"throttle": map[string]float64{"bulk": 2}, "reason": "a partner's script is looping"}, nil)

	// The form adds a category, knowing nothing of the throttle.
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"payment"},
		"keep": []string{"throttle", "notice", "intents"}, "reason": "payment too"}, &got)
	p := got.Posture
	if p.Throttle["bulk"] != 2 || len(p.Intents) != 1 || p.Intents[0] != "refund_status" || len(p.Categories) != 1 ||
		p.Notice == nil || p.Notice.EN != "Refund questions go to our agents for now" {
		t.Errorf("level 1 with keep: %+v; want the throttle, the intents and the notice kept, category payment", p)
	}
	// Another level keeps the throttle, not the level 1 notice or intents.
	got.Posture = posture{}
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 2, "keep": []string{"throttle", "notice", "intents"},
		"reason": "roll back"}, &got)
	if p := got.Posture; p.Level != 2 || p.Throttle["bulk"] != 2 || len(p.Intents) != 0 || p.Notice != nil {
		t.Errorf("level 2 with keep: %+v; want the throttle only", p)
	}
	// Without keep, the posture is what the request says.
	got.Posture = posture{}
	admin.Must(200, "PUT", "/api/v1/posture", map[string]any{"level": 0, "reason": "over"}, &got)
	if p := got.Posture; p.Level != 0 || len(p.Throttle) != 0 {
		t.Errorf("level 0 without keep: %+v; want nothing throttled", p)
	}
	status, body := admin.Do("PUT", "/api/v1/posture", map[string]any{"level": 0, "reason": "x", "keep": []string{"throttles"}})
	if status != 400 || !strings.Contains(string(body), "throttles") {
		t.Errorf("keep of an unknown name: %d %s", status, body)
	}
}
