// Package multinode_test runs several real Steward processes on one real
// PostgreSQL database and breaks them: a node killed under load, the lead
// passing on, events crossing nodes, turns serialised across nodes.
package multinode_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

// node is one Steward process.
type node struct {
	name, addr string
	cmd        *exec.Cmd
	logs       *testutil.SyncBuffer
	dead       atomic.Bool
}

func (n *node) base() string { return "http://" + n.addr }

func (n *node) leads() bool { return strings.Contains(n.logs.String(), "this node leads") }

// cluster starts n nodes on one fresh database; the first loads the demo
// knowledge base, the others find it there. They share the keys that seal
// personal data, as the deployment guide says they must.
func cluster(t *testing.T, n int) []*node {
	t.Helper()
	if testing.Short() {
		t.Skip("starts several real Steward processes")
	}
	return clusterOn(t, testutil.PostgresURL(t), n)
}

// clusterOn starts n nodes on the database at dbURL.
func clusterOn(t *testing.T, dbURL string, n int) []*node {
	t.Helper()
	return clusterWith(t, dbURL, n, "")
}

// clusterWith is clusterOn with more configuration (YAML) for every node.
func clusterWith(t *testing.T, dbURL string, n int, yaml string) []*node {
	t.Helper()
	bin, err := testutil.BuildSteward()
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "steward.yaml")
	lifted := "{rate: 1000000, burst: 1000000}"
	if err := os.WriteFile(cfgFile, []byte("security:\n  rate_limits: {ip: "+lifted+", conversation_create: "+lifted+
		", conversation: "+lifted+"}\n  max_websockets_per_ip: 100000\n  websocket_messages: "+lifted+"\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	keys := "k1:" + base64.StdEncoding.EncodeToString(secret)
	var nodes []*node
	for i := range n {
		nd := &node{name: fmt.Sprintf("node%d", i+1), addr: testutil.FreeAddr(t), logs: &testutil.SyncBuffer{}}
		args := []string{"serve", "--database", dbURL, "--addr", nd.addr, "--config", cfgFile, "--data-dir", t.TempDir()}
		if i == 0 {
			args = append(args, "--demo")
		}
		nd.cmd = exec.Command(bin, args...)
		nd.cmd.Env = append(os.Environ(), "STEWARD_NODE="+nd.name, "STEWARD_PII_KEYS="+keys, "STEWARD_LOG_LEVEL=info")
		nd.cmd.Stdout, nd.cmd.Stderr = nd.logs, nd.logs
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			nd.cmd.Process.Kill()
			nd.cmd.Wait()
			if t.Failed() {
				t.Logf("--- %s log (tail) ---\n%s", nd.name, tail(nd.logs.String(), 4000))
			}
		})
		waitReady(t, nd)
		nodes = append(nodes, nd)
	}
	return nodes
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitReady(t *testing.T, n *node) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(n.base() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not become ready:\n%s", n.name, n.logs.String())
}

// leader waits until exactly one live node leads and returns it.
func leader(t *testing.T, nodes []*node, within time.Duration, not *node) *node {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var leaders []*node
		for _, n := range nodes {
			if !n.dead.Load() && n != not && n.leads() {
				leaders = append(leaders, n)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		if len(leaders) > 1 {
			t.Fatalf("%d nodes lead at once", len(leaders))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no node took the lead within %s", within)
	return nil
}

type conv struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

var hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func start(t *testing.T, n *node, locale string) conv {
	t.Helper()
	resp, err := hc.Post(n.base()+"/api/v1/conversations", "application/json", strings.NewReader(`{"locale":"`+locale+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c conv
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("create conversation on %s: %d %s", n.name, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func say(n *node, c conv, text string) (int, []byte, error) {
	return call(n, c.Token, "POST", "/api/v1/conversations/"+c.ID+"/messages", map[string]string{"text": text})
}

// call makes an API call with a bearer token (a customer's or a staff
// member's) and a JSON body (nil for none).
func call(n *node, token, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.base()+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

type message struct {
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Role string `json:"role"`
	Text string `json:"text"`
}

func transcript(t *testing.T, n *node, c conv) []message {
	t.Helper()
	msgs, err := fetchTranscript(n, c)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// fetchTranscript reads a conversation's messages from node n.
func fetchTranscript(n *node, c conv) ([]message, error) {
	req, _ := http.NewRequest("GET", n.base()+"/api/v1/conversations/"+c.ID, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("get conversation from %s: %d %s", n.name, resp.StatusCode, b)
	}
	var out struct{ Messages []message }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// frame is a frame of the customer's stream.
type frame struct {
	Type      string   `json:"type"`
	Message   *message `json:"message"`
	ClientID  string   `json:"client_id"`
	MessageID string   `json:"message_id"`
	Error     *struct{ Code, Message string }
}

func dial(ctx context.Context, n *node, c conv, after int64) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, "ws://"+n.addr+"/api/v1/conversations/"+c.ID+"/stream", nil)
	if err != nil {
		return nil, err
	}
	if err := wsjson.Write(dctx, ws, map[string]any{"type": "auth", "token": c.Token, "after_seq": after}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	var f frame
	if err := wsjson.Read(dctx, ws, &f); err != nil || f.Type != "ready" {
		ws.CloseNow()
		return nil, fmt.Errorf("no ready frame: %v %+v", err, f)
	}
	return ws, nil
}

// A message sent on one node reaches a stream open on another, through
// PostgreSQL's LISTEN/NOTIFY; exactly one node leads.
func TestEventsCrossNodes(t *testing.T) {
	nodes := cluster(t, 3)
	leader(t, nodes, 10*time.Second, nil)
	c := start(t, nodes[0], "zh-CN")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	greeting := transcript(t, nodes[2], c)
	ws, err := dial(ctx, nodes[2], c, greeting[len(greeting)-1].Seq) // only what comes next
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	status, body, err := say(nodes[1], c, "运费多少")
	if err != nil || status != 200 {
		t.Fatalf("say on %s: %d %s %v", nodes[1].name, status, body, err)
	}
	var roles []string
	for len(roles) < 2 {
		var f frame
		if err := wsjson.Read(ctx, ws, &f); err != nil {
			t.Fatalf("the stream on %s heard %v of a turn taken on %s, then: %v", nodes[2].name, roles, nodes[1].name, err)
		}
		if f.Type == "message" {
			roles = append(roles, f.Message.Role)
			if f.Message.Role == "customer" && f.Message.Text != "运费多少" {
				t.Errorf("customer message on the other node = %q", f.Message.Text)
			}
		}
	}
	if roles[0] != "customer" || roles[1] != "bot" {
		t.Errorf("the other node's stream got %v, want the customer's message then the bot's reply", roles)
	}
}

// Turns of one conversation sent through two nodes at once run one at a
// time: every one is accepted (none refused as a concurrent change), and
// the transcript alternates message and reply.
func TestTurnsAreSerialisedAcrossNodes(t *testing.T) {
	nodes := cluster(t, 2)
	c := start(t, nodes[0], "en")
	const turns = 16
	var wg sync.WaitGroup
	errs := make(chan string, turns)
	for i := range turns {
		wg.Go(func() {
			status, body, err := say(nodes[i%2], c, fmt.Sprintf("how much is shipping #%d", i))
			if err != nil || status != 200 {
				errs <- fmt.Sprintf("turn %d on %s: %d %s %v", i, nodes[i%2].name, status, body, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	msgs := transcript(t, nodes[1], c)
	customers := 0
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
		if m.Role == "customer" {
			customers++
			if i+1 >= len(msgs) || msgs[i+1].Role != "bot" {
				t.Errorf("customer message %d (%q) is not followed by its reply", m.Seq, m.Text)
			}
		}
	}
	if customers != turns {
		t.Errorf("%d customer messages stored, want %d", customers, turns)
	}
}

// The targets for a node killed under load: clients back within
// 5 s, no acknowledged message lost, no message answered twice. The node
// killed is the leader, so the lead must pass on too.
func TestNodeKilledUnderLoad(t *testing.T) {
	nodes := cluster(t, 3)
	victim := leader(t, nodes, 10*time.Second, nil)
	const customers, perCustomer = 30, 20
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type result struct {
		c       conv
		acked   []string
		outage  time.Duration // from the first failure to the next ack
		failure string
	}
	results := make([]*result, customers)
	var (
		total    atomic.Int64
		killedAt atomic.Int64
		wg       sync.WaitGroup
	)
	for i := range customers {
		results[i] = &result{c: start(t, nodes[i%len(nodes)], []string{"zh-CN", "en"}[i%2])}
	}
	for i, r := range results {
		home := i % len(nodes)
		wg.Go(func() {
			at := home
			var ws *websocket.Conn
			var last int64
			var down time.Time
			defer func() {
				if ws != nil {
					ws.CloseNow()
				}
			}()
			connect := func() error {
				for attempt := 0; ctx.Err() == nil; attempt++ {
					n := nodes[(at+attempt)%len(nodes)]
					var err error
					if ws, err = dial(ctx, n, r.c, last); err == nil {
						at = (at + attempt) % len(nodes)
						return nil
					}
					time.Sleep(100 * time.Millisecond)
				}
				return ctx.Err()
			}
			if err := connect(); err != nil {
				r.failure = "connect: " + err.Error()
				return
			}
			for j := 0; j < perCustomer; {
				text := fmt.Sprintf("%s #%d-%d", testutil.Questions[(i+j)%len(testutil.Questions)], i, j)
				err := wsjson.Write(ctx, ws, map[string]string{"type": "message", "text": text, "client_id": text})
				for err == nil {
					var f frame
					if err = wsjson.Read(ctx, ws, &f); err != nil {
						break
					}
					if f.Type == "message" {
						last = max(last, f.Message.Seq)
					}
					if f.Type == "error" {
						err = fmt.Errorf("error frame: %+v", f.Error)
						break
					}
					if f.Type == "ack" && f.ClientID == text {
						break
					}
				}
				if err == nil {
					r.acked = append(r.acked, text)
					if !down.IsZero() {
						r.outage = max(r.outage, time.Since(down))
						down = time.Time{}
					}
					j++
					if total.Add(1) == customers*perCustomer/3 {
						killedAt.Store(time.Now().UnixNano())
						victim.dead.Store(true)
						victim.cmd.Process.Signal(syscall.SIGKILL)
					}
					continue
				}
				// The node is gone, or the socket broke: reconnect elsewhere
				// and find out whether the message in flight was stored
				// before resending it (the widget does the same).
				if down.IsZero() {
					down = time.Now()
				}
				ws.CloseNow()
				at++
				if err := connect(); err != nil {
					r.failure = "reconnect: " + err.Error()
					return
				}
				stored := false
				for _, m := range transcriptOr(nodes[at], r.c) {
					if m.Role == "customer" && m.Text == text {
						stored = true
					}
				}
				if stored {
					r.acked = append(r.acked, text)
					j++
				}
			}
		})
	}
	wg.Wait()
	if killedAt.Load() == 0 {
		t.Fatal("the load finished before the kill")
	}
	newLeader := leader(t, nodes, 5*time.Second, victim)
	t.Logf("killed the leader %s; %s leads now", victim.name, newLeader.name)

	var worst time.Duration
	moved := 0
	survivor := newLeader
	for i, r := range results {
		if r.failure != "" {
			t.Errorf("customer %d: %s", i, r.failure)
			continue
		}
		if r.outage > 0 {
			moved++
			worst = max(worst, r.outage)
		}
		if len(r.acked) != perCustomer {
			t.Errorf("customer %d got %d of %d messages acknowledged", i, len(r.acked), perCustomer)
		}
		msgs := transcript(t, survivor, r.c)
		seen := map[string]int{}
		for k, m := range msgs {
			if m.Seq != int64(k+1) {
				t.Errorf("customer %d: message %d has seq %d", i, k, m.Seq)
			}
			if m.Role == "customer" {
				seen[m.Text]++
			}
		}
		for _, text := range r.acked {
			switch seen[text] {
			case 1:
			case 0:
				t.Errorf("customer %d: acknowledged message %q is lost", i, text)
			default:
				t.Errorf("customer %d: message %q is stored %d times", i, text, seen[text])
			}
		}
		for k := 0; k+1 < len(msgs); k++ {
			if msgs[k].Role == "bot" && msgs[k+1].Role == "bot" && msgs[k].Text == msgs[k+1].Text {
				t.Errorf("customer %d: the bot answered twice at seq %d", i, msgs[k].Seq)
			}
		}
	}
	t.Logf("%d customers; %d were on the killed node and came back, the slowest after %s", customers, moved, worst)
	if moved == 0 {
		t.Error("no customer noticed the kill: the test did not test a failover")
	}
	if worst > 5*time.Second {
		t.Errorf("a customer was without service for %s after the kill (target: within 5 s)", worst)
	}
}

// transcriptOr reads a conversation's messages, or none if n cannot.
func transcriptOr(n *node, c conv) []message {
	msgs, _ := fetchTranscript(n, c)
	return msgs
}

// adminToken logs in as the demo's admin, whose password the first node
// printed, and returns a bearer token.
func adminToken(t *testing.T, nodes []*node) string {
	t.Helper()
	var password string
	for _, line := range strings.Split(nodes[0].logs.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == "admin@demo.steward" {
			password = f[2]
		}
	}
	if password == "" {
		t.Fatalf("the first node printed no admin login:\n%s", tail(nodes[0].logs.String(), 3000))
	}
	body, _ := json.Marshal(map[string]string{"email": "admin@demo.steward", "password": password})
	resp, err := hc.Post(nodes[1].base()+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Token == "" {
		t.Fatalf("admin login: %d %v", resp.StatusCode, err)
	}
	return out.Token
}

// mustCall makes an authenticated API call (a staff member's or a
// customer's token) that must succeed, and decodes its answer into out.
func mustCall(t *testing.T, n *node, token, method, path string, in, out any) {
	t.Helper()
	status, b, err := call(n, token, method, path, in)
	if err != nil {
		t.Fatal(err)
	}
	if status/100 != 2 {
		t.Fatalf("%s %s on %s: %d %s", method, path, n.name, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type alertJSON struct {
	Labels   map[string]string `json:"labels"`
	Silenced []string          `json:"silenced"`
}

// firingOn returns node n's firing alert of rule name, if any.
func firingOn(t *testing.T, n *node, token, name string) (alertJSON, bool) {
	var out struct{ Firing []alertJSON }
	mustCall(t, n, token, "GET", "/api/v1/alerts", nil, &out)
	for _, a := range out.Firing {
		if a.Labels["alertname"] == name {
			return a, true
		}
	}
	return alertJSON{}, false
}

// The monitor's rules see every node's signals: low ratings given on a
// follower alone raise the alert, listed by every node's console. A
// silence made on the follower mutes it on the leader, which notifies.
func TestAlertsSeeEveryNode(t *testing.T) {
	nodes := cluster(t, 2)
	lead := leader(t, nodes, 10*time.Second, nil)
	follower := nodes[0]
	if follower == lead {
		follower = nodes[1]
	}
	token := adminToken(t, nodes)
	for i := range 3 {
		c := start(t, follower, "en")
		mustCall(t, follower, c.Token, "POST", "/api/v1/conversations/"+c.ID+"/rating",
			map[string]any{"score": 1, "comment": fmt.Sprint("bad #", i)}, nil)
	}
	within := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("not within 15 s: %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	start := time.Now()
	within("the leader fires low_ratings from the follower's ratings", func() bool {
		_, ok := firingOn(t, lead, token, "low_ratings")
		return ok
	})
	t.Logf("the leader fired after %s", time.Since(start).Round(time.Millisecond))
	within("the follower lists low_ratings too", func() bool {
		_, ok := firingOn(t, follower, token, "low_ratings")
		return ok
	})
	mustCall(t, follower, token, "POST", "/api/v1/silences",
		map[string]any{"matchers": []string{`alertname="low_ratings"`}, "comment": "known: bad batch", "duration": "1h"}, nil)
	within("the follower's silence mutes the alert on the leader", func() bool {
		a, ok := firingOn(t, lead, token, "low_ratings")
		return ok && len(a.Silenced) == 1
	})
}
