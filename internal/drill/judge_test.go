package drill

import (
	"strings"
	"testing"
	"time"
)

// A drill whose posture came back to normal, degraded again and came back
// fails, and its failure tells the whole story: a CI log shows little
// more than that line.
func TestJudgeNamesTheFlapsPosturesAndAlerts(t *testing.T) {
	at := func(s float64) *float64 { return &s }
	r := &run{timing: Timing{MaxRecovery: time.Minute}}
	r.card = Scorecard{DetectedAfterS: at(2), MitigatedAfterS: at(3),
		PostureChanges: []PostureChange{
			{AfterS: 0.3, Level: 0, Description: "normal service"},
			{AfterS: 3, Level: 2, Description: "level 2: last good knowledge release"},
			{AfterS: 20, Level: 0, Description: "normal service"},
			{AfterS: 22, Level: 1, Description: "level 1: billing handed to people"},
			{AfterS: 25, Level: 0, Description: "normal service"},
		},
		AlertLog: []AlertSeen{{AfterS: 2, Name: "wrong_answer_flags", On: "category=orders"},
			{AfterS: 21.5, Name: "low_ratings", On: "category=billing"}},
	}
	r.judge(time.Now())
	if r.card.Passed || len(r.card.Failures) != 1 {
		t.Fatalf("passed %v, failures %q; want one failure", r.card.Passed, r.card.Failures)
	}
	got := r.card.Failures[0]
	for _, want := range []string{"2 returns to normal", "20.0s normal service → 22.0s level 1: billing handed to people",
		"21.5s low_ratings{category=billing}"} {
		if !strings.Contains(got, want) {
			t.Errorf("failure %q does not say %q", got, want)
		}
	}

	// Degraded once and back once is no flap.
	r = &run{timing: Timing{MaxRecovery: time.Minute}}
	r.card = Scorecard{DetectedAfterS: at(2), MitigatedAfterS: at(3), PostureChanges: []PostureChange{
		{AfterS: 0.3, Level: 0, Description: "normal service"},
		{AfterS: 3, Level: 2, Description: "level 2"},
		{AfterS: 20, Level: 0, Description: "normal service"}}}
	r.judge(time.Now())
	if !r.card.Passed {
		t.Errorf("one degradation and one return failed: %q", r.card.Failures)
	}
}
