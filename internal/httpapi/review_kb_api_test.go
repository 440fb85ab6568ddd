package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

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
