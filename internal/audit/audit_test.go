package audit

import (
	"encoding/json"
	"testing"
	"time"
)

// An entry whose detail holds a struct hashes the same after a trip
// through the store (JSON), where the struct becomes a map whose keys
// marshal in another order: before canonical, every posture change failed
// verification.
func TestHashSurvivesTheStore(t *testing.T) {
	type posture struct {
		Level  int       `json:"level"`
		Manual bool      `json:"manual"`
		Since  time.Time `json:"since"`
		Banner string    `json:"banner,omitempty"`
	}
	e := Entry{Seq: 7, At: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Actor: "u1", Action: "incident.posture",
		Object: "posture", PrevHash: "ab", Detail: map[string]any{"to": posture{Level: 2, Manual: true,
			Since: time.Date(2026, 11, 21, 11, 59, 0, 123456789, time.UTC)}, "id": int64(1) << 40, "reason": "<b>x</b>"}}
	e.Hash = Hash(&e)
	b, err := json.Marshal(e.Detail)
	if err != nil {
		t.Fatal(err)
	}
	read := e
	read.Detail = nil
	if err := json.Unmarshal(b, &read.Detail); err != nil {
		t.Fatal(err)
	}
	if Hash(&read) != e.Hash {
		t.Fatal("the hash of an entry read back from the store differs")
	}
	if err := Verify([]Entry{read}); err == nil {
		t.Fatal("entry 7 as the first entry should be reported: entries 1 to 6 are missing")
	} else if b, ok := err.(*Break); !ok || b.Seq != 1 || b.Kind != BreakMissing {
		t.Fatalf("Verify: %v", err)
	}
}
