package main_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/testutil"
)

// The entry open in the editor follows a publish made from the Releases
// tab: its status and versions said "approved · not published" after the
// release that published it, until the entry was opened again.
func TestKBOpenEntryFollowsAPublishInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	lead := admin.AddUser("lead@demo.steward", "supervisor", nil)
	var fee struct {
		Tags []string `json:"tags"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	var entry map[string]any
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &entry)
	entry["tags"] = append(fee.Tags, "fees")
	admin.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": entry, "submit": true}, nil)
	lead.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, nil)

	p := page{t, browser(t)}
	p.signIn(run.URL, run.Demo[0].Email, run.Demo[0].Password)
	p.waitFor(`!!document.querySelector('#entries-list li[data-id="shipping-fee"]')`)
	p.click(`#entries-list li[data-id="shipping-fee"]`)
	p.waitFor(`document.querySelector('#ed-status').dataset.status === "approved"`)
	p.tab("releases")
	p.waitFor(`!!document.querySelector('#releases-list li[data-id="1"]')`)
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click("#publish-btn")
	p.waitWithin(`!!document.querySelector('#releases-list li[data-id="2"].is-active')`, 2*time.Minute)
	p.tab("entries")
	p.waitFor(`document.querySelector('#ed-status').dataset.status === "published"`)
}
