package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/steward-cs/steward/internal/testutil"
)

// Disaster recovery answers from the essential entries of the active
// release, also of one activated while it is in force: the engine judged
// "essential" by the release that was active when level 3 began, so an
// entry made essential and published to help through the outage was not
// answered until the posture changed.
func TestLevel3AnswersFromAReleasePublishedUnderIt(t *testing.T) {
	run, admin, agent, super := startKB(t)
	c := &testutil.Client{T: t, Base: run.URL}
	admin.Must(http.StatusOK, "PUT", "/api/v1/posture", map[string]any{"level": 3, "reason": "drill"}, nil)
	const question = "礼品卡余额怎么查"
	if turn := c.Say(c.Start("zh-CN"), question); len(turn.Messages) == 0 || turn.Messages[len(turn.Messages)-1].Outcome == "answer" {
		t.Fatalf("before the entry exists, level 3 answered %q: %+v", question, turn.Messages)
	}
	entry := giftCard()
	entry["essential"] = true
	agent.Must(http.StatusCreated, "POST", "/api/v1/kb/entries", entry, nil)
	agent.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/submit", nil, nil)
	super.Must(http.StatusOK, "POST", "/api/v1/kb/entries/gift-card-balance/approve", nil, nil)
	super.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "gift cards, essential"}, nil)
	turn := c.Say(c.Start("zh-CN"), question)
	if len(turn.Messages) == 0 {
		t.Fatal("no reply")
	}
	last := turn.Messages[len(turn.Messages)-1]
	if last.Outcome != "answer" || last.Entry == nil || last.Entry.ID != "gift-card-balance" {
		t.Fatalf("level 3 after the essential entry was published: %+v (state %s), want its answer", last, turn.State)
	}
}
