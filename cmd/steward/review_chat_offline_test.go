package main_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// A message left whose answer was lost on the way (a mobile network
// dropping it after the server stored the ticket) is not offered again:
// the bot's thank-you that follows on the stream says it was left. The
// card said "could not send" beside that thank-you, and a second tap left
// the message twice.
func TestALeftMessageWhoseAnswerWasLostIsNotOfferedAgainInChromium(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human")
	p.waitFor(`!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.fetch = async (url, opts) => {
			const res = await native(url, opts);
			if (String(url).includes('/offline-message')) {
				// Stored; the answer is lost, after the bot's thank-you came on the stream (the
				// page then still waits for this answer: the order that left the error standing).
				for (let i = 0; i < 250 && !document.querySelector('#messages li[data-outcome="ticket"]'); i++) {
					await new Promise((r) => setTimeout(r, 20));
				}
				throw new TypeError('Failed to fetch');
			}
			return res;
		};
		document.querySelector('#offline-contact').value = 'me@example.com';
		document.querySelector('#offline-message').value = 'My parcel has not arrived.';
		document.querySelector('#offline-submit').click();
		return true;
	})()`)
	p.waitFor(`document.querySelectorAll('#messages li[data-outcome="ticket"]').length === 1`)
	p.waitFor(`document.querySelector('#offline-card').hidden || document.querySelector('#offline-form').hidden`)
	if eval[bool](p, `!document.querySelector('#offline-error').hidden`) {
		t.Errorf("the card still says %q beside the bot's thank-you", eval[string](p, `document.querySelector('#offline-error').innerText`))
	}
}

// A stream that stops answering (a phone changed networks, a node went
// away without a word) is found out and replaced: the page pings it when
// the network comes back (and when quiet), and a ping with no answer opens
// a new socket. The dead socket stayed "open" in the browser, and every
// reply on it was missed.
func TestChatReplacesAStreamThatStoppedAnsweringInChromium(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1" && window.__ws.length === 1 && window.__ws[0].readyState === 1`)
	// The socket's network goes away: what the page sends on it never
	// arrives, and nothing comes back on it. (Only the page's side deaf, a
	// frame the server sent late, such as the stream's first ones on a
	// busy machine, counted as the answer to the ping, and the test waited
	// for the next quiet ping, 25 s on.)
	eval[bool](p, `(() => {
		const ws = window.__ws[0];
		ws.send = () => {};
		ws.onmessage = null;
		window.dispatchEvent(new Event('online'));
		return true;
	})()`)
	p.waitFor(`window.__ws.length === 2 && window.__ws[1].readyState === 1`)
}

// A message that failed for a reason that passes (no network, a proxy
// finding no server) is sent again by itself once it can be, with its key:
// the docs promised the widget retried such failures, and it waited for a
// tap on "not sent" that a customer may never make.
func TestChatSendsAgainWhatTheNetworkDroppedInChromium(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.__offline = true;
		window.fetch = async (url, opts) => {
			if (window.__offline && opts && opts.method === 'POST' && String(url).endsWith('/messages')) throw new TypeError('Failed to fetch (offline)');
			return native(url, opts);
		};
		return true;
	})()`)
	p.send("how much is shipping?")
	p.waitFor(`!!document.querySelector('#messages .msg.is-failed .msg-retry:not([hidden])')`)
	eval[bool](p, `(window.__offline = false, true)`) // the network is back; nobody taps anything
	p.waitFor(`!document.querySelector('#messages .msg[data-pending]') && document.querySelectorAll('#messages .msg--bot').length >= 2`)
	c := &testutil.Client{T: t, Base: run.URL}
	n := 0
	for _, m := range c.Get(p.storedConversation()).Messages {
		if m.Role == "customer" && m.Text == "how much is shipping?" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the message is stored %d times, want once", n)
	}
}

// Replies that come after the customer moved on to another page of the
// shop are counted on that page's launcher too: the chat's frame was made
// only when the panel opened, so on the next page nothing counted them.
func TestWidgetCountsRepliesOnTheShopsNextPageInChromium(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		c.Security.FrameAncestors = []string{"'self'"}
	})
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	const root = `document.querySelector('#steward-widget-root').shadowRoot`
	const chat = root + `.querySelector('iframe').contentWindow`
	load := func() {
		t.Helper()
		p.navigate(run.URL + "/status?lang=en")
		eval[bool](p, `(() => {
			const s = document.createElement('script');
			s.src = '/widget.js';
			s.dataset.lang = 'en';
			document.body.append(s);
			return true;
		})()`)
		p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	}
	load()
	eval[bool](p, `(window.Steward.open(), true)`)
	p.waitFor(`(() => { try { return ` + chat + `.document.body.dataset.ready === "1"; } catch { return false; } })()`)
	eval[bool](p, `(() => {
		const d = `+chat+`.document, input = d.querySelector('#composer-input');
		input.value = 'human';
		input.dispatchEvent(new Event('input', {bubbles: true}));
		d.querySelector('#composer-send').click();
		return true;
	})()`)
	p.waitFor(chat + `.document.querySelector('#state-banner').dataset.state === "queued"`)
	var stored struct{ ID string }
	if err := json.Unmarshal([]byte(eval[string](p, chat+`.localStorage.getItem('steward.conversation')`)), &stored); err != nil || stored.ID == "" {
		t.Fatalf("the widget's conversation: %v", err)
	}
	eval[bool](p, `(window.Steward.close(), true)`)

	// The customer moves on to another page of the shop; the agent replies there.
	load()
	p.waitFor(`(() => { try { return ` + chat + `.document.body.dataset.ready === "1"; } catch { return false; } })()`)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/claim", nil, nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+stored.ID+"/messages", map[string]string{"text": "Hello, let me look into it"}, nil)
	const badge = root + `.querySelector('.steward-badge')`
	p.waitFor(badge + `.style.display === "block"`)
}
