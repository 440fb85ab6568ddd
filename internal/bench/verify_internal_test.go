package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The read-back finds more than a missing message: a message stored twice
// (or one never sent), an acknowledgement naming an earlier message, and
// an acknowledged message with no reply after it. By ids alone all of
// these passed as "0 lost".
func TestVerifyFindsDuplicatesAndMissingReplies(t *testing.T) {
	transcript := map[string][]messageFrame{
		"c1": { // m1 stored twice (as m1b), m2 with no reply
			{ID: "g", Seq: 1, Role: "bot"}, {ID: "m1", Seq: 2, Role: "customer"}, {ID: "r1", Seq: 3, Role: "bot"},
			{ID: "m1b", Seq: 4, Role: "customer"}, {ID: "r1b", Seq: 5, Role: "bot"}, {ID: "m2", Seq: 6, Role: "customer"},
		},
		"c2": { // answered once; its turns were acknowledged m3, m3
			{ID: "g", Seq: 1, Role: "bot"}, {ID: "m3", Seq: 2, Role: "customer"}, {ID: "r3", Seq: 3, Role: "bot"},
		},
		"c3": { // sound
			{ID: "g", Seq: 1, Role: "bot"}, {ID: "m4", Seq: 2, Role: "customer"}, {ID: "r4", Seq: 3, Role: "bot"},
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[len("/api/v1/conversations/"):]
		json.NewEncoder(w).Encode(conversationReply{ID: id, State: "bot", Messages: transcript[id]})
	}))
	defer srv.Close()
	led := &ledger{convs: []*conv{
		{id: "c1", token: "t", acked: []string{"m1", "m2"}, sent: 2},
		{id: "c2", token: "t", acked: []string{"m3", "m3"}, sent: 2},
		{id: "c3", token: "t", acked: []string{"m4"}, sent: 1},
	}}
	var r TurnsResult
	if err := verify(context.Background(), srv.URL, led, 10, &r); err != nil {
		t.Fatal(err)
	}
	if r.Lost != 0 || r.Unanswered != 1 || r.Extra != 2 || r.VerifiedMessages != 5 {
		t.Fatalf("lost %d, unanswered %d, extra %d, verified %d; want 0, 1, 2 (m1 stored twice, m3 acknowledged twice), 5",
			r.Lost, r.Unanswered, r.Extra, r.VerifiedMessages)
	}
	if failed := FailedFloors(CheckFloors(&Report{Turns: &r})); len(failed) < 2 {
		t.Fatalf("the floors let it pass: %+v", failed)
	}
}

// A server that crashes on its way out after SIGTERM (a panic while
// closing the store) is a failed stop: Stop returned nil as soon as the
// process had gone, whatever its exit status.
func TestStopReportsACrashOnTheWayOut(t *testing.T) {
	for _, tc := range []struct {
		script string
		crash  bool
	}{
		{"trap 'echo panic: boom >&2; exit 2' TERM; while :; do sleep 0.05; done", true},
		{"trap 'exit 0' TERM; while :; do sleep 0.05; done", false},
	} {
		dir := t.TempDir()
		s := &Steward{logPath: filepath.Join(dir, "steward.log"), exited: make(chan struct{}), cmd: exec.Command("sh", "-c", tc.script)}
		if err := os.WriteFile(s.logPath, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
		time.Sleep(200 * time.Millisecond) // the trap is set
		err := s.Stop(context.Background())
		if (err != nil) != tc.crash {
			t.Errorf("%q: Stop = %v, want an error %v", tc.script, err, tc.crash)
		}
	}
}
