package main_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

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
