package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/notify/notifytest"
	"github.com/steward-cs/steward/internal/testutil"
)

// A notice its channel refused for good (a receiver's token rotated) is
// listed among the dead jobs, and once the channel is fixed an operator
// requeues it and it is delivered. Before, a dead notice could be seen only
// as a count, and nothing sent it again.
func TestADeadNoticeIsListedAndRequeued(t *testing.T) {
	fake := notifytest.NewWebhook("")
	defer fake.Close()
	fake.RequireHeader("X-Token", "new")
	run := testutil.Start(t, func(c *config.Config) {
		c.Notify.Channels = []config.Channel{{Name: "ops", Type: "webhook", MinLevel: "info", Settings: map[string]any{
			"url": fake.URL(), "headers": map[string]any{"X-Token": "old"}}}}
	})
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents", map[string]string{"title": "checkout down", "severity": "critical"}, nil)

	type job struct {
		ID        int64  `json:"id"`
		Kind      string `json:"kind"`
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		Payload   string `json:"payload"`
	}
	var dead []job
	deadline := time.Now().Add(20 * time.Second)
	for len(dead) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refused notice never showed among the dead jobs")
		}
		time.Sleep(100 * time.Millisecond)
		var out struct{ Jobs []job }
		admin.Must(http.StatusOK, "GET", "/api/v1/outbox/jobs?status=dead&kind=notify:ops", nil, &out)
		dead = out.Jobs
	}
	j := dead[0]
	if j.Kind != "notify:ops" || j.Status != "dead" || j.Attempts < 1 || !strings.Contains(j.LastError, "401") ||
		!strings.Contains(j.Payload, "checkout down") {
		t.Fatalf("dead job = %+v, want the ops notice of the incident, refused with 401", j)
	}
	if fake.Count() != 0 {
		t.Fatalf("the receiver accepted %d notices with the old token", fake.Count())
	}

	// An agent may read the outbox but not requeue.
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	requeue := "/api/v1/outbox/jobs/" + strconv.FormatInt(j.ID, 10) + "/requeue"
	if status, body := agent.Do("POST", requeue, nil); status != http.StatusForbidden {
		t.Fatalf("an agent's requeue = %d %s, want 403", status, body)
	}

	fake.RequireHeader("X-Token", "old") // the receiver takes the token again
	admin.Must(http.StatusOK, "POST", requeue, nil, nil)
	deadline = time.Now().Add(20 * time.Second)
	for fake.Count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the requeued notice never reached the channel")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := fake.Notices()[0]; !strings.Contains(n.Title, "checkout down") {
		t.Fatalf("delivered %+v, want the incident's notice", n)
	}
	// Sent now: a second requeue is a conflict, and the audit log says who.
	deadline = time.Now().Add(10 * time.Second)
	for {
		status, body := admin.Do("POST", requeue, nil)
		if status == http.StatusConflict {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requeue of a delivered job = %d %s, want 409", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var audit struct {
		Entries []struct {
			Action, Object string
		} `json:"entries"`
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/audit?action=outbox.requeue", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Object != "job:"+strconv.FormatInt(j.ID, 10) {
		t.Fatalf("audit = %+v, want one outbox.requeue of job %d", audit.Entries, j.ID)
	}

	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/v1/outbox/jobs?status=lost", "status"},
		{"GET", "/api/v1/outbox/jobs?limit=0", "limit"},
		{"GET", "/api/v1/outbox/jobs?limit=many", "limit"},
		{"POST", "/api/v1/outbox/jobs/x/requeue", "job id"},
		{"POST", "/api/v1/outbox/jobs/-4/requeue", "job id"},
	} {
		status, body := admin.Do(tc.method, tc.path, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s = %d %s, want 400 naming %s", tc.method, tc.path, status, body, tc.want)
		}
	}
	if status, body := admin.Do("POST", "/api/v1/outbox/jobs/987654/requeue", nil); status != http.StatusNotFound {
		t.Errorf("requeue of a job that does not exist = %d %s, want 404", status, body)
	}
}
