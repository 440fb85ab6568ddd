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
