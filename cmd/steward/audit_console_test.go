package main_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/testutil"
)

// The auditor's page: the trail, newest first, with what people typed
// shown as text; filters by action prefix and object; paging; the chain's
// verification, which turns red, naming the entry, when a row is edited
// behind Steward's back. An agent is told the page is not for them, and
// the desk links it only for roles that may read it.
func TestAuditConsoleInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.AddUser("auditor@example.com", "auditor", nil)

	// What people typed lands in entries' details: a key's name, a posture
	// change's reason.
	const keyName = `<img src=x onerror=window.__xss=1>`
	const reason = `"><svg onload=window.__xss=1> <script>window.__xss=1</script>`
	var key struct{ ID string }
	admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": keyName}, &key)
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 2, "reason": reason}, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/posture/automatic", nil, nil)
	// Enough entries for a second page (50 a page).
	for i := range 55 {
		admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": fmt.Sprintf("bulk %d", i)}, nil)
	}

	p := page{t, browserWithin(t, 2*time.Minute)}
	p.signInTo(run.URL, "/console/audit", "auditor@example.com", "correct horse battery")
	p.waitFor(`document.querySelector('#verify-status').dataset.ok === "1"`)
	p.waitText("#verify-status", "Chain intact")
	if !eval[bool](p, visible("#nav-audit")) || !eval[bool](p, visible("#nav-incidents")) {
		t.Error("the auditor's nav lacks the audit or incidents page")
	}
	if eval[bool](p, `!!document.querySelector('form#filter-form button[type=submit]') && [...document.querySelectorAll('main button')].some(b => /delete|remove|edit/i.test(b.innerText))`) {
		t.Error("the audit page offers to change something")
	}
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 50`)
	p.screenshot("audit-page")

	// Paging: older, then newer again.
	newest := eval[string](p, `document.querySelector('#audit-body tr').dataset.seq`)
	p.click("#page-older")
	p.waitFor(fmt.Sprintf(`document.querySelector('#audit-body tr').dataset.seq !== %q`, newest))
	if n := eval[int](p, `document.querySelectorAll('#audit-body tr').length`); n < 10 {
		t.Fatalf("the second page has %d entries", n)
	}
	p.click("#page-newer")
	p.waitFor(fmt.Sprintf(`document.querySelector('#audit-body tr').dataset.seq === %q`, newest))

	// Filters: the posture change, whose reason is markup, shown as text.
	p.fill("#f-action", "incident.posture")
	p.click("#f-apply")
	p.waitFor(`[...document.querySelectorAll('#audit-body tr')].every(r => r.dataset.action === "incident.posture") && document.querySelectorAll('#audit-body tr').length === 2`)
	p.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#audit-body .audit-v')].some(v => v.textContent === %q)`, reason))
	// The posture before and after read as fields, not as JSON.
	p.waitFor(`[...document.querySelectorAll('#audit-body .audit-k')].some(k => k.textContent === "to.level=")`)
	if got := eval[string](p, `[...document.querySelectorAll('#audit-body .audit-v')].map(v => v.textContent).filter(v => v.startsWith("{")).join(" | ")`); got != "" {
		t.Errorf("details shown as JSON: %s", got)
	}
	p.fill("#f-action", "apikey.")
	p.fill("#f-object", "apikey:"+key.ID)
	p.click("#f-apply")
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 1`)
	p.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#audit-body .audit-v')].some(v => v.textContent === %q)`, keyName))
	if eval[bool](p, `!!document.querySelector('#audit-body img, #audit-body svg, #audit-body script')`) || eval[string](p, `String(window.__xss)`) != "undefined" {
		t.Fatal("an entry's detail was rendered as markup")
	}
	// The view is in the URL: a reload (or a link) shows the same entries,
	// and Back returns to the filter before.
	if h := eval[string](p, `decodeURIComponent(location.hash)`); h != "#action=apikey.&object=apikey:"+key.ID {
		t.Errorf("the filtered view's fragment is %q", h)
	}
	eval[bool](p, `(history.back(), true)`)
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 2 && document.querySelector('#f-action').value === "incident.posture" && document.querySelector('#f-object').value === ""`)
	eval[bool](p, `(history.forward(), true)`)
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 1 && document.querySelector('#f-action').value === "apikey."`)
	p.navigate(eval[string](p, `location.href`))
	p.waitFor(`document.body.dataset.ready === "1" && document.querySelectorAll('#audit-body tr').length === 1`)
	if got := eval[string](p, `document.querySelector('#f-action').value + " " + document.querySelector('#f-object').value`); got != "apikey. apikey:"+key.ID {
		t.Errorf("after a reload the filter reads %q", got)
	}
	// An entry's object filters the trail to that object's history.
	p.fill("#f-action", "incident.posture")
	p.fill("#f-object", "")
	p.click("#f-apply")
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 2`)
	p.click(`#audit-body tr[data-action="incident.posture"] .audit-object-link`)
	p.waitFor(`document.querySelector('#f-object').value === "posture" && document.querySelector('#f-action').value === "" && [...document.querySelectorAll('#audit-body tr')].every(r => r.querySelector('.audit-object').textContent === "posture")`)
	if n := eval[int](p, `document.querySelectorAll('#audit-body tr').length`); n < 2 {
		t.Errorf("the posture's history has %d entries, want both changes", n)
	}
	p.click("#f-clear")
	p.waitFor(`document.querySelectorAll('#audit-body tr').length === 50`)

	// An entry edited in the database: the check names it.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(run.DataDir, app.SQLiteFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq int64
	if err := db.QueryRow(`SELECT seq FROM audit_log WHERE action = 'apikey.create' AND object = ?`, "apikey:"+key.ID).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor_name = 'someone else' WHERE seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	p.click("#verify-btn")
	p.waitFor(`document.querySelector('#verify-status').dataset.ok === "0"`)
	p.waitText("#verify-status", fmt.Sprintf("#%d (edited)", seq))
	// "Show that entry" goes to it, whatever the filter and the page, and marks it.
	p.fill("#f-action", "incident.")
	p.click("#f-apply")
	p.waitFor(`[...document.querySelectorAll('#audit-body tr')].every(r => r.dataset.action.startsWith("incident."))`)
	p.click("#verify-show")
	p.waitFor(fmt.Sprintf(`document.querySelector('#audit-body tr').dataset.seq === "%d" && document.querySelector('#audit-body tr').classList.contains('is-broken')`, seq))
	if eval[string](p, `document.querySelector('#f-action').value`) != "" || eval[int](p, `document.querySelectorAll('#audit-body tr.is-broken').length`) != 1 {
		t.Error("showing the broken entry kept the filter or marked more than one row")
	}
	p.screenshot("audit-page-broken")

	// In Chinese too.
	p.navigate(run.URL + "/console/audit?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1" && document.querySelector('#verify-status').dataset.ok === "0"`)
	p.waitText("#verify-status", fmt.Sprintf("第 %d 条（内容被修改）", seq))
	if got := eval[string](p, `document.querySelector('#trail-title').innerText`); !strings.Contains(got, "审计日志") {
		t.Errorf("the Chinese page's title %q", got)
	}

	// An agent: no link on the desk, and a refusal on the page itself.
	actx, cancel := chromedp.NewContext(p.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	agent := page{t, actx}
	agent.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	if eval[bool](agent, visible("#nav-audit")) {
		t.Error("the desk links the audit page for an agent")
	}
	agent.navigate(run.URL + "/console/audit?lang=en")
	agent.waitFor(`document.body.dataset.ready === "1"`)
	agent.waitText("#audit-forbidden", "may not read the audit trail")
	if eval[int](agent, `document.querySelectorAll('#audit-body tr').length`) != 0 || eval[bool](agent, visible("#trail-box")) {
		t.Error("the agent was shown the trail")
	}
}
