package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/llm/llmtest"
	"github.com/steward-cs/steward/internal/testutil"
)

// chromium returns the path of a Chromium to drive, or skips the test
// outside CI when there is none.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("STEWARD_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI: apt-get install -y chromium")
	}
	t.Skip("no Chromium (apt-get install -y chromium)")
	return ""
}

func browser(t *testing.T) context.Context { return browserWithin(t, 90*time.Second) }

// browserWithin is browser for a test whose browsing may take up to d.
func browserWithin(t *testing.T, d time.Duration) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768), // a laptop screen
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// botAnswers counts the bot's answer bubbles on the page.
const botAnswers = `document.querySelectorAll('#messages .msg[data-role="bot"][data-outcome="answer"]').length`

// page drives one browser tab through JavaScript in the page itself: real
// DOM events, real fetch and WebSocket traffic to the server on loopback.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p page) navigate(url string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("navigate %s: %v", url, err)
	}
}

func (p page) reload() {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Reload()); err != nil {
		p.t.Fatalf("reload: %v", err)
	}
}

// waitFor polls until the expression is truthy.
func (p page) waitFor(expr string) {
	p.t.Helper()
	p.waitWithin(expr, 20*time.Second)
}

// waitWithin is waitFor for something that may take up to d.
func (p page) waitWithin(expr string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d)))
	// A page still navigating (a redirect right after the condition that
	// led here) has no execution context for a moment: poll again in the
	// new document rather than fail.
	for err != nil && time.Now().Before(deadline) && (strings.Contains(err.Error(), "Cannot find context") ||
		strings.Contains(err.Error(), "context was destroyed")) {
		time.Sleep(50 * time.Millisecond)
		_, err = chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
	}
	if err != nil {
		var dump string
		dump, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		p.t.Fatalf("waiting for %s: %v\npage text:\n%s", expr, err, dump)
	}
}

func eval[T any](p page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// send types text into the composer and clicks Send once the button is
// enabled, as a person would: the reply can arrive over the stream before
// the previous POST has returned, while Send is still disabled.
func (p page) send(text string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => {
		const input = document.querySelector('#composer-input');
		input.value = %q;
		input.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, text))
	p.waitFor(`!document.querySelector('#composer-send').disabled`)
	eval[bool](p, `(document.querySelector('#composer-send').click(), true)`)
}

func (p page) lastAnswer() string {
	return eval[string](p, `[...document.querySelectorAll('#messages .msg[data-outcome="answer"]')].pop().innerText`)
}

func TestChatPageInChromium(t *testing.T) {
	p := page{t, browser(t)}
	// An agent is online (and claims by hand), so asking for a person queues.
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	base := run.URL
	agent := testutil.Login(t, base, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	if lang := eval[string](p, `document.documentElement.lang`); lang != "en" {
		t.Fatalf("page language %q", lang)
	}
	if greeting := eval[string](p, `document.querySelector('#messages .msg[data-role="bot"]').innerText`); !strings.Contains(greeting, "assistant") {
		t.Fatalf("greeting %q", greeting)
	}
	p.send("how much is shipping?")
	p.waitFor(botAnswers + ` >= 1`)
	if a := p.lastAnswer(); !strings.Contains(a, "99") {
		t.Errorf("English shipping answer %q does not mention the free-shipping threshold", a)
	}
	p.send("我想退货，怎么操作？")
	p.waitFor(botAnswers + ` >= 2`)
	if a := p.lastAnswer(); !strings.Contains(a, "退") {
		t.Errorf("Chinese returns answer %q", a)
	}
	// Message text is rendered as text, never as markup.
	p.send(`<img src=x onerror="document.body.dataset.pwned=1">`)
	p.waitFor(`[...document.querySelectorAll('#messages .msg[data-role="customer"]')].some(m => m.innerText.includes('<img src=x'))`)
	if eval[string](p, `document.body.dataset.pwned || ""`) != "" {
		t.Fatal("a customer message was rendered as HTML")
	}
	// Wait for the bot's reply to that message: the button is disabled while a message is in flight.
	p.waitFor(`document.querySelectorAll('#messages .msg[data-role="bot"]').length >= 4 && !document.querySelector('#handoff-btn').disabled`)
	eval[bool](p, `(document.querySelector('#handoff-btn').click(), true)`)
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued"`)
	if banner := eval[string](p, `document.querySelector('#state-banner').innerText`); strings.TrimSpace(banner) == "" {
		t.Error("no queue banner after handoff")
	}
	// A reload resumes the same conversation from the browser's storage.
	p.reload()
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.waitFor(botAnswers + ` >= 2`)
	if n := eval[int](p, `document.querySelectorAll('#messages .msg[data-role="customer"]').length`); n < 4 {
		t.Fatalf("after reload %d customer messages are shown, want the 4 sent", n)
	}
	// The header says "online" only while the page is connected.
	p.waitFor(`document.querySelector('#presence').dataset.state === "online"`)
	if got := eval[string](p, `document.querySelector('#presence').innerText`); got != "Online · here to help" {
		t.Errorf("connected header says %q", got)
	}
	run.Stop()
	p.waitFor(`document.querySelector('#presence').dataset.state === "offline"`)
	if got := eval[string](p, `document.querySelector('#presence').innerText`); got != "Disconnected · trying to reconnect" {
		t.Errorf("with the server gone the header says %q", got)
	}
}

// Without data-lang the widget speaks the shop page's language (its lang
// attribute), whatever the browser's: it went by the browser's alone, and a
// Chinese shop showed an English chat to anyone whose browser was English.
func TestWidgetSpeaksTheShopPagesLanguage(t *testing.T) {
	p := page{t, browser(t)}
	var base string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><head><title>商店</title></head><body><h1>商店</h1>
<script src="%s/widget.js" async></script></body></html>`, base)
	}))
	defer shop.Close()
	base = testutil.StartApp(t, func(c *config.Config) { c.Security.FrameAncestors = []string{"'self'", shop.URL} })
	p.navigate(shop.URL)
	p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	if nav := eval[string](p, `navigator.language`); strings.HasPrefix(strings.ToLower(nav), "zh") {
		t.Skipf("the browser itself is set to %s: the test needs another language", nav)
	}
	eval[bool](p, `(window.Steward.open(), true)`)
	p.waitFor(`!!document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe')`)
	if src := eval[string](p, `document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe').src`); !strings.Contains(src, "lang=zh-CN") {
		t.Errorf("the chat frame is %s, want lang=zh-CN (the page's)", src)
	}
}

// The widget works on a shop's page served from another origin, when the
// shop is one of security.frame_ancestors; another site's frame is blocked.
func TestWidgetOnAnotherOrigin(t *testing.T) {
	p := page{t, browser(t)}
	var base string
	shopPage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="%s/widget.js" data-lang="zh-CN" async></script></body></html>`, base)
	})
	shop := httptest.NewServer(shopPage)
	defer shop.Close()
	other := httptest.NewServer(shopPage)
	defer other.Close()
	base = testutil.StartApp(t, func(c *config.Config) { c.Security.FrameAncestors = []string{"'self'", shop.URL} })

	// openWidget opens the widget on a shop page and returns its iframe's
	// frame as the browser has it.
	openWidget := func(url string) *cdp.Frame {
		p.navigate(url)
		p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
		eval[bool](p, `(window.Steward.open(), true)`)
		p.waitFor(`!!document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe')`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			res, err := chromedp.Call(p.ctx, cdppage.GetFrameTree, cdp.Empty{})
			if err != nil {
				t.Fatal(err)
			}
			tree := res.FrameTree
			// The frame settles on our chat page or, refused, on an error page; on the way it
			// may read "about:blank", "" or (seen under -race on CI) ":", which are neither.
			if len(tree.ChildFrames) > 0 {
				if f := tree.ChildFrames[0].Frame; strings.HasPrefix(f.URL, "http") || strings.HasPrefix(f.URL, "chrome-error:") {
					return f
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the widget's frame did not load on %s", url)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	f := openWidget(shop.URL)
	if !strings.HasPrefix(f.URL, base+"/chat?") || !strings.Contains(f.URL, "embed=1") || f.UnreachableURL != "" {
		t.Fatalf("widget frame on the listed shop: %q (unreachable %q), want %s/chat?embed=1...", f.URL, f.UnreachableURL, base)
	}
	src := f.URL
	// The chat told the widget it loaded: no fallback once the widget's wait (6 s) is over.
	time.Sleep(7 * time.Second)
	const fallback = `document.querySelector('#steward-widget-root').shadowRoot.querySelector('.steward-fallback')`
	if eval[bool](p, "!!"+fallback) {
		t.Fatal("the widget offers a new window although the chat loaded in its frame")
	}
	if f := openWidget(other.URL); !strings.HasPrefix(f.URL, "chrome-error:") {
		t.Fatalf("on a shop not in frame_ancestors the widget frame shows %q, want it blocked", f.URL)
	}
	// There the customer is told, in the widget's language, and offered the chat in a new window
	// (it was the browser's blocked-frame page alone).
	p.waitWithin("!!"+fallback, 15*time.Second)
	if got := eval[string](p, fallback+`.innerText`); !strings.Contains(got, "客服窗口暂时无法在本页打开") {
		t.Errorf("the fallback says %q", got)
	}
	if href := eval[string](p, fallback+`.querySelector('a').href`); href != base+"/chat?lang=zh-CN" {
		t.Errorf("the fallback links to %q, want %s/chat?lang=zh-CN", href, base)
	}
	// It has its own way out (on a phone the panel covers the page and the chat's close
	// button never loaded): its button closes the panel.
	const panel = `document.querySelector('#steward-widget-root').shadowRoot.querySelector('#steward-panel')`
	if got := eval[string](p, fallback+`.querySelector('button').innerText`); got != "关闭" {
		t.Errorf("the fallback's button says %q, want 关闭", got)
	}
	eval[bool](p, `(`+fallback+`.querySelector('button').click(), true)`)
	p.waitFor(panel + `.getAttribute('aria-hidden') === "true"`)
	// The page the iframe shows answers questions.
	p.navigate(src)
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("发票怎么开")
	p.waitFor(botAnswers + ` >= 1`)
}

// Escape on the shop's page closes the open chat only when the chat has
// the focus: not when the shop's own page handled it (its dialog, its
// search box), nor when it cancels an input method's candidates.
func TestWidgetEscapeLeavesTheShopsPageAlone(t *testing.T) {
	p := page{t, browser(t)}
	var base string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<input id="search" placeholder="search">
<script>document.getElementById('search').addEventListener('keydown', (e) => { if (e.key === 'Escape') e.preventDefault(); });</script>
<script src="%s/widget.js" data-lang="zh-CN" async></script></body></html>`, base)
	}))
	defer shop.Close()
	base = testutil.StartApp(t, func(c *config.Config) { c.Security.FrameAncestors = []string{"'self'", shop.URL} })
	p.navigate(shop.URL)
	p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	eval[bool](p, `(window.Steward.open(), true)`)
	const panel = `document.querySelector('#steward-widget-root').shadowRoot.querySelector('#steward-panel')`
	p.waitFor(panel + `.getAttribute('aria-hidden') === "false"`)
	escape := func(target, init string) {
		eval[bool](p, fmt.Sprintf(`(%s.dispatchEvent(new KeyboardEvent('keydown', Object.assign({key: 'Escape', bubbles: true, cancelable: true}, %s))), true)`, target, init))
	}
	// clickFocus clicks at the element for real (a script's focus() does
	// not take the focus from the chat's frame), again while the chat,
	// still loading, takes the focus back.
	clickFocus := func(selector, focused string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			y := eval[float64](p, fmt.Sprintf(`document.querySelector(%q).getBoundingClientRect().y + 5`, selector))
			if _, err := chromedp.Run(p.ctx, chromedp.MouseClickXY(20, y)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if eval[bool](p, focused) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("clicking %s does not give the focus (%s)", selector, focused)
			}
		}
	}
	// The shop's search box handles its Escape.
	clickFocus("#search", `document.activeElement === document.getElementById('search')`)
	escape(`document.getElementById('search')`, `{}`)
	// An input method cancels a candidate.
	escape(`document.getElementById('search')`, `{isComposing: true, keyCode: 229}`)
	// Nothing of the widget has the focus.
	clickFocus("h1", `document.activeElement === document.body`)
	escape(`document.body`, `{}`)
	time.Sleep(200 * time.Millisecond)
	if got := eval[string](p, panel+`.getAttribute('aria-hidden')`); got != "false" {
		t.Fatalf("an Escape the shop's page had closed the chat (aria-hidden %s)", got)
	}
	// With the focus on the widget's launcher, Escape closes the chat.
	eval[bool](p, `(document.querySelector('#steward-widget-root').shadowRoot.querySelector('.steward-launcher').focus(), true)`)
	escape(`document.querySelector('#steward-widget-root').shadowRoot.querySelector('.steward-launcher')`, `{composed: true}`)
	p.waitFor(panel + `.getAttribute('aria-hidden') === "true"`)
}

// A message refused by a rate limit is marked as not sent, saying so in the
// page's language, and can be sent again.
func TestChatPageSaysWhenRateLimited(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, func(c *config.Config) {
		c.Security.RateLimits.Conversation = config.RateLimit{Rate: 0.01, Burst: 2}
	})
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("how much is shipping?")
	p.waitFor(botAnswers + ` >= 1`)
	p.send("how do I return an item?")
	p.waitFor(botAnswers + ` >= 2`)
	p.send("can I pay with a credit card?")
	p.waitFor(`!!document.querySelector('#messages .is-failed .msg-retry:not([hidden])')`)
	if got := eval[string](p, `document.querySelector('#messages .is-failed .msg-retry').innerText`); !strings.Contains(got, "too fast") {
		t.Fatalf("the refused message says %q", got)
	}
	eval[bool](p, `(document.querySelector('#lang-switch').click(), true)`)
	p.waitFor(`document.querySelector('#messages .is-failed .msg-retry').innerText.includes('太频繁')`)
}

// With nobody at the desk, a Chinese-speaking customer who asks for a
// person gets the offline form, and every refusal of it is explained in
// Chinese: a missing contact (caught in the page) and the server's own
// refusal (a fourth waiting message, 409), which the API gives in both
// languages.
func TestOfflineFormSpeaksTheCustomersLanguage(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	p.navigate(base + "/chat?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("转人工")
	p.waitFor(`!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`)
	latin := regexp.MustCompile(`[A-Za-z]`)
	submit := func(contact, message string) string {
		t.Helper()
		eval[bool](p, fmt.Sprintf(`(() => {
			document.querySelector('#offline-contact').value = %q;
			document.querySelector('#offline-message').value = %q;
			document.querySelector('#offline-error').hidden = true;
			document.querySelector('#offline-submit').click();
			return true;
		})()`, contact, message))
		p.waitFor(`!document.querySelector('#offline-error').hidden && !document.querySelector('#offline-submit').disabled`)
		return eval[string](p, `document.querySelector('#offline-error').innerText`)
	}
	if got := submit("", "快递一直没到"); !strings.Contains(got, "手机号或邮箱") || latin.MatchString(got) {
		t.Errorf("without a contact the form says %q, want the Chinese request for one", got)
	}
	// Three messages already wait for an agent (sent through the API with
	// the page's own conversation); the server refuses a fourth.
	stored := p.storedConversation()
	cl := &testutil.Client{T: t, Base: base}
	for i := range 3 {
		body, _ := json.Marshal(map[string]string{"contact": "13800000000", "message": fmt.Sprintf("留言 %d", i)})
		if status, b := cl.Do("POST", "/api/v1/conversations/"+stored.ID+"/offline-message", stored.Token, body); status != http.StatusCreated {
			t.Fatalf("offline message %d: %d %s", i, status, b)
		}
	}
	// The API says why in both languages...
	body, _ := json.Marshal(map[string]string{"contact": "13800000000", "message": "第四条"})
	status, b := cl.Do("POST", "/api/v1/conversations/"+stored.ID+"/offline-message", stored.Token, body)
	var refusal struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			MessageZH string `json:"message_zh"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &refusal); err != nil || status != http.StatusConflict || refusal.Error.Code != "conflict" ||
		!strings.Contains(refusal.Error.Message, "3 messages waiting") || !strings.Contains(refusal.Error.MessageZH, "3 条留言") {
		t.Fatalf("a fourth waiting message: %d %s, want 409 with an English and a Chinese message", status, b)
	}
	// ...and the page shows the Chinese one.
	got := submit("13800000000", "还是没到")
	if got != refusal.Error.MessageZH || latin.MatchString(got) {
		t.Errorf("the server's refusal reads %q, want its Chinese message %q", got, refusal.Error.MessageZH)
	}
}

// A message left while nobody is at the desk is thanked once: by the bot's
// line in the transcript, which replaces the form's own thank-you, and still
// once after the page is loaded again.
func TestLeftMessageIsThankedOnceInChromium(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human")
	p.waitFor(`!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`)
	eval[bool](p, `(() => {
		document.querySelector('#offline-contact').value = 'me@example.com';
		document.querySelector('#offline-message').value = 'My parcel has not arrived.';
		document.querySelector('#offline-submit').click();
		return true;
	})()`)
	const thanks = `document.querySelectorAll('#messages li[data-outcome="ticket"]').length`
	const cardThanks = `(!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-done').hidden)`
	p.waitFor(thanks + ` === 1`)
	p.waitFor(`!` + cardThanks)
	if got := eval[string](p, `document.querySelector('#messages li[data-outcome="ticket"]').innerText`); !strings.Contains(got, "received your message") {
		t.Errorf("the bot's thank-you reads %q", got)
	}
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1" && ` + thanks + ` === 1`)
	if eval[bool](p, cardThanks) {
		t.Error("after a reload the form's thank-you shows beside the bot's")
	}
	if !eval[bool](p, `document.querySelector('#offline-form').hidden || document.querySelector('#offline-card').hidden`) {
		t.Error("after a reload the offline form asks for the message again")
	}
}

// The rating stars are named as counted: "1 star", "2 stars"; "1 星" in Chinese.
func TestChatRatingStarsAreCountedInChromium(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	for _, tt := range []struct{ lang, want string }{
		{"en", "1 star|2 stars|3 stars|4 stars|5 stars"},
		{"zh-CN", "1 星|2 星|3 星|4 星|5 星"},
	} {
		p.navigate(run.URL + "/chat?lang=" + tt.lang)
		p.waitFor(`document.body.dataset.ready === "1"`)
		got := eval[string](p, `[...document.querySelectorAll('#rating-form button.star')].map((b) => b.getAttribute('aria-label')).join('|')`)
		if got != tt.want {
			t.Errorf("%s star labels %q, want %q", tt.lang, got, tt.want)
		}
	}
}

// Once an agent closes the conversation, the disabled composer says so (in
// the page's language, also after switching it) instead of inviting a
// question it will not take.
func TestChatSaysWhenTheConversationHasEnded(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	if ph := eval[string](p, `document.querySelector('#composer-input').placeholder`); !strings.Contains(ph, "question") {
		t.Fatalf("open conversation: placeholder %q", ph)
	}
	stored := p.storedConversation()
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/close", map[string]any{}, nil)
	p.waitFor(`document.querySelector('#composer-input').disabled && document.querySelector('#composer-input').placeholder.includes('ended')`)
	eval[bool](p, `(document.querySelector('#lang-switch').click(), true)`)
	p.waitFor(`document.querySelector('#composer-input').placeholder.includes('会话已结束')`)
}

// The leave-a-message form offered while nobody was at the desk leaves once
// a person serves the customer (it stayed open under the agent's replies),
// and the form opened from the queue banner fits a 375 px phone.
func TestOfflineFormLeavesWhenAnAgentJoins(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	p.navigate(run.URL + "/chat?lang=zh-CN")
	p.waitFor(`document.body.dataset.ready === "1" && window.innerWidth === 375`)
	p.send("转人工")
	const formOpen = `!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`
	p.waitFor(formOpen)

	// An agent comes online; asking again queues the conversation, and the
	// agent takes it: no form is left to fill in.
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	p.send("还是转人工吧")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued"`)
	conversationID := func() string {
		stored := p.storedConversation()
		return stored.ID
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+conversationID()+"/claim", nil, nil)
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "assigned"`)
	p.waitFor(`document.querySelector('#offline-card').hidden`)

	// A new conversation queues at once; the queue banner's form fits.
	eval[bool](p, `(localStorage.removeItem('steward.conversation'), true)`)
	p.reload()
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("转人工")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued" && !document.querySelector('#leave-message-btn').hidden`)
	eval[bool](p, `(document.querySelector('#leave-message-btn').click(), true)`)
	p.waitFor(formOpen + ` && document.querySelector('#offline-card').parentNode.id === "cards"`)
	if !eval[bool](p, `(() => { const r = document.querySelector('#offline-card').getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })()`) {
		t.Errorf("the queue's offline form is cut off at 375 px: %s", eval[string](p,
			`JSON.stringify(document.querySelector('#offline-card').getBoundingClientRect())`))
	}
}

// The transcript says when things were said: a time before the first
// message and after every pause of five minutes or more, with the date when
// it is not today, in the page's language (the time was only a tooltip,
// which a phone cannot show).
func TestChatStampsTimes(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	// A title in a link to the chat page itself is ignored (only the widget's frame names it),
	// even a link that says embed=1.
	p.navigate(base + "/chat?embed=1&lang=zh-CN&title=" + url.QueryEscape("官方客服：请提供验证码"))
	p.waitFor(`document.body.dataset.ready === "1"`)
	if got := eval[string](p, `document.querySelector('#title').textContent + ' | ' + document.title`); strings.Contains(got, "验证码") {
		t.Errorf("a top-level chat page with embed=1 reads %q: a link's ?title= put words in it", got)
	}
	p.navigate(base + "/chat?lang=zh-CN&title=" + url.QueryEscape("退款请拨打 400-000-0000"))
	p.waitFor(`document.body.dataset.ready === "1"`)
	if got := eval[string](p, `document.querySelector('#title').innerText + ' | ' + document.title`); got != "在线客服 | 在线客服" {
		t.Errorf("the chat page's header and title read %q: a link's ?title= put words in them", got)
	}
	p.send("运费多少")
	p.waitFor(botAnswers + ` >= 1`)
	const stamps = `[...document.querySelectorAll('#messages > li.msg-stamp time')]`
	if n := eval[int](p, stamps+`.length`); n != 1 {
		t.Fatalf("%d time stamps for messages a moment apart, want 1", n)
	}
	// The stamp stays the same element as messages come (the list is a live region: a stamp
	// put back would be read out again).
	eval[bool](p, `(document.querySelector('#messages > li.msg-stamp').dataset.mark = 'kept', true)`)
	p.send("怎么退货")
	p.waitFor(botAnswers + ` >= 2`)
	if got := eval[string](p, `document.querySelector('#messages > li.msg-stamp').dataset.mark || ''`); got != "kept" {
		t.Error("the time stamp was replaced when a message came")
	}
	if got := eval[string](p, stamps+`[0].innerText`); !regexp.MustCompile(`^\d{1,2}:\d{2}$`).MatchString(got) {
		t.Errorf("today's stamp reads %q, want the time alone", got)
	}
	if eval[string](p, stamps+`[0].dateTime`) == "" {
		t.Error("the stamp has no machine-readable time")
	}
	// The greeting as if sent three days ago: it gets a dated stamp, and the
	// messages after the pause get their own; switching language redraws them.
	eval[bool](p, `(() => {
		const first = document.querySelector('#messages > li.msg[data-at]');
		first.dataset.at = String(Number(first.dataset.at) - 3 * 86400e3);
		document.querySelector('#lang-switch').click();
		return true;
	})()`)
	p.waitFor(`document.documentElement.lang === "en"`)
	p.screenshot("chat-time-stamps")
	if n := eval[int](p, stamps+`.length`); n != 2 {
		t.Fatalf("%d time stamps after a three-day pause, want 2", n)
	}
	if got := eval[string](p, stamps+`[0].innerText`); !regexp.MustCompile(`^[A-Z][a-z]{2} \d{1,2}(, \d{4})? \d{1,2}:\d{2}( [AP]M)?$`).MatchString(got) {
		t.Errorf("the stamp three days back reads %q, want the date and the time in English", got)
	}
}

// Replies that come while the widget's panel is closed are counted on its
// launcher and in the chat's title, and the count clears when the panel
// opens. The widget's data-title names the chat's header as well as the
// launcher. (The widget is put on a Steward page here, so that the test can
// reach into its frame; on a shop's page it is the same code.)
func TestWidgetCountsUnseenReplies(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		c.Security.FrameAncestors = []string{"'self'"}
	})
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)

	p.navigate(run.URL + "/status?lang=zh-CN")
	eval[bool](p, `(() => {
		const s = document.createElement('script');
		s.src = '/widget.js';
		s.dataset.lang = 'zh-CN';
		s.dataset.title = '管家<b>客服</b>';
		document.body.append(s);
		return true;
	})()`)
	p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	eval[bool](p, `(window.Steward.open(), true)`)
	const root = `document.querySelector('#steward-widget-root').shadowRoot`
	const chat = root + `.querySelector('iframe').contentWindow`
	p.waitFor(`(() => { try { return ` + chat + `.document.body.dataset.ready === "1"; } catch { return false; } })()`)
	eval[bool](p, `(() => {
		const d = `+chat+`.document, input = d.querySelector('#composer-input');
		input.value = '转人工';
		input.dispatchEvent(new Event('input', {bubbles: true}));
		d.querySelector('#composer-send').click();
		return true;
	})()`)
	p.waitFor(chat + `.document.querySelector('#state-banner').dataset.state === "queued"`)
	var stored struct{ ID string }
	if err := json.Unmarshal([]byte(eval[string](p, chat+`.localStorage.getItem('steward.conversation')`)), &stored); err != nil || stored.ID == "" {
		t.Fatalf("the widget's conversation: %v", err)
	}
	const badge = root + `.querySelector('.steward-badge')`
	if eval[string](p, badge+`.style.display`) != "none" {
		t.Fatal("the launcher shows a count before anything was missed")
	}

	// The customer closes the panel; the agent joins and replies.
	eval[bool](p, `(window.Steward.close(), true)`)
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/claim", nil, nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+stored.ID+"/messages", map[string]string{"text": "您好，我来帮您看看"}, nil)
	p.waitFor(badge + `.style.display === "block" && ` + badge + `.innerText === "2"`)
	if title := eval[string](p, chat+`.document.title`); title != "(2) 管家<b>客服</b>" {
		t.Errorf("the chat's title is %q, want the count before it", title)
	}
	if label := eval[string](p, root+`.querySelector('.steward-launcher').getAttribute('aria-label')`); !strings.Contains(label, "2 条新消息") {
		t.Errorf("the launcher is labelled %q, want the count said", label)
	}

	// Opening the panel clears it.
	eval[bool](p, `(window.Steward.open(), true)`)
	p.waitFor(badge + `.style.display === "none" && ` + chat + `.document.title === "管家<b>客服</b>"`)
	// The site's data-title names the panel too, as text.
	if got := eval[string](p, chat+`.document.querySelector('#title').innerText`); got != "管家<b>客服</b>" {
		t.Errorf("the panel's header reads %q, want the widget's data-title as text", got)
	}
}

// The chat page's stream resumes after the newest message it has with
// none missing before it. While the socket is down an agent replies (seq
// n) and the customer sends over REST, whose answer brings seq n+1: the
// page used to resume after n+1, and the agent's reply never showed
// until a reload.
func TestChatStreamResumesWithoutAGap(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued"`)
	stored := p.storedConversation()
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/claim", nil, nil)
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "assigned"`)
	p.waitFor(`window.__ws.length > 0 && window.__ws.at(-1).readyState === 1`)

	eval[bool](p, `(window.__wsBlock = true, window.__ws.at(-1).close(), true)`)
	p.waitFor(`window.__ws.at(-1).readyState === 3`)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+stored.ID+"/messages",
		map[string]string{"text": "replied while your line was down"}, nil)
	p.send("are you there?")
	p.waitFor(`[...document.querySelectorAll('#messages .msg[data-role="customer"]')].some((m) => !m.dataset.pending && m.innerText.includes('are you there?'))`)
	if eval[bool](p, `document.querySelector('#messages').innerText.includes('replied while your line was down')`) {
		t.Fatal("the agent's reply arrived with the socket down: the test does not test the resume")
	}
	eval[bool](p, `(window.__wsBlock = false, true)`)
	p.waitWithin(`document.querySelector('#messages').innerText.includes('replied while your line was down')`, 40*time.Second)
	// In order: the agent's reply before the customer's question.
	if !eval[bool](p, `(() => {
		const all = [...document.querySelectorAll('#messages .msg')].map((m) => m.innerText);
		return all.findIndex((s) => s.includes('replied while your line was down')) < all.findIndex((s) => s.includes('are you there?'));
	})()`) {
		t.Error("the agent's reply is shown after the customer's later message")
	}
}

// recordSockets makes every WebSocket the page's scripts open from now on
// reachable as window.__ws (the newest last), and refuses new ones while
// window.__wsBlock is true, as a dead network would: a test closes a
// socket and says when the network is back.
func recordSockets(p page) {
	p.t.Helper()
	p.navigate("about:blank")
	if _, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
		const Native = window.WebSocket;
		window.__ws = [];
		window.__wsBlock = false;
		function Recorded(url, protocols) {
			if (window.__wsBlock) throw new Error('the network is down (test)');
			const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
			window.__ws.push(ws);
			return ws;
		}
		Recorded.prototype = Native.prototype;
		for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Recorded[k] = Native[k];
		window.WebSocket = Recorded;
	})()`}); err != nil {
		p.t.Fatal(err)
	}
}

// loseNextAnswer takes the page's stream down (it stays down while
// window.__wsBlock is true) and makes the answer to its next POST of a
// message fail after the server has stored the message, as a network that
// drops an answer on the way does; window.__lost counts it.
func loseNextAnswer(p page) {
	p.t.Helper()
	eval[bool](p, `(window.__wsBlock = true, window.__ws.forEach((w) => w.close()), true)`)
	p.waitFor(`window.__ws.every((w) => w.readyState === 3)`)
	eval[bool](p, `(() => {
		const native = window.fetch;
		window.__lost = 0;
		window.fetch = async (url, opts) => {
			const res = await native(url, opts);
			if (!window.__lost && opts && opts.method === 'POST' && String(url).endsWith('/messages')) {
				window.__lost++;
				throw new TypeError('Failed to fetch (the answer was lost)');
			}
			return res;
		};
		return true;
	})()`)
}

// The answer to a message is lost on the way after the server stored it:
// the customer's retry is answered with the stored turn, and the message
// is in the transcript once (it used to be stored twice, with two answers).
func TestChatRetryAfterALostAnswerIsStoredOnce(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	// The stream is down (else it could bring the stored message before the
	// lost answer fails, and there would be nothing to retry); the next
	// POST of a message reaches the server, but its answer never reaches
	// the page.
	loseNextAnswer(p)
	p.send("how much is shipping?")
	p.waitFor(`window.__lost === 1 && !!document.querySelector('#messages .msg.is-failed .msg-retry:not([hidden])')`)
	p.click(`#messages .msg.is-failed .msg-retry`)
	p.waitFor(`!document.querySelector('#messages .msg[data-pending]') && document.querySelectorAll('#messages .msg[data-role="bot"]').length >= 2`)
	stored := p.storedConversation()
	c := &testutil.Client{T: t, Base: run.URL}
	got := c.Get(stored)
	customers := 0
	for _, m := range got.Messages {
		if m.Role == "customer" {
			customers++
		}
	}
	if customers != 1 {
		t.Fatalf("the transcript holds %d customer messages, want the one sent (and retried) once", customers)
	}
	if n := eval[int](p, `[...document.querySelectorAll('#messages .msg[data-role="customer"]')].length`); n != 1 {
		t.Errorf("the page shows %d customer messages, want 1", n)
	}
}

// The answer to a message is lost after the server stored it, and the
// stream, back, brings the stored message: the bubble marked "not sent"
// goes, rather than inviting a retry of what was sent.
func TestChatStoredMessageClearsItsNotSentBubble(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	recordSockets(p)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	loseNextAnswer(p)
	p.send("how much is shipping?")
	p.waitFor(`window.__lost === 1 && !!document.querySelector('#messages .msg.is-failed')`)
	eval[bool](p, `(window.__wsBlock = false, true)`)
	p.waitWithin(`!document.querySelector('#messages .msg.is-failed') &&
		document.querySelectorAll('#messages .msg[data-role="customer"]').length === 1 &&
		document.querySelectorAll('#messages .msg[data-role="bot"]').length >= 2`, 30*time.Second)
}

// A conversation closed without asking for a rating (a supervisor closing
// one nobody served, which the console says is "not asked for a rating")
// shows no rating card: the page showed one for every closed conversation.
func TestChatAsksForARatingOnlyWhenAsked(t *testing.T) {
	p := page{t, browser(t)}
	run := testutil.Start(t, nil)
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	stored := p.storedConversation()
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/close", map[string]any{"ask_rating": false}, nil)
	p.waitFor(`document.querySelector('#composer-input').disabled`)
	time.Sleep(300 * time.Millisecond) // the cards are placed as the closing message lands
	if eval[bool](p, `!document.querySelector('#rating-card').hidden`) {
		t.Fatal("a conversation closed without a rating request shows the rating card")
	}
	// After a reload too.
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1" && document.querySelector('#composer-input').disabled`)
	if eval[bool](p, `!document.querySelector('#rating-card').hidden`) {
		t.Fatal("after a reload, the rating card is shown for a close that asked for none")
	}
}

// After a supervisor hands the conversation to another agent, the banner
// names the new agent at once: a transfer changes no state, so the page
// kept naming the first agent until the new one wrote.
func TestChatBannerFollowsATransfer(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	first := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	second := testutil.Login(t, run.URL, run.Demo[2].Email, run.Demo[2].Password)
	for _, a := range []*testutil.Staff{first, second} {
		a.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	}
	p := page{t, browser(t)}
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human please")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued"`)
	stored := p.storedConversation()
	first.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/claim", nil, nil)
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "assigned" && document.querySelector('#state-banner').innerText.includes("Li Na")`)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/assign", map[string]string{"agent_id": second.ID}, nil)
	p.waitFor(`document.querySelector('#state-banner').innerText.includes("Tom Chen")`)
	// On to an agent with no name: the banner no longer names the one before (nor the new one's email).
	var nameless struct{ User struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]string{"email": "third@corp.example", "role": "agent",
		"password": "Nameless-agent-1"}, &nameless)
	third := testutil.Login(t, run.URL, "third@corp.example", "Nameless-agent-1")
	third.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+stored.ID+"/assign", map[string]string{"agent_id": nameless.User.ID}, nil)
	p.waitFor(`document.querySelector('#messages').innerText.includes("another agent")`)
	p.waitFor(`!document.querySelector('#state-banner').innerText.includes("Tom Chen")`)
	if got := eval[string](p, `document.body.innerText`); strings.Contains(got, "third@") {
		t.Errorf("the chat names the nameless agent by email: %q", got)
	}
}

// A proxy in front of Steward that answers with its own error page (an
// HTML 502) gets the page's sentence, not "http_502" or "Bad Gateway".
func TestChatSaysWhatAProxyErrorMeans(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human")
	p.waitFor(`!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`)
	eval[bool](p, `(() => {
		const real = window.fetch;
		window.fetch = (url, opts) => String(url).endsWith('/offline-message')
			? Promise.resolve(new Response('<html><body>502 Bad Gateway</body></html>', {status: 502, statusText: 'Bad Gateway', headers: {'Content-Type': 'text/html'}}))
			: real(url, opts);
		document.querySelector('#offline-contact').value = 'me@example.com';
		document.querySelector('#offline-message').value = 'My parcel has not arrived.';
		document.querySelector('#offline-submit').click();
		return true;
	})()`)
	p.waitFor(`!document.querySelector('#offline-error').hidden`)
	if got := eval[string](p, `document.querySelector('#offline-error').innerText`); !strings.Contains(got, "briefly unavailable") {
		t.Fatalf("a proxy's 502 reads %q", got)
	}
}

// Under a level-1 posture that keeps the bot from a kind of question
// without handing it to people, the bot's notice says to leave contact
// details: the page offers the form there (it offered it only for the
// offline reply, so customers typed their phone number into the chat).
func TestChatOffersTheFormWithAnIncidentNotice(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 1, "all": true, "human": false, "reason": "answers under review"}, nil)
	p := page{t, browser(t)}
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("how much is shipping?")
	p.waitFor(`!!document.querySelector('#messages li[data-outcome="notice"]')`)
	p.waitFor(`!document.querySelector('#offline-card').hidden && !document.querySelector('#offline-form').hidden`)
	eval[bool](p, `(() => {
		document.querySelector('#offline-contact').value = 'me@example.com';
		document.querySelector('#offline-message').value = 'What does shipping cost to Lyon?';
		document.querySelector('#offline-submit').click();
		return true;
	})()`)
	p.waitFor(`document.querySelectorAll('#messages li[data-outcome="ticket"]').length === 1`)
}

// Cancelling the wrong-answer form gives the focus back to its button: the
// focused Cancel was hidden, and keyboard users landed on the page itself.
func TestChatFlagCancelKeepsTheFocus(t *testing.T) {
	p := page{t, browser(t)}
	base := testutil.StartApp(t, nil)
	p.navigate(base + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("how much is shipping?")
	p.waitFor(`!!document.querySelector('#messages .msg[data-role="bot"] .flag-btn')`)
	p.click(`#messages .msg[data-role="bot"] .flag-btn`)
	p.waitFor(`document.activeElement && document.activeElement.classList.contains('feedback-reason')`)
	p.click(`#messages .msg[data-role="bot"] .feedback-cancel`)
	p.waitFor(`document.activeElement && document.activeElement.classList.contains('flag-btn')`)
}

// storedConversation is the conversation the chat page keeps in its
// storage (its id and token), failing the test if there is none.
func (p page) storedConversation() testutil.Conversation {
	p.t.Helper()
	var c testutil.Conversation
	if err := json.Unmarshal([]byte(eval[string](p, `localStorage.getItem('steward.conversation')`)), &c); err != nil || c.ID == "" {
		p.t.Fatalf("the page's stored conversation: %v", err)
	}
	return c
}

// An answer the language model wrote is labelled as AI-generated under its
// bubble, in the page's language (also after switching it); the entries'
// own answers are not.
func TestChatLabelsGeneratedAnswers(t *testing.T) {
	fake := llmtest.New()
	defer fake.Close()
	fake.Reply(func(llmtest.Request) (int, string) {
		return http.StatusOK, "Your refund goes back to the card you paid with."
	})
	run := testutil.Start(t, func(c *config.Config) { c.LLM = config.LLM{BaseURL: fake.URL(), Model: "steward-test"} })
	p := page{t, browser(t)}
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("how much does shipping cost")
	p.waitFor(`document.querySelectorAll('#messages .msg--bot[data-outcome=answer]').length === 1`)
	p.send("the jacket I sent back weeks ago, where is my money")
	p.waitFor(`document.querySelectorAll('#messages .msg--bot[data-outcome=answer]').length === 2`)
	labels := eval[[]string](p, `[...document.querySelectorAll('#messages .msg--bot[data-outcome=answer]')]
		.map((li) => (li.querySelector('.msg-generated') || {}).textContent || '')`)
	if len(labels) != 2 || labels[0] != "" || !strings.Contains(labels[1], "AI-generated") {
		t.Fatalf("labels under the two answers: %q", labels)
	}
	eval[bool](p, `(document.querySelector('#lang-switch').click(), true)`)
	p.waitFor(`document.querySelector('#messages .msg-generated').textContent.includes('AI 根据帮助中心内容生成')`)
}

// A customer left in the queue when the last agent signs off near closing
// time is told the desk is closed and the wait in hours, in both languages,
// not "about 5 min" all night.
func TestChatSaysTheDeskIsClosedForAnAfterHoursWait(t *testing.T) {
	run, agent := testutil.StartClosingSoon(t)
	c := &testutil.Client{T: t, Base: run.URL}
	busy := c.Start("en")
	c.Say(busy, "human please") // the agent's one chat
	p := page{t, browser(t)}
	p.navigate(run.URL + "/chat?lang=en")
	p.waitFor(`document.body.dataset.ready === "1"`)
	p.send("human please")
	p.waitFor(`document.querySelector('#state-banner').dataset.state === "queued" && /about \d+ min/.test(document.querySelector('#queue-wait').textContent)`)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "offline"}, nil)
	p.waitFor(`/the desk is closed: about 2[0-3] h/.test(document.querySelector('#queue-wait').textContent)`)
	eval[bool](p, `(document.querySelector('#lang-switch').click(), true)`)
	p.waitFor(`/客服已下班，预计约 2[0-3] 小时后/.test(document.querySelector('#queue-wait').textContent)`)
}
