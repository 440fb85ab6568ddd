package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/testutil"
)

// setPresence sets an agent online, away or offline.
func setPresence(agent *testutil.Staff, presence string) {
	agent.T.Helper()
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": presence}, nil)
}

// postureLevel is the service posture's level, as an admin reads it.
func postureLevel(admin *testutil.Staff) int {
	admin.T.Helper()
	var out struct {
		Posture struct {
			Level int `json:"level"`
		} `json:"posture"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/posture", nil, &out)
	return out.Posture.Level
}

// waitPosture polls the posture until ok says yes, for up to d.
func waitPosture(t *testing.T, admin *testutil.Staff, d time.Duration, what string, ok func(level int) bool, meanwhile func()) {
	t.Helper()
	start := time.Now()
	for {
		level := postureLevel(admin)
		if ok(level) {
			t.Logf("posture %s (level %d) after %v", what, level, time.Since(start).Round(100*time.Millisecond))
			return
		}
		if time.Since(start) > d {
			t.Fatalf("posture still at level %d after %v, want %s", level, d, what)
		}
		if meanwhile != nil {
			meanwhile()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// visibleText is the text of the element matching selector, or "" if it
// is missing or hidden.
func visibleText(selector string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el && !el.closest('[hidden]') ? el.textContent : ''; })()`,
		selector)
}

// A drill as customers see it: the public status page and the chat page's
// notice follow the service posture from normal, through a level-1
// degradation caused by failing intent recognition, back to normal; the
// notice an operator wrote is shown as text, never as markup.
func TestStatusPageAndChatNoticeInChromium(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) {
		c.EnableFaultInjection = true
		// Only the message-write SLO: on a server this quiet the failed turns
		// would burn the turn SLO's 6-hour budget window for far longer than
		// a test can wait, keeping the incident open after the service is
		// back to normal.
		c.Monitor.SLOs = []monitor.SLO{{Name: "message_persisted", Source: monitor.SLOWrites, Objective: 0.999}}
	})
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const noticeZH, noticeEN = `<img src=x onerror=alert(1)>注意`, `<img src=x onerror=alert(1)>Notice`
	admin.Must(http.StatusOK, "PUT", "/api/v1/notices/1", map[string]string{"zh": noticeZH, "en": noticeEN}, nil)

	chat := page{t, browserWithin(t, 3*time.Minute)}
	chat.navigate("about:blank") // starts the browser the status tab opens in
	statusCtx, cancelStatus := chromedp.NewContext(chat.ctx)
	defer cancelStatus()
	status := page{t, statusCtx}

	// Normal service: operational, no incident, the components listed. That
	// takes an agent online: with none, the human agents' line is degraded
	// (TestStatusPageDuringADeclaredIncidentInChromium).
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	setPresence(agent, "online")
	status.navigate(run.URL + "/status?lang=en")
	status.waitFor(`document.body.dataset.ready === "1"`)
	status.waitFor(`document.querySelector('#overall').dataset.status === "operational"`)
	if got := eval[string](status, visibleText("#overall-text")); got != "All systems operational" {
		t.Errorf("status page says %q", got)
	}
	if eval[bool](status, `!document.querySelector('#incident').hidden || !document.querySelector('#notice').hidden`) {
		t.Error("an incident or a notice is shown while all is well")
	}
	if n := eval[int](status, `document.querySelectorAll('#components li[data-status="operational"]').length`); n == 0 {
		t.Error("no operational components listed")
	}

	// The drill below runs with nobody at the desk, as it always has: handed-off
	// conversations get the offline form, not an agent.
	setPresence(agent, "offline")

	// A customer chats in Chinese: no notice; the footer links to the status page.
	chat.navigate(run.URL + "/chat?lang=zh-CN")
	chat.waitFor(`document.body.dataset.ready === "1"`)
	chat.send("运费怎么算？")
	chat.waitFor(botAnswers + ` >= 1`)
	if !eval[bool](chat, `document.querySelector('#service-notice').hidden`) {
		t.Error("the chat shows a service notice while all is well")
	}
	if got := eval[string](chat, `document.querySelector('#presence').dataset.state`); got != "online" {
		t.Errorf("the chat header's state is %q while all is well", got)
	}
	if href := eval[string](chat, `document.querySelector('#status-link').getAttribute('href')`); href != "/status?lang=zh-CN" {
		t.Errorf("the chat footer links to %q", href)
	}

	// A drill breaks intent recognition; customers keep asking until the
	// controller degrades the service on its own.
	admin.Must(http.StatusCreated, "POST", "/api/v1/admin/faults",
		map[string]any{"point": "nlu", "error_rate": 1, "duration_s": 120}, nil)
	customer := &testutil.Client{T: t, Base: run.URL}
	conv := customer.Start("zh-CN")
	questions := []string{"怎么退货", "发票怎么开", "多久发货", "可以改地址吗"}
	asked := 0
	waitPosture(t, admin, 30*time.Second, "level ≥ 1", func(l int) bool { return l >= 1 }, func() {
		body, _ := json.Marshal(map[string]string{"text": questions[asked%len(questions)]})
		asked++
		customer.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", conv.Token, body)
	})

	// The chat page shows the level-1 notice in its language, as text.
	chat.send("还在吗？")
	chat.waitFor(`!document.querySelector('#service-notice').hidden`)
	if got := eval[string](chat, visibleText("#service-notice-text")); got != noticeZH {
		t.Errorf("chat notice %q, want %q", got, noticeZH)
	}
	// The header no longer says "online · here to help".
	if got := eval[[]string](chat, `[document.querySelector('#presence').dataset.state, document.querySelector('#presence').innerText]`); len(got) != 2 ||
		got[0] != "limited" || got[1] != "部分服务受限 · 详见通知" {
		t.Errorf("the chat header during the outage: %q", got)
	}
	if eval[int](chat, `document.querySelectorAll('img').length`) != 0 {
		t.Fatal("the notice was rendered as HTML in the chat")
	}
	banner := eval[map[string]string](chat, `(() => { const b = document.querySelector('#service-notice');
		return {role: b.getAttribute('role'), live: b.getAttribute('aria-live'),
			href: b.querySelector('a').getAttribute('href'), link: b.querySelector('a').textContent}; })()`)
	if banner["role"] != "status" || banner["live"] != "polite" || banner["href"] != "/status?lang=zh-CN" || banner["link"] != "服务状态" {
		t.Errorf("chat notice banner %v", banner)
	}

	// The status page shows the outage, the notice and the incident with its phase.
	// The banner shows the worst line, the assistant's: at level 1 with
	// everything handed to people it answers nothing, a major outage; and it
	// names the open incident by its phase rather than a status.
	status.waitFor(`document.querySelector('#overall').dataset.status === "major_outage"`)
	status.waitFor(`!document.querySelector('#notice').hidden && !document.querySelector('#incident').hidden`)
	if worst := eval[string](status, `document.querySelector('#components li[data-name="Chat assistant"]').dataset.status`); worst != "major_outage" {
		t.Errorf("the assistant's line is %q at level 1 for everything", worst)
	}
	banners := map[string]string{"investigating": "We are investigating an incident",
		"identified": "We have found the cause of an incident and are fixing it",
		"monitoring": "A fix is in place and we are monitoring the results"}
	// One look at both, so a poll between them cannot change the phase.
	shown := eval[[]string](status, `[document.querySelector('#incident').dataset.phase, `+visibleText("#overall-text")+`]`)
	if len(shown) != 2 || shown[1] != banners[shown[0]] {
		t.Errorf("status page says %q during the outage (incident phase, banner)", shown)
	}
	if got := eval[string](status, visibleText("#notice-text")); got != noticeEN {
		t.Errorf("status notice %q, want %q", got, noticeEN)
	}
	if eval[int](status, `document.querySelectorAll('img').length`) != 0 {
		t.Fatal("the notice was rendered as HTML on the status page")
	}
	if title := eval[string](status, visibleText("#incident-title")); strings.TrimSpace(title) == "" {
		t.Error("the current incident has no title")
	}
	phase := eval[string](status, `(() => { const li = document.querySelector('#incident-phases li[aria-current="step"]');
		return li ? li.dataset.phase + ":" + li.innerText : ""; })()`)
	if !strings.HasPrefix(phase, "investigating:Investigating") && !strings.HasPrefix(phase, "identified:Identified") &&
		!strings.HasPrefix(phase, "monitoring:Monitoring") {
		t.Errorf("the incident's current phase is %q", phase)
	}
	status.waitFor(`document.querySelectorAll('#incident-updates li').length > 0`)
	if !eval[bool](status, `(() => { const ts = [...document.querySelectorAll('#incident-updates time')].map(e => Date.parse(e.dateTime));
		return ts.every((x, i) => i === 0 || ts[i-1] >= x); })()`) {
		t.Error("the incident's updates are not newest first")
	}
	status.screenshot("status-degraded")
	chat.screenshot("chat-notice")

	// The drill ends; the controller returns to normal on its own.
	admin.Must(http.StatusOK, "DELETE", "/api/v1/admin/faults/nlu", nil, nil)
	waitPosture(t, admin, 90*time.Second, "level 0", func(l int) bool { return l == 0 }, nil)

	// The chat's poll hides the notice; the status page is operational
	// again (the agent back online), with the incident in its history as
	// resolved.
	setPresence(agent, "online")
	chat.waitWithin(`document.querySelector('#service-notice').hidden`, 25*time.Second)
	if got := eval[string](chat, `document.querySelector('#presence').innerText`); got != "在线 · 随时为您服务" {
		t.Errorf("the chat header after recovery says %q", got)
	}
	status.waitWithin(`document.querySelector('#overall').dataset.status === "operational"`, 15*time.Second)
	status.waitFor(`document.querySelector('#incident').hidden && document.querySelector('#notice').hidden`)
	status.waitFor(`document.querySelector('#history li[data-phase="resolved"]') !== null`)
	if got := eval[string](status, `document.querySelector('#history li .status-phase').textContent`); got != "Resolved" {
		t.Errorf("the latest incident in the history is %q", got)
	}
	status.screenshot("status-recovered")

	// The same page in Chinese.
	status.navigate(run.URL + "/status?lang=zh-CN")
	status.waitFor(`document.body.dataset.ready === "1" && document.querySelector('#history li[data-phase="resolved"]') !== null`)
	if got := eval[string](status, visibleText("#overall-text")); got != "所有服务运行正常" {
		t.Errorf("Chinese status page says %q", got)
	}
	if got := eval[string](status, `document.querySelector('#history li .status-phase').textContent`); got != "已解决" {
		t.Errorf("Chinese history shows the incident as %q", got)
	}
	status.screenshot("status-zh")
}

// An incident an admin declared, as customers see it in both languages: the
// banner names the incident instead of calling all systems operational, the
// severity has the console's words, no staff name appears, and the human
// agents' line says when nobody is online to take a conversation.
func TestStatusPageDuringADeclaredIncidentInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var me struct {
		User struct{ Name string } `json:"user"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, &me)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	status := page{t, browser(t)}
	const agents = `#components li[data-name="Human agents"]`
	banner := func() string { return eval[string](status, visibleText("#overall-text")) }
	noNames := func(when string) {
		t.Helper()
		text := eval[string](status, `document.body.innerText`)
		for _, name := range []string{me.User.Name, run.Demo[0].Email} {
			if name == "" || strings.Contains(text, name) {
				t.Errorf("%s: the status page names %q:\n%s", when, name, text)
			}
		}
	}

	// Nobody at the desk: the human agents' line says so, and the banner does
	// not call everything operational.
	status.navigate(run.URL + "/status?lang=zh-CN")
	status.waitFor(`document.body.dataset.ready === "1"`)
	status.waitFor(`document.querySelector('` + agents + `') !== null`)
	if got := eval[string](status, `document.querySelector('`+agents+`').innerText`); !strings.Contains(got, "受限") ||
		!strings.Contains(got, "暂无客服在线，可留言") || strings.Contains(got, "正常") {
		t.Errorf("with no agent online the human agents' line says %q", got)
	}
	if got := banner(); got != "部分服务受限" {
		t.Errorf("with no agent online the banner says %q", got)
	}

	// An agent comes online: all is well.
	setPresence(agent, "online")
	status.waitWithin(`document.querySelector('`+agents+`').dataset.status === "operational"`, 15*time.Second)
	status.waitFor(`document.querySelector('#overall').dataset.status === "operational"`)
	if got := banner(); got != "所有服务运行正常" {
		t.Errorf("all is well, yet the banner says %q", got)
	}
	if eval[string](status, `document.querySelector('`+agents+` .status-component-note')?.textContent || ''`) != "" {
		t.Error("the human agents' line keeps a note with an agent online")
	}

	// An admin declares an incident, in English only.
	var declared struct {
		Incident struct{ ID string } `json:"incident"`
	}
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents",
		map[string]string{"title": "Delivery tracking delayed", "severity": "warning"}, &declared)
	status.waitWithin(`!document.querySelector('#incident').hidden && document.querySelectorAll('#incident-updates li').length > 0`,
		15*time.Second)
	if got := banner(); got != "正在调查一起事件" {
		t.Errorf("Chinese banner above an open incident: %q", got)
	}
	if s := eval[string](status, `document.querySelector('#overall').dataset.status`); s == "operational" {
		t.Error("the banner is green above an open incident")
	}
	if got := eval[string](status, `document.querySelector('#incident-meta .status-severity').textContent`); got != "重要" {
		t.Errorf("Chinese severity %q, want the console's 重要", got)
	}
	if got := eval[string](status, visibleText("#incident-title")); got != "Delivery tracking delayed" {
		t.Errorf("incident title without a Chinese one: %q", got)
	}
	noNames("declared, zh-CN")
	status.screenshot("status-declared-zh")

	// The same in English; the admin sets the phase.
	status.navigate(run.URL + "/status?lang=en")
	status.waitFor(`document.body.dataset.ready === "1" && !document.querySelector('#incident').hidden`)
	if got := banner(); got != "We are investigating an incident" {
		t.Errorf("English banner above an open incident: %q", got)
	}
	if got := eval[string](status, `document.querySelector('#incident-meta .status-severity').textContent`); got != "warning" {
		t.Errorf("English severity %q", got)
	}
	noNames("declared, en")
	admin.Must(http.StatusOK, "POST", "/api/v1/incidents/"+declared.Incident.ID+"/updates", map[string]string{"phase": "identified"}, nil)
	status.waitWithin(`document.querySelector('#incident').dataset.phase === "identified"`, 15*time.Second)
	if got := banner(); got != "We have found the cause of an incident and are fixing it" {
		t.Errorf("English banner once the cause is identified: %q", got)
	}
	noNames("phase set, en")

	// The agent leaves: the line says so in English too.
	setPresence(agent, "offline")
	status.waitWithin(`document.querySelector('`+agents+`').dataset.status === "degraded_performance"`, 15*time.Second)
	if got := eval[string](status, `document.querySelector('`+agents+` .status-component-note').textContent`); got != "no agent online; leave a message" {
		t.Errorf("English note with no agent online: %q", got)
	}
	status.screenshot("status-declared-en")
}
