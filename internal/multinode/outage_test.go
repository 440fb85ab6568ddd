package multinode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/drill"
	"github.com/steward-cs/steward/internal/testutil"
)

// statusView is what the public status page says, as far as this test
// looks.
type statusView struct {
	Level              int  `json:"level"`
	HistoryUnavailable bool `json:"history_unavailable"`
}

func statusOf(n *node) (statusView, int, error) {
	code, b, err := call(n, "", "GET", "/api/v1/status", nil)
	var st statusView
	if err == nil && code == 200 {
		err = json.Unmarshal(b, &st)
	}
	return st, code, err
}

// waitLevel polls every node's public status until each shows level.
func waitLevel(t *testing.T, nodes []*node, level int, within time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, n := range nodes {
		for {
			st, code, err := statusOf(n)
			if err == nil && code == 200 && st.Level == level {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s's status page says level %d (HTTP %d, %v) %s after; want level %d", what, n.name, st.Level,
					code, err, within, level)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// PostgreSQL itself goes down under two nodes. The lead is an advisory
// lock in that database, so nobody led, no incident controller ran, and
// level 3, the answer to this very outage, was never served on a
// PostgreSQL deployment; nobody was paged either (the leader pages). Now
// each node that cannot reach the database acts alone: it serves level 3
// to its customers, says so on its status page, and pages. When the
// database is back one incident records the outage, and both nodes return
// to normal together. A customer in the middle of a conversation goes on
// being served throughout (spool.recent), and what they wrote lands.
func TestLevel3WhenTheDatabaseIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server of its own and two Steward processes")
	}
	// Committed is committed: the test servers' synchronous_commit=off
	// would lose the admin's session in the crash.
	pg, err := testutil.StartPostgres("-c synchronous_commit=on")
	if err != nil {
		if testutil.PostgresRequired() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer pg.Stop()
	dbURL, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hook, err := drill.NewReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer hook.Close()
	nodes := clusterWith(t, dbURL, 2, "notify:\n  channels:\n    - {name: oncall, type: webhook, url: \""+hook.URL()+"\", min_level: warning}\n")
	// A second customer whose turns land on either node (REST calls need
	// no sticky sessions): the second node saw the conversation last
	// before the first node's turn. (Waiting for the leader below gives
	// the first node's event the time to reach the second.)
	roaming := start(t, nodes[1], "zh-CN")
	for i, n := range []*node{nodes[1], nodes[0]} {
		if code, b, err := say(n, roaming, fmt.Sprintf("运费怎么算 %d", i)); code != 200 {
			t.Fatalf("the roaming customer's turn %d: %d %s %v", i, code, b, err)
		}
	}
	leader(t, nodes, 30*time.Second, nil)
	admin := adminToken(t, nodes)
	waitLevel(t, nodes, 0, 10*time.Second, "before the outage")
	before := hook.Deliveries()
	// A customer in the middle of a conversation with the first node.
	customer := start(t, nodes[0], "zh-CN")
	if code, b, err := say(nodes[0], customer, "你好"); code != 200 {
		t.Fatalf("a turn before the outage: %d %s %v", code, b, err)
	}

	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	crashed := time.Now()
	waitLevel(t, nodes, 3, 60*time.Second, "PostgreSQL is down")
	t.Logf("level 3 on both nodes %.1f s after PostgreSQL went down", time.Since(crashed).Seconds())
	for _, n := range nodes {
		if st, _, _ := statusOf(n); !st.HistoryUnavailable {
			t.Errorf("%s's status page does not say its incident history cannot be read", n.name)
		}
		// Still ready: it serves level 3 and the status page from its
		// spool and memory. Not ready, the balancer took every node out at
		// once, and the chat and the page with them.
		if code, b, err := call(n, "", "GET", "/readyz", nil); code != 200 || !strings.Contains(string(b), `"store":"unavailable"`) {
			t.Errorf("%s's /readyz during the outage: %d %s %v; want 200 saying the store is unavailable", n.name, code, b, err)
		}
	}
	// The customer goes on: the conversation is served as the node last
	// saw it, and the message waits in the node's spool (it was a 503
	// for the whole outage).
	const during = "停电期间：怎么退货"
	if code, b, err := say(nodes[0], customer, during); code != 200 {
		t.Fatalf("a turn of a conversation under way, during the outage: %d %s %v", code, b, err)
	}
	// The offline form, which level 3 offers whoever it cannot serve, takes
	// the customer's message during the outage (it was a 503).
	const left = "停电期间的留言：请回电"
	if code, b, err := call(nodes[0], customer.Token, "POST", "/api/v1/conversations/"+customer.ID+"/offline-message",
		map[string]string{"contact": "13812345678", "message": left}); code != 201 {
		t.Fatalf("the offline form during the outage: %d %s %v", code, b, err)
	}
	// The roaming customer's next turn lands on the node whose copy is
	// stale. Acknowledged, it must survive; it used to be numbered after
	// the stale copy's last message, answered 200, and refused at replay.
	const roamingDuring = "停电期间：换个节点问问"
	roamingCode, _, _ := say(nodes[1], roaming, roamingDuring)
	for deadline := time.Now().Add(30 * time.Second); hook.Deliveries() == before; {
		if time.Now().After(deadline) {
			t.Fatal("nobody was paged about the database outage within 30 s of level 3")
		}
		time.Sleep(250 * time.Millisecond)
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	// The outage is recorded once, by whichever node leads now, with the
	// level it was served at; both nodes return to normal after the hold.
	type incidentJSON struct {
		ID       string `json:"id"`
		MaxLevel int    `json:"max_level"`
		Phase    string `json:"phase"`
	}
	var incs []incidentJSON
	for deadline := time.Now().Add(60 * time.Second); ; {
		var out struct{ Incidents []incidentJSON }
		code, b, err := call(nodes[0], admin, "GET", "/api/v1/incidents", nil)
		if err == nil && code == 200 && json.Unmarshal(b, &out) == nil && len(out.Incidents) > 0 {
			incs = out.Incidents
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident recorded within 60 s of the database coming back (last answer %d %s %v)", code, b, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	waitLevel(t, nodes, 0, 90*time.Second, "the database is back")
	stored := false
	for _, m := range transcript(t, nodes[1], customer) {
		stored = stored || m.Text == during
	}
	if !stored {
		t.Errorf("the message acknowledged during the outage is not in the database afterwards")
	}
	var tickets struct {
		Tickets []struct {
			ConversationID string `json:"conversation_id"`
			Contact        string `json:"contact"`
			Message        string `json:"message"`
		} `json:"tickets"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		mustCall(t, nodes[1], admin, "GET", "/api/v1/desk/tickets?status=open", nil, &tickets)
		if len(tickets.Tickets) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(tickets.Tickets) != 1 || tickets.Tickets[0].ConversationID != customer.ID ||
		tickets.Tickets[0].Message != left || tickets.Tickets[0].Contact != "138****5678" {
		t.Errorf("the offline message left during the outage, in the desk afterwards: %+v", tickets.Tickets)
	}
	if roamingCode == 200 {
		stored = false
		for _, m := range transcript(t, nodes[0], roaming) {
			stored = stored || m.Text == roamingDuring
		}
		if !stored {
			t.Errorf("the roaming customer's message, acknowledged during the outage by the node with a stale copy, is lost")
		}
	} else if roamingCode != 503 {
		t.Errorf("the roaming customer's turn on the node with a stale copy: %d, want 503 (not acknowledged) or a 200 that lasts", roamingCode)
	}
	var out struct{ Incidents []incidentJSON }
	mustCall(t, nodes[1], admin, "GET", "/api/v1/incidents", nil, &out)
	if len(out.Incidents) != 1 || out.Incidents[0].MaxLevel != 3 {
		t.Fatalf("after the outage the incidents are %+v (first seen: %+v); want one, at level 3", out.Incidents, incs)
	}
}
