package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// kbEntry is the API's entry shape, as far as these tests read it.
type kbEntry struct {
	ID               string   `json:"id"`
	Category         string   `json:"category"`
	Title            string   `json:"title"`
	Tags             []string `json:"tags"`
	Essential        bool     `json:"essential"`
	Status           string   `json:"status"`
	Version          int      `json:"version"`
	ApprovedVersion  int      `json:"approved_version"`
	PublishedVersion int      `json:"published_version"`
	Locales          map[string]struct {
		Title     string   `json:"title,omitempty"`
		Questions []string `json:"questions"`
		Answer    string   `json:"answer"`
	} `json:"locales"`
}

type kbRelease struct {
	ID        int64          `json:"id"`
	CreatedAt string         `json:"created_at"`
	Author    string         `json:"author"`
	Entries   int            `json:"entries"`
	Versions  map[string]int `json:"versions"`
	Active    bool           `json:"active"`
	Override  *struct {
		By, Reason string
	} `json:"override"`
	Quality struct {
		Passed   bool    `json:"passed"`
		Accuracy float64 `json:"cv_accuracy"`
		HeldOut  int     `json:"cv_questions"`
	} `json:"quality"`
}

type gateRefusal struct {
	Error struct {
		Code, Message string
	} `json:"error"`
	Report struct {
		Passed bool `json:"passed"`
		Golden struct {
			Total, Passed int
			Failures      []struct {
				Question, Expected, Got string
			}
		} `json:"golden"`
		Problems []struct {
			Check, Entry, Detail, Message string
			MessageZH                     string `json:"message_zh"`
		} `json:"problems"`
	} `json:"report"`
}

// startKB runs Steward with a quick gate (two folds, few held-out
// questions: the tests run under the race detector) and signs in the
// demo admin, an agent and a new supervisor.
func startKB(t *testing.T) (run *testutil.Running, admin, agent, super *testutil.Staff) {
	t.Helper()
	run = testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		c.Knowledge.Gate.Folds, c.Knowledge.Gate.MaxHeldOut = 2, 150
		c.Knowledge.Gate.AllowedDomains = []string{"shop.example.com"}
	})
	admin = testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent = testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	super = admin.AddUser("lead@demo.steward", "supervisor", nil)
	return run, admin, agent, super
}

func giftCard() map[string]any {
	return map[string]any{"id": "gift-card-balance", "category": "payment", "title": "礼品卡余额",
		"tags": []string{"gift-card"}, "essential": false,
		"locales": map[string]any{
			"zh-CN": map[string]any{"questions": []string{"礼品卡余额怎么查", "购物卡还剩多少钱", "查一下礼品卡余额"},
				"answer": "在「我的 → 礼品卡」可以查看每张礼品卡的余额和有效期。"},
			"en": map[string]any{"questions": []string{"how do I check my gift card balance", "gift card balance",
				"how much is left on my gift card"},
				"answer": "Open Me → Gift cards to see the balance and expiry date of each gift card."},
		}}
}

func TestKnowledgeReviewPublishAndGate(t *testing.T) {
	run, admin, agent, super := startKB(t)
	c := &testutil.Client{T: t, Base: run.URL}

	// An agent proposes a new entry; it is a draft nobody answers from.
	var draft kbEntry
	agent.Must(http.StatusCreated, "POST", "/api/v1/kb/entries", giftCard(), &draft)
	if draft.Status != "draft" || draft.Version != 1 || draft.PublishedVersion != 0 {
		t.Fatalf("new entry %+v", draft)
	}
	agent.Must(http.StatusForbidden, "POST", "/api/v1/kb/entries/gift-card-balance/approve", nil, nil)
	agent.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/submit", nil, &draft)
	if draft.Status != "in_review" {
		t.Fatalf("submitted entry is %s", draft.Status)
	}
	// Reject needs a reason; the entry goes back to its author.
	super.Must(http.StatusBadRequest, "POST", "/api/v1/kb/entries/gift-card-balance/reject", map[string]string{}, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/reject",
		map[string]string{"reason": "add where to find it in the app"}, &draft)
	if draft.Status != "rejected" {
		t.Fatalf("rejected entry is %s", draft.Status)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/submit", nil, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/approve", nil, &draft)
	if draft.Status != "approved" || draft.ApprovedVersion != 1 {
		t.Fatalf("approved entry %+v", draft)
	}

	// Two-person rule: the author of a version cannot approve it.
	var fee kbEntry
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	fee.Tags = append(fee.Tags, "fees")
	admin.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", fee, &fee)
	admin.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/submit", nil, nil)
	status, body := admin.Do("POST", "/api/v1/kb/entries/shipping-fee/approve", nil)
	if status != http.StatusForbidden || !strings.Contains(string(body), "two-person") {
		t.Fatalf("self-approval: %d %s", status, body)
	}
	// The list says the rule is on, so that a reviewer's screen can hold
	// Approve back on their own versions.
	var reviews struct {
		TwoPersonRule *bool `json:"two_person_rule"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries?status=in_review", nil, &reviews)
	if reviews.TwoPersonRule == nil || !*reviews.TwoPersonRule {
		t.Errorf("the entry list's two_person_rule is %v, want true (the default)", reviews.TwoPersonRule)
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, nil)

	// Before publishing, an editor sees what Publish would ship.
	type pendingDiff struct {
		From, To int64
		Added    []struct{ ID string }
		Removed  []struct{ ID string }
		Changed  []struct {
			ID     string
			Fields []string
		}
	}
	var before kbRelease
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/releases/active", nil, &before)
	var pending pendingDiff
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/pending", nil, &pending)
	if pending.From != before.ID || pending.To != 0 || len(pending.Added) != 1 || pending.Added[0].ID != "gift-card-balance" ||
		len(pending.Changed) != 1 || pending.Changed[0].ID != "shipping-fee" || !slices.Contains(pending.Changed[0].Fields, "tags") ||
		len(pending.Removed) != 0 {
		t.Fatalf("pending before publishing: %+v, want gift-card-balance added and shipping-fee's tags changed since release %d", pending, before.ID)
	}

	// Publishing is for editors; the new entry answers at once.
	agent.Must(http.StatusForbidden, "POST", "/api/v1/kb/releases", map[string]string{}, nil)
	var rel kbRelease
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "gift cards"}, &rel)
	// Published: nothing is pending any more.
	pending = pendingDiff{}
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/pending", nil, &pending)
	if pending.From != rel.ID || len(pending.Added)+len(pending.Changed)+len(pending.Removed) != 0 {
		t.Errorf("pending after publishing release %d: %+v, want nothing", rel.ID, pending)
	}
	if rel.ID < 2 || rel.Entries != 80 || !rel.Quality.Passed || rel.Quality.HeldOut == 0 || !rel.Active ||
		rel.Versions["gift-card-balance"] != 1 || rel.Versions["shipping-fee"] != 2 || rel.Author != super.ID || rel.CreatedAt == "" {
		t.Fatalf("release %+v", rel)
	}
	var active kbRelease
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/releases/active", nil, &active)
	if active.ID != rel.ID {
		t.Fatalf("active release %d, want %d", active.ID, rel.ID)
	}
	conv := c.Start("zh-CN")
	if m := c.Say(conv, "我的礼品卡余额怎么查看").Messages[0]; m.Entry == nil || m.Entry.ID != "gift-card-balance" {
		t.Fatalf("answer after publish: %+v", m)
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/entries/gift-card-balance", nil, &draft)
	if draft.Status != "published" || draft.PublishedVersion != 1 {
		t.Fatalf("published entry %+v", draft)
	}

	// A golden question pins shipping-fee; retiring that entry breaks it,
	// and the gate refuses the release with a readable report.
	agent.Must(http.StatusForbidden, "POST", "/api/v1/kb/golden", map[string]string{"question": "运费怎么算",
		"entry_id": "shipping-fee"}, nil)
	super.Must(http.StatusBadRequest, "POST", "/api/v1/kb/golden", map[string]string{"question": "运费怎么算",
		"entry_id": "no-such-entry"}, nil)
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/golden", map[string]string{"question": "运费怎么算",
		"entry_id": "shipping-fee"}, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/retire", map[string]string{"reason": "test"}, nil)
	var refusal gateRefusal
	super.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/kb/releases", nil, &refusal)
	if refusal.Error.Code != "gate_refused" || refusal.Report.Passed || refusal.Report.Golden.Total != 1 ||
		len(refusal.Report.Golden.Failures) != 1 || refusal.Report.Golden.Failures[0].Question != "运费怎么算" ||
		!strings.Contains(refusal.Error.Message, "运费怎么算") || refusal.Report.Problems[0].MessageZH == "" {
		t.Fatalf("golden refusal %+v", refusal)
	}
	// The entry is gone from the release: said in Chinese too, not as
	// "(shipping-fee is not in this release)" inside the Chinese.
	if zh := refusal.Report.Problems[0].MessageZH; strings.Contains(zh, "is not in") || !strings.Contains(zh, "不在此版本中") {
		t.Errorf("the Chinese of a golden question whose entry is gone: %q", zh)
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/releases/active", nil, &active)
	if active.ID != rel.ID {
		t.Fatalf("a refused publish changed the active release to %d", active.ID)
	}
	// Bring the entry back (an edit restores a retired entry as a draft).
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	fee.Tags = []string{"fee"}
	admin.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", fee, &fee)
	if fee.Status != "draft" {
		t.Fatalf("restored entry is %s", fee.Status)
	}
	admin.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/submit", nil, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, nil)

	// A poisoned answer: a phishing link and a phone number.
	var ret kbEntry
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/entries/return-policy", nil, &ret)
	zh := ret.Locales["zh-CN"]
	zh.Answer = "退款请访问 http://refund-fast.top/login 登记银行卡，或加客服 138-1234-5678。"
	ret.Locales["zh-CN"] = zh
	agent.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/return-policy", map[string]any{"entry": ret, "submit": true}, &ret)
	if ret.Status != "in_review" {
		t.Fatalf("submit on save: %s", ret.Status)
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/return-policy/approve", nil, nil)
	refusal = gateRefusal{}
	super.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/kb/releases", nil, &refusal)
	checks := map[string]string{}
	for _, p := range refusal.Report.Problems {
		checks[p.Check] = p.Entry + " " + p.Detail
	}
	if !strings.Contains(checks["link"], "refund-fast.top") || !strings.Contains(checks["phone"], "138-1234-5678") {
		t.Fatalf("spam refusal %+v", refusal.Report.Problems)
	}
	// Only an admin overrides, and only with a reason.
	super.Must(http.StatusForbidden, "POST", "/api/v1/kb/releases", map[string]any{"override": true, "reason": "x"}, nil)
	admin.Must(http.StatusBadRequest, "POST", "/api/v1/kb/releases", map[string]any{"override": true}, nil)
	var bad kbRelease
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]any{"override": true,
		"reason": "the regional manager insists"}, &bad)
	if bad.Override == nil || bad.Override.Reason != "the regional manager insists" || bad.Quality.Passed {
		t.Fatalf("overridden release %+v", bad)
	}
	spam := c.Start("zh-CN")
	if m := c.Say(spam, "退货政策是什么"); !strings.Contains(m.Messages[0].Text, "refund-fast.top") {
		t.Fatalf("the overridden release should be live: %+v", m.Messages[0])
	}
	// One call rolls back to the last good release, and says so in the audit trail.
	var back kbRelease
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]string{"reason": "phishing link"}, &back)
	if back.ID != rel.ID {
		t.Fatalf("rolled back to %d, want %d", back.ID, rel.ID)
	}
	if m := c.Say(spam, "退货政策是什么"); strings.Contains(m.Messages[0].Text, "refund-fast.top") ||
		m.Messages[0].Entry == nil || m.Messages[0].Entry.ID != "return-policy" {
		t.Fatalf("answer after rollback: %+v", m.Messages[0])
	}
	// The rollback takes back the bad release's approvals: the poisoned
	// entry is rejected (its author sees why), and the next publish serves
	// the good version.
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/entries/return-policy", nil, &ret)
	if ret.Status != "rejected" || ret.ApprovedVersion != 1 || ret.PublishedVersion != 1 {
		t.Fatalf("poisoned entry after rollback: %+v", ret)
	}
	var next kbRelease
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "after the rollback"}, &next)
	if next.Versions["return-policy"] != 1 {
		t.Fatalf("the release after the rollback publishes return-policy v%d", next.Versions["return-policy"])
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]any{"to": rel.ID, "reason": "keep the test's numbering"}, nil)
	var trail struct {
		Entries []struct {
			Actor, Action, Object string
			Detail                map[string]any
		} `json:"entries"`
	}
	agent.Must(http.StatusForbidden, "GET", "/api/v1/audit", nil, nil)
	admin.Must(http.StatusOK, "GET", "/api/v1/audit?action=kb.release.rollback", nil, &trail)
	if len(trail.Entries) != 2 || trail.Entries[1].Action != "kb.release.rollback" || trail.Entries[1].Actor != super.ID ||
		trail.Entries[1].Object != fmt.Sprintf("release:%d", rel.ID) || trail.Entries[1].Detail["reason"] != "phishing link" {
		t.Fatalf("audit trail %+v", trail.Entries)
	}
	var list struct {
		Releases   []kbRelease `json:"releases"`
		ActiveID   int64       `json:"active_id"`
		LastGoodID int64       `json:"last_good_id"`
	}
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/releases", nil, &list)
	if list.ActiveID != rel.ID || list.LastGoodID != rel.ID || list.Releases[1].ID != bad.ID {
		t.Fatalf("releases %+v", list)
	}
	// The diff shows what the bad release changed.
	var diff struct {
		Changed []struct {
			ID     string   `json:"id"`
			Fields []string `json:"fields"`
		} `json:"changed"`
	}
	agent.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/kb/diff?from=%d&to=%d", rel.ID, bad.ID), nil, &diff)
	changed := map[string]string{}
	for _, ch := range diff.Changed {
		changed[ch.ID] = strings.Join(ch.Fields, ",")
	}
	// shipping-fee lost the tag it had in the good release when it came back.
	if len(changed) != 2 || changed["return-policy"] != "zh-CN.answer" || changed["shipping-fee"] != "tags" {
		t.Fatalf("diff %+v", diff)
	}
}

func TestKnowledgeBadInput(t *testing.T) {
	run, admin, agent, _ := startKB(t)
	_ = run
	auditor := admin.AddUser("audit@demo.steward", "auditor", nil)
	cases := []struct {
		who    *testutil.Staff
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{agent, "POST", "/api/v1/kb/entries", map[string]any{"id": "Bad ID", "category": "x", "title": "t",
			"locales": map[string]any{"en": map[string]any{"questions": []string{"q"}, "answer": "a b"}}}, 400, "lowercase slug"},
		{agent, "POST", "/api/v1/kb/entries", map[string]any{"id": "x", "category": "x", "title": "t", "colour": "red"}, 400, "unknown field"},
		{agent, "POST", "/api/v1/kb/entries", map[string]any{"id": "x", "category": "x",
			"locales": map[string]any{"en": map[string]any{"questions": []string{"q"}, "answer": "a b"}}}, 400, "title is required"},
		{agent, "POST", "/api/v1/kb/entries", map[string]any{"id": "shipping-fee", "category": "x", "title": "t",
			"locales": map[string]any{"en": map[string]any{"questions": []string{"q"}, "answer": "a b"}}}, 409, "already exists"},
		{agent, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"id": "other", "category": "x", "title": "t",
			"locales": map[string]any{"en": map[string]any{"questions": []string{"q"}, "answer": "a b"}}}, 400, "does not match"},
		{agent, "GET", "/api/v1/kb/entries/nope", nil, 404, "no knowledge-base entry"},
		{agent, "GET", "/api/v1/kb/entries?status=lost", nil, 400, "unknown status"},
		{agent, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, 403, ""},
		{admin, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, 409, "only an entry that is in_review"},
		{agent, "GET", "/api/v1/kb/releases/abc", nil, 400, "positive whole number"},
		{agent, "GET", "/api/v1/kb/releases/99", nil, 404, "no release 99"},
		{agent, "GET", "/api/v1/kb/diff?from=1", nil, 400, "to:"},
		{admin, "POST", "/api/v1/kb/releases/1/activate", nil, 409, "already active"},
		{admin, "POST", "/api/v1/kb/rollback", nil, 409, "no earlier good release"},
		{agent, "GET", "/api/v1/kb/unanswered?days=0", nil, 400, "days"},
		{agent, "GET", "/api/v1/kb/corrections?status=new", nil, 400, "status"},
		{admin, "POST", "/api/v1/kb/corrections/dismiss", map[string]any{"flags": []string{}}, 400, "at least one"},
		{auditor, "POST", "/api/v1/kb/entries", giftCard(), 403, ""},
		{auditor, "GET", "/api/v1/kb/entries?q=礼品", nil, 200, "entries"},
		{admin, "DELETE", "/api/v1/kb/golden/g_nope", nil, 404, "no golden question"},
		{admin, "PUT", "/api/v1/kb/releases", nil, 405, "not allowed"},
		// An action that does not exist is not found: it was "POST is not allowed here; use POST".
		{admin, "POST", "/api/v1/kb/entries/shipping-fee/aprove", nil, 404, "no such endpoint"},
		{admin, "GET", "/api/v1/kb/entries/shipping-fee/approve", nil, 405, "not allowed"},
		// Two "en" blocks: the first was dropped without a word (the import refused the same entry).
		{agent, "POST", "/api/v1/kb/entries", json.RawMessage(`{"id":"dup-key","category":"shipping","title":"Fees","locales":{` +
			`"en":{"questions":["how much is shipping"],"answer":"Shipping is free over 99."},` +
			`"en":{"questions":["can I return this"],"answer":"Returns within seven days."}}}`), 400, `\"en\" is given twice`},
	}
	for _, tc := range cases {
		status, body := tc.who.Do(tc.method, tc.path, tc.body)
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s as %s: %d %s, want %d containing %q", tc.method, tc.path, tc.who.Role, status, body, tc.status, tc.want)
		}
		if status >= 400 && status != 405 && !json.Valid(body) {
			t.Errorf("%s %s: error body is not JSON: %s", tc.method, tc.path, body)
		}
		// What was wrong is said in Chinese too (a Chinese console showed
		// "no golden question …" and "only an entry that is draft or
		// rejected" half in English).
		if status >= 400 && tc.who != auditor && !strings.Contains(string(body), `"message_zh"`) {
			t.Errorf("%s %s: no message_zh: %s", tc.method, tc.path, body)
		}
		if strings.Contains(string(body), "in_review的") || strings.Contains(string(body), "draft or rejected") && strings.Contains(string(body), "状态为 draft") {
			t.Errorf("%s %s: raw status ids in the Chinese text: %s", tc.method, tc.path, body)
		}
	}
}

func TestKnowledgeImportExportRoundTrip(t *testing.T) {
	run, admin, _, _ := startKB(t)
	get := func(format string) []byte {
		req, _ := http.NewRequest("GET", run.URL+"/api/v1/kb/export?format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("export %s: %d %s", format, resp.StatusCode, buf.Bytes())
		}
		return buf.Bytes()
	}
	post := func(format string, body []byte) map[string]int {
		req, _ := http.NewRequest("POST", run.URL+"/api/v1/kb/import?format="+format, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]int
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			t.Fatalf("import %s: %d", format, resp.StatusCode)
		}
		return out
	}
	for _, format := range []string{"json", "yaml"} {
		first := get(format)
		if res := post(format, first); res["unchanged"] != 79 || res["created"]+res["changed"] != 0 {
			t.Fatalf("%s re-import changed something: %v", format, res)
		}
		if again := get(format); !bytes.Equal(first, again) {
			t.Fatalf("%s export → import → export differs", format)
		}
	}
	// An import through the API makes drafts that go through review.
	doc := get("json")
	changed := bytes.Replace(doc, []byte("订单一般在付款后48小时内发货"), []byte("订单一般在付款后24小时内发货"), 1)
	if res := post("json", changed); res["changed"] != 1 {
		t.Fatalf("import of one change: %v", res)
	}
	var drafts struct{ Entries []kbEntry }
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries?status=draft", nil, &drafts)
	if len(drafts.Entries) != 1 || drafts.Entries[0].ID != "order-not-shipped" || drafts.Entries[0].PublishedVersion != 1 {
		t.Fatalf("drafts after import: %+v", drafts.Entries)
	}
	// A text holding a NUL (YAML writes it "\0") is refused with the entry
	// named, and nothing of the file is written: PostgreSQL cannot store
	// it, and the import failed there with a 500 after the entries before it.
	body := []byte("entries:\n" +
		"  - id: fresh-one\n    category: orders\n    title: Fresh\n    locales:\n      en:\n        questions: [a fresh question]\n        answer: A fresh answer.\n" +
		"  - id: nul-entry\n    category: orders\n    title: \"a\\0b\"\n    locales:\n      en:\n        questions: [q]\n        answer: a b\n")
	req, _ := http.NewRequest("POST", run.URL+"/api/v1/kb/import?format=yaml", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "nul-entry") {
		t.Fatalf("an import with a NUL: %d %s, want 400 naming the entry", resp.StatusCode, msg)
	}
	// In Chinese too, for a console in zh-CN: the entry's error used to
	// reach it in English only.
	var refusal struct {
		Error struct {
			Message   string
			MessageZH string `json:"message_zh"`
		}
	}
	if err := json.Unmarshal(msg, &refusal); err != nil || !strings.HasPrefix(refusal.Error.MessageZH, "第 2 条：") ||
		!strings.Contains(refusal.Error.MessageZH, "空字符") || !strings.HasPrefix(refusal.Error.Message, "entry 2: ") {
		t.Fatalf("an import with a NUL: %s, want its error in both languages", msg)
	}
	admin.Must(http.StatusNotFound, "GET", "/api/v1/kb/entries/fresh-one", nil, nil)
}

func TestKnowledgeCorrectionsLoop(t *testing.T) {
	run, admin, _, super := startKB(t)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	turn := c.Say(conv, "运费怎么算")
	answer := turn.Messages[0]
	if answer.Entry == nil {
		t.Fatalf("no answer to flag: %+v", answer)
	}
	flagPath := "/api/v1/conversations/" + conv.ID + "/messages/" + answer.ID + "/flag"
	if status, body := c.Do("POST", flagPath, "", []byte(`{}`)); status != 401 {
		t.Fatalf("flag without token: %d %s", status, body)
	}
	if status, body := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+turn.Customer.ID+"/flag", conv.Token,
		[]byte(`{}`)); status != 400 || !strings.Contains(string(body), "only the bot's answers") {
		t.Fatalf("flag of the customer's own message: %d %s", status, body)
	}
	status, body := c.Do("POST", flagPath, conv.Token, []byte(`{"reason":"我问的是会员运费"}`))
	if status != http.StatusCreated {
		t.Fatalf("flag: %d %s", status, body)
	}
	var first struct{ Flag struct{ ID, Status string } }
	json.Unmarshal(body, &first)
	status, body = c.Do("POST", flagPath, conv.Token, nil)
	var again struct{ Flag struct{ ID string } }
	json.Unmarshal(body, &again)
	if status != http.StatusOK || again.Flag.ID != first.Flag.ID {
		t.Fatalf("second flag: %d %s", status, body)
	}
	// Staff see it grouped by the entry that answered.
	var queue struct {
		Groups []struct {
			Key, EntryID string
			Count        int
			Questions    []struct{ Text string }
			Reasons      []string
			Flags        []struct{ ID, Status string }
		} `json:"groups"`
	}
	super.Must(http.StatusOK, "GET", "/api/v1/kb/corrections", nil, &queue)
	if len(queue.Groups) != 1 || queue.Groups[0].Key != "entry:"+answer.Entry.ID || queue.Groups[0].Count != 1 ||
		queue.Groups[0].Questions[0].Text != "运费怎么算" || queue.Groups[0].Reasons[0] != "我问的是会员运费" {
		t.Fatalf("correction queue %+v", queue)
	}
	// The fix: the customer's wording becomes a variant of the right entry,
	// linked to the flag; it goes through review into a release.
	var plus kbEntry
	super.Must(http.StatusOK, "GET", "/api/v1/kb/entries/membership-plus", nil, &plus)
	zh := plus.Locales["zh-CN"]
	zh.Questions = append(zh.Questions, "运费怎么算")
	plus.Locales["zh-CN"] = zh
	super.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/membership-plus",
		map[string]any{"entry": plus, "flags": []string{first.Flag.ID}, "submit": true}, &plus)
	super.Must(http.StatusOK, "GET", "/api/v1/kb/corrections?status=fixing", nil, &queue)
	if len(queue.Groups) != 1 || queue.Groups[0].Flags[0].Status != "fixing" {
		t.Fatalf("fixing queue %+v", queue)
	}
	super.Must(http.StatusForbidden, "POST", "/api/v1/kb/entries/membership-plus/approve", nil, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/kb/entries/membership-plus/approve", nil, nil)
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "fix"}, nil)
	super.Must(http.StatusOK, "GET", "/api/v1/kb/corrections?status=resolved", nil, &queue)
	if len(queue.Groups) != 1 || queue.Groups[0].Flags[0].Status != "resolved" {
		t.Fatalf("resolved queue %+v", queue)
	}
	super.Must(http.StatusOK, "GET", "/api/v1/kb/corrections", nil, &queue)
	if len(queue.Groups) != 0 {
		t.Fatalf("open queue after the fix %+v", queue)
	}
	// Rolling the fix back puts the flag back in the queue, as fixing: it
	// keeps its fix, which the next release serving it resolves again.
	admin.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]string{"reason": "test"}, nil)
	super.Must(http.StatusOK, "GET", "/api/v1/kb/corrections", nil, &queue)
	if len(queue.Groups) != 1 || queue.Groups[0].Flags[0].Status != "fixing" {
		t.Fatalf("queue after rolling the fix back %+v", queue)
	}

	// Unanswered questions: fallbacks cluster by wording and near duplicates.
	for _, q := range []string{"你们收不收二手手机壳", "你们收不收二手手机壳？", "请问你们收不收二手手机壳", "火星上能送货吗"} {
		conv := c.Start("zh-CN")
		if m := c.Say(conv, q).Messages[0]; m.Outcome != "fallback" {
			t.Fatalf("%q: outcome %s, want fallback", q, m.Outcome)
		}
	}
	var un struct {
		Clusters []struct {
			Text          string
			Count         int
			Conversations int
			Examples      []string
		} `json:"clusters"`
	}
	super.Must(http.StatusOK, "GET", "/api/v1/kb/unanswered", nil, &un)
	if len(un.Clusters) != 2 || un.Clusters[0].Count != 3 || un.Clusters[0].Conversations != 3 ||
		!strings.Contains(un.Clusters[0].Text, "二手手机壳") || un.Clusters[1].Count != 1 {
		t.Fatalf("unanswered %+v", un)
	}
	// A list cut to the most frequent clusters says how many there were.
	var top struct {
		Clusters      []struct{ Count int } `json:"clusters"`
		ClustersTotal int                   `json:"clusters_total"`
		Limit         int                   `json:"limit"`
	}
	super.Must(http.StatusOK, "GET", "/api/v1/kb/unanswered?limit=1", nil, &top)
	if len(top.Clusters) != 1 || top.Clusters[0].Count != 3 || top.ClustersTotal != 2 || top.Limit != 1 {
		t.Fatalf("unanswered cut to one cluster: %+v", top)
	}
}

// TestRollbackUnderLoad switches releases back and forth while customers
// keep asking: every turn succeeds, and answers follow the active release.
func TestRollbackUnderLoad(t *testing.T) {
	run, admin, _, super := startKB(t)
	c := &testutil.Client{T: t, Base: run.URL}
	var fee kbEntry
	super.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	en := fee.Locales["en"]
	en.Answer += " (Updated: Steward PLUS members also get free returns.)"
	fee.Locales["en"] = en
	super.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": fee, "submit": true}, nil)
	admin.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, nil)
	var second kbRelease
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", nil, &second)
	first := second.ID - 1

	var (
		stop           atomic.Bool
		turns, updated atomic.Int64
		wg             sync.WaitGroup
		failures       = make(chan string, 16)
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := c.Start("en")
			for !stop.Load() {
				body, _ := json.Marshal(map[string]string{"text": "how much does shipping cost"})
				status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", conv.Token, body)
				if status != http.StatusOK {
					failures <- fmt.Sprintf("%d %s", status, b)
					return
				}
				var turn testutil.Turn
				json.Unmarshal(b, &turn)
				if len(turn.Messages) == 0 || turn.Messages[0].Entry == nil || turn.Messages[0].Entry.ID != "shipping-fee" {
					failures <- fmt.Sprintf("not answered: %s", b)
					return
				}
				turns.Add(1)
				if strings.Contains(turn.Messages[0].Text, "Updated:") {
					updated.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]any{"to": first, "reason": "load test"}, nil)
		super.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/kb/releases/%d/activate", second.ID), nil, nil)
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]any{"to": first}, nil)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("turn failed during activation: %s", f)
	}
	if turns.Load() < 8 || updated.Load() == 0 {
		t.Fatalf("%d turns, %d from the second release", turns.Load(), updated.Load())
	}
	conv := c.Start("en")
	if m := c.Say(conv, "how much does shipping cost").Messages[0]; strings.Contains(m.Text, "Updated:") {
		t.Fatalf("after the final rollback the answer is still the second release's: %s", m.Text)
	}
}

// An entry retired after the release it was published in stays retired
// when that release is rolled back: the rollback used to bring it back
// (rejected, approved at the older release's version), and the next
// publish shipped it again.
func TestRollbackKeepsARetirement(t *testing.T) {
	_, admin, _, super := startKB(t)
	var first, second kbRelease
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/releases/active", nil, &first)
	var fee kbEntry
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	fee.Tags = append(fee.Tags, "fee")
	admin.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": fee, "submit": true}, &fee)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, nil)
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "fee tags"}, &second)
	if second.Versions["shipping-fee"] != 2 {
		t.Fatalf("release %d holds shipping-fee v%d, want v2", second.ID, second.Versions["shipping-fee"])
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/retire", map[string]string{"reason": "no longer offered"}, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]any{"to": first.ID, "reason": "test"}, nil)
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	if fee.Status != "retired" {
		t.Fatalf("after the rollback the retired entry is %s (approved v%d), want still retired", fee.Status, fee.ApprovedVersion)
	}
	// A rollback goes back: to a newer release it is refused (it used to
	// activate it, leave the release left unmarked and take approvals back).
	var refused struct {
		Error struct{ Code, Message string }
	}
	super.Must(http.StatusConflict, "POST", "/api/v1/kb/rollback", map[string]any{"to": second.ID, "reason": "forward"}, &refused)
	if !strings.Contains(refused.Error.Message, "newer than the active release") {
		t.Fatalf("a rollback to a newer release: %+v", refused)
	}
}

// An agent's flag counts as a signal, as a customer's does (the metric says
// "by customers or agents"; only customers' were counted).
func TestAgentFlagIsASignal(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	answer := c.Say(conv, "运费怎么算").Messages[0]
	if answer.Entry == nil {
		t.Fatalf("no answer to flag: %+v", answer)
	}
	admin.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages/"+answer.ID+"/flag",
		map[string]string{"reason": "out of date"}, nil)
	status, body := c.Do("GET", "/metrics", "", nil)
	if status != 200 || !strings.Contains(string(body), "steward_wrong_answer_flags_total 1") {
		t.Fatalf("/metrics after an agent's flag: %d, want steward_wrong_answer_flags_total 1", status)
	}
}

// One customer is one vote: three answers flagged in one conversation do
// not fire wrong_answer_flags (they rolled a new release back at once);
// three conversations flagging one answer each do.
func TestOneConversationsFlagsAreOneVote(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	flag := func(conv testutil.Conversation, n int) {
		for range n {
			answer := c.Say(conv, "运费怎么算").Messages[0]
			if answer.Entry == nil {
				t.Fatalf("no answer to flag: %+v", answer)
			}
			body, _ := json.Marshal(map[string]string{"reason": "wrong"})
			if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+answer.ID+"/flag", conv.Token, body); status != http.StatusCreated {
				t.Fatalf("flag: %d %s", status, b)
			}
		}
	}
	firing := func() bool { return alertFiring(t, admin, "wrong_answer_flags") }
	flag(c.Start("zh-CN"), 3)
	// The rules run every second: give them three.
	for range 3 {
		time.Sleep(time.Second)
		if firing() {
			t.Fatal("three flags from one conversation fired wrong_answer_flags")
		}
	}
	flag(c.Start("zh-CN"), 1)
	flag(c.Start("zh-CN"), 1)
	waitForAlert(t, admin, "wrong_answer_flags", 10*time.Second, "three conversations' flags")
	wantMetric(t, c, "steward_wrong_answer_flags_total 5", "every flag counted")
}

// waitForAlert waits up to within for the alert named name to fire, after
// what (for the failure message).
func waitForAlert(t *testing.T, admin *testutil.Staff, name string, within time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !alertFiring(t, admin, name) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not fire %s within %s", what, name, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantMetric fails unless /metrics holds line (why says what it shows).
func wantMetric(t *testing.T, c *testutil.Client, line, why string) {
	t.Helper()
	status, body := c.Do("GET", "/metrics", "", nil)
	if status != 200 || !strings.Contains(string(body), line) {
		t.Fatalf("/metrics: %d, want %s (%s)", status, why, line)
	}
}

// alertFiring reports whether the alert named name is firing.
func alertFiring(t *testing.T, admin *testutil.Staff, name string) bool {
	t.Helper()
	var alerts struct {
		Firing []struct {
			Labels map[string]string `json:"labels"`
		} `json:"firing"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/alerts", nil, &alerts)
	for _, a := range alerts.Firing {
		if a.Labels["alertname"] == name {
			return true
		}
	}
	return false
}

// An agent's flags are one vote a conversation too: an agent going through
// a transcript flags three answers, and in another conversation an agent
// and the customer flag the same answer; neither fires wrong_answer_flags
// (they counted three and two), and a third conversation's flag does.
func TestAgentAndCustomerFlagsOfOneConversationAreOneVote(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	c := &testutil.Client{T: t, Base: run.URL}
	firing := func() bool { return alertFiring(t, admin, "wrong_answer_flags") }
	agentFlag := func(conv testutil.Conversation, id string) {
		t.Helper()
		admin.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+conv.ID+"/messages/"+id+"/flag",
			map[string]string{"reason": "out of date"}, nil)
	}
	customerFlag := func(conv testutil.Conversation, id string) {
		t.Helper()
		if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+id+"/flag", conv.Token, []byte(`{}`)); status != http.StatusCreated {
			t.Fatalf("the customer's flag: %d %s", status, b)
		}
	}
	reviewed := c.Start("zh-CN")
	for range 3 {
		agentFlag(reviewed, c.Say(reviewed, "运费怎么算").Messages[0].ID)
	}
	both := c.Start("zh-CN")
	answer := c.Say(both, "运费怎么算").Messages[0].ID
	agentFlag(both, answer)
	customerFlag(both, answer)
	// The rules run every second: give them three.
	for range 3 {
		time.Sleep(time.Second)
		if firing() {
			t.Fatal("the flags of two conversations fired wrong_answer_flags")
		}
	}
	third := c.Start("zh-CN")
	customerFlag(third, c.Say(third, "运费怎么算").Messages[0].ID)
	waitForAlert(t, admin, "wrong_answer_flags", 10*time.Second, "three conversations' flags")
	wantMetric(t, c, "steward_wrong_answer_flags_total 6", "every flag counted")
}

// The rating and flag refusals a customer or the console meets say it in
// Chinese as well.
func TestQualityErrorsAreBilingual(t *testing.T) {
	run := testutil.Start(t, nil)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	turn := c.Say(conv, "运费怎么算")
	base := "/api/v1/conversations/" + conv.ID
	for _, tc := range []struct{ path, body string }{
		{base + "/rating", `{}`},
		{base + "/rating", `{"score":4,"tags":["nope"]}`},
		{base + "/messages/" + turn.Customer.ID + "/flag", `{}`},
	} {
		status, body := c.Do("POST", tc.path, conv.Token, []byte(tc.body))
		var e struct {
			Error struct {
				Message   string `json:"message"`
				MessageZH string `json:"message_zh"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || status != 400 || e.Error.MessageZH == "" || e.Error.Message == e.Error.MessageZH {
			t.Errorf("%s %s: %d %s, want a 400 in both languages", tc.path, tc.body, status, body)
		}
	}
}

// A save whose flag list cannot be linked is refused before the entry is
// saved (it used to save, then fail, and the editor's next save was a
// version conflict); a group's worth of flags can be dismissed at once.
func TestFlagListsAreCheckedBeforeTheSave(t *testing.T) {
	run, admin, _, super := startKB(t)
	var plus kbEntry
	super.Must(http.StatusOK, "GET", "/api/v1/kb/entries/membership-plus", nil, &plus)
	before := plus.Version
	tooMany := make([]string, 5001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("f_%d", i)
	}
	zh := plus.Locales["zh-CN"]
	zh.Questions = append(zh.Questions, "会员运费怎么算")
	plus.Locales["zh-CN"] = zh
	super.Must(http.StatusBadRequest, "PUT", "/api/v1/kb/entries/membership-plus", map[string]any{"entry": plus, "flags": tooMany}, nil)
	var again kbEntry
	super.Must(http.StatusOK, "GET", "/api/v1/kb/entries/membership-plus", nil, &again)
	if again.Version != before {
		t.Fatalf("a refused save moved the entry from version %d to %d", before, again.Version)
	}
	// A group's worth of ids in one request (the console sends them all): the
	// real flag among them is dismissed.
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	answer := c.Say(conv, "运费怎么算").Messages[0]
	var flagged struct{ Flag struct{ ID string } }
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+answer.ID+"/flag", conv.Token, []byte(`{}`)); status != http.StatusCreated {
		t.Fatalf("flag: %d %s", status, b)
	} else if err := json.Unmarshal(b, &flagged); err != nil {
		t.Fatal(err)
	}
	ids := append(tooMany[:1200:1200], flagged.Flag.ID)
	var d struct{ Dismissed int }
	super.Must(http.StatusOK, "POST", "/api/v1/kb/corrections/dismiss", map[string]any{"flags": ids, "note": "bulk"}, &d)
	if d.Dismissed != 1 {
		t.Fatalf("dismissed %d flags, want the one real flag among %d ids", d.Dismissed, len(ids))
	}
	// Closing customers' complaints is audited, as the other review decisions are.
	var trail struct {
		Entries []struct {
			Action string         `json:"action"`
			Detail map[string]any `json:"detail"`
		} `json:"entries"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/audit?action=kb.corrections.dismiss", nil, &trail)
	if len(trail.Entries) != 1 || trail.Entries[0].Detail["dismissed"] != float64(1) {
		t.Fatalf("the audit trail of the dismissal: %+v", trail.Entries)
	}
}
