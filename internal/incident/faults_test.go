package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/incident"
)

// A scope on a point whose calls carry none made a fault that matched no
// call: accepted with 201, the drill ran against a fault that injected
// nothing. It is refused now, and so is an llm scope that names no model.
func TestAFaultScopeMustNarrowSomething(t *testing.T) {
	f := incident.NewFaults()
	for _, x := range []incident.Fault{
		{Point: incident.FaultNLU, Scope: "orders"},
		{Point: incident.FaultStoreWrite, Scope: "conversations"},
		{Point: incident.FaultBadRelease, Scope: "x"},
		{Point: incident.FaultLLM, Scope: "secondary"},
	} {
		if _, err := f.Set(x, time.Minute); errcode.Code(err) != errcode.Invalid {
			t.Errorf("fault %s with scope %q: %v, want invalid", x.Point, x.Scope, err)
		}
	}
	for _, x := range []incident.Fault{
		{Point: incident.FaultAnswers, Scope: "orders"},
		{Point: incident.FaultNotify, Scope: "oncall"},
		{Point: incident.FaultLLM, Scope: "fallback"},
		{Point: incident.FaultNLU},
	} {
		if _, err := f.Set(x, time.Minute); err != nil {
			t.Errorf("fault %s with scope %q: %v", x.Point, x.Scope, err)
		}
	}
	// The unscoped one injects.
	if err := f.Inject(context.Background(), incident.FaultNLU, ""); err == nil {
		t.Error("an nlu fault injected nothing")
	}
}
