package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// --verify-max is validated: a negative value passed Validate and then
// panicked in verify (make with a negative capacity) after the whole load
// scenario had run, instead of being refused up front as a usage error.
func TestANegativeVerifyMaxIsRefused(t *testing.T) {
	o := Options{Scenario: ScenarioTurns, Duration: time.Second, Concurrency: 4, Conns: 10, Sizes: []int{1000},
		KBTimeout: time.Second, KBMemLimitMB: 1024, KBQueries: 10, VerifyMax: -1}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--verify-max") {
		t.Errorf("Validate() with --verify-max -1 = %v, want an error naming --verify-max", err)
	}
}

// --check does not pass "turns lost" when no message was checked at all
// (--verify-max 0): "0 acknowledged messages missing of 0 checked" was ok.
// The report's own target check already refused this; the CI floor did not.
func TestCheckFloorsDoNotPassLostWhenNothingWasVerified(t *testing.T) {
	rep := shortReport()
	rep.Turns.VerifiedConversations, rep.Turns.VerifiedMessages = 0, 0 // turns acknowledged, none checked
	for _, f := range CheckFloors(rep) {
		if f.Check == "turns lost" && f.Result == FloorOK {
			t.Errorf("floor %q is %s with nothing verified (%s); want it failed", f.Check, f.Result, f.Detail)
		}
	}
	for _, c := range checks(rep) {
		if c.Scenario == "turns" && c.Figure == "lost" && c.Met {
			t.Errorf("target check agrees: %s", fmt.Sprint(c))
		}
	}
	// With the messages checked, the same report passes.
	rep = shortReport()
	for _, f := range CheckFloors(rep) {
		if f.Check == "turns lost" && f.Result != FloorOK {
			t.Errorf("floor %q is %s with every message checked (%s)", f.Check, f.Result, f.Detail)
		}
	}
}

// A run in which every request failed has no latency sample; the zeros of
// Summarize(nil) met the p99 target ("p99_ms 0.00 <= 50 ... ok").
func TestP99TargetIsNotMetWithoutASample(t *testing.T) {
	r := &TurnsResult{Concurrency: 256, DurationSec: 10, Turns: 0, Errors: 5000,
		ErrorKinds: map[string]int{"503 unavailable": 5000}, Latency: Summarize(nil)}
	for _, c := range checks(&Report{Turns: r}) {
		if c.Figure == "p99_ms" && c.Met {
			t.Errorf("p99 target met with no successful turn: %+v (value %v)", c, *c.Value)
		}
	}
}
