package main_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// A queued customer leaves a message from the banner's "Leave a message"
// button. Once the bot's thank-you line is in the transcript the button
// comes back (updateCards: where is null, so leaveMsg is shown), but a
// click on it does nothing: offlineRequested and offlineSent are still
// true, so updateCards places the card nowhere again (done && thanks). A
// visible button that does nothing; a customer who forgot to say something
// cannot add it (the server takes up to three waiting messages).
func TestChatLeaveMessageButtonWorksAfterAMessageWasLeft(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	p := page{t, browser(t)}
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human please")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued" && !document.querySelector('#leave-message-btn').hidden`)
	p.click(`#leave-message-btn`)
	const formOpen = `(!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden)`
	p.waitFor(formOpen)
	p.fill(`#offline-contact`, "me@example.com")
	p.fill(`#offline-message`, "My parcel has not arrived.")
	p.click(`#offline-submit`)
	p.waitFor(`document.querySelectorAll('#messages li[data-outcome="ticket"]').length === 1`)
	time.Sleep(300 * time.Millisecond) // the cards settle as the thank-you lands
	if eval[bool](p, `document.querySelector('#leave-message-btn').hidden`) {
		return // not offered again: consistent
	}
	// Offered again: a click must open the form.
	p.click(`#leave-message-btn`)
	time.Sleep(500 * time.Millisecond)
	if !eval[bool](p, formOpen) {
		t.Fatal(`"Leave a message" is shown in the queue banner after a message was left, but clicking it opens nothing`)
	}
}

// refresh() (the GET the chat sends 800 ms after a state change that came
// without the queue position or the agent's name, after a 409, and after
// the stream said unauthorized) applies the GET's state whatever arrived
// meanwhile. The GET is read while the conversation is queued; before its
// answer lands, an agent claims the conversation and the stream says
// "assigned". The late answer then puts the page back to "queued": the
// banner says "Waiting for an agent" while the agent is serving, and
// "Leave a message" is offered, until the next state change. send()
// guards its own answer against this (stale); refresh() does not.
func TestChatLateRefreshDoesNotUndoAnAssignment(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	p := page{t, browser(t)}
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1" && window.__ws.length > 0 && window.__ws.at(-1).readyState === 1`)
	stored := p.storedConversation()

	// The stream is down (so no queue frame comes), and the next GET of the
	// conversation is answered by the server at once but reaches the page
	// only when the test says so, as on a slow mobile network.
	eval[bool](p, `(window.__wsBlock = true, window.__ws.forEach((w) => w.close()), true)`)
	p.waitFor(`window.__ws.every((w) => w.readyState === 3)`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.__held = false;
		window.fetch = async (url, opts) => {
			const res = await native(url, opts);
			if (!window.__held && (!opts || !opts.method || opts.method === 'GET') && /\/api\/v1\/conversations\/[^/]+$/.test(String(url))) {
				window.__held = true;
				await new Promise((r) => { window.__release = r; });
			}
			return res;
		};
		return true;
	})()`)
	p.send("human please")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued"`)
	p.waitFor(`window.__held === true`) // refresh() asked for the queue position; the server answered "queued"

	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/claim", nil, nil)
	eval[bool](p, `(window.__wsBlock = false, true)`)
	p.waitWithin(`document.querySelector('#state-banner').dataset.state === "assigned"`, 40*time.Second)

	eval[bool](p, `(window.__release(), true)`) // the GET read before the claim lands now
	time.Sleep(time.Second)
	if got := eval[string](p, `document.querySelector('#state-banner').dataset.state`); got != "assigned" {
		t.Fatalf("after a late GET the banner says %q (%q), while an agent has the conversation", got,
			eval[string](p, `document.querySelector('#state-banner').innerText`))
	}
}

// The network is down when the customer writes: the bubble says "not sent".
// The customer reloads the page (what people do when a page seems stuck):
// the message was gone, with no trace that it was never sent. It now comes
// back as "not sent", and a retry stores it once. A message that did reach
// the server (its answer lost) is not offered again after the reload.
func TestChatUnsentMessageSurvivesAReload(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)

	// One message reaches the server but its answer is lost; then the
	// network goes down altogether for the next one.
	loseNextAnswer(p)
	p.send("how much is shipping?")
	p.waitFor(`window.__lost === 1 && !!document.querySelector('#messages .msg.is-failed .msg-retry:not([hidden])')`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.fetch = async (url, opts) => {
			if (opts && opts.method === 'POST' && String(url).endsWith('/messages')) throw new TypeError('Failed to fetch (offline)');
			return native(url, opts);
		};
		return true;
	})()`)
	p.click(`#messages .msg.is-failed .msg-retry`) // fails again, offline
	p.send("I was charged twice for order 20261124")
	p.waitFor(`document.querySelectorAll('#messages .msg.is-failed .msg-retry:not([hidden])').length === 2`)

	p.reload()
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.waitFor(`document.querySelectorAll('#messages .msg.is-failed').length === 1`)
	if got := eval[string](p, `document.querySelector('#messages .msg.is-failed .bubble').textContent`); got != "I was charged twice for order 20261124" {
		t.Fatalf("after the reload the not-sent bubble says %q", got)
	}
	if n := eval[int](p, `[...document.querySelectorAll('#messages .msg[data-role="customer"]')].filter((li) => li.textContent.includes('shipping')).length`); n != 1 {
		t.Errorf("the stored message is shown %d times after the reload, want once (and not as not sent)", n)
	}

	// Back online (a fresh page has the browser's own fetch): the retry stores it, once.
	p.click(`#messages .msg.is-failed .msg-retry`)
	p.waitFor(`!document.querySelector('#messages .msg[data-pending]')`)
	c := &testutil.Client{T: t, Base: run.URL}
	got := c.Get(p.storedConversation())
	var texts []string
	for _, m := range got.Messages {
		if m.Role == "customer" {
			texts = append(texts, m.Text)
		}
	}
	if len(texts) != 2 || texts[0] != "how much is shipping?" || texts[1] != "I was charged twice for order 20261124" {
		t.Fatalf("the transcript's customer messages: %q; want the two, once each", texts)
	}
	p.reload()
	p.waitFor(`document.body.dataset.ready === "1"`)
	time.Sleep(300 * time.Millisecond)
	if n := eval[int](p, `document.querySelectorAll('#messages .msg[data-pending]').length`); n != 0 {
		t.Errorf("%d not-sent bubbles after a reload once everything was sent", n)
	}
}
