package main_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// An agent whose status is online but whose console was not heard from
// (closed overnight) is online again once the console's stream beats, and
// the console says so. It used to read its presence before that first
// beat and show "Offline" for good, while routing, heard from again, gave
// the agent conversations.
func TestConsoleShowsThePresenceItsStreamRestoredInChromium(t *testing.T) {
	run, agentAPI, _ := manualDeskWithAgentOnline(t)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(run.DataDir, app.SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	err = db.SetPresence(ctx, agentAPI.ID, auth.Online, time.Now().Add(-3*time.Hour)) // the laptop closed last night
	db.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var before struct{ Status string }
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/desk/presence", nil, &before)
	if before.Status != "offline" {
		t.Fatalf("an agent not heard from for 3 hours reads %q, want offline", before.Status)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.waitFor(`document.body.dataset.ready === "1" && !document.querySelector('#presence').hidden`)
	p.waitFor(`document.querySelector('#presence-select').value === "online"`)
	var after struct{ Status string }
	agentAPI.Must(http.StatusOK, "GET", "/api/v1/desk/presence", nil, &after)
	if after.Status != "online" {
		t.Fatalf("with the console open the agent reads %q, want online", after.Status)
	}
}

// A conversation opened while the bot still has it (a supervisor looking
// in) shows the customer's questions to the bot that came after it was
// opened, once it is handed to people: those turns never reach the desk's
// stream, and the transcript jumped from before them to the handoff.
func TestConsoleTranscriptFillsTheTurnsItDidNotHearInChromium(t *testing.T) {
	run, _, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("en")
	cl.Say(conv, "how much is shipping")
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	p.navigate(run.URL + "/console?lang=en#c=" + conv.ID)
	p.waitFor(`document.body.dataset.ready === "1" && document.querySelectorAll('#transcript li[data-seq]').length === 3`)
	cl.Say(conv, "can I return a pair of shoes")
	cl.Say(conv, "how long does a refund take")
	if turn := cl.Say(conv, "human please"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	seqs := `[...document.querySelectorAll('#transcript li[data-seq]')].map(li => li.dataset.seq).join(' ')`
	p.waitFor(fmt.Sprintf(`%s === "1 2 3 4 5 6 7 8 9"`, seqs))
}

// A conversation given to the agent while it is open on their screen (a
// supervisor's Assign, or the router) offers "show original" on its
// masked messages, as one the agent claimed does: drawn before it was
// theirs, it had no such button until opened again.
func TestConsoleConversationAssignedWhileOpenOffersRevealInChromium(t *testing.T) {
	run, agentAPI, cl := manualDeskWithAgentOnline(t)
	conv := cl.Start("zh-CN")
	cl.Say(conv, "我的手机 13812345678 收不到验证码")
	if turn := cl.Say(conv, "转人工"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.click("#tab-queue")
	p.click(fmt.Sprintf(`#queue-list li[data-id=%q]`, conv.ID))
	p.waitFor(`document.querySelectorAll('#transcript .msg[data-role=customer]').length >= 2 && !document.querySelector('#conv-claim').hidden`)
	if eval[bool](p, `!!document.querySelector('#transcript .msg-reveal')`) {
		t.Fatal("a queued conversation not yet the agent's offers to show the original")
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conv.ID+"/assign", map[string]string{"agent_id": agentAPI.ID}, nil)
	p.waitFor(`document.querySelector('#conv-state').dataset.state === "assigned"`)
	p.waitFor(`!!document.querySelector('#transcript .msg-reveal')`)
}

// A server error without Chinese text (a database outage's 503, a 500, a
// proxy's "Bad Gateway") reads in Chinese on a Chinese console: it showed
// "the database cannot be reached; try again in a moment" as it came.
func TestChineseConsoleSaysServerErrorsInChineseInChromium(t *testing.T) {
	run, _, _ := manualDeskWithAgentOnline(t)
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.navigate(run.URL + "/console?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1" && !document.querySelector('#presence').hidden`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.fetch = async (url, opts) => {
			if (opts && opts.method === 'PUT' && String(url).includes('/presence')) {
				return new Response(JSON.stringify({error: {code: 'unavailable', message: 'the database cannot be reached; try again in a moment'}}),
					{status: 503, headers: {'Content-Type': 'application/json'}});
			}
			return native(url, opts);
		};
		return true;
	})()`)
	p.choose("#presence-select", "away")
	p.waitFor(`!!document.querySelector('#toasts .toast')`)
	got := eval[string](p, `document.querySelector('#toasts .toast').innerText`)
	if !strings.Contains(got, "服务暂时不可用") || strings.Contains(got, "database") {
		t.Errorf("a 503 without Chinese text toasts %q on a Chinese console", got)
	}
}

// A ticket shown in the open transcript follows its resolution, here or in
// another console: it said "Open" until another conversation was opened.
func TestConsoleOpenTranscriptShowsATicketResolvedElsewhereInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	ids := offlineTickets(t, run.URL, "13800000000")
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var tickets struct {
		Tickets []struct {
			ID             string `json:"id"`
			ConversationID string `json:"conversation_id"`
		}
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/tickets", nil, &tickets)
	conv := ""
	for _, tk := range tickets.Tickets {
		if tk.ID == ids[0] {
			conv = tk.ConversationID
		}
	}
	if conv == "" {
		t.Fatalf("ticket %s is not listed: %+v", ids[0], tickets)
	}
	p := page{t, browser(t)}
	p.signInTo(run.URL, "/console", run.Demo[0].Email, run.Demo[0].Password)
	p.navigate(run.URL + "/console?lang=en#c=" + conv)
	row := fmt.Sprintf(`document.querySelector('#transcript li[data-ticket-id=%q]')`, ids[0])
	p.waitFor(`document.body.dataset.ready === "1" && !!` + row + ` && ` + row + `.innerText.includes('Open')`)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/tickets/"+ids[0]+"/resolve", nil, nil)
	p.waitFor(row + `.innerText.includes('Resolved')`)
}

// Another person signing in in another tab makes this console theirs,
// loaded afresh: it went on as a mix of both, the first one's page with
// the second one's lists and every write refused.
func TestConsoleFollowsAnotherPersonSigningInInChromium(t *testing.T) {
	run, _, _ := manualDeskWithAgentOnline(t)
	p := page{t, browser(t)}
	recordSockets(p)
	p.signInTo(run.URL, "/console", run.Demo[1].Email, run.Demo[1].Password)
	p.waitFor(`window.__ws.some((w) => w.readyState === 1)`)
	first := eval[string](p, `document.querySelector('#me-name').title`)
	eval[bool](p, fmt.Sprintf(`(() => {
		window.__before = true;
		fetch('/api/v1/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({email: %q, password: %q})})
			.then(() => window.__ws.forEach((w) => w.close())); // the stream comes back with the new cookie
		return true;
	})()`, run.Demo[2].Email, run.Demo[2].Password))
	p.waitAcrossNavigation(fmt.Sprintf(`!window.__before && document.body.dataset.ready === "1" && document.querySelector('#me-name').title === %q`, run.Demo[2].Email))
	if first != run.Demo[1].Email {
		t.Fatalf("the console was %q's before, want %q's", first, run.Demo[1].Email)
	}
}
