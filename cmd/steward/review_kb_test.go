package main_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/testutil"
)

// holdFetch makes the page's requests whose URL holds part (and whose
// method is method, when given) wait for window.__hold to be cleared
// after their answer came: a slow network, with the real server behind it.
func holdFetch(p page, method, part string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => {
		const native = window.fetch;
		window.__hold = true;
		window.__held = 0;
		window.fetch = async (url, opts) => {
			const res = await native(url, opts);
			if (String(url).includes(%q) && (%q === '' || ((opts && opts.method) || 'GET') === %q)) {
				window.__held++;
				while (window.__hold) await new Promise((r) => setTimeout(r, 20));
			}
			return res;
		};
		return true;
	})()`, part, method, method))
}

// A save that answers after the editor moved on to another entry leaves
// that entry's editor alone: it took the saved record as its own (the
// other entry's heading and status, and its next save went to the first
// entry, with the second one's content).
func TestKBSaveAnsweredAfterAnotherEntryOpenedKeepsToItsEntry(t *testing.T) {
	run := testutil.Start(t, nil)
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	p := page{t, browser(t)}
	p.signIn(run.URL, run.Demo[1].Email, run.Demo[1].Password)
	p.waitFor(`document.querySelectorAll('#entries-list li[data-id][data-status=published]').length > 1`)
	ids := eval[[]string](p, `[...document.querySelectorAll('#entries-list li[data-id][data-status=published]')].slice(0, 2).map((li) => li.dataset.id)`)
	first, second := ids[0], ids[1]
	p.click(fmt.Sprintf(`#entries-list li[data-id=%q]`, first))
	p.waitFor(fmt.Sprintf(`!document.querySelector('#entry-form').hidden && document.querySelector('#ed-id').value === %q`, first))
	p.fill("#ed-answer-en", "A new answer, saved on a slow network.")
	eval[bool](p, `(window.confirm = () => true, true)`)
	holdFetch(p, "PUT", "/api/v1/kb/entries/"+first)
	p.click("#ed-save")
	p.waitFor(`window.__held === 1`)
	// The save is stored (the server answered); the page hears of it after
	// the agent opened the second entry.
	p.click(fmt.Sprintf(`#entries-list li[data-id=%q]`, second))
	p.waitFor(fmt.Sprintf(`document.querySelector('#ed-id').value === %q`, second))
	heading := eval[string](p, `document.querySelector('#ed-heading').textContent`)
	eval[bool](p, `(window.__hold = false, true)`)
	p.waitFor(`!!document.querySelector('#toasts .toast')`)
	if got := eval[string](p, `document.querySelector('#ed-heading').textContent`); got != heading {
		t.Errorf("the second entry's editor is headed %q after the first one's save, was %q", got, heading)
	}
	if st := eval[string](p, `document.querySelector('#ed-status').dataset.status`); st != "published" {
		t.Errorf("the second (published) entry's editor shows the status %q", st)
	}
	// Saving the second entry now saves the second entry.
	p.fill("#ed-answer-en", "The second entry's own new answer.")
	p.click("#ed-save")
	p.waitFor(`document.querySelector('#ed-status').dataset.status !== "published" && !document.querySelector('#entry-form').dataset.busy`)
	var rec struct {
		Locales map[string]struct{ Answer string }
	}
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/kb/entries/"+first, nil, &rec)
	if a := rec.Locales["en"].Answer; a != "A new answer, saved on a slow network." {
		t.Errorf("the first entry's answer is %q", a)
	}
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/kb/entries/"+second, nil, &rec)
	if a := rec.Locales["en"].Answer; a != "The second entry's own new answer." {
		t.Errorf("the second entry's answer is %q", a)
	}
}

// A review card whose history cannot be read says so, instead of calling
// a changed published entry "New entry" (and showing no change against
// the approved version): a reviewer approved it as new.
func TestKBReviewCardWithoutItsHistoryDoesNotCallTheEntryNew(t *testing.T) {
	run := testutil.Start(t, nil)
	agentAPI := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	var list struct {
		Entries []struct {
			ID     string
			Status string
		}
	}
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/kb/entries?status=published", nil, &list)
	id := list.Entries[0].ID
	var entry map[string]any
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/kb/entries/"+id, nil, &entry)
	en := entry["locales"].(map[string]any)["en"].(map[string]any)
	en["answer"] = fmt.Sprint(en["answer"], " Changed for review.")
	agentAPI.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/"+id, map[string]any{"entry": entry, "submit": true}, nil)

	p := page{t, browser(t)}
	p.signIn(run.URL, run.Demo[0].Email, run.Demo[0].Password)
	// Every history request fails, as on a server that answers 503.
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.fetch = (url, opts) => String(url).includes('/history')
			? Promise.resolve(new Response(JSON.stringify({error: {code: 'unavailable', message: 'try again'}}), {status: 503, headers: {'Content-Type': 'application/json'}}))
			: native(url, opts);
		return true;
	})()`)
	p.tab("reviews")
	p.waitFor(fmt.Sprintf(`!!document.querySelector('#reviews-list li[data-id=%q]')`, id))
	card := eval[string](p, fmt.Sprintf(`document.querySelector('#reviews-list li[data-id=%q] .kb-changed').innerText`, id))
	if strings.Contains(strings.ToLower(card), "new entry") || !strings.Contains(card, "history could not be read") {
		t.Errorf("the card of a changed published entry whose history failed says %q", card)
	}
}

// The supervisor's assign list is not rebuilt under their pointer: the
// agents' load and presence change every few seconds, and each change
// replaced every option, which closes a list the supervisor has open.
// With the same agents only the labels change; a list that must be
// rebuilt (a new agent) waits until the supervisor leaves it.
func TestConsoleAssignListIsNotRebuiltWhileOpen(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	handed := func() string {
		t.Helper()
		conv := cl.Start("en")
		if turn := cl.Say(conv, "human please"); turn.State != "queued" {
			t.Fatalf("asking for a person: %+v", turn)
		}
		return conv.ID
	}
	first := handed()
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	p.waitFor(fmt.Sprintf(`!!document.querySelector('#queue-list li[data-id=%q]')`, first))
	p.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, first))
	agentID := agentAPI.ID
	p.waitFor(fmt.Sprintf(`!document.querySelector('#assign-box').hidden && !!document.querySelector('#assign-select option[value=%q]')`, agentID))
	eval[bool](p, fmt.Sprintf(`(document.querySelector('#assign-select option[value=%q]').__mark = true, true)`, agentID))
	before := eval[string](p, fmt.Sprintf(`document.querySelector('#assign-select option[value=%q]').text`, agentID))

	// The agent takes another conversation: their load changes, the label follows, the option stays.
	second := handed()
	agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+second+"/claim", nil, nil)
	p.waitFor(fmt.Sprintf(`document.querySelector('#assign-select option[value=%q]').text !== %q`, agentID, before))
	if !eval[bool](p, fmt.Sprintf(`document.querySelector('#assign-select option[value=%q]').__mark === true`, agentID)) {
		t.Error("the assign list was rebuilt for a change of load")
	}

	// A new agent while the list is open: it waits, and comes when the supervisor leaves the list.
	eval[bool](p, `(document.querySelector('#assign-select').focus(), document.activeElement.id === 'assign-select')`)
	n := eval[int](p, `document.querySelector('#assign-select').options.length`)
	newcomer := adminAPI.AddUser("newcomer@demo.steward", "agent", nil)
	newcomer.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	third := handed() // a change that makes the console read the agents again
	p.waitFor(fmt.Sprintf(`!!document.querySelector('#queue-list li[data-id=%q]')`, third))
	time.Sleep(2 * time.Second) // the agents are read again a second after a change
	if got := eval[int](p, `document.querySelector('#assign-select').options.length`); got != n ||
		!eval[bool](p, fmt.Sprintf(`document.querySelector('#assign-select option[value=%q]').__mark === true`, agentID)) {
		t.Errorf("the open assign list was rebuilt (%d options, had %d)", got, n)
	}
	// Headless Chromium's page has no window focus, so blur() fires no event: it is sent as a
	// focused window sends it.
	eval[bool](p, `(() => { const s = document.querySelector('#assign-select'); s.blur(); s.dispatchEvent(new FocusEvent('blur')); return true; })()`)
	p.waitFor(fmt.Sprintf(`!!document.querySelector('#assign-select option[value=%q]')`, newcomer.ID))
}

// The rating tags' names are asked for again after a failed request: one
// failure (a restart, a proxy's 503) was cached as "no tags", so every
// rating showed the tags' ids until the console was reloaded.
func TestConsoleAsksForTheRatingTagsAgainAfterAFailure(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	rated := func() string {
		t.Helper()
		conv := cl.Start("en")
		cl.Say(conv, "human please")
		agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/claim", nil, nil)
		agentAPI.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/close", map[string]bool{"ask_rating": true}, nil)
		if status, b := cl.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token,
			[]byte(`{"score":4,"tags":["solved"]}`)); status != http.StatusCreated {
			t.Fatalf("rate: %d %s", status, b)
		}
		return conv.ID
	}
	first, second := rated(), rated()
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	// The first request for the tags fails, as during a restart.
	eval[bool](p, `(() => {
		const native = window.fetch;
		let failed = false;
		window.fetch = (url, opts) => {
			if (!failed && String(url).includes('/api/v1/rating-tags')) {
				failed = true;
				return Promise.resolve(new Response(JSON.stringify({error: {code: 'unavailable', message: 'restarting'}}),
					{status: 503, headers: {'Content-Type': 'application/json'}}));
			}
			return native(url, opts);
		};
		return true;
	})()`)
	p.click("#tab-closed")
	p.click(fmt.Sprintf(`#closed-list li[data-id=%q]`, first))
	p.waitFor(`!!document.querySelector('#transcript li.note--rating')`)
	p.click(fmt.Sprintf(`#closed-list li[data-id=%q]`, second))
	p.waitFor(`!!document.querySelector('#transcript li.note--rating')`)
	p.waitWithin(`document.querySelector('#transcript li.note--rating').innerText.includes("Solved")`, 10*time.Second)
}
