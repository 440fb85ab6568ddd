package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// Stored XSS payloads: each would set window.__xss if a page turned it into
// markup (or followed it as a link).
const (
	xssImg    = `<img src=x onerror=window.__xss=1>`
	xssScript = `<script>window.__xss=1</script>`
	xssSVG    = `"><svg onload=window.__xss=1>`
	xssLink   = `[点我](javascript:window.__xss=1)`
)

// xssAll is every payload in one text.
var xssAll = strings.Join([]string{xssImg, xssScript, xssSVG, xssLink}, " ")

// inert waits until every text is on the page, as text, then checks that
// no payload became an element or ran.
func (p page) inert(where string, texts ...string) {
	p.t.Helper()
	for _, s := range texts {
		p.waitFor(fmt.Sprintf(`document.body.innerText.includes(%q)`, s))
	}
	time.Sleep(300 * time.Millisecond) // an injected image's error would have fired by now
	if got := eval[string](p, `String(window.__xss)`); got != "undefined" {
		p.t.Fatalf("%s: a payload ran (window.__xss = %s)", where, got)
	}
	if got := eval[string](p, `[...document.querySelectorAll('[onerror], [onload], a[href^="javascript:" i], iframe[srcdoc]')].map(e => e.outerHTML).join(' ')`); got != "" {
		p.t.Fatalf("%s: a payload became markup: %s", where, got)
	}
}

// TestStoredXSSIsInertInChromium: what customers send (messages, their
// name, an offline message, a rating comment, a flag's reason) and what
// staff write (knowledge entries' questions, answers and tags; notes and
// replies; incident titles and updates; silence comments) is shown as text
// on every page: the desk's queue, transcript and tickets, the knowledge
// editor, diff, corrections and unanswered questions, the incidents page,
// the status page, the chat page and the widget.
func TestStoredXSSIsInertInChromium(t *testing.T) {
	var base string // the shop embeds the widget of the Steward started below
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="%s/widget.js" data-lang="zh-CN" async></script></body></html>`, base)
	}))
	defer shop.Close()
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		c.Knowledge.Gate.Folds, c.Knowledge.Gate.MaxHeldOut = 2, 200
		c.Security.FrameAncestors = []string{"'self'", shop.URL}
	})
	base = run.URL
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agentAPI := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	lead := admin.AddUser("lead@example.com", "supervisor", nil)
	agentAPI.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)

	// A customer, through the API: a name, and a message the bot cannot
	// answer (asked before the probe is released, which would answer it);
	// then the probe's answer (flagged, with a reason), a handoff, an
	// offline message. The agent writes a note and replies.
	cl := &testutil.Client{T: t, Base: run.URL}
	name := xssImg + xssSVG
	status, b := cl.Do("POST", "/api/v1/conversations", "", []byte(fmt.Sprintf(`{"locale":"zh-CN","customer":{"name":%q}}`, name)))
	if status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, b)
	}
	var conv testutil.Conversation
	json.Unmarshal(b, &conv)
	unanswered := "消息 " + xssAll
	if turn := cl.Say(conv, unanswered); len(turn.Messages) == 0 || turn.Messages[0].Outcome != "fallback" {
		t.Fatalf("the payload message was %+v, want a fallback (so it is an unanswered question)", turn.Messages)
	}
	// A knowledge entry with payloads in its title, questions, answers and tags, released.
	answerZH, answerEN := "防注入答案 "+xssAll, "Injection probe answer "+xssAll
	entry := map[string]any{"id": "xss-probe", "category": "orders", "title": "探针 " + xssImg,
		"tags": []string{xssImg, xssSVG},
		"locales": map[string]any{
			"zh-CN": map[string]any{"questions": []string{"防注入测试问题", "防注入测试 " + xssAll}, "answer": answerZH},
			"en":    map[string]any{"questions": []string{"injection probe question", "injection probe " + xssAll}, "answer": answerEN},
		}}
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/entries", map[string]any{"entry": entry, "submit": true}, nil)
	lead.Must(http.StatusOK, "POST", "/api/v1/kb/entries/xss-probe/approve", nil, nil)
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]any{"note": xssImg, "override": true,
		"reason": "the probe's links are the point"}, nil)

	turn := cl.Say(conv, "防注入测试问题")
	if len(turn.Messages) == 0 || turn.Messages[0].Entry == nil || turn.Messages[0].Entry.ID != "xss-probe" {
		t.Fatalf("the probe question was answered %+v", turn.Messages)
	}
	flagReason := "理由 " + xssAll
	body, _ := json.Marshal(map[string]string{"reason": flagReason})
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+turn.Messages[0].ID+"/flag", conv.Token, body); status != http.StatusCreated {
		t.Fatalf("flag: %d %s", status, b)
	}
	if turn := cl.Say(conv, "转人工"); turn.State != "queued" {
		t.Fatalf("handoff: %+v", turn)
	}
	offline := "留言 " + xssAll
	body, _ = json.Marshal(map[string]string{"contact": xssImg, "message": offline})
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body); status != http.StatusCreated {
		t.Fatalf("offline message: %d %s", status, b)
	}
	note, reply := "备注 "+xssAll, "回复 "+xssAll
	agentAPI.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/notes", map[string]string{"text": note}, nil)

	// The incidents and status pages: an incident, its update, a silence.
	incTitle, update, comment := "故障 "+xssAll, "进展 "+xssAll, "静默 "+xssAll
	var inc struct{ Incident struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents", map[string]string{"title": incTitle, "title_zh": incTitle, "severity": "info"}, &inc)
	admin.Must(http.StatusOK, "POST", "/api/v1/incidents/"+inc.Incident.ID+"/updates", map[string]string{"note": update}, nil)
	admin.Must(http.StatusCreated, "POST", "/api/v1/silences", map[string]any{"matchers": []string{`alertname="probe"`}, "comment": comment, "duration": "1h"}, nil)

	agent := page{t, browserWithin(t, 3*time.Minute)}
	agent.navigate("about:blank")
	inContext := func() (page, func()) {
		ctx, cancel := chromedp.NewContext(agent.ctx, chromedp.WithNewBrowserContext())
		return page{t, ctx}, cancel
	}
	editor, cancelEditor := inContext()
	defer cancelEditor()
	customer, cancelCustomer := inContext()
	defer cancelCustomer()

	// The desk: the queue, the transcript, the tickets.
	agent.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	agent.click("#tab-queue")
	agent.inert("queue", name)
	agent.navigate(run.URL + "/console?lang=en#c=" + conv.ID)
	agent.waitFor(`document.body.dataset.ready === "1"`)
	agent.inert("transcript", name, unanswered, answerZH, note)
	agent.click("#tab-tickets")
	agent.inert("tickets", offline, xssImg)
	agent.screenshot("xss-desk")

	// The agent takes the conversation and replies; the customer's chat page
	// (resuming this conversation) shows everything as text, and what the
	// customer types and rates with.
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	agentAPI.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages", map[string]string{"text": reply}, nil)
	customer.navigate(run.URL + "/chat?lang=zh-CN")
	customer.waitFor(`document.body.dataset.ready === "1"`)
	eval[bool](customer, fmt.Sprintf(`(localStorage.setItem('steward.conversation', JSON.stringify({id: %q, token: %q})), true)`, conv.ID, conv.Token))
	customer.reload()
	customer.waitFor(`document.body.dataset.ready === "1"`)
	customer.inert("chat page", unanswered, answerZH, reply)
	typed := "再问 " + xssAll
	customer.send(typed)
	customer.inert("chat page after sending", typed)
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	customer.waitFor(`!!document.querySelector('#rating-form') && !document.querySelector('#rating-card').hidden`)
	customer.click(`#rating-form button.star[data-score="1"]`)
	customer.fill("#rating-comment", "评价 "+xssAll)
	customer.click("#rating-submit")
	customer.waitFor(`!!document.querySelector('#rating-done') && !document.querySelector('#rating-done').hidden`)
	customer.inert("chat page after rating", reply)
	customer.screenshot("xss-chat")
	var rated struct {
		Rating *struct{ Comment string } `json:"rating"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &rated)
	if rated.Rating == nil || rated.Rating.Comment != "评价 "+xssAll {
		t.Errorf("the rating comment was stored as %+v", rated.Rating)
	}

	// The widget on a shop's page, and the chat page it frames.
	customer.navigate(shop.URL)
	customer.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	eval[bool](customer, `(window.Steward.open(), true)`)
	customer.waitFor(`!!document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe')`)
	customer.inert("shop page with the widget", "Shop")
	src := eval[string](customer, `document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe').src`)
	customer.navigate(src)
	customer.waitFor(`document.body.dataset.ready === "1"`)
	customer.inert("the widget's chat", unanswered, answerZH, reply, typed)

	// The knowledge pages: the entry in the list and the editor, the diff,
	// the corrections, the unanswered questions.
	editor.signInTo(run.URL, "/console/kb", run.Demo[0].Email, run.Demo[0].Password)
	editor.waitFor(`!!document.querySelector('#entries-list li[data-id="xss-probe"]')`)
	editor.inert("entries", "探针 "+xssImg)
	editor.click(`#entries-list li[data-id="xss-probe"]`)
	editor.waitFor(`!document.querySelector('#entry-form').hidden && document.querySelector('#ed-id').value === "xss-probe"`)
	for sel, want := range map[string]string{"#ed-answer-zh": answerZH, "#ed-answer-en": answerEN, "#ed-title": "探针 " + xssImg} {
		if got := eval[string](editor, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != want {
			t.Errorf("editor %s is %q, want %q", sel, got, want)
		}
	}
	if got := eval[string](editor, `document.querySelector('#ed-questions-zh').value`); !strings.Contains(got, "防注入测试 "+xssAll) {
		t.Errorf("editor questions %q", got)
	}
	if got := eval[string](editor, `document.querySelector('#ed-tags').value`); !strings.Contains(got, xssImg) || !strings.Contains(got, xssSVG) {
		t.Errorf("editor tags %q", got)
	}
	editor.inert("editor", "探针 "+xssImg)
	editor.click("#ed-history")
	editor.inert("entry history", "探针 "+xssImg)
	editor.tab("releases")
	editor.waitFor(`!!document.querySelector('#releases-list li[data-id="2"]')`)
	editor.inert("releases", xssImg)
	editor.click("#diff-btn")
	editor.waitFor(`!!document.querySelector('#diff-result li[data-id="xss-probe"]')`)
	editor.inert("diff", "xss-probe")
	editor.tab("corrections")
	editor.inert("corrections", flagReason)
	editor.tab("unanswered")
	editor.inert("unanswered", unanswered)
	editor.screenshot("xss-kb")

	// The incidents page and the public status page.
	editor.navigate(run.URL + "/console/incidents?lang=en#" + inc.Incident.ID)
	editor.waitFor(`document.body.dataset.ready === "1"`)
	editor.inert("incidents", incTitle, update, comment)
	editor.screenshot("xss-incidents")
	editor.navigate(run.URL + "/status?lang=en")
	editor.inert("status page", incTitle)
}
