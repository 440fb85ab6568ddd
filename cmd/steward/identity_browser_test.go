package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/llm/llmtest"
	"github.com/steward-cs/steward/internal/testutil"
)

// A shop that signs its customers' identities hands the token to the
// widget (data-identity); the chat starts the conversation with it, so the
// desk sees the customer's id, name and VIP flag as the shop vouched for
// them. The token never appears in a URL, and the conversation a browser
// keeps belongs to the customer it was started for: another customer
// signing in on the same browser gets a new one. A single-page shop tells
// the widget of a sign-in or sign-out later with Steward.identify.
func TestWidgetSendsTheShopsSignedIdentity(t *testing.T) {
	const secret = "the-shop-and-steward-share-this-32+-byte-secret"
	run := testutil.Start(t, func(c *config.Config) {
		c.Security.IdentitySecret = secret
		c.Security.FrameAncestors = []string{"'self'"}
	})
	sign := func(sub, name string, vip bool) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "name": name, "vip": vip,
			"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	type customer struct {
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
		VIP        bool   `json:"vip"`
	}
	p := page{t, browser(t)}
	const root = `document.querySelector('#steward-widget-root').shadowRoot`
	const chat = root + `.querySelector('iframe').contentWindow`
	// open loads the shop's page with the widget (and the identity, if any),
	// and returns the conversation the chat keeps and its customer.
	open := func(identity string) (string, customer) {
		t.Helper()
		p.navigate(run.URL + "/status?lang=zh-CN")
		eval[bool](p, fmt.Sprintf(`(() => {
			const s = document.createElement('script');
			s.src = '/widget.js';
			s.dataset.lang = 'zh-CN';
			if (%q) s.dataset.identity = %q;
			document.body.append(s);
			return true;
		})()`, identity, identity))
		p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
		eval[bool](p, `(window.Steward.open(), true)`)
		p.waitFor(`(() => { try { return ` + chat + `.document.body.dataset.ready === "1"; } catch { return false; } })()`)
		if src := eval[string](p, root+`.querySelector('iframe').src`); identity != "" && strings.Contains(src, identity[strings.LastIndex(identity, ".")+1:]) {
			t.Fatalf("the identity token is in the frame's URL: %s", src)
		}
		var stored struct{ ID string }
		if err := json.Unmarshal([]byte(eval[string](p, chat+`.localStorage.getItem('steward.conversation')`)), &stored); err != nil || stored.ID == "" {
			t.Fatalf("the widget's conversation: %v", err)
		}
		var got struct {
			Conversation struct {
				Customer customer `json:"customer"`
			} `json:"conversation"`
		}
		admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+stored.ID, nil, &got)
		return stored.ID, got.Conversation.Customer
	}

	first, c := open(sign("shop-7", "王芳", true))
	if c != (customer{ExternalID: "shop-7", Name: "王芳", VIP: true}) {
		t.Errorf("the signed-in customer's conversation has customer %+v", c)
	}
	again, _ := open(sign("shop-7", "王芳", true))
	if again != first {
		t.Errorf("the same customer on the next page got a new conversation (%s, was %s)", again, first)
	}
	other, c := open(sign("shop-8", "李雷", false))
	if other == first || c.ExternalID != "shop-8" {
		t.Errorf("another customer on the same browser: conversation %s (first %s), customer %+v", other, first, c)
	}
	anon, c := open("")
	if anon == other || c != (customer{}) {
		t.Errorf("after signing out: conversation %s (was %s), customer %+v; want a new anonymous one", anon, other, c)
	}

	// A single-page shop says who signed in (and out) without a reload: Steward.identify.
	stored := func() string {
		var v struct{ ID string }
		_ = json.Unmarshal([]byte(eval[string](p, chat+`.localStorage.getItem('steward.conversation') || '{}'`)), &v)
		return v.ID
	}
	eval[bool](p, fmt.Sprintf(`(window.Steward.identify(%q), true)`, sign("shop-9", "韩梅梅", true)))
	p.waitFor(fmt.Sprintf(`(() => { try { const v = JSON.parse(%s.localStorage.getItem('steward.conversation') || '{}'); return !!v.id && v.id !== %q && v.who === "shop-9"; } catch { return false; } })()`, chat, anon))
	signedIn := stored()
	var got struct {
		Conversation struct {
			Customer customer `json:"customer"`
		} `json:"conversation"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+signedIn, nil, &got)
	if got.Conversation.Customer != (customer{ExternalID: "shop-9", Name: "韩梅梅", VIP: true}) {
		t.Errorf("after Steward.identify the conversation's customer is %+v", got.Conversation.Customer)
	}
	eval[bool](p, `(window.Steward.identify(null), true)`)
	p.waitFor(fmt.Sprintf(`(() => { try { const v = JSON.parse(%s.localStorage.getItem('steward.conversation') || '{}'); return !!v.id && v.id !== %q && !v.who; } catch { return false; } })()`, chat, signedIn))
}

// A customer signs in on the shop while their message is still on its way
// (the model takes its time over it): the chat starts the signed-in
// customer's conversation at once, and the old message's answer, when it
// comes, stays in the old conversation. It landed in the new one's
// transcript on screen, another customer's.
func TestAnswerToAnEarlierConversationStaysInIt(t *testing.T) {
	const secret = "the-shop-and-steward-share-this-32+-byte-secret"
	fake := llmtest.New()
	defer fake.Close()
	release := make(chan struct{})
	fake.Reply(func(r llmtest.Request) (int, string) {
		select {
		case <-release:
		case <-r.Ctx.Done():
		}
		return http.StatusOK, "Your refund goes back to the card you paid with."
	})
	run := testutil.Start(t, func(c *config.Config) {
		c.Security.IdentitySecret = secret
		c.Security.FrameAncestors = []string{"'self'"}
		c.LLM = config.LLM{BaseURL: fake.URL(), Model: "steward-test", Timeout: 20 * time.Second}
	})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "shop-10", "name": "Li Lei",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	p := page{t, browser(t)}
	const chat = `document.querySelector('#steward-widget-root').shadowRoot.querySelector('iframe').contentWindow`
	p.navigate(run.URL + "/status?lang=en")
	eval[bool](p, `(() => { const s = document.createElement('script'); s.src = '/widget.js'; s.dataset.lang = 'en';
		document.body.append(s); return true; })()`)
	p.waitFor(`!!window.Steward && !!document.querySelector('#steward-widget-root')`)
	eval[bool](p, `(window.Steward.open(), true)`)
	p.waitFor(`(() => { try { return ` + chat + `.document.body.dataset.ready === "1"; } catch { return false; } })()`)
	var old testutil.Conversation
	if err := json.Unmarshal([]byte(eval[string](p, chat+`.localStorage.getItem('steward.conversation')`)), &old); err != nil || old.ID == "" {
		t.Fatalf("the widget's conversation: %v", err)
	}
	send := func(text string) {
		t.Helper()
		eval[bool](p, fmt.Sprintf(`(() => { const d = %s.document, input = d.querySelector('#composer-input');
			input.value = %q; input.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, chat, text))
		p.waitFor(chat + `.document.querySelector('#composer-send').disabled === false`)
		eval[bool](p, chat+`.document.querySelector('#composer-send').click() || true`)
	}
	send("the jacket I sent back weeks ago, where is my money")
	p.waitFor(chat + `.document.querySelector('#messages .msg.is-sending') !== null`)
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.Requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The customer signs in: a conversation of their own, while the model
	// still thinks about the old one's question.
	eval[bool](p, fmt.Sprintf(`(window.Steward.identify(%q), true)`, tok))
	p.waitFor(fmt.Sprintf(`(() => { try { const v = JSON.parse(%s.localStorage.getItem('steward.conversation') || '{}');
		return !!v.id && v.id !== %q && v.who === "shop-10" && %s.document.body.dataset.ready === "1"; } catch { return false; } })()`, chat, old.ID, chat))
	close(release)
	// The old turn is stored with its answer (and its HTTP answer sent)...
	c := &testutil.Client{T: t, Base: run.URL}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got := c.Get(old); len(got.Messages) > 0 && got.Messages[len(got.Messages)-1].Generated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old conversation's turn was not stored")
		}
	}
	// ...and the page had time to take it: the new conversation shows none of it.
	time.Sleep(time.Second)
	if shown := eval[string](p, chat+`.document.querySelector('#messages').innerText`); strings.Contains(shown, "jacket") || strings.Contains(shown, "Your refund") {
		t.Fatalf("the new conversation shows the old one's turn:\n%s", shown)
	}
	// The composer is the new conversation's: it sends, and the bot answers.
	send("how much does shipping cost")
	p.waitFor(chat + `.document.querySelectorAll('#messages .msg--bot[data-outcome=answer]').length === 1`)
}
