package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

const identitySecret = "the-shop-and-steward-share-this-32+-byte-secret"

type created struct {
	ID       string `json:"id"`
	Token    string `json:"token"`
	Customer struct {
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
		VIP        bool   `json:"vip"`
	} `json:"customer"`
	Identity      string `json:"identity"`
	IdentityError string `json:"identity_error"`
	Source        string `json:"source"`
	SourceError   string `json:"source_error"`
}

func create(t *testing.T, cl *testutil.Client, body map[string]any) created {
	t.Helper()
	return createAs(t, cl, "", body)
}

// createAs starts a conversation with bearer (a staff token or API key;
// "" for none) on the request.
func createAs(t *testing.T, cl *testutil.Client, bearer string, body map[string]any) created {
	t.Helper()
	b, _ := json.Marshal(body)
	status, out := cl.Do("POST", "/api/v1/conversations", bearer, b)
	if status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", b, status, out)
	}
	var c created
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(identitySecret)) {
		t.Fatalf("the answer holds the secret: %s", out)
	}
	return c
}

func identity(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// With an identity secret, a browser can no longer call itself VIP (and
// jump the queue): only a token the shop's server signed names the
// customer; a missing or bad token starts an anonymous conversation that
// still works, and says why. Without a secret the fields are believed, as
// the API always did.
func TestCustomerIdentity(t *testing.T) {
	claimed := map[string]any{"external_id": "u-1", "name": "Boss", "vip": true}
	t.Run("signed", func(t *testing.T) {
		var log bytes.Buffer
		run := testutil.StartLogging(t, func(c *config.Config) { c.Security.IdentitySecret = identitySecret }, &log)
		cl := &testutil.Client{T: t, Base: run.URL}
		exp := time.Now().Add(time.Hour).Unix()

		if c := create(t, cl, map[string]any{"locale": "en", "customer": claimed}); c.Identity != "anonymous" || c.Customer.VIP ||
			c.Customer.ExternalID != "" || c.Customer.Name != "" {
			t.Errorf("unsigned VIP claim: %+v, want an anonymous customer", c)
		}
		good := identity(t, identitySecret, jwt.MapClaims{"sub": "shop-42", "name": "王芳", "vip": true, "exp": exp})
		c := create(t, cl, map[string]any{"locale": "zh-CN", "customer": map[string]any{"vip": false, "name": "ignored"}, "identity": good})
		if c.Identity != "verified" || !c.Customer.VIP || c.Customer.ExternalID != "shop-42" || c.Customer.Name != "王芳" {
			t.Errorf("signed identity: %+v, want the token's customer", c)
		}
		forged := identity(t, "an attacker's guess at the secret, 32 bytes+", jwt.MapClaims{"sub": "shop-42", "vip": true, "exp": exp})
		if c := create(t, cl, map[string]any{"locale": "en", "customer": claimed, "identity": forged}); c.Identity != "rejected" ||
			c.Customer.VIP || !strings.Contains(c.IdentityError, "signature") {
			t.Errorf("forged identity: %+v, want rejected and anonymous", c)
		}
		expired := identity(t, identitySecret, jwt.MapClaims{"sub": "shop-42", "vip": true, "exp": time.Now().Add(-time.Hour).Unix()})
		rej := create(t, cl, map[string]any{"locale": "en", "identity": expired})
		if rej.Identity != "rejected" || rej.Customer.VIP || !strings.Contains(rej.IdentityError, "expired") {
			t.Errorf("expired identity: %+v", rej)
		}
		// A token whose customer the engine would refuse (too long an id or name) is refused, not the conversation.
		for claim, want := range map[string]string{"sub": "customer.external_id exceeds 200", "name": "customer.name exceeds 100"} {
			claims := jwt.MapClaims{"sub": "shop-42", "vip": true, "exp": exp}
			claims[claim] = strings.Repeat("名", 201)
			if c := create(t, cl, map[string]any{"locale": "en", "identity": identity(t, identitySecret, claims)}); c.Identity != "rejected" ||
				c.Customer.VIP || !strings.Contains(c.IdentityError, want) {
				t.Errorf("a token with too long a %s: %+v, want rejected saying %q", claim, c, want)
			}
		}
		// A staff credential as the bearer (a partner gateway's API key)
		// vouches for the fields as sent; a wrong one does not.
		admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
		var key struct{ ID, Key string }
		admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "partner-gateway"}, &key)
		if c := createAs(t, cl, key.Key, map[string]any{"locale": "en", "customer": claimed}); c.Identity != "verified" ||
			!c.Customer.VIP || c.Customer.ExternalID != "u-1" || c.Customer.Name != "Boss" {
			t.Errorf("the fields with a staff API key: %+v, want them believed and verified", c)
		}
		if c := createAs(t, cl, "not-a-key", map[string]any{"locale": "en", "customer": claimed}); c.Identity != "anonymous" || c.Customer.VIP {
			t.Errorf("the fields with a wrong key: %+v, want an anonymous customer", c)
		}
		// Only a credential of someone who could sign a token (an admin)
		// vouches: an agent's or an auditor's login, or a key of theirs,
		// names no customer and no source.
		for _, role := range []string{"agent", "auditor", "supervisor"} {
			u := admin.AddUser(role+"-vouch@example.com", role, nil)
			var k struct{ ID, Key string }
			admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": role + "-key", "user_id": u.ID}, &k)
			for what, bearer := range map[string]string{"login": u.Token, "API key": k.Key} {
				c := createAs(t, cl, bearer, map[string]any{"locale": "en", "customer": claimed, "source": "partner"})
				if c.Identity != "anonymous" || c.Customer.VIP || c.Customer.ExternalID != "" || c.Source != "web" {
					t.Errorf("the fields with a login or key of role %s (%s): %+v, want an anonymous customer of source web", role, what, c)
				}
			}
		}
		if c := createAs(t, cl, key.Key, map[string]any{"locale": "en", "customer": claimed, "identity": expired}); c.Identity != "rejected" ||
			c.Customer.VIP {
			t.Errorf("a staff key with a bad token: %+v, want the token judged (rejected)", c)
		}
		// The anonymous conversation works.
		if turn := cl.Say(testutil.Conversation{ID: rej.ID, Token: rej.Token}, "how do I return an item"); len(turn.Messages) == 0 {
			t.Errorf("the anonymous conversation got no answer: %+v", turn)
		}
		// The refusal is logged with its reason, never with the token.
		if !strings.Contains(log.String(), "identity token was refused") || strings.Contains(log.String(), forged) || strings.Contains(log.String(), expired) {
			t.Errorf("the log of refused identities: want the reason without the token")
		}
		// The desk sees the verified VIP as VIP.
		var got struct {
			Conversation struct {
				Customer struct{ VIP bool } `json:"customer"`
			} `json:"conversation"`
		}
		admin.Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+c.ID, nil, &got)
		if !got.Conversation.Customer.VIP {
			t.Errorf("the desk does not see the verified VIP")
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		run := testutil.Start(t, nil)
		cl := &testutil.Client{T: t, Base: run.URL}
		if c := create(t, cl, map[string]any{"locale": "en", "customer": claimed}); c.Identity != "unverified" || !c.Customer.VIP || c.Customer.ExternalID != "u-1" {
			t.Errorf("without a secret: %+v, want the fields believed and marked unverified", c)
		}
	})
}

// A source is what a flood is throttled by, so with an identity secret a
// partner's source is taken only from whoever can prove the right to it:
// the shop's signed identity token naming it, or a staff API key (the
// partner gateway's). A browser that names the partner's source counts as
// "web", and so cannot get the partner throttled by flooding under its
// name.
// Without a secret the field is believed, as the API always did.
func TestPartnerSourceNeedsProof(t *testing.T) {
	t.Run("signed", func(t *testing.T) {
		run := testutil.Start(t, func(c *config.Config) { c.Security.IdentitySecret = identitySecret })
		cl := &testutil.Client{T: t, Base: run.URL}
		admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
		var key struct{ ID, Key string }
		admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "partner-gateway"}, &key)
		exp := time.Now().Add(time.Hour).Unix()

		spoofed := create(t, cl, map[string]any{"locale": "en", "source": "partner"})
		if spoofed.Source != "web" || !strings.Contains(spoofed.SourceError, `"partner"`) {
			t.Errorf("a browser naming a partner's source: source %q, source_error %q; want web and why", spoofed.Source, spoofed.SourceError)
		}
		if c := createAs(t, cl, "not-a-key", map[string]any{"locale": "en", "source": "partner"}); c.Source != "web" {
			t.Errorf("a wrong key naming a partner's source: source %q, want web", c.Source)
		}
		if c := createAs(t, cl, key.Key, map[string]any{"locale": "en", "source": "partner"}); c.Source != "partner" || c.SourceError != "" {
			t.Errorf("the partner's API key: source %q (%q), want partner", c.Source, c.SourceError)
		}
		signed := identity(t, identitySecret, jwt.MapClaims{"sub": "wx-7", "source": "partner", "exp": exp})
		if c := create(t, cl, map[string]any{"locale": "zh-CN", "source": "other", "identity": signed}); c.Source != "partner" ||
			c.Identity != "verified" {
			t.Errorf("a token naming the source: source %q, identity %q; want the token's source, verified", c.Source, c.Identity)
		}
		bad := identity(t, identitySecret, jwt.MapClaims{"sub": "wx-7", "source": "Partner!", "exp": exp})
		if c := create(t, cl, map[string]any{"locale": "en", "identity": bad}); c.Identity != "rejected" || c.Source != "web" ||
			!strings.Contains(c.IdentityError, "source") {
			t.Errorf("a token with an invalid source: %+v, want rejected and web", c)
		}
		if c := create(t, cl, map[string]any{"locale": "en"}); c.Source != "web" || c.SourceError != "" {
			t.Errorf("no source: %q (%q), want web", c.Source, c.SourceError)
		}

		// The partner's source throttled: the partner's own traffic is held
		// to the throttle, a browser naming it is not (it is "web").
		admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 0, "throttle": map[string]float64{"partner": 1},
			"reason": "the partner's gateway is looping"}, nil)
		body, _ := json.Marshal(map[string]any{"locale": "en", "source": "partner"})
		limited := 0
		for range 5 {
			if status, _ := cl.Do("POST", "/api/v1/conversations", key.Key, body); status == http.StatusTooManyRequests {
				limited++
			}
			if status, out := cl.Do("POST", "/api/v1/conversations", "", body); status != http.StatusCreated {
				t.Fatalf("a browser naming the throttled partner: %d %s, want 201 as web", status, out)
			}
		}
		if limited < 3 {
			t.Errorf("the partner's own conversations: %d of 5 throttled, want at least 3", limited)
		}
		if turn := cl.Say(testutil.Conversation{ID: spoofed.ID, Token: spoofed.Token}, "how do I return an item"); len(turn.Messages) == 0 {
			t.Errorf("the web conversation got no answer under the partner's throttle: %+v", turn)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		run := testutil.Start(t, nil)
		cl := &testutil.Client{T: t, Base: run.URL}
		if c := create(t, cl, map[string]any{"locale": "en", "source": "partner"}); c.Source != "partner" || c.SourceError != "" {
			t.Errorf("without a secret: source %q (%q), want partner, believed", c.Source, c.SourceError)
		}
	})
}
