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
