package main_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/testutil"
)

// loginReady holds once the sign-in page's script has taken the form over;
// a click before then would do nothing (the button is disabled until it has).
const loginReady = `location.pathname === "/console/login" && document.body.dataset.ready === "1" && !document.querySelector('#login-submit').disabled`

// signInTo opens path, signs in on the sign-in page it is sent to and waits
// until path is back and ready.
func (p page) signInTo(base, path, email, password string) {
	p.t.Helper()
	p.navigate(base + path + "?lang=en")
	p.waitAcrossNavigation(loginReady)
	p.fill("#login-email", email)
	p.fill("#login-password", password)
	p.click("#login-submit")
	p.waitAcrossNavigation(fmt.Sprintf(`location.pathname === %q && document.body.dataset.ready === "1"`, path))
}

// choose picks an option of a select as a person would: the page hears the change.
func (p page) choose(selector, value string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`!!document.querySelector(%q)`, selector))
	eval[bool](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.value = %q;
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value === %q;
	})()`, selector, value, value))
}

// visible reports whether the element matching selector exists and no
// ancestor of it (nor itself) is hidden.
func visible(selector string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && !el.closest('[hidden]'); })()`, selector)
}

// An incident run from the console: the admin declares one (its title
// shown as text, never markup), posts an update, takes refunds to people
// by hand, silences and unsilences an alert, and hands the posture back to
// the controller, which returns to normal and resolves the incident; its
// postmortem is shown. A second incident is resolved by hand. A demo agent
// follows the same page without the forms that change anything.
func TestIncidentsConsoleInChromium(t *testing.T) {
	began := time.Now()
	run := testutil.Start(t, func(c *config.Config) { c.Incident.RecoverAfter = time.Second })

	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.navigate("about:blank") // starts the browser the agent's context opens in
	ctx, cancel := chromedp.NewContext(admin.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	agent := page{t, ctx}

	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "0"`)
	admin.waitText("#posture-level", "Normal service")
	admin.waitText("#posture-mode", "Automatic")
	if !eval[bool](admin, visible("#nav-incidents")) || eval[string](admin, `document.querySelector('#nav-kb').getAttribute('href')`) != "/console/kb" {
		t.Error("the incidents page does not link the other console pages")
	}
	for _, sel := range []string{"#posture-form", "#declare-box", "#silence-form"} {
		if !eval[bool](admin, visible(sel)) {
			t.Errorf("the admin is not offered %s", sel)
		}
	}

	// The posture form starts from the live posture: set elsewhere (another admin, the
	// controller), the level the form would set follows it, so that setting the posture
	// without looking never drops an incident back to normal.
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	adminAPI.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 2, "reason": "set from elsewhere"}, nil)
	admin.waitWithin(`document.querySelector('#posture-level').dataset.level === "2" && document.querySelector('#pf-level').value === "2"`, 20*time.Second)
	adminAPI.Must(http.StatusOK, "POST", "/api/v1/posture/automatic", nil, nil)
	admin.waitWithin(`document.querySelector('#posture-level').dataset.level === "0" && document.querySelector('#pf-level').value === "0"`, 20*time.Second)

	// Declaring an incident: the markup in its title is shown as text.
	const title = `Checkout <b>x</b> outage`
	admin.fill("#dec-title", title)
	admin.choose("#dec-severity", "critical")
	admin.click("#dec-submit")
	admin.waitText(`#incidents-list li[data-phase="investigating"]`, title)
	admin.waitText("#detail-title", title)
	admin.waitText("#detail-severity", "Critical")
	if eval[bool](admin, `!!document.querySelector('#incidents-list b, #detail-title b, #timeline b')`) {
		t.Fatal("the incident's title was rendered as HTML")
	}
	admin.waitText(`#timeline li[data-kind="opened"]`, title)

	// An update: a phase and a note.
	admin.choose("#upd-phase", "identified")
	admin.fill("#upd-note", "the refund provider times out")
	admin.click("#upd-post")
	admin.waitText(`#timeline li[data-kind="note"]`, "the refund provider times out")
	admin.waitText("#detail-phase", "Identified")

	// Refunds go to people by hand; the card shows the posture and what customers are told.
	admin.choose("#pf-level", "1")
	admin.waitFor(visible("#pf-categories"))
	admin.fill("#pf-categories", "refunds")
	admin.click("#pf-set") // no reason yet
	admin.waitText("#pf-error", "Give a reason")
	admin.fill("#pf-reason", "the refund system is down")
	admin.click("#pf-set")
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "1"`)
	admin.waitText("#posture-desc", "refunds handed to humans")
	admin.waitText("#posture-mode", "Set by hand")
	admin.waitText("#posture-reason", "the refund system is down")
	admin.waitText("#posture-notice", "Some questions are being handled by our staff")
	admin.waitText(`#timeline li[data-kind="posture"]`, "refunds")

	// A silence is listed, then expired.
	admin.fill("#sil-matchers", `alertname="slow_turns"`)
	admin.fill("#sil-comment", "a slower model is being rolled out")
	admin.choose("#sil-duration", "1h")
	admin.click("#sil-add")
	admin.waitText("#silences-list", `alertname="slow_turns"`)
	admin.waitText("#silences-list", "a slower model is being rolled out")
	admin.screenshot("incidents-admin")
	admin.click("#silences-list .inc-expire")
	admin.waitFor(`!document.querySelector('#silences-list li') && !document.querySelector('#silences-empty').hidden`)

	// A demo agent sees the same state, without any form that changes it.
	agent.signInTo(run.URL, "/console/incidents", run.Demo[1].Email, run.Demo[1].Password)
	agent.waitText("#posture-desc", "refunds handed to humans")
	agent.waitText("#posture-notice", "Some questions are being handled by our staff")
	agent.waitText("#detail-title", title) // the open incident is shown
	agent.waitText(`#timeline li[data-kind="note"]`, "the refund provider times out")
	agent.waitFor(visible("#readonly-note"))
	for _, sel := range []string{"#posture-form", "#declare-box", "#silence-form", "#detail-manage", ".inc-notice-save",
		".inc-expire", ".inc-approve"} {
		if eval[bool](agent, visible(sel)) {
			t.Errorf("a demo agent is offered %s", sel)
		}
	}
	if !eval[bool](agent, `document.querySelector('#notice-1-en').readOnly`) {
		t.Error("a demo agent may edit the notices")
	}
	agent.screenshot("incidents-agent")

	// Set again from the form, the posture keeps what the form does not
	// edit: a level-1 scope's intents and a notice of its own, set from
	// elsewhere (they used to be dropped).
	adminAPI.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"refunds"},
		"intents": []string{"refund_status"}, "human": true, "reason": "the refund system is down",
		"notice": map[string]string{"zh": "退款问题由人工处理。", "en": "Refund questions go to our staff."}}, nil)
	admin.waitText("#posture-notice", "Refund questions go to our staff.")
	admin.fill("#pf-reason", "still down after the restart")
	admin.click("#pf-set")
	admin.waitText("#posture-reason", "still down after the restart")
	var kept struct {
		Posture struct {
			Categories, Intents []string
			Notice              *struct{ ZH, EN string }
		}
	}
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/posture", nil, &kept)
	if p := kept.Posture; !slices.Equal(p.Intents, []string{"refund_status"}) || !slices.Equal(p.Categories, []string{"refunds"}) ||
		p.Notice == nil || p.Notice.EN != "Refund questions go to our staff." {
		t.Errorf("the posture set again from the form is %+v, want the intents and the notice kept", p)
	}

	// Handed back to automatic, the controller returns to normal once its hold is over, and with the
	// incident handed back too it resolves: its postmortem is shown, on the agent's page by polling.
	admin.click("#posture-auto")
	admin.waitText("#posture-mode", "Automatic")
	// Once automatic, there is nothing to hand back: the button stays disabled
	// (the click's own ending used to enable it again).
	time.Sleep(500 * time.Millisecond)
	if !eval[bool](admin, `document.querySelector('#posture-auto').disabled`) {
		t.Error("the hand-back button is enabled while the posture is automatic")
	}
	admin.waitWithin(`document.querySelector('#posture-level').dataset.level === "0"`, 20*time.Second)
	admin.waitText("#posture-notice", "no notice in normal service")
	admin.waitText("#detail-phase", "Resolved")
	admin.waitFor(`document.querySelector('#detail-manage').hidden`)
	admin.waitText("#pm-body", "Postmortem")
	admin.waitText("#pm-body", "Five whys")
	admin.waitText("#pm-body h4", title)
	if !eval[bool](admin, `!!document.querySelector('#pm-body table th') && !!document.querySelector('#pm-body ol li ul')`) {
		t.Error("the postmortem's tables and lists are not rendered as such")
	}
	if eval[bool](admin, `!!document.querySelector('#pm-body b')`) {
		t.Fatal("the postmortem was rendered as HTML")
	}
	admin.waitText(`#incidents-list li[data-phase="resolved"]`, "lasted")
	eval[bool](admin, `(document.querySelector('#postmortem').scrollIntoView(), true)`)
	admin.screenshot("incidents-postmortem")
	agent.waitText("#detail-phase", "Resolved")
	agent.waitText("#pm-body", "Five whys")

	// An incident resolved by hand, with a note.
	admin.fill("#dec-title", "Webhook deliveries delayed")
	admin.fill("#dec-title-zh", "回调通知延迟")
	admin.click("#dec-submit")
	admin.waitText("#detail-title", "Webhook deliveries delayed")
	admin.waitText("#detail-phase", "Investigating")
	admin.fill("#resolve-note", "the queue drained")
	// Resolving cannot be undone: it is confirmed first, and declining leaves it open.
	eval[bool](admin, `(window.confirm = (m) => (window.__asked = m, false), true)`)
	admin.click("#resolve-btn")
	admin.waitFor(`typeof window.__asked === "string"`)
	if asked := eval[string](admin, `window.__asked`); !strings.Contains(asked, "cannot be reopened") {
		t.Errorf("resolving asks %q", asked)
	}
	if got := eval[string](admin, `document.querySelector('#detail-phase').innerText`); strings.Contains(got, "Resolved") {
		t.Fatal("declining the confirmation resolved the incident")
	}
	eval[bool](admin, `(window.confirm = () => true, true)`)
	admin.click("#resolve-btn")
	admin.waitText("#detail-phase", "Resolved")
	admin.waitText(`#timeline li[data-kind="resolved"]`, "the queue drained")
	admin.waitText("#pm-body", "Postmortem")
	admin.waitText("#pm-body", "Five whys")
	admin.waitText("#pm-body h4", "Webhook deliveries delayed")
	// Three: the one the posture set from elsewhere opened (closed when handed back), the
	// declared one the controller resolved, and the one resolved by hand.
	if n := eval[int](admin, `document.querySelectorAll('#incidents-list li[data-phase="resolved"]').length`); n != 3 {
		t.Errorf("%d incidents are listed as resolved, want 3", n)
	}
	t.Logf("the incidents console test took %v", time.Since(began).Round(100*time.Millisecond))
}

// An info alert on the store's health checks that fires within a second or
// two and then steadily, the same on every refresh, and opens no incident.
func steadyAlert(c *config.Config) {
	c.Monitor.Rules = append(c.Monitor.Rules, monitor.Rule{Name: "store_watch", Type: monitor.RuleProbe, Component: "store",
		Level: monitor.LevelInfo, Window: 10 * time.Second, Threshold: -1, MinEvents: 1})
}

// The alerts table is brought up to date in place. The page refreshes it
// every 5 s, and used to rebuild it each time: an operator who had tabbed
// to an alert's Silence button lost the focus (and any text selected in
// the table) as soon as the alert's row changed. A row now stays while its
// alert fires and is updated where it changed; a refresh that changes
// nothing touches nothing.
func TestIncidentsAlertsKeepTheOperatorsFocusInChromium(t *testing.T) {
	run := testutil.Start(t, steadyAlert)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitWithin(`!!document.querySelector('#alerts-body tr[data-fingerprint] .inc-silence-this')`, 20*time.Second)
	admin.waitText("#alerts-body", "Notifying")

	// The operator reaches the alert's Silence button with the keyboard; the test marks it and its row.
	if !eval[bool](admin, `(() => {
		const b = document.querySelector('#alerts-body .inc-silence-this');
		b.dataset.mark = 'focused';
		b.closest('tr').dataset.mark = 'row';
		b.focus();
		return document.activeElement === b;
	})()`) {
		t.Fatal("the Silence button cannot take the focus")
	}
	// Counts the page's loads of the alerts.
	eval[bool](admin, `(() => {
		window.alertLoads = 0;
		const f = window.fetch;
		window.fetch = function (url) {
			if (String(url).endsWith('/api/v1/alerts')) window.alertLoads++;
			return f.apply(this, arguments);
		};
		return true;
	})()`)
	kept := func(when string) {
		t.Helper()
		if !eval[bool](admin, `!!document.querySelector('#alerts-body tr[data-mark="row"]')`) {
			t.Errorf("%s: the alert's row was replaced", when)
		}
		if got := eval[string](admin, `(document.activeElement && document.activeElement.dataset.mark) || (document.activeElement || {}).tagName || ""`); got != "focused" {
			t.Errorf("%s: the focus went from the Silence button to %s", when, got)
		}
	}

	// Silenced by another operator, then not: the row says so, and the focus stays.
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var silenced struct {
		Silence struct {
			ID string `json:"id"`
		} `json:"silence"`
	}
	adminAPI.Must(http.StatusCreated, "POST", "/api/v1/silences",
		map[string]any{"matchers": []string{`alertname="store_watch"`}, "comment": "known", "duration": "1h"}, &silenced)
	admin.waitWithin(`document.querySelector('#alerts-body').innerText.includes("Silenced")`, 15*time.Second)
	kept("silenced")
	adminAPI.Must(http.StatusNoContent, "DELETE", "/api/v1/silences/"+silenced.Silence.ID, nil, nil)
	admin.waitWithin(`document.querySelector('#alerts-body').innerText.includes("Notifying")`, 15*time.Second)
	kept("the silence expired")

	// Two more refreshes that change nothing leave the table as it is: the second starts once the first is done.
	eval[bool](admin, `(() => {
		window.alertMutations = 0;
		new MutationObserver((m) => { window.alertMutations += m.length; })
			.observe(document.querySelector('#alerts-body'), {subtree: true, childList: true, attributes: true, characterData: true});
		window.loadsBefore = window.alertLoads;
		return true;
	})()`)
	admin.waitWithin(`window.alertLoads >= window.loadsBefore + 2`, 15*time.Second)
	if n := eval[int](admin, `window.alertMutations`); n != 0 {
		t.Errorf("a refresh that changed nothing changed the alerts table %d times", n)
	}
	kept("two refreshes later")
}

// A form's error goes once it is no longer true: as soon as the operator
// edits the field it is about (any field of the form, for an error from the
// server), and when the form is sent successfully. It used to stay until the
// next submit, telling an operator who had just typed the title that the
// title was missing.
func TestIncidentsFormErrorsClearInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := page{t, browser(t)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	gone := func(sel, when string) {
		t.Helper()
		if got := eval[string](admin, fmt.Sprintf(`(() => { const el = document.querySelector(%q);
			return el.closest('[hidden]') ? "" : el.textContent.trim(); })()`, sel)); got != "" {
			t.Errorf("%s: %s still says %q", when, sel, got)
		}
	}

	// Declaring an incident without a title.
	admin.click("#dec-submit")
	admin.waitText("#dec-error", "Give a title")
	admin.fill("#dec-title", "Payments delayed")
	gone("#dec-error", "the title typed")
	admin.click("#dec-submit")
	admin.waitText("#detail-title", "Payments delayed")
	gone("#dec-error", "the incident declared")

	// Setting the posture: level 1 without a scope, then without a reason. Another field
	// edited leaves the error that is still true.
	admin.choose("#pf-level", "1")
	admin.click("#pf-set")
	admin.waitText("#pf-error", "needs a scope")
	admin.fill("#pf-categories", "refunds")
	gone("#pf-error", "the scope given")
	admin.click("#pf-set")
	admin.waitText("#pf-error", "Give a reason")
	eval[bool](admin, `(document.querySelector('#pf-human').click(), true)`)
	admin.waitText("#pf-error", "Give a reason")
	admin.fill("#pf-reason", "refunds fail")
	gone("#pf-error", "the reason typed")
	admin.click("#pf-set")
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "1"`)
	gone("#pf-error", "the posture set")

	// A silence the server refuses (a matcher without an operator), then a good one.
	admin.fill("#sil-matchers", "alertname slow_turns")
	admin.fill("#sil-comment", "rolling out a slower model")
	admin.click("#sil-add")
	admin.waitText("#sil-error", "needs one of")
	admin.fill("#sil-matchers", `alertname="slow_turns"`)
	gone("#sil-error", "the matcher corrected")
	admin.click("#sil-add")
	admin.waitText("#silences-list", `alertname="slow_turns"`)
	gone("#sil-error", "the silence added")
}

// coveredControls lists the page's controls a message lies over or takes
// the click of, wherever the page is scrolled; "" when there are none. It
// needs at least two messages on screen.
const coveredControls = `(() => {
	const toasts = [...document.querySelectorAll('#toasts .toast')];
	if (toasts.length < 2) return toasts.length + ' messages on screen';
	const main = document.querySelector('.inc-main'), out = [];
	const meets = (r, q) => r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom;
	const name = (el) => el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className.split(' ').join('.');
	for (let y = 0; ; y += 100) {
		main.scrollTop = y;
		const view = main.getBoundingClientRect();
		for (const el of main.querySelectorAll('button, input, select, textarea, a[href], [tabindex]')) {
			if (el.closest('[hidden]') || !el.getClientRects().length) continue;
			const b = el.getBoundingClientRect();
			if (!meets(b, view)) continue;
			// What is on screen of it: the page's scrolling area clips the rest.
			const r = {left: b.left, right: b.right, top: Math.max(b.top, view.top), bottom: Math.min(b.bottom, view.bottom)};
			if (toasts.some((t) => meets(t.getBoundingClientRect(), r))) out.push(name(el) + ' under a message at ' + Math.round(r.top));
			const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
			if (hit && hit.closest('#toasts')) out.push('a click on ' + name(el) + ' at ' + Math.round(r.top) + ' lands on a message');
		}
		if (y >= main.scrollHeight - main.clientHeight) break;
	}
	main.scrollTop = 0;
	return [...new Set(out)].join('; ');
})()`

// Messages never cover the page's controls. They floated over the content
// at the bottom right: on a phone, right after setting level 3 by hand, the
// message saying so (and one about the network) lay over the posture
// form's buttons for seconds, and at any size over whatever control was
// scrolled under them. They now have a strip of their own under the
// content.
func TestIncidentsToastsCoverNoControlInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	for _, size := range []struct{ w, h int64 }{{1366, 768}, {390, 844}} {
		if err := chromedp.Do(admin.ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			t.Fatal(err)
		}
		admin.waitFor(fmt.Sprintf(`window.innerWidth === %d`, size.w))
		// Level 3 set with the form; the page says so. Then the network fails for a moment.
		admin.choose("#pf-level", "3")
		admin.fill("#pf-reason", "the store is down")
		admin.click("#pf-set")
		admin.waitFor(`document.querySelector('#posture-level').dataset.level === "3" && document.querySelector('#pf-reason').value === "" &&
			document.querySelector('#toasts').innerText.includes("Posture set")`)
		eval[bool](admin, `(window.Staff.toast(window.Staff.t('networkError'), 'error'), true)`)
		// The posture form's buttons, where setting the level left them, take a click there, and no message lies over them.
		buttons := eval[string](admin, `(() => {
			const out = [];
			for (const b of document.querySelectorAll('#pf-set, #posture-auto')) {
				const r = b.getBoundingClientRect();
				const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
				if (!hit || !b.contains(hit)) out.push('a click on #' + b.id + ' lands on ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing'));
				for (const t of document.querySelectorAll('#toasts .toast')) {
					const q = t.getBoundingClientRect();
					if (q.left < r.right && r.left < q.right && q.top < r.bottom && r.top < q.bottom) out.push('the message "' + t.innerText + '" lies over #' + b.id);
				}
			}
			return out.join('; ');
		})()`)
		if buttons != "" {
			t.Errorf("at %d×%d, right after setting the level: %s", size.w, size.h, buttons)
		}
		if got := eval[string](admin, coveredControls); got != "" {
			t.Errorf("at %d×%d: %s", size.w, size.h, got)
		}
		admin.screenshot(fmt.Sprintf("incidents-toasts-%d", size.w))
		// The same message again (every loader fails alike when the network does) is not stacked a second time.
		eval[bool](admin, `(window.Staff.toast(window.Staff.t('networkError'), 'error'), true)`)
		if n := eval[int](admin, `document.querySelectorAll('#toasts .toast--error').length`); n != 1 {
			t.Errorf("at %d×%d, the network error is shown %d times", size.w, size.h, n)
		}
	}
}
