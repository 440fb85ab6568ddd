package main_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/testutil"
)

// holdNextPostureRead makes the page's next GET /api/v1/posture wait, once
// its answer has been read from the server, until window.__hold is false:
// the network is slow for the poll's answer.
const holdNextPostureRead = `(() => {
	const native = window.fetch;
	window.__arm = true;
	window.__held = 0;
	window.fetch = async (url, opts) => {
		const res = await native(url, opts);
		if (window.__arm && String(url).endsWith('/api/v1/posture') && (!opts || (opts.method || 'GET') === 'GET')) {
			window.__arm = false;
			window.__hold = true;
			window.__held++;
			while (window.__hold) await new Promise((r) => setTimeout(r, 20));
		}
		return res;
	};
	return true;
})()`

// The page polls GET /posture every 5 s, and setting the posture reads it
// again; nothing orders the two answers. A poll's answer read before the
// PUT but arriving after it puts the old posture back on the card ("Normal
// service" right after "Posture set"), and, since a successful set forgets
// the operator's own choices, puts the form's level back to the old one
// too: a Set pressed then (to correct the reason, say) sends that level.
func TestIncidentsLatePostureAnswerDoesNotUndoASetInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "0"`)

	eval[bool](admin, holdNextPostureRead)
	// The next poll reads the posture (still normal) and its answer is slow.
	admin.waitWithin(`window.__held === 1`, 15*time.Second)

	// Meanwhile the operator sets level 3; the page reads the posture again and shows it.
	admin.choose("#pf-level", "3")
	admin.fill("#pf-reason", "the store is down")
	admin.click("#pf-set")
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "3" && document.querySelector('#pf-reason').value === ""`)

	// The poll's answer arrives.
	eval[bool](admin, `(window.__hold = false, true)`)
	time.Sleep(700 * time.Millisecond)
	if got := eval[string](admin, `document.querySelector('#posture-level').dataset.level`); got != "3" {
		t.Errorf("after the poll's late answer the card shows level %s (%q), want 3: the posture in force is level 3", got,
			eval[string](admin, `document.querySelector('#posture-level').innerText`))
	}
	if got := eval[string](admin, `document.querySelector('#pf-level').value`); got != "3" {
		t.Errorf("after the poll's late answer the form would set level %s, want 3 (the live level)", got)
	}
}

// Two steady info alerts, each with a playbook that waits for approval:
// watch_a asks for level 1 (everything to people), watch_b for level 3.
func twoPendingApprovals(c *config.Config) {
	for _, name := range []string{"watch_a", "watch_b"} {
		c.Monitor.Rules = append(c.Monitor.Rules, monitor.Rule{Name: name, Type: monitor.RuleProbe, Component: "store",
			Level: monitor.LevelInfo, Window: 10 * time.Second, Threshold: -1, MinEvents: 1})
	}
	c.Incident.Playbooks = append(c.Incident.Playbooks,
		incident.Playbook{Name: "ask-a", Match: []string{`alertname="watch_a"`}, Action: incident.ActionLevel1, Scope: "all",
			Human: true, Approval: "ask"},
		incident.Playbook{Name: "ask-b", Match: []string{`alertname="watch_b"`}, Action: incident.ActionLevel3, Approval: "ask"})
}

// A pending action is approved by its place in the list ({"index": i}),
// and the list changes under the page: another operator approves one, or
// an action is withdrawn when its alert resolves. The operator clicks
// Approve on the row that shows one playbook, and the server approves
// whichever action is at that index now: another playbook, another level
// (here level 3, disaster recovery, which nobody approved), set by hand so
// that it stays.
func TestIncidentsApproveAppliesTheActionShownInChromium(t *testing.T) {
	run := testutil.Start(t, twoPendingApprovals)
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	type action struct {
		Playbook string `json:"playbook"`
	}
	type detail struct {
		Incident struct {
			ID      string   `json:"id"`
			Phase   string   `json:"phase"`
			Pending []action `json:"pending"`
		} `json:"incident"`
	}
	// Wait for the incident the two alerts open, with both actions pending.
	var inc detail
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Incidents []struct {
				ID    string `json:"id"`
				Phase string `json:"phase"`
			} `json:"incidents"`
		}
		adminAPI.Must(http.StatusOK, "GET", "/api/v1/incidents", nil, &list)
		for _, i := range list.Incidents {
			if i.Phase != "resolved" {
				adminAPI.Must(http.StatusOK, "GET", "/api/v1/incidents/"+i.ID, nil, &inc)
			}
		}
		if len(inc.Incident.Pending) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident with two pending actions: %+v", inc)
		}
		time.Sleep(300 * time.Millisecond)
	}

	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`document.querySelectorAll('#pending-list li.inc-pending .inc-approve').length === 2`)
	first := eval[string](admin, `document.querySelector('#pending-list li[data-index="0"] code').textContent`)
	second := eval[string](admin, `document.querySelector('#pending-list li[data-index="1"] code').textContent`)

	// The page's reads of the incident wait from now on (as on a slow network, or between two polls).
	eval[bool](admin, `(() => {
		const native = window.fetch;
		window.__freeze = true;
		window.fetch = async (url, opts) => {
			if (/\/api\/v1\/incidents\/[^/?]+$/.test(String(url)) && (!opts || (opts.method || 'GET') === 'GET')) {
				while (window.__freeze) await new Promise((r) => setTimeout(r, 20));
			}
			return native(url, opts);
		};
		return true;
	})()`)
	// Another operator approves the first action, as shown to both of them.
	adminAPI.Must(http.StatusOK, "POST", "/api/v1/incidents/"+inc.Incident.ID+"/approve", map[string]int{"index": 0}, nil)
	// This operator approves the same one: the row that shows it.
	admin.click(`#pending-list li[data-index="0"] .inc-approve`)
	time.Sleep(time.Second)
	eval[bool](admin, `(window.__freeze = false, true)`)

	var after detail
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/incidents/"+inc.Incident.ID, nil, &after)
	if len(after.Incident.Pending) != 1 || after.Incident.Pending[0].Playbook != second {
		t.Errorf("approving the row showing %q approved %q too: pending now %+v, want %q still pending", first, second,
			after.Incident.Pending, second)
	}
	var pos struct {
		Posture struct {
			Level int `json:"level"`
		} `json:"posture"`
	}
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/posture", nil, &pos)
	want := map[string]int{"ask-a": 1, "ask-b": 3}[first]
	if pos.Posture.Level != want {
		t.Errorf("the posture is level %d; the only action approved (%s) asks for level %d", pos.Posture.Level, first, want)
	}
}

// The posture form follows the live posture until the operator makes a
// choice of their own, but only a "change" event counts as one: typing in
// the categories field fires "input", and "change" only when the field is
// left. An operator typing a wider scope while the posture (or its
// incident, part of the same answer) changes elsewhere sees the text they
// are typing replaced by the live categories, in the field they are in.
func TestIncidentsPostureFormKeepsTypedCategoriesInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	adminAPI.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"refunds"},
		"human": true, "reason": "refunds fail"}, nil)

	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`document.querySelector('#posture-level').dataset.level === "1" && document.querySelector('#pf-categories').value === "refunds"`)

	// The operator is typing a wider scope (the field still has the focus).
	admin.fill("#pf-categories", "refunds, billing")
	// Another operator updates the reason meanwhile; the next poll shows it.
	adminAPI.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "categories": []string{"refunds"},
		"human": true, "reason": "refunds still fail"}, nil)
	admin.waitWithin(`document.querySelector('#posture-reason').innerText.includes("refunds still fail")`, 15*time.Second)
	if got := eval[string](admin, `document.querySelector('#pf-categories').value`); got != "refunds, billing" {
		t.Errorf("the categories being typed were replaced: the field says %q, want %q", got, "refunds, billing")
	}
}

// Two operators edit the customer notices. The editors loaded once, at
// start: an editor left untouched for an hour still showed the old text,
// and a save of an edit in it sent back the other operator's text as it
// was then, undoing their change without a word. Now an untouched editor
// follows the notices, one being edited is left alone, and a save over a
// newer text says so (with that text) before a second Save replaces it.
func TestIncidentsNoticeEditorsFollowAnotherOperatorsEditInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	other := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`document.querySelector('#notice-1-en').value !== "" && !document.querySelector('.inc-notice-save').hidden`)

	// The other operator changes level 1's notice: the untouched editor follows.
	other.Must(http.StatusOK, "PUT", "/api/v1/notices/1", map[string]string{"zh": "退款暂由人工处理", "en": "Refunds are handled by agents"}, nil)
	admin.waitWithin(`document.querySelector('#notice-1-en').value === "Refunds are handled by agents"`, 15*time.Second)

	// This operator is editing level 2's notice when the other saves theirs.
	admin.fill("#notice-2-en", "We are rolling back; please bear with us")
	other.Must(http.StatusOK, "PUT", "/api/v1/notices/2", map[string]string{"zh": "正在回滚", "en": "Rolling back now"}, nil)
	time.Sleep(6 * time.Second) // a poll
	if got := eval[string](admin, `document.querySelector('#notice-2-en').value`); got != "We are rolling back; please bear with us" {
		t.Fatalf("the notice being edited was replaced by a poll: %q", got)
	}
	admin.click(`.inc-notice-save[data-level="2"]`)
	admin.waitFor(`document.querySelector('#notices-error').textContent.includes("Rolling back now")`)
	var got struct {
		Notices map[string]struct{ ZH, EN string } `json:"notices"`
	}
	other.Must(http.StatusOK, "GET", "/api/v1/notices", nil, &got)
	if got.Notices["2"].EN != "Rolling back now" {
		t.Fatalf("a save over another operator's newer notice replaced it unseen: %+v", got.Notices["2"])
	}
	// Told, the operator saves again: theirs replaces it.
	admin.click(`.inc-notice-save[data-level="2"]`)
	admin.waitFor(`document.querySelector('#notices-error').textContent === ""`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		other.Must(http.StatusOK, "GET", "/api/v1/notices", nil, &got)
		if got.Notices["2"].EN == "We are rolling back; please bear with us" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second Save did not replace the notice: %+v", got.Notices["2"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A link to an incident that does not exist (mistyped, or from another
// installation): the page says so and shows no incident, and the address
// no longer names it (it kept the hash, so a reload or a copied link met
// the same error again).
func TestIncidentsUnknownIncidentLinkClearsTheAddressInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`!!document.querySelector('#posture-level').dataset.level`)
	admin.navigate(run.URL + "/console/incidents#inc-does-not-exist")
	admin.waitFor(`location.hash === "" && !document.querySelector('#detail-empty').hidden`)
}

// Drills from the console: on a server started with fault injection, an
// admin injects a fault from the incidents page, sees it listed with what
// it did, and clears it; the server's fault API agrees at each step. On a
// server without fault injection the section is not shown.
func TestIncidentsDrillsInjectAndClearAFaultInChromium(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.EnableFaultInjection = true })
	adminAPI := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin := page{t, browserWithin(t, 2*time.Minute)}
	admin.signInTo(run.URL, "/console/incidents", run.Demo[0].Email, run.Demo[0].Password)
	admin.waitFor(`!document.querySelector('#drills-box').hidden && document.querySelector('#fault-point').options.length > 1`)

	eval[bool](admin, `(document.querySelector('#fault-point').value = "nlu", true)`)
	admin.fill("#fault-rate", "50")
	admin.click("#fault-add")
	admin.waitFor(`!!document.querySelector('#faults-list li[data-point="nlu"]')`)
	var got struct {
		Faults []struct {
			Point     string  `json:"point"`
			ErrorRate float64 `json:"error_rate"`
		} `json:"faults"`
	}
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/admin/faults", nil, &got)
	if len(got.Faults) != 1 || got.Faults[0].Point != "nlu" || got.Faults[0].ErrorRate != 0.5 {
		t.Fatalf("the server's faults after the console's injection: %+v, want nlu at 0.5", got.Faults)
	}
	// A scope the point does not take: the server's refusal is shown.
	admin.fill("#fault-scope", "billing")
	admin.click("#fault-add")
	admin.waitFor(`document.querySelector('#fault-error').textContent.includes("takes no scope")`)

	admin.click(`#faults-list li[data-point="nlu"] .inc-fault-clear`)
	admin.waitFor(`!document.querySelector('#faults-list li') && !document.querySelector('#faults-empty').hidden`)
	got.Faults = nil
	adminAPI.Must(http.StatusOK, "GET", "/api/v1/admin/faults", nil, &got)
	if len(got.Faults) != 0 {
		t.Fatalf("the server's faults after the console cleared them: %+v", got.Faults)
	}

	// Without fault injection, no drills section.
	plain := testutil.Start(t, nil)
	p := page{t, browserWithin(t, 2*time.Minute)}
	p.signInTo(plain.URL, "/console/incidents", plain.Demo[0].Email, plain.Demo[0].Password)
	p.waitFor(`!!document.querySelector('#posture-level').dataset.level`)
	time.Sleep(500 * time.Millisecond)
	if !eval[bool](p, `document.querySelector('#drills-box').hidden`) {
		t.Error("the drills section is shown on a server without fault injection")
	}
}
