package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/llm/llmtest"
	"github.com/steward-cs/steward/internal/testutil"
)

// artifacts is where browser tests leave screenshots: $STEWARD_ARTIFACTS,
// or artifacts/ at the repository's root.
func artifacts(t *testing.T) string {
	dir := os.Getenv("STEWARD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (p page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// waitAcrossNavigation polls expr while the page may be navigating, when
// an in-page poll would be cut off with the document it ran in.
func (p page) waitAcrossNavigation(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("timed out waiting for %s", expr)
}

// click clicks the first element matching selector, once it exists.
func (p page) click(selector string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`!!document.querySelector(%q)`, selector))
	eval[bool](p, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, selector))
}

// fill sets an input's value as typing would.
func (p page) fill(selector, value string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`!!document.querySelector(%q)`, selector))
	eval[bool](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.focus();
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, selector, value))
}

// An agent takes over from the bot in the console while the customer
// watches in the chat page: two browser contexts, nothing faked.
func TestAgentConsoleTakesOverInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	demoAgent := run.Demo[1]
	customer := page{t, browser(t)}
	customer.navigate(run.URL + "/chat?lang=en")
	customer.waitFor(`document.body.dataset.ready === "1"`)

	// The agent works in a separate browser context: their own cookies.
	actx, cancel := chromedp.NewContext(customer.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	agent := page{t, actx}
	agent.navigate(run.URL + "/console?lang=en")
	agent.waitAcrossNavigation(loginReady)
	agent.fill("#login-email", demoAgent.Email)
	agent.fill("#login-password", "wrong password!")
	agent.click("#login-submit")
	agent.waitFor(`(document.querySelector('#login-error').innerText || "").trim() !== ""`)
	agent.fill("#login-password", demoAgent.Password)
	agent.click("#login-submit")
	agent.waitAcrossNavigation(`location.pathname === "/console" && document.body.dataset.ready === "1" && !document.querySelector('#presence').hidden`)
	// Live updates must not need a reload: this marker would vanish with one.
	eval[bool](agent, `(window.__noReload = true, true)`)
	eval[bool](agent, `(() => {
		const s = document.querySelector('#presence-select');
		s.value = 'online';
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`)
	agent.waitFor(`document.querySelector('#presence').dataset.status === "online"`)
	agent.screenshot("console-empty")

	// The customer asks the bot, then for a person.
	customer.send("how much is shipping?")
	customer.waitFor(botAnswers + ` >= 1`)
	customer.waitFor(`!document.querySelector('#handoff-btn').disabled`)
	customer.click("#handoff-btn")

	// It arrives in the agent's list (assigned automatically: the agent is online).
	agent.waitFor(`!!document.querySelector('#mine-list li[data-id]')`)
	convID := eval[string](agent, `document.querySelector('#mine-list li[data-id]').dataset.id`)
	agent.click(`#mine-list li[data-id]`)
	// The summary (loaded after the transcript) names the customer's topic.
	agent.waitFor(`/shipping/i.test(document.querySelector('#summary-text').innerText || "")`)
	agent.waitFor(`document.querySelectorAll('#transcript .msg[data-role="customer"]').length >= 2`)
	agent.waitFor(`!!document.querySelector('#suggestions button.suggestion')`)
	agent.screenshot("console-conversation")

	// One click inserts a suggested reply; Send delivers it.
	agent.click("#suggestions button.suggestion")
	reply := eval[string](agent, `document.querySelector('#reply-input').value`)
	if strings.TrimSpace(reply) == "" {
		t.Fatal("a click on a suggestion inserted nothing")
	}
	agent.click("#reply-send")
	agent.waitFor(`[...document.querySelectorAll('#transcript .msg[data-role="agent"]')].length >= 1`)

	// The customer sees it live.
	firstLine := strings.SplitN(reply, "\n", 2)[0]
	customer.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#messages .msg[data-role="agent"]')].some(m => m.innerText.includes(%q))`, firstLine))
	customer.waitFor(`document.querySelector('#state-banner').dataset.state === "assigned"`)
	customer.screenshot("chat-agent-reply")

	// The agent closes; the customer rates.
	eval[bool](agent, `(window.confirm = () => true, true)`)
	agent.click("#close-btn")
	customer.waitFor(`!!document.querySelector('#rating-form') && !document.querySelector('#rating-card').hidden`)
	customer.click(`#rating-form button.star[data-score="5"]`)
	customer.waitFor(`!!document.querySelector('#rating-form button.rating-tag')`)
	customer.click(`#rating-form button.rating-tag`)
	customer.click("#rating-submit")
	customer.waitFor(`!!document.querySelector('#rating-done') && !document.querySelector('#rating-done').hidden`)
	customer.screenshot("chat-rated")
	agent.screenshot("console-closed")
	if !eval[bool](agent, `window.__noReload === true`) {
		t.Error("the console reloaded the page")
	}

	// The rating is stored, once.
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var got struct {
		Conversation struct{ State string }
		Rating       *struct {
			Score int      `json:"score"`
			Tags  []string `json:"tags"`
		} `json:"rating"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+convID, nil, &got)
	if got.Conversation.State != "closed" || got.Rating == nil || got.Rating.Score != 5 || len(got.Rating.Tags) != 1 {
		b, _ := json.Marshal(got)
		t.Fatalf("after rating: %s", b)
	}
}

// offlineTickets starts a conversation nobody can take (no agent online),
// leaves one offline message per contact on it and returns the tickets' ids.
func offlineTickets(t *testing.T, base string, contacts ...string) []string {
	t.Helper()
	cl := &testutil.Client{T: t, Base: base}
	conv := cl.Start("zh-CN")
	if turn := cl.Say(conv, "转人工"); len(turn.Messages) == 0 || turn.Messages[0].Outcome != "offline" {
		t.Fatalf("handoff with nobody online: %+v, want the offline form", turn)
	}
	var ids []string
	for i, contact := range contacts {
		body, _ := json.Marshal(map[string]string{"contact": contact, "message": fmt.Sprintf("请回电 %d", i)})
		status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body)
		var created struct{ Ticket struct{ ID string } }
		if status != http.StatusCreated || json.Unmarshal(b, &created) != nil || created.Ticket.ID == "" {
			t.Fatalf("offline message %d: %d %s", i, status, b)
		}
		ids = append(ids, created.Ticket.ID)
	}
	return ids
}

// An agent under Messages sees the contact a customer left masked, shows it
// with one click (as text, audited), is told why when there is nothing to
// show or they may not see it, and sees resolved tickets named by the
// person who resolved them, not by their user id.
func TestConsoleTicketsShowContactAndResolverInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	const mobile = "13812345678"
	contact := xssImg + " " + mobile
	ids := offlineTickets(t, run.URL, contact, "wechat steward_fan", "buyer@example.com")
	masked, plain, later := ids[0], ids[1], ids[2]
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agentAPI := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	var me struct{ User struct{ ID, Name string } }
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/auth/me", nil, &me)

	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-tickets")
	row := func(id, sel string) string { return fmt.Sprintf(`#tickets-list li[data-id=%q] %s`, id, sel) }
	p.waitFor(visible(row(masked, "button.reveal-contact")))
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(masked, ".ticket-contact"))); strings.Contains(got, mobile) || !strings.Contains(got, "*") {
		t.Fatalf("the contact is listed as %q, want it masked", got)
	}
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(masked, "button.reveal-contact"))); got != "Show contact" {
		t.Errorf("the reveal button reads %q", got)
	}

	// Shown as the customer wrote it, as text, and audited.
	p.click(row(masked, "button.reveal-contact"))
	p.waitFor(fmt.Sprintf(`document.querySelector(%q).textContent === %q`, row(masked, ".ticket-contact"), contact))
	p.inert("revealed contact", contact)
	if eval[bool](p, fmt.Sprintf(`!!document.querySelector(%q)`, row(masked, "button.reveal-contact"))) {
		t.Error("the reveal button stays after the contact is shown")
	}
	var trail struct {
		Entries []struct {
			Actor, Action string
			Detail        map[string]any
		} `json:"entries"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/audit?action=pii.reveal", nil, &trail)
	if len(trail.Entries) != 1 || trail.Entries[0].Actor != me.User.ID || trail.Entries[0].Detail["ref"] != "ticket:"+masked+":contact" {
		t.Fatalf("audit trail of reveals %+v", trail.Entries)
	}

	// A contact the detector does not know (a WeChat id) is personal data all the same: listed
	// masked, shown on purpose like the rest.
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(plain, ".ticket-contact"))); strings.Contains(got, "steward") {
		t.Fatalf("the WeChat contact is listed as %q, want it masked", got)
	}
	p.click(row(plain, "button.reveal-contact"))
	p.waitFor(fmt.Sprintf(`document.querySelector(%q).textContent === "wechat steward_fan"`, row(plain, ".ticket-contact")))

	// Someone who may no longer reveal (made an auditor meanwhile) is told so in words.
	p.waitFor(visible(row(later, "button.reveal-contact")))
	admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+me.User.ID+"/role", map[string]string{"role": "auditor"}, nil)
	eval[bool](p, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, row(later, "button.reveal-contact")))
	p.waitFor(fmt.Sprintf(`(document.querySelector(%q) || {}).innerText === "You are not allowed to see this original."`, row(later, ".ticket-reveal-error")))
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(later, ".ticket-contact"))); strings.Contains(got, "buyer@") {
		t.Errorf("a refused reveal shows %q", got)
	}
	admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+me.User.ID+"/role", map[string]string{"role": "agent"}, nil)

	// Resolved: named by the person, in both languages; the shown contact stays shown.
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/tickets/"+masked+"/resolve", nil, nil)
	p.click("#tickets-resolved")
	p.waitFor(visible(row(masked, ".ticket-resolved")))
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(masked, ".ticket-resolved"))); !strings.HasPrefix(got, "Resolved by "+me.User.Name+", ") || strings.Contains(got, me.User.ID) {
		t.Errorf("a resolved ticket says %q, want it resolved by %q", got, me.User.Name)
	}
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).textContent`, row(masked, ".ticket-contact"))); got != contact {
		t.Errorf("after a reload of the list the contact reads %q", got)
	}
	p.screenshot("console-tickets")
	p.navigate(run.URL + "/console?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.click("#tab-tickets")
	p.click("#tickets-resolved")
	p.waitFor(visible(row(masked, ".ticket-resolved")))
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(masked, ".ticket-resolved"))); !strings.HasPrefix(got, me.User.Name+" 于 ") || strings.Contains(got, me.User.ID) {
		t.Errorf("a resolved ticket says %q in Chinese, want it resolved by %q", got, me.User.Name)
	}
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).innerText`, row(masked, "button.reveal-contact"))); got != "显示联系方式" {
		t.Errorf("the Chinese reveal button reads %q", got)
	}

	// The same path shows a masked number in a conversation the agent has.
	agentAPI.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	cl := &testutil.Client{T: t, Base: run.URL}
	conv := cl.Start("zh-CN")
	cl.Say(conv, "我的手机是 13900001111")
	if turn := cl.Say(conv, "转人工"); turn.State != "queued" && turn.State != "assigned" {
		t.Fatalf("handoff with the agent online: %+v", turn)
	}
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	p.navigate(run.URL + "/console?lang=zh-CN#c=" + conv.ID)
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.click("#transcript .msg[data-role=customer] button.msg-reveal")
	p.waitFor(`[...document.querySelectorAll('#transcript .bubble.is-revealed')].some(b => b.textContent === "我的手机是 13900001111")`)
}

// consoleCutOff lists what of the console's frame does not fit: the page
// wider than the window, a top-bar control outside it, a visible tab or
// its badge outside the tab list (scrolled or clipped away).
const consoleCutOff = `(() => {
	const vw = window.innerWidth, out = [];
	const sw = document.documentElement.scrollWidth;
	if (sw > vw) out.push('page ' + sw + ' px wide in a ' + vw + ' px window');
	const shown = (el) => !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
	for (const sel of ['.brand', '#nav-desk', '#nav-kb', '#me-name', '#presence-select', '#load', '#lang-switch', '#logout-btn']) {
		const el = document.querySelector(sel);
		if (!shown(el)) { out.push(sel + ' not shown'); continue; }
		const r = el.getBoundingClientRect();
		if (r.left < 0 || r.right > vw + 0.5 || r.width < 1) out.push(sel + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
	}
	const list = document.querySelector('.tabs').getBoundingClientRect();
	for (const el of document.querySelectorAll('.tabs .tab, .tabs .tab-count')) {
		if (!shown(el)) continue;
		const r = el.getBoundingClientRect();
		if (r.left < list.left - 0.5 || r.right > list.right + 0.5 || r.top < list.top - 0.5 || r.bottom > list.bottom + 0.5 || r.right > vw + 0.5) {
			out.push((el.id || el.innerText) + ' at ' + Math.round(r.left) + '..' + Math.round(r.right) + ' in tabs ' + Math.round(list.left) + '..' + Math.round(list.right));
		}
	}
	return out.join('; ');
})()`

// The knowledge base, incidents and audit pages fit a phone and a laptop in
// both languages: their top bars wrap instead of spilling the name, the
// language switch and Sign out over each other and off the screen (they
// were laid out 558–708 px wide in a 390 px window).
func TestStaffPagesFitLaptopAndPhoneInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console/kb", run.Demo[0].Email, run.Demo[0].Password)
	const cutOff = `(() => {
		const vw = window.innerWidth, out = [];
		const sw = document.documentElement.scrollWidth;
		if (sw > vw) out.push('page ' + sw + ' px wide in a ' + vw + ' px window');
		const boxes = [];
		for (const sel of ['.brand', '#nav-desk', '#nav-kb', '#me-name', '#lang-switch', '#logout-btn']) {
			const el = document.querySelector(sel);
			if (!el || el.closest('[hidden]') || !el.getClientRects().length) { out.push(sel + ' not shown'); continue; }
			const r = el.getBoundingClientRect();
			if (r.left < 0 || r.right > vw + 0.5 || r.width < 1) out.push(sel + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
			boxes.push([sel, r]);
		}
		for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
			const [a, r] = boxes[i], [b, q] = boxes[j];
			if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1) out.push(a + ' overlaps ' + b);
		}
		const main = document.querySelector('.inc-main, .kb-tabs');
		if (main && main.getBoundingClientRect().height < 1) out.push('the page body has no height');
		return out.join('; ');
	})()`
	for _, path := range []string{"/console/kb", "/console/incidents", "/console/audit"} {
		for _, lang := range []string{"en", "zh-CN"} {
			p.navigate(run.URL + path + "?lang=" + lang)
			p.waitFor(`document.body.dataset.ready === "1"`)
			for _, size := range []struct{ w, h int64 }{{1366, 768}, {390, 844}} {
				if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
					t.Fatal(err)
				}
				p.waitFor(fmt.Sprintf(`window.innerWidth === %d`, size.w))
				if got := eval[string](p, cutOff); got != "" {
					t.Errorf("%s in %s at %d×%d: %s", path, lang, size.w, size.h, got)
				}
				p.screenshot(fmt.Sprintf("staff%s-%s-%d", strings.ReplaceAll(path, "/", "-"), lang, size.w))
			}
			if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The admin's six desk tabs with their badges, the presence selector and
// Sign out are all on screen on a laptop (1366 px) and a phone (390 px), in
// both languages, on a busy desk: every tab but Mine has a count.
func TestConsoleFitsLaptopAndPhoneInChromium(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	offlineTickets(t, run.URL, "a@example.com", "13800000000", "wechat c")
	offlineTickets(t, run.URL, "d@example.com")
	for _, demo := range run.Demo[1:] {
		agent := testutil.Login(t, run.URL, demo.Email, demo.Password)
		agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	}
	cl := &testutil.Client{T: t, Base: run.URL}
	for range 12 {
		if turn := cl.Say(cl.Start("en"), "human"); turn.State != "queued" {
			t.Fatalf("handoff with agents online: %+v", turn)
		}
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	for _, lang := range []string{"en", "zh-CN"} {
		p.navigate(run.URL + "/console?lang=" + lang)
		p.waitFor(`document.body.dataset.ready === "1" && !document.querySelector('#presence').hidden && document.querySelector('#count-tickets').innerText === "4" &&
			document.querySelector('#count-queue').innerText === "12" && document.querySelector('#count-active').innerText === "12" && !document.querySelector('#count-team').hidden`)
		if n := eval[int](p, `document.querySelectorAll('.tabs .tab:not([hidden])').length`); n != 6 {
			t.Fatalf("the admin sees %d desk tabs, want 6", n)
		}
		for _, size := range []struct{ w, h int64 }{{1366, 768}, {390, 844}} {
			if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			p.waitFor(fmt.Sprintf(`window.innerWidth === %d`, size.w))
			if got := eval[string](p, consoleCutOff); got != "" {
				t.Errorf("%s at %d×%d: %s", lang, size.w, size.h, got)
			}
			p.screenshot(fmt.Sprintf("console-%s-%d", lang, size.w))
		}
		// An open conversation (its actions, the transcript, the composer) fits the phone too.
		p.click("#tab-queue")
		p.click("#queue-list li[data-id]")
		p.waitFor(`!document.querySelector('#conv-view').hidden && !!document.querySelector('#transcript .msg') && !document.querySelector('#assign-box').hidden`)
		if got := eval[string](p, consoleCutOff); got != "" {
			t.Errorf("%s at 390×844 with a conversation open: %s", lang, got)
		}
		for _, sel := range []string{"#conv-claim", "#assign-select", "#reply-input"} {
			if !eval[bool](p, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })()`, sel)) {
				t.Errorf("%s at 390×844: %s is cut off", lang, sel)
			}
		}
		p.screenshot("console-conversation-" + lang + "-390")
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
			t.Fatal(err)
		}
	}
}

// A Chinese console names the demo knowledge base's categories in Chinese
// wherever it shows one: the queue row, the conversation's header, the
// summary's tags and its intents. No "order_status" on a Chinese page.
func TestConsoleNamesCategoriesInChromium(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("zh-CN")
	cl.Say(conv, "我的快递到哪了，怎么查物流？")
	cl.Say(conv, "转人工")
	var got struct {
		Conversation struct{ State, Category string }
	}
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &got)
	labels := map[string]string{"shipping": "物流配送", "order_status": "订单查询"}
	want, ok := labels[got.Conversation.Category]
	if got.Conversation.State != "queued" || !ok {
		t.Fatalf("conversation %+v: want it queued in shipping or order_status", got.Conversation)
	}
	id := got.Conversation.Category

	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.navigate(run.URL + "/console?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1"`)
	row := fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID)
	p.waitFor(fmt.Sprintf(`!!document.querySelector('%s .item-category')`, row))
	if s := eval[string](p, fmt.Sprintf(`document.querySelector('%s .item-category').innerText`, row)); s != want {
		t.Errorf("the queue row's category reads %q, want %q", s, want)
	}
	p.click(row)
	p.waitFor(`(document.querySelector('#summary-text').innerText || "").trim() !== ""`)
	p.waitFor(`document.querySelectorAll('#summary-intents .chip').length > 0`)
	for _, c := range []struct{ where, expr, want string }{
		{"header", `document.querySelector('#conv-meta').innerText`, "类别: " + want},
		{"summary tags", `document.querySelector('#summary-tags').innerText`, want},
		{"intents", `[...document.querySelectorAll('#summary-intents .chip')].map((c) => c.textContent).join(' ')`, want},
	} {
		s := eval[string](p, c.expr)
		if !strings.Contains(s, c.want) || strings.Contains(s, id) {
			t.Errorf("the %s read %q: want %q, not %q", c.where, s, c.want, id)
		}
	}
}

// Closing is confirmed first, and closing a queued conversation nobody has
// served does not ask the customer for a rating (it did: ask_rating was
// always sent).
func TestConsoleConfirmsCloseAndRatesOnlyServedConversations(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("en")
	cl.Say(conv, "human please")

	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var got struct {
		Conversation struct{ State string }           `json:"conversation"`
		Messages     []struct{ Role, Outcome string } `json:"messages"`
	}
	read := func() {
		t.Helper()
		admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &got)
	}
	if read(); got.Conversation.State != "queued" {
		t.Fatalf("after asking for a person: %s, want queued", got.Conversation.State)
	}

	sup := page{t, browser(t)}
	sup.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	sup.click("#tab-queue")
	sup.waitFor(fmt.Sprintf(`!!document.querySelector('#queue-list li[data-id=%q]')`, conv.ID))
	sup.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	sup.waitFor(`!document.querySelector('#close-btn').hidden`)

	// Declined: nothing happens.
	eval[bool](sup, `(window.confirm = (m) => (window.__asked = m, false), true)`)
	sup.click("#close-btn")
	sup.waitFor(`typeof window.__asked === "string"`)
	if asked := eval[string](sup, `window.__asked`); !strings.Contains(asked, "not asked for a rating") {
		t.Errorf("closing a queued conversation asks %q", asked)
	}
	if read(); got.Conversation.State != "queued" {
		t.Fatalf("declining the confirmation left the conversation %s", got.Conversation.State)
	}

	// Confirmed: closed, with the plain closing line and no rating request.
	eval[bool](sup, `(window.confirm = () => true, true)`)
	sup.click("#close-btn")
	deadline := time.Now().Add(10 * time.Second)
	for read(); got.Conversation.State != "closed"; read() {
		if time.Now().After(deadline) {
			t.Fatalf("the confirmed close left the conversation %s", got.Conversation.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, m := range got.Messages {
		if m.Outcome == "rating_request" {
			t.Errorf("a queued conversation's close asked for a rating: %+v", got.Messages)
		}
	}
	if last := got.Messages[len(got.Messages)-1]; last.Outcome != "closed" {
		t.Errorf("the last message is %+v, want the closing line", last)
	}
}

// A message the customer left while queued is in the transcript the agent
// opens, where it was left, with its contact masked (the form promised the
// agent would see it; it was only in the Messages tab).
func TestConsoleShowsLeftMessagesInTheTranscript(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("zh-CN")
	cl.Say(conv, "转人工")
	body, _ := json.Marshal(map[string]string{"contact": "13812345678", "message": "快递三天没动了，麻烦回电"})
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body); status != http.StatusCreated {
		t.Fatalf("offline message: %d %s", status, b)
	}
	var got struct {
		Tickets []struct{ ID, Contact, Message, Status string } `json:"tickets"`
	}
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+conv.ID, nil, &got)
	if len(got.Tickets) != 1 || got.Tickets[0].Message != "快递三天没动了，麻烦回电" || got.Tickets[0].Contact != "138****5678" ||
		got.Tickets[0].Status != "open" {
		t.Fatalf("the conversation's tickets: %+v, want the one left, its contact masked", got.Tickets)
	}

	agent := page{t, browser(t)}
	agent.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	agent.click("#tab-queue")
	agent.waitFor(fmt.Sprintf(`!!document.querySelector('#queue-list li[data-id=%q]')`, conv.ID))
	agent.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	agent.waitFor(`!!document.querySelector('#transcript li.note--ticket')`)
	text := eval[string](agent, `document.querySelector('#transcript li.note--ticket').innerText`)
	for _, want := range []string{"快递三天没动了，麻烦回电", "138****5678", "Message left for an agent"} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript's left message reads %q, want %q in it", text, want)
		}
	}
	if strings.Contains(text, "13812345678") {
		t.Error("the transcript shows the contact unmasked")
	}
	// It comes after the customer's request for a person, before the thanks.
	if !eval[bool](agent, `(() => {
		const items = [...document.querySelectorAll('#transcript > li')];
		const ticket = items.findIndex((li) => li.classList.contains('note--ticket'));
		const thanks = items.findIndex((li) => li.dataset.outcome === 'ticket');
		const asked = items.findIndex((li) => li.dataset.role === 'customer');
		return asked >= 0 && asked < ticket && (thanks < 0 || ticket < thanks);
	})()`) {
		t.Errorf("the left message is out of place: %s", eval[string](agent,
			`[...document.querySelectorAll("#transcript > li")].map((li) => li.className + ":" + (li.dataset.outcome || li.dataset.role || "") + "@" + li.dataset.ts).join(" | ")`))
	}
}

// A message left while the agent has the conversation open appears in the
// transcript without a reload, and the Messages tab counts it: before, the
// console learnt of new offline messages only when it was reloaded.
func TestConsoleHearsALeftMessageLive(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("zh-CN")
	cl.Say(conv, "转人工")

	agent := page{t, browser(t)}
	agent.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	agent.click("#tab-queue")
	agent.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	agent.waitFor(`!!document.querySelector('#transcript .msg[data-role=customer]') && document.querySelector('#count-tickets').hidden`)

	body, _ := json.Marshal(map[string]string{"contact": "13812345678", "message": "等不及了，请回电"})
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/offline-message", conv.Token, body); status != http.StatusCreated {
		t.Fatalf("offline message: %d %s", status, b)
	}
	agent.waitFor(`!!document.querySelector('#transcript li.note--ticket') && document.querySelector('#count-tickets').innerText === "1"`)
	if text := eval[string](agent, `document.querySelector('#transcript li.note--ticket').innerText`); !strings.Contains(text, "等不及了，请回电") || !strings.Contains(text, "138****5678") {
		t.Errorf("the live left message reads %q", text)
	}
	if n := eval[int](agent, `document.querySelectorAll('#transcript li.note--ticket').length`); n != 1 {
		t.Errorf("the left message is in the transcript %d times", n)
	}
	// Switching the language keeps the open conversation (the server's link has no #fragment).
	agent.click("#lang-switch")
	agent.waitAcrossNavigation(fmt.Sprintf(`document.documentElement.lang === "zh-CN" && document.body.dataset.ready === "1" && location.hash === "#c=%s" && !document.querySelector('#conv-view').hidden`, conv.ID))
}

// A contact revealed while the list is redrawn (the tab's own load, a
// refresh) stays revealed: the answer used to land on the row the redraw
// had replaced, and the list kept showing the masked contact.
func TestConsoleRevealSurvivesARedraw(t *testing.T) {
	run := testutil.Start(t, nil)
	ids := offlineTickets(t, run.URL, "13812345678")
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-tickets")
	row := func(sel string) string { return fmt.Sprintf(`#tickets-list li[data-id=%q] %s`, ids[0], sel) }
	p.waitFor(visible(row("button.reveal-contact")))
	// The reveal's answer is held back half a second; meanwhile the list is redrawn.
	eval[bool](p, `(() => {
		const real = window.fetch;
		window.fetch = (url, opts) => String(url).endsWith('/reveal')
			? real(url, opts).then((r) => new Promise((ok) => setTimeout(() => ok(r), 500)))
			: real(url, opts);
		return true;
	})()`)
	p.click(row("button.reveal-contact"))
	p.click("#tab-queue")
	p.click("#tab-tickets")
	p.waitFor(fmt.Sprintf(`document.querySelector(%q).textContent === "13812345678"`, row(".ticket-contact")))
	if eval[bool](p, fmt.Sprintf(`!!document.querySelector(%q)`, row("button.reveal-contact"))) {
		t.Error("the reveal button is back after the contact was shown")
	}
}

// manualDeskWithAgentOnline starts Steward with routing by hand and the demo
// agent online, so that a customer who asks for a person waits in the queue;
// it returns the agent's API client and a customer client.
func manualDeskWithAgentOnline(t *testing.T, modify ...func(*config.Config)) (*testutil.Running, *testutil.Staff, *testutil.Client) {
	t.Helper()
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		for _, m := range modify {
			m(c)
		}
	})
	agentAPI := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agentAPI.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	return run, agentAPI, &testutil.Client{T: t, Base: run.URL}
}

// The Closed tab lists the agent's own closed conversations, the latest
// first, takes one closed in the console at the top without a reload, and
// opens a closed one read-only: how an agent finds the conversation of a
// customer who comes back.
func TestConsoleClosedTabListsWhatTheAgentClosed(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	handed := func() string {
		t.Helper()
		conv := cl.Start("en")
		if turn := cl.Say(conv, "human please"); turn.State != "queued" {
			t.Fatalf("asking for a person: %+v", turn)
		}
		agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
		return conv.ID
	}
	earlier, later := handed(), handed()
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+earlier+"/close", map[string]bool{"ask_rating": false}, nil)
	// Someone else's closed conversation is not the agent's to list.
	other := cl.Start("en")
	cl.Say(other, "human please")
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+other.ID+"/close", map[string]bool{"ask_rating": false}, nil)

	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.navigate(run.URL + "/console?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1"`)
	if n := eval[int](p, `document.querySelectorAll('.tabs .tab:not([hidden])').length`); n != 4 {
		t.Errorf("an agent sees %d desk tabs, want 4 (queue, mine, messages, closed)", n)
	}
	p.click("#tab-closed")
	closedIDs := `[...document.querySelectorAll('#closed-list li[data-id]')].map(li => li.dataset.id).join(' ')`
	p.waitFor(fmt.Sprintf(`%s === %q`, closedIDs, earlier))
	if tab := eval[string](p, `document.querySelector('#tab-closed').innerText.trim()`); tab != "已结束" {
		t.Errorf("the Closed tab reads %q in Chinese", tab)
	}

	// Closing the open one while the Closed tab is shown puts it first, live.
	p.click("#tab-mine")
	p.click(fmt.Sprintf(`#mine-list li[data-id=%q]`, later))
	p.waitFor(`!document.querySelector('#close-btn').hidden`)
	p.click("#tab-closed")
	p.waitFor(fmt.Sprintf(`%s === %q`, closedIDs, earlier))
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click("#close-btn")
	p.waitFor(fmt.Sprintf(`%s === %q`, closedIDs, later+" "+earlier))
	if eval[bool](p, fmt.Sprintf(`!!document.querySelector('#mine-list li[data-id=%q]')`, later)) {
		t.Error("the closed conversation is still under Mine")
	}
	if meta := eval[string](p, `document.querySelector('#closed-meta').innerText`); !strings.Contains(meta, "2") {
		t.Errorf("the Closed tab's line reads %q, want a count of 2", meta)
	}

	// The earlier one opens with its transcript and without a way to reply.
	p.click(fmt.Sprintf(`#closed-list li[data-id=%q]`, earlier))
	p.waitFor(fmt.Sprintf(`!document.querySelector('#conv-view').hidden && location.hash.includes(%q) && !!document.querySelector('#transcript .msg[data-role=customer]')`, earlier))
	p.waitFor(`document.querySelector('#conv-state').dataset.state === "closed"`)
	if eval[bool](p, `!document.querySelector('#reply-input').disabled || !document.querySelector('#close-btn').hidden`) {
		t.Error("a closed conversation opened from the Closed tab can still be replied to or closed")
	}
}

// A conversation that leaves the agent while the console's stream is down
// (handed to another agent) takes its unread count with it when the
// console catches up: the page title counted it until a reload.
func TestConsoleForgetsUnreadOfConversationsThatLeft(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	mine := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	other := testutil.Login(t, run.URL, run.Demo[2].Email, run.Demo[2].Password)
	for _, a := range []*testutil.Staff{mine, other} {
		a.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	}
	p := page{t, browser(t)}
	recordSockets(p)
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.waitFor(`window.__ws.length > 0 && window.__ws.at(-1).readyState === 1 && document.querySelector('#conn-status').hidden`)

	customer := &testutil.Client{T: t, Base: run.URL}
	conv := customer.Start("en")
	customer.Say(conv, "human")
	mine.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	p.waitFor(fmt.Sprintf(`!!document.querySelector('#mine-list li[data-id=%q]')`, conv.ID))
	p.waitFor(`document.title.startsWith('(1) ')`)

	// The stream goes down; meanwhile the conversation is handed to another agent.
	eval[bool](p, `(window.__wsBlock = true, window.__ws.at(-1).close(), true)`)
	p.waitFor(`window.__ws.at(-1).readyState === 3`)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/assign", map[string]string{"agent_id": other.ID}, nil)
	eval[bool](p, `(window.__wsBlock = false, true)`)
	p.waitWithin(fmt.Sprintf(`window.__ws.at(-1).readyState === 1 && !document.querySelector('#mine-list li[data-id=%q]')`, conv.ID), 40*time.Second)
	p.waitFor(`!document.title.startsWith('(')`)
}

// The header's Claim button works for the next conversation too (it stayed
// disabled after its first use until a reload), and a conversation claimed
// while open shows "show original" on its masked messages at once (they
// were drawn before the claim, without it).
func TestConsoleHeaderClaimWorksTwiceAndOffersReveal(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	queued := func() string {
		t.Helper()
		conv := cl.Start("zh-CN")
		cl.Say(conv, "我的手机 13812345678 收不到验证码")
		if turn := cl.Say(conv, "转人工"); turn.State != "queued" {
			t.Fatalf("asking for a person: %+v", turn)
		}
		return conv.ID
	}
	first, second := queued(), queued()
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	open := func(id string) {
		t.Helper()
		p.click("#tab-queue")
		p.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, id))
		p.waitFor(fmt.Sprintf(`location.hash.includes(%q) && document.querySelectorAll('#transcript .msg[data-role=customer]').length >= 2 && !document.querySelector('#conv-claim').hidden`, id))
	}
	open(first)
	if eval[bool](p, `!!document.querySelector('#transcript .msg-reveal')`) {
		t.Fatal("a queued conversation not yet the agent's offers to show the original")
	}
	p.click("#conv-claim")
	p.waitFor(`document.querySelector('#conv-state').dataset.state === "assigned"`)
	p.waitFor(`!!document.querySelector('#transcript .msg-reveal')`)

	open(second)
	if eval[bool](p, `document.querySelector('#conv-claim').disabled`) {
		t.Fatal("the header's Claim button is disabled for the next conversation")
	}
	p.click("#conv-claim")
	p.waitFor(fmt.Sprintf(`location.hash.includes(%q) && document.querySelector('#conv-state').dataset.state === "assigned"`, second))
}

// A sign-in refused by the network's sign-in rate (an office signing in at
// the start of a shift) says to wait seconds; one refused by an account's
// lock-out says the server's own sentence. Every 429 used to say "try
// again in 15 minutes".
func TestSignInSaysHowLongToWait(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Security.RateLimits.Login = config.RateLimit{Rate: 0.1, Burst: 1} })
	p := page{t, browser(t)}
	p.navigate(run.URL + "/console?lang=en")
	p.waitAcrossNavigation(loginReady)
	p.fill("#login-email", run.Demo[1].Email)
	p.fill("#login-password", "wrong password!")
	p.click("#login-submit")
	p.waitFor(`/incorrect|wrong/i.test(document.querySelector('#login-error').innerText || "")`)
	p.click("#login-submit")
	p.waitFor(`/Try again in \d+ s\./.test(document.querySelector('#login-error').innerText || "")`)
	if msg := eval[string](p, `document.querySelector('#login-error').innerText`); strings.Contains(msg, "15 minutes") {
		t.Fatalf("the sign-in rate's refusal reads %q", msg)
	}
}

// A supervisor sees the last seven days' quality report above the team:
// one conversation the bot answered and one handed to a person make half
// resolved by the bot and half transferred.
func TestConsoleShowsTheQualityReport(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	answered := cl.Start("en")
	cl.Say(answered, "how much is shipping?")
	handed := cl.Start("en")
	cl.Say(handed, "human please")
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	p.click("#tab-team")
	p.waitFor(`!document.querySelector('#team-report').hidden`)
	got := eval[string](p, `['resolved', 'transferred'].map((k) => document.querySelector('#report-' + k).innerText).join(' ')`)
	if got != "50% 50%" {
		t.Errorf("resolved and transferred read %q, want \"50%% 50%%\"", got)
	}
	if meta := eval[string](p, `document.querySelector('#report-meta').innerText`); !strings.Contains(meta, "2 conversations") {
		t.Errorf("the report's line reads %q", meta)
	}
	p.screenshot("console-report")
}

// The customer's rating shows in the transcript: stars, tags in the page's
// language and the comment (staff never saw ratings anywhere).
func TestConsoleShowsTheCustomersRating(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("en")
	cl.Say(conv, "human please")
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token,
		[]byte(`{"score":4,"tags":["solved"],"comment":"quick, thanks"}`)); status != http.StatusCreated {
		t.Fatalf("rate: %d %s", status, b)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-closed")
	p.click(fmt.Sprintf(`#closed-list li[data-id=%q]`, conv.ID))
	p.waitFor(`!!document.querySelector('#transcript li.note--rating')`)
	got := eval[string](p, `document.querySelector('#transcript li.note--rating').innerText`)
	for _, want := range []string{"Customer rating", "★★★★☆", "Solved", "quick, thanks"} {
		if !strings.Contains(got, want) {
			t.Errorf("the rating reads %q, want %q in it", got, want)
		}
	}
	// It comes after the closing line, at its time.
	if !eval[bool](p, `document.querySelector('#transcript > li:last-child').classList.contains('note--rating')`) {
		t.Error("the rating is not the transcript's last item")
	}
}

// A rating that comes while the conversation is open in the console shows
// at once: it showed only when the transcript was read again.
func TestConsoleShowsARatingAsItComes(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("en")
	cl.Say(conv, "human please")
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-closed")
	p.click(fmt.Sprintf(`#closed-list li[data-id=%q]`, conv.ID))
	p.waitFor(`document.querySelectorAll('#transcript li.msg').length >= 3`)
	if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token,
		[]byte(`{"score":2,"tags":[],"comment":"too slow"}`)); status != http.StatusCreated {
		t.Fatalf("rate: %d %s", status, b)
	}
	p.waitFor(`!!document.querySelector('#transcript li.note--rating')`)
	if got := eval[string](p, `document.querySelector('#transcript li.note--rating').innerText`); !strings.Contains(got, "★★☆☆☆") ||
		!strings.Contains(got, "too slow") {
		t.Errorf("the rating reads %q", got)
	}
}

// A reply half typed when the session ends (a send refused with 401 sends
// the console to the sign-in page) is there again, in its conversation,
// once the agent has signed in again.
func TestConsoleKeepsTheDraftAcrossSigningInAgain(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("zh-CN")
	if turn := cl.Say(conv, "转人工"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-queue")
	p.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	p.waitFor(fmt.Sprintf(`location.hash.includes(%q) && !document.querySelector('#conv-claim').hidden`, conv.ID))
	p.click("#conv-claim")
	p.waitFor(`document.querySelector('#conv-state').dataset.state === "assigned" && !document.querySelector('#reply-input').disabled`)
	const draft = "您好，您的退款已经在处理中，预计三个工作日内到账，请您"
	p.fill("#reply-input", draft)

	// The session ends behind the page's back; the next send meets a 401.
	eval[bool](p, `(fetch('/api/v1/auth/logout', {method: 'POST', credentials: 'same-origin',
		headers: {'X-CSRF-Token': window.Staff.session.csrf}}).then((r) => { window.__out = r.status; }), true)`)
	p.waitFor(`window.__out === 204`)
	p.click("#reply-send")
	p.waitAcrossNavigation(loginReady)
	p.fill("#login-email", run.Demo[1].Email)
	p.fill("#login-password", run.Demo[1].Password)
	p.click("#login-submit")
	p.waitAcrossNavigation(fmt.Sprintf(`location.pathname === "/console" && document.body.dataset.ready === "1" && location.hash.includes(%q)`, conv.ID))
	p.waitFor(fmt.Sprintf(`document.querySelector('#reply-input').value === %q`, draft))
}

// An answer the language model wrote is marked as such in the transcript
// the agent reads, beside the entry it was written from: the agent must
// not take it for the entry's own, reviewed answer.
func TestConsoleMarksGeneratedAnswersInChromium(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Reply(func(llmtest.Request) (int, string) {
		return http.StatusOK, "Your refund goes back to the card you paid with."
	})
	run, _, cl := manualDeskWithAgentOnline(t, func(c *config.Config) {
		c.LLM = config.LLM{BaseURL: fake.URL(), Model: "steward-test"}
	})
	conv := cl.Start("en")
	if m := cl.Say(conv, "the jacket I sent back weeks ago, where is my money").Messages[0]; m.Outcome != "answer" || len(fake.Requests()) != 1 {
		t.Fatalf("the unsure question was not answered by the model: %+v", m)
	}
	cl.Say(conv, "how much does shipping cost") // the entry's own answer
	if turn := cl.Say(conv, "human please"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-queue")
	p.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	p.waitFor(`document.querySelectorAll('#transcript .msg[data-role=customer]').length >= 3`)
	marked := eval[[]string](p, `[...document.querySelectorAll('#transcript .msg[data-role=bot]')]
		.filter((li) => li.querySelector('.tag--generated')).map((li) => li.querySelector('.bubble').textContent)`)
	if len(marked) != 1 || marked[0] != "Your refund goes back to the card you paid with." {
		t.Fatalf("generated answers marked: %q", marked)
	}
	if got := eval[string](p, `document.querySelector('#transcript .tag--generated').textContent`); got != "Generated" {
		t.Errorf("the mark reads %q", got)
	}
}
