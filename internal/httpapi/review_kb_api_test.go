package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// An edit of a retired entry brings it back as a draft that ships only
// once a second person approves it: its old approval stood, and the next
// publish, by anyone, shipped the retired answer again on the strength of
// an edit by someone who may only propose.
func TestAnEditedRetiredEntryShipsOnlyOnceApprovedAgain(t *testing.T) {
	_, _, agent, super := startKB(t)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/retire", map[string]string{"reason": "no longer charged"}, nil)
	var fee kbEntry
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	agent.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", fee, &fee)
	if fee.Status != "draft" || fee.ApprovedVersion != 0 {
		t.Fatalf("the retired entry after an agent's edit: %s, approved v%d; want a draft approved at no version", fee.Status, fee.ApprovedVersion)
	}
	var rel kbRelease
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "without the shipping fee"}, &rel)
	if v, ok := rel.Versions["shipping-fee"]; ok {
		t.Fatalf("release %d ships the retired entry at v%d, which nobody approved bringing back", rel.ID, v)
	}
}

// Flags linked by a save that changed nothing are refused: linked to the
// version customers already get, they were "resolved" by the next release,
// whatever it held, with no fix anywhere.
func TestFlagsCannotBeLinkedToAnUnchangedEntry(t *testing.T) {
	run, _, agent, _ := startKB(t)
	c := &testutil.Client{T: t, Base: run.URL}
	conv := c.Start("zh-CN")
	answer := c.Say(conv, "运费怎么算").Messages[0]
	var flagged struct{ Flag struct{ ID string } }
	if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+answer.ID+"/flag", conv.Token, []byte(`{}`)); status != http.StatusCreated {
		t.Fatalf("flag: %d %s", status, b)
	} else if err := json.Unmarshal(b, &flagged); err != nil {
		t.Fatal(err)
	}
	var fee kbEntry
	agent.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	status, body := agent.Do("PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": fee, "flags": []string{flagged.Flag.ID}})
	var refusal struct {
		Error struct{ Code, Message, MessageZH string } `json:"error"`
	}
	if err := json.Unmarshal(body, &refusal); err != nil || status != http.StatusConflict || refusal.Error.Code != "conflict" {
		t.Fatalf("flags linked by an unchanged save: %d %s, want a 409", status, body)
	}
	// Changed, the entry takes them.
	zh := fee.Locales["zh-CN"]
	zh.Questions = append(zh.Questions, "寄快递要多少运费")
	fee.Locales["zh-CN"] = zh
	agent.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": fee, "flags": []string{flagged.Flag.ID}}, &fee)
}

// The bad-release drill publishes a damaged copy of the active release:
// its versions are that release's, so a change approved since and never
// served stays approved, is not marked published, and is not taken back
// by the rollback that ends the drill.
func TestTheBadReleaseDrillLeavesWaitingApprovalsAlone(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) {
		c.EnableFaultInjection = true
		c.Knowledge.Gate.Folds, c.Knowledge.Gate.MaxHeldOut = 2, 150
	})
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	super := admin.AddUser("lead@demo.steward", "supervisor", nil)
	var active kbRelease
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/releases/active", nil, &active)
	var fee kbEntry
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	served := fee.Version
	fee.Tags = append(fee.Tags, "fees")
	admin.Must(http.StatusOK, "PUT", "/api/v1/kb/entries/shipping-fee", map[string]any{"entry": fee, "submit": true}, &fee)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/shipping-fee/approve", nil, &fee)
	if fee.Status != "approved" || fee.ApprovedVersion != served+1 {
		t.Fatalf("before the drill: %s, approved v%d", fee.Status, fee.ApprovedVersion)
	}
	var drill struct{ Release kbRelease }
	admin.Must(http.StatusCreated, "POST", "/api/v1/admin/faults", map[string]any{"point": "kb.bad_release"}, &drill)
	if v := drill.Release.Versions["shipping-fee"]; v != served {
		t.Errorf("the damaged release records shipping-fee v%d, want v%d (the active release's, whose copy it is)", v, served)
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	if fee.Status != "approved" || fee.ApprovedVersion != served+1 {
		t.Errorf("after the drill's release: %s, approved v%d; want still approved at v%d, waiting", fee.Status, fee.ApprovedVersion, served+1)
	}
	super.Must(http.StatusOK, "POST", "/api/v1/kb/rollback", map[string]any{"to": active.ID, "reason": "end of the drill"}, nil)
	admin.Must(http.StatusOK, "GET", "/api/v1/kb/entries/shipping-fee", nil, &fee)
	if fee.Status != "approved" || fee.ApprovedVersion != served+1 {
		t.Errorf("after the drill's rollback: %s, approved v%d; want still approved at v%d", fee.Status, fee.ApprovedVersion, served+1)
	}
}
