package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

type auditEntry struct {
	Seq       int64          `json:"seq"`
	Actor     string         `json:"actor"`
	ActorName string         `json:"actor_name"`
	Action    string         `json:"action"`
	Object    string         `json:"object"`
	Detail    map[string]any `json:"detail"`
}

// trail returns the audit entries with the given action prefix, newest first.
func trail(s *testutil.Staff, action string) []auditEntry {
	s.T.Helper()
	var out struct{ Entries []auditEntry }
	s.Must(http.StatusOK, "GET", "/api/v1/audit?limit=1000&action="+action, nil, &out)
	return out.Entries
}

// hasEntry reports whether entries hold action on object by actor whose
// detail has every key and value of want.
func hasEntry(entries []auditEntry, actor, action, object string, want map[string]any) bool {
	for _, e := range entries {
		if e.Action != action || e.Object != object || (actor != "" && e.Actor != actor) {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && fmt.Sprint(e.Detail[k]) == fmt.Sprint(v)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestAuditCoverage: sign-ins (both ways), sign-outs, accounts, roles, API
// keys, knowledge reviews and releases, the posture and the configuration
// all land in the audit trail, no password ever does, and the chain checks
// out through the API.
func TestAuditCoverage(t *testing.T) {
	run, admin, _, super := startKB(t)
	const pw = "correct horse battery"
	anon := &testutil.Staff{T: t, Base: run.URL}

	// The first start recorded its configuration.
	cfg := trail(admin, "config.")
	if len(cfg) != 1 || cfg[0].Action != "config.changed" || cfg[0].Actor != "system" || len(fmt.Sprint(cfg[0].Detail["sha256"])) != 64 ||
		cfg[0].Detail["first"] != true {
		t.Fatalf("config entries %+v", cfg)
	}

	// Accounts: create, role, disable, enable.
	var u struct{ User struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"email": "audited@example.com", "role": "agent",
		"password": pw, "name": "Audited"}, &u)
	id := u.User.ID
	admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+id+"/role", map[string]string{"role": "supervisor"}, nil)
	admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+id+"/disabled", map[string]bool{"disabled": true}, nil)
	admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+id+"/disabled", map[string]bool{"disabled": false}, nil)

	// Sign-ins: one right, one wrong password, one unknown address, one
	// password typed into the email field; and a sign-out.
	who := testutil.Login(t, run.URL, "audited@example.com", pw)
	anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"email": "audited@example.com", "password": "wrong password!"}, nil)
	anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "wrong password!"}, nil)
	anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"email": "Sup3r-Secret-Pa55", "password": "x"}, nil)
	who.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil, nil)

	// API keys.
	var key struct{ ID string }
	admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "crm"}, &key)
	admin.Must(http.StatusNoContent, "DELETE", "/api/v1/auth/api-keys/"+key.ID, nil, nil)

	// Knowledge: a draft by the admin, approved by the supervisor, published and rolled back.
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/entries", map[string]any{"entry": giftCard(), "submit": true}, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/approve", nil, nil)
	var rel struct{ ID int64 }
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "gift cards"}, &rel)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]string{"reason": "audit test"}, nil)

	// The posture by hand, and back.
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 2, "reason": "audit test"}, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/posture/automatic", nil, nil)

	all := trail(admin, "")
	user := "user:" + id
	for _, want := range []struct {
		actor, action, object string
		detail                map[string]any
	}{
		{admin.ID, "user.create", user, map[string]any{"email": "audited@example.com", "role": "agent"}},
		{admin.ID, "user.role", user, map[string]any{"from": "agent", "to": "supervisor"}},
		{admin.ID, "user.disable", user, nil},
		{admin.ID, "user.enable", user, nil},
		{id, "auth.login", user, nil},
		{"anonymous", "auth.login.failed", user, map[string]any{"reason": "wrong_password", "email": "audited@example.com"}},
		{"anonymous", "auth.login.failed", "user:unknown", map[string]any{"reason": "unknown_email", "email": "ghost@example.com"}},
		{"anonymous", "auth.login.failed", "user:unknown", map[string]any{"email": "(not an email address)"}},
		{id, "auth.logout", user, nil},
		{admin.ID, "apikey.create", "apikey:" + key.ID, map[string]any{"name": "crm", "user_id": admin.ID}},
		{admin.ID, "apikey.delete", "apikey:" + key.ID, nil},
		{admin.ID, "kb.entry.create", "entry:gift-card-balance", nil},
		{admin.ID, "kb.entry.submit", "entry:gift-card-balance", nil},
		{super.ID, "kb.entry.approve", "entry:gift-card-balance", nil},
		{super.ID, "kb.release.publish", fmt.Sprintf("release:%d", rel.ID), nil},
		{super.ID, "kb.release.rollback", "", nil},
		{admin.ID, "incident.posture", "posture", map[string]any{"reason": "audit test"}},
		{admin.ID, "auth.login", "user:" + admin.ID, nil},
	} {
		found := false
		for _, e := range all {
			if e.Action == want.action && (want.object == "" || e.Object == want.object) {
				found = found || hasEntry([]auditEntry{e}, want.actor, want.action, e.Object, want.detail)
			}
		}
		if !found {
			t.Errorf("no %s entry on %q by %s with %v", want.action, want.object, want.actor, want.detail)
		}
	}
	b, _ := json.Marshal(all)
	for _, secret := range []string{pw, "wrong password!", "Sup3r-Secret-Pa55", run.Demo[0].Password} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the audit trail holds a password: %q", secret)
		}
	}

	// The chain checks out, for those who may read it.
	var rep struct {
		OK      bool  `json:"ok"`
		Entries int64 `json:"entries"`
		Head    struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"head"`
	}
	auditor := admin.AddUser("reader@example.com", "auditor", nil)
	auditor.Must(http.StatusOK, "GET", "/api/v1/audit/verify", nil, &rep)
	if !rep.OK || rep.Entries < int64(len(all)) || rep.Head.Seq != rep.Entries || len(rep.Head.Hash) != 64 {
		t.Fatalf("verify %+v", rep)
	}
	auditor.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/audit/verify?head=%d:%s", rep.Head.Seq, rep.Head.Hash), nil, &rep)
	if !rep.OK {
		t.Fatalf("verify against its own head: %+v", rep)
	}
	auditor.Must(http.StatusBadRequest, "GET", "/api/v1/audit/verify?head=1:xyz", nil, nil)
	// 64 characters that are not hex: a typo, not a rewritten chain.
	auditor.Must(http.StatusBadRequest, "GET", "/api/v1/audit/verify?head=1:"+strings.Repeat("z", 64), nil, nil)
	super.Must(http.StatusForbidden, "GET", "/api/v1/audit/verify", nil, nil)
	anon.Must(http.StatusUnauthorized, "GET", "/api/v1/audit/verify", nil, nil)
}

// TestRoleChanges: PUT /users/{id}/role needs users.manage, takes effect at
// once, and never leaves Steward without an enabled admin.
func TestRoleChanges(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := admin.AddUser("climber@example.com", "agent", nil)
	super := admin.AddUser("boss@example.com", "supervisor", nil)
	role := func(r string) map[string]string { return map[string]string{"role": r} }
	path := func(id string) string { return "/api/v1/users/" + id + "/role" }

	steps := []struct {
		name string
		who  *testutil.Staff
		id   string
		body any
		want int
	}{
		{"an agent may not promote themselves", agent, agent.ID, role("admin"), 403},
		{"a supervisor may not change roles", super, agent.ID, role("supervisor"), 403},
		{"anonymous", &testutil.Staff{Base: run.URL}, agent.ID, role("admin"), 401},
		{"an unknown role", admin, agent.ID, role("root"), 400},
		{"no role", admin, agent.ID, map[string]string{}, 400},
		{"an unknown field", admin, agent.ID, map[string]any{"role": "agent", "force": true}, 400},
		{"an unknown user", admin, "unobody", role("agent"), 404},
		{"the only admin may not demote themselves", admin, admin.ID, role("supervisor"), 409},
		{"the admin makes the agent an auditor", admin, agent.ID, role("auditor"), 200},
		{"the same role again is no change", admin, agent.ID, role("auditor"), 200},
		{"the admin makes the supervisor an admin", admin, super.ID, role("admin"), 200},
		{"now the first admin may step down", admin, admin.ID, role("supervisor"), 200},
		{"and the other admin is the last one", super, super.ID, role("agent"), 409},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := *st.who
			s.T = t
			status, b := s.Do("PUT", path(st.id), st.body)
			assertRoleAnswer(t, status, b, st.want)
		})
	}
	// The role took effect on sessions already open: the new auditor reads
	// the audit trail and may no longer reply to customers.
	agent.Must(http.StatusOK, "GET", "/api/v1/audit", nil, nil)
	agent.Must(http.StatusForbidden, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	// Disabling the last enabled admin is refused too.
	admin.Must(http.StatusForbidden, "GET", "/api/v1/users", nil, nil) // a supervisor now
	super.Must(http.StatusConflict, "PUT", "/api/v1/users/"+super.ID+"/disabled", map[string]bool{"disabled": true}, nil)
	entries := trail(super, "user.role")
	if len(entries) != 3 || !hasEntry(entries, admin.ID, "user.role", "user:"+admin.ID, map[string]any{"from": "admin", "to": "supervisor"}) ||
		!hasEntry(entries, admin.ID, "user.role", "user:"+agent.ID, map[string]any{"from": "agent", "to": "auditor"}) {
		t.Fatalf("role entries %+v", entries)
	}
}

// TestSessionRotation: a login always gets new tokens, and ends whatever
// session the browser came with: a session token known before the login,
// planted or left over, never becomes (or stays) a signed-in session.
func TestSessionRotation(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) {})
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.AddUser("victim@example.com", "agent", nil)
	admin.AddUser("other@example.com", "agent", nil)
	login := func(email, cookie string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", run.URL+"/api/v1/auth/login",
			strings.NewReader(`{"email":"`+email+`","password":"correct horse battery"}`))
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "steward_session", Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "steward_session" {
				return resp, c.Value
			}
		}
		t.Fatalf("login %s: %d, no session cookie", email, resp.StatusCode)
		return nil, ""
	}
	me := func(cookie string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", run.URL+"/api/v1/auth/me", nil)
		req.AddCookie(&http.Cookie{Name: "steward_session", Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// A value planted before the login is not promoted.
	const planted = "fixated-session-token-chosen-by-an-attacker"
	_, got := login("victim@example.com", planted)
	if got == planted || me(planted) != 401 || me(got) != 200 {
		t.Fatalf("after a login with a planted cookie: new %q, planted answers %d", got, me(planted))
	}
	// Two logins of the same person get different tokens, and the second,
	// made with the first's cookie, ends the first.
	_, second := login("victim@example.com", got)
	if second == got || me(got) != 401 || me(second) != 200 {
		t.Fatalf("rotation: first %d, second %d", me(got), me(second))
	}
	// Someone else signing in on the same browser ends the previous session.
	_, third := login("other@example.com", second)
	if me(second) != 401 || me(third) != 200 {
		t.Fatalf("another login on the same browser: previous %d, new %d", me(second), me(third))
	}
	// Logins without a cookie (another device) leave other sessions alone.
	_, fourth := login("other@example.com", "")
	if me(third) != 200 || me(fourth) != 200 || third == fourth {
		t.Fatal("a login on another device ended this one")
	}
}

// TestLoginLockIsAudited: five wrong passwords lock the account (429 even
// for the right one, other accounts unaffected); the audit trail has the
// five failures, the fifth saying it locked the account, and nothing for
// the refused attempts after it.
func TestLoginLockIsAudited(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	var u struct{ User struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]string{"email": "target@example.com", "role": "agent",
		"password": "correct horse battery"}, &u)
	anon := &testutil.Staff{T: t, Base: run.URL}
	for range 5 {
		anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/login", map[string]string{"email": "target@example.com", "password": "guess guess guess"}, nil)
	}
	for range 3 {
		anon.Must(http.StatusTooManyRequests, "POST", "/api/v1/auth/login", map[string]string{"email": "target@example.com", "password": "correct horse battery"}, nil)
	}
	testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password) // another account signs in
	failed := trail(admin, "auth.login.failed")
	if len(failed) != 5 {
		t.Fatalf("%d failure entries, want 5: %+v", len(failed), failed)
	}
	for i, e := range failed { // newest first
		if e.Object != "user:"+u.User.ID || e.Detail["reason"] != "wrong_password" || (e.Detail["locked"] == true) != (i == 0) {
			t.Errorf("failure entry %d: %+v", i, e)
		}
	}
}

// What is done with an API key is audited as done with that key: an admin
// may make a key for another user's account, so the account alone does not
// say who acted. Signed in, the same user is named plainly.
func TestAuditNamesTheAPIKey(t *testing.T) {
	run, admin, _, super := startKB(t)
	var key struct{ ID, Key string }
	admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "ops-bot", "user_id": super.ID}, &key)
	bot := &testutil.Staff{T: t, Base: run.URL, Token: key.Key, ID: super.ID}
	bot.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 2, "reason": "by key"}, nil)
	super.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 3, "reason": "by hand"}, nil)

	var byKey, byHand *auditEntry
	for _, e := range trail(admin, "incident.posture") {
		switch e.Detail["reason"] {
		case "by key":
			byKey = &e
		case "by hand":
			byHand = &e
		}
	}
	if byKey == nil || byHand == nil {
		t.Fatalf("posture entries missing: by key %v, by hand %v", byKey, byHand)
	}
	if byKey.Actor != super.ID || !strings.Contains(byKey.ActorName, `API key "ops-bot"`) || !strings.Contains(byKey.ActorName, key.ID) {
		t.Errorf("the change made with the key is audited as %q / %q", byKey.Actor, byKey.ActorName)
	}
	if byHand.Actor != super.ID || strings.Contains(byHand.ActorName, "API key") {
		t.Errorf("the change made signed in is audited as %q / %q", byHand.Actor, byHand.ActorName)
	}
}
