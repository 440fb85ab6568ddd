package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/testutil"
)

// artifacts is where browser tests leave screenshots: $STEWARD_ARTIFACTS,
// or artifacts/ at the repository's root.
func artifacts(t *testing.T) string {
	dir := os.Getenv("STEWARD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (p page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// waitAcrossNavigation polls expr while the page may be navigating, when
// an in-page poll would be cut off with the document it ran in.
func (p page) waitAcrossNavigation(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("timed out waiting for %s", expr)
}

// click clicks the first element matching selector, once it exists.
func (p page) click(selector string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`!!document.querySelector(%q)`, selector))
	eval[bool](p, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, selector))
}

// fill sets an input's value as typing would.
func (p page) fill(selector, value string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`!!document.querySelector(%q)`, selector))
	eval[bool](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.focus();
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, selector, value))
}

// An agent takes over from the bot in the console while the customer
// watches in the chat page: two browser contexts, nothing faked.
func TestAgentConsoleTakesOverInChromium(t *testing.T) {
	run := testutil.Start(t, nil)
	demoAgent := run.Demo[1]
	customer := page{t, browser(t)}
	customer.navigate(run.URL + "/chat?lang=en")
	customer.waitFor(`document.body.dataset.ready === "1"`)

	// The agent works in a separate browser context: their own cookies.
	actx, cancel := chromedp.NewContext(customer.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	agent := page{t, actx}
	agent.navigate(run.URL + "/console?lang=en")
	agent.waitAcrossNavigation(`location.pathname === "/console/login" && !!document.querySelector('#login-email')`)
	agent.fill("#login-email", demoAgent.Email)
	agent.fill("#login-password", "wrong password!")
	agent.click("#login-submit")
	agent.waitFor(`(document.querySelector('#login-error').innerText || "").trim() !== ""`)
	agent.fill("#login-password", demoAgent.Password)
	agent.click("#login-submit")
	agent.waitAcrossNavigation(`location.pathname === "/console" && document.body.dataset.ready === "1" && !document.querySelector('#presence').hidden`)
	// Live updates must not need a reload: this marker would vanish with one.
	eval[bool](agent, `(window.__noReload = true, true)`)
	eval[bool](agent, `(() => {
		const s = document.querySelector('#presence-select');
		s.value = 'online';
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`)
	agent.waitFor(`document.querySelector('#presence').dataset.status === "online"`)
	agent.screenshot("console-empty")

	// The customer asks the bot, then for a person.
	customer.send("how much is shipping?")
	customer.waitFor(botAnswers + ` >= 1`)
	customer.waitFor(`!document.querySelector('#handoff-btn').disabled`)
	customer.click("#handoff-btn")

	// It arrives in the agent's list (assigned automatically: the agent is online).
	agent.waitFor(`!!document.querySelector('#mine-list li[data-id]')`)
	convID := eval[string](agent, `document.querySelector('#mine-list li[data-id]').dataset.id`)
	agent.click(`#mine-list li[data-id]`)
	// The summary (loaded after the transcript) names the customer's topic.
	agent.waitFor(`/shipping/i.test(document.querySelector('#summary-text').innerText || "")`)
	agent.waitFor(`document.querySelectorAll('#transcript .msg[data-role="customer"]').length >= 2`)
	agent.waitFor(`!!document.querySelector('#suggestions button.suggestion')`)
	agent.screenshot("console-conversation")

	// One click inserts a suggested reply; Send delivers it.
	agent.click("#suggestions button.suggestion")
	reply := eval[string](agent, `document.querySelector('#reply-input').value`)
	if strings.TrimSpace(reply) == "" {
		t.Fatal("a click on a suggestion inserted nothing")
	}
	agent.click("#reply-send")
	agent.waitFor(`[...document.querySelectorAll('#transcript .msg[data-role="agent"]')].length >= 1`)

	// The customer sees it live.
	firstLine := strings.SplitN(reply, "\n", 2)[0]
	customer.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#messages .msg[data-role="agent"]')].some(m => m.innerText.includes(%q))`, firstLine))
	customer.waitFor(`document.querySelector('#state-banner').dataset.state === "assigned"`)
	customer.screenshot("chat-agent-reply")

	// The agent closes; the customer rates.
	eval[bool](agent, `(window.confirm = () => true, true)`)
	agent.click("#close-btn")
	customer.waitFor(`!!document.querySelector('#rating-form') && !document.querySelector('#rating-card').hidden`)
	customer.click(`#rating-form button.star[data-score="5"]`)
	customer.waitFor(`!!document.querySelector('#rating-form button.rating-tag')`)
	customer.click(`#rating-form button.rating-tag`)
	customer.click("#rating-submit")
	customer.waitFor(`!!document.querySelector('#rating-done') && !document.querySelector('#rating-done').hidden`)
	customer.screenshot("chat-rated")
	agent.screenshot("console-closed")
	if !eval[bool](agent, `window.__noReload === true`) {
		t.Error("the console reloaded the page")
	}

	// The rating is stored, once.
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var got struct {
		Conversation struct{ State string }
		Rating       *struct {
			Score int      `json:"score"`
			Tags  []string `json:"tags"`
		} `json:"rating"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+convID, nil, &got)
	if got.Conversation.State != "closed" || got.Rating == nil || got.Rating.Score != 5 || len(got.Rating.Tags) != 1 {
		b, _ := json.Marshal(got)
		t.Fatalf("after rating: %s", b)
	}
}
