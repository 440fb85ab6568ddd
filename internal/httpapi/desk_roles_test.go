package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// The actors of the role tables.
const (
	roleAdmin      = "admin"
	roleSupervisor = "supervisor"
	roleAgent      = "agent"       // owns the fixture's "mine" conversation
	roleOtherAgent = "other_agent" // another agent: "mine" is someone else's to them
	roleAuditor    = "auditor"
	roleAnonymous  = "anonymous"
)

// roleMissingID names no conversation (or anything else).
const roleMissingID = "cnotthere"

// roleWorld is one running Steward with a signed-in user per role, made
// once per top-level test: logins cost a bcrypt comparison each.
type roleWorld struct {
	url   string
	run   *testutil.Running
	staff map[string]*testutil.Staff
	n     int // makes names unique across scenarios
}

// roleWorldPassword is the password of every user startRoleWorld adds.
const roleWorldPassword = "correct horse battery"

// startRoleWorld starts Steward with manual assignment (and whatever
// modify changes besides) and signs in a user per role.
func startRoleWorld(t *testing.T, modify ...func(*config.Config)) *roleWorld {
	t.Helper()
	run := testutil.Start(t, func(c *config.Config) {
		c.Desk.ManualAssign = true
		for _, m := range modify {
			m(c)
		}
	})
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	w := &roleWorld{url: run.URL, run: run, staff: map[string]*testutil.Staff{
		roleAdmin:      admin,
		roleSupervisor: admin.AddUser("supervisor@example.com", "supervisor", nil),
		roleAgent:      admin.AddUser("agent@example.com", "agent", map[string]any{"max_chats": 50}),
		roleOtherAgent: admin.AddUser("other@example.com", "agent", map[string]any{"max_chats": 50}),
		roleAuditor:    admin.AddUser("auditor@example.com", "auditor", nil),
		roleAnonymous:  {T: t, Base: run.URL, Email: "anonymous"},
	}}
	for _, who := range []string{roleAgent, roleOtherAgent} {
		w.staff[who].Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	}
	return w
}

// as returns actor's Staff reporting to t.
func (w *roleWorld) as(t *testing.T, actor string) *testutil.Staff {
	s, ok := w.staff[actor]
	if !ok {
		t.Fatalf("unknown actor %q", actor)
	}
	c := *s
	c.T = t
	return &c
}

func (w *roleWorld) id(actor string) string { return w.staff[actor].ID }

// handoff starts a conversation whose customer asks for a person, so that
// it waits in the queue (assignment is manual).
func (w *roleWorld) handoff(t *testing.T) testutil.Conversation {
	t.Helper()
	c := &testutil.Client{T: t, Base: w.url}
	conv := c.Start("zh-CN")
	if turn := c.Say(conv, "转人工"); turn.State != "queued" {
		t.Fatalf("handoff: %+v, want state queued", turn)
	}
	return conv
}

// roleFixture is what one scenario starts from: a queued conversation
// nobody has, one the agent has claimed, and (made on demand) a ticket, a
// canned reply, an API key and a closed conversation.
type roleFixture struct {
	t      *testing.T
	w      *roleWorld
	queued testutil.Conversation
	mine   testutil.Conversation
	closed *testutil.Conversation

	ticket, resolvedTicket, canned, apiKey string
}

func (w *roleWorld) fixture(t *testing.T) *roleFixture {
	t.Helper()
	w.n++
	// A scenario may have sent the agent away: routing and handoffs need
	// someone online.
	w.as(t, roleAgent).Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	fx := &roleFixture{t: t, w: w, queued: w.handoff(t), mine: w.handoff(t)}
	w.as(t, roleAgent).Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+fx.mine.ID+"/claim", nil, nil)
	// The queue's places come from the router's last run, which a handoff
	// sets off on its own goroutine: on a loaded machine a scenario's first
	// read could come before it ("get queued" found no position).
	for deadline := time.Now().Add(10 * time.Second); ; {
		var q struct {
			Queue []roleItem `json:"queue"`
		}
		w.as(t, roleAdmin).Must(http.StatusOK, "GET", "/api/v1/desk/queue", nil, &q)
		if slices.ContainsFunc(q.Queue, func(it roleItem) bool { return it.ID == fx.queued.ID && it.Position >= 1 }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued conversation %s is not in the queue after 10 s", fx.queued.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		// Free the agents' slots and empty the queue for the next scenario;
		// what a scenario already closed answers 409.
		admin := w.as(t, roleAdmin)
		for _, id := range []string{fx.queued.ID, fx.mine.ID} {
			admin.Do("POST", "/api/v1/desk/conversations/"+id+"/close", map[string]bool{"ask_rating": false})
		}
	})
	return fx
}

func (fx *roleFixture) admin() *testutil.Staff { return fx.w.as(fx.t, roleAdmin) }

// conv returns the id of the fixture's "queued", "mine" or "closed"
// conversation, or roleMissingID.
func (fx *roleFixture) conv(which string) string {
	switch which {
	case "queued":
		return fx.queued.ID
	case "mine":
		return fx.mine.ID
	case "closed":
		if fx.closed == nil {
			c := fx.w.handoff(fx.t)
			fx.admin().Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+c.ID+"/close", nil, nil)
			fx.closed = &c
		}
		return fx.closed.ID
	case "missing":
		return roleMissingID
	}
	fx.t.Fatalf("no conversation %q in the fixture", which)
	return ""
}

// ticketID returns an open offline-message ticket on the queued conversation.
func (fx *roleFixture) ticketID() string {
	if fx.ticket == "" {
		c := &testutil.Client{T: fx.t, Base: fx.w.url}
		status, b := c.Do("POST", "/api/v1/conversations/"+fx.queued.ID+"/offline-message", fx.queued.Token,
			[]byte(`{"contact":"li@example.com","message":"请回电话"}`))
		if status != http.StatusCreated {
			fx.t.Fatalf("offline message: %d %s", status, b)
		}
		fx.ticket = roleDecode[struct {
			Ticket struct{ ID string }
		}](fx.t, b).Ticket.ID
	}
	return fx.ticket
}

// resolvedTicketID returns a ticket the admin has already resolved.
func (fx *roleFixture) resolvedTicketID() string {
	if fx.resolvedTicket == "" {
		id := fx.ticketID()
		fx.admin().Must(http.StatusOK, "POST", "/api/v1/desk/tickets/"+id+"/resolve", nil, nil)
		fx.ticket, fx.resolvedTicket = "", id
	}
	return fx.resolvedTicket
}

func (fx *roleFixture) cannedID() string {
	if fx.canned == "" {
		var out struct {
			Canned struct{ ID string }
		}
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/desk/canned",
			map[string]string{"title": "fixture", "text": "稍等", "locale": "zh-CN"}, &out)
		fx.canned = out.Canned.ID
	}
	return fx.canned
}

func (fx *roleFixture) apiKeyID() string {
	if fx.apiKey == "" {
		var out struct{ ID string }
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "fixture"}, &out)
		fx.apiKey = out.ID
	}
	return fx.apiKey
}

// roleItem is the part of a desk Item the tables look at.
type roleItem struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Position int    `json:"position"`
	LastSeq  int64  `json:"last_seq"`
	Assignee *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"assignee"`
}

func (it roleItem) assignee() string {
	if it.Assignee == nil {
		return ""
	}
	return it.Assignee.ID
}

type roleTranscript struct {
	Conversation roleItem `json:"conversation"`
	Messages     []struct {
		Role    string `json:"role"`
		Text    string `json:"text"`
		Outcome string `json:"outcome"`
		Author  *struct{ ID, Name string }
	} `json:"messages"`
	Summary *struct {
		HandoffReason string `json:"handoff_reason"`
	} `json:"summary"`
	Notes []struct {
		Text   string
		Author struct{ ID string }
	} `json:"notes"`
	Suggestions []json.RawMessage `json:"suggestions"`
}

// transcript reads a conversation as the admin sees it.
func (fx *roleFixture) transcript(id string) roleTranscript {
	var tr roleTranscript
	fx.admin().Must(http.StatusOK, "GET", "/api/v1/desk/conversations/"+id, nil, &tr)
	return tr
}

func roleDecode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// roleErrorCodes is the error code each failure status must carry.
var roleErrorCodes = map[int]string{
	400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid", 409: "conflict",
	413: "invalid", 429: "rate_limited",
}

// assertRoleAnswer checks the status, and for a failure the JSON error shape
// with the code that belongs to the status.
func assertRoleAnswer(t *testing.T, status int, b []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("got %d %s, want %d", status, b, want)
	}
	if status < 400 {
		return
	}
	var e struct {
		Error *struct{ Code, Message string }
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error == nil {
		t.Fatalf("%d %q is not a JSON error: %v", status, b, err)
	}
	if e.Error.Code != roleErrorCodes[status] || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q and a message", *e.Error, roleErrorCodes[status])
	}
}

// The checks scenarios share.

func roleConv(which, suffix string) func(*roleFixture) string {
	return func(fx *roleFixture) string { return "/api/v1/desk/conversations/" + fx.conv(which) + suffix }
}

func rolePath(path string) func(*roleFixture) string {
	return func(*roleFixture) string { return path }
}

// roleAssignedTo checks an answer {"conversation":Item} assigned to actor.
func roleAssignedTo(actor string) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		it := roleDecode[struct{ Conversation roleItem }](t, b).Conversation
		if it.State != "assigned" || it.assignee() != fx.w.id(actor) {
			t.Fatalf("conversation %+v, want assigned to %s (%s)", it, actor, fx.w.id(actor))
		}
	}
}

func roleClosed(t *testing.T, fx *roleFixture, b []byte) {
	if it := roleDecode[struct{ Conversation roleItem }](t, b).Conversation; it.State != "closed" {
		t.Fatalf("conversation %+v, want closed", it)
	}
}

// roleReadsMine checks the transcript of the agent's conversation.
func roleReadsMine(t *testing.T, fx *roleFixture, b []byte) {
	tr := roleDecode[roleTranscript](t, b)
	if tr.Conversation.ID != fx.mine.ID || tr.Conversation.State != "assigned" || tr.Conversation.assignee() != fx.w.id(roleAgent) {
		t.Fatalf("conversation %+v, want %s assigned to the agent", tr.Conversation, fx.mine.ID)
	}
	if len(tr.Messages) < 3 || tr.Summary == nil || tr.Summary.HandoffReason != "request" || tr.Notes == nil || tr.Suggestions == nil {
		t.Fatalf("transcript %s", b)
	}
}

func roleReadsQueued(t *testing.T, fx *roleFixture, b []byte) {
	it := roleDecode[roleTranscript](t, b).Conversation
	if it.ID != fx.queued.ID || it.State != "queued" || it.Assignee != nil || it.Position < 1 {
		t.Fatalf("conversation %+v, want %s queued, unassigned, with a position", it, fx.queued.ID)
	}
}

func roleQueueHasQueued(t *testing.T, fx *roleFixture, b []byte) {
	q := roleDecode[struct {
		Queue        []roleItem `json:"queue"`
		AgentsOnline int        `json:"agents_online"`
	}](t, b)
	found := false
	for _, it := range q.Queue {
		found = found || it.ID == fx.queued.ID && it.Position >= 1
		if it.ID == fx.mine.ID {
			t.Fatalf("an assigned conversation is in the queue: %s", b)
		}
	}
	if !found || q.AgentsOnline < 1 {
		t.Fatalf("queue %s, want %s in it and an agent online", b, fx.queued.ID)
	}
}

// roleLists checks {"conversations":[Item]}: which fixture conversations are in it.
func roleLists(queued, mine bool) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		got := map[string]bool{}
		for _, it := range roleDecode[struct{ Conversations []roleItem }](t, b).Conversations {
			got[it.ID] = true
		}
		if got[fx.queued.ID] != queued || got[fx.mine.ID] != mine {
			t.Fatalf("listed %v: queued %v mine %v, want %v %v", got, got[fx.queued.ID], got[fx.mine.ID], queued, mine)
		}
	}
}

// roleClosedList closes the agent's conversation (as the agent) and makes
// the fixture's closed one (a queued conversation an admin closed, nobody's),
// then lists scope=closed.
func roleClosedList(fx *roleFixture) string {
	fx.w.as(fx.t, roleAgent).Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+fx.mine.ID+"/close", map[string]bool{"ask_rating": false}, nil)
	fx.conv("closed")
	return "/api/v1/desk/conversations?scope=closed"
}

// roleListsClosed checks a scope=closed list: whether the agent's closed
// conversation and the one nobody had are in it, latest closed first, each
// with its closed_at.
func roleListsClosed(agents, nobodys bool) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		var d struct {
			Conversations []struct {
				roleItem
				ClosedAt *time.Time `json:"closed_at"`
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		at := map[string]int{}
		for i, it := range d.Conversations {
			if it.State != "closed" || it.ClosedAt == nil {
				t.Fatalf("scope=closed listed %+v", it)
			}
			if i > 0 && it.ClosedAt.After(*d.Conversations[i-1].ClosedAt) {
				t.Fatalf("scope=closed is not latest first: %s", b)
			}
			at[it.ID] = i + 1
		}
		if (at[fx.mine.ID] > 0) != agents || (at[fx.closed.ID] > 0) != nobodys {
			t.Fatalf("scope=closed: the agent's %v, nobody's %v; want %v, %v", at[fx.mine.ID] > 0, at[fx.closed.ID] > 0, agents, nobodys)
		}
		if agents && nobodys && at[fx.closed.ID] > at[fx.mine.ID] {
			t.Fatalf("scope=closed lists the conversation closed later (%s) after the earlier one: %s", fx.closed.ID, b)
		}
	}
}

func roleAgentMessage(actor, text string) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		m := roleDecode[struct {
			Message struct {
				Role, Text string
				Author     *struct{ ID, Name string }
			}
		}](t, b).Message
		if m.Role != "agent" || m.Text != text || m.Author == nil || m.Author.ID != fx.w.id(actor) || m.Author.Name == "" {
			t.Fatalf("message %s, want an agent message %q by %s", b, text, actor)
		}
	}
}

func roleNoteBy(actor, text string) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		n := roleDecode[struct {
			Note struct {
				ID, Text string
				Author   struct{ ID string }
			}
		}](t, b).Note
		if n.ID == "" || n.Text != text || n.Author.ID != fx.w.id(actor) {
			t.Fatalf("note %s, want %q by %s", b, text, actor)
		}
	}
}

func rolePresence(status string, maxChats int) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		p := roleDecode[struct {
			Status   string `json:"status"`
			Load     int    `json:"load"`
			MaxChats int    `json:"max_chats"`
		}](t, b)
		if p.Status != status || (maxChats > 0 && p.MaxChats != maxChats) {
			t.Fatalf("presence %s, want status %s, max_chats %d", b, status, maxChats)
		}
	}
}

func roleListsAgents(t *testing.T, fx *roleFixture, b []byte) {
	byID := map[string]struct {
		Status   string
		MaxChats int `json:"max_chats"`
		Load     int
	}{}
	for _, a := range roleDecode[struct {
		Agents []struct {
			ID, Status string
			MaxChats   int `json:"max_chats"`
			Load       int
		}
	}](t, b).Agents {
		byID[a.ID] = struct {
			Status   string
			MaxChats int `json:"max_chats"`
			Load     int
		}{a.Status, a.MaxChats, a.Load}
	}
	a, ok := byID[fx.w.id(roleAgent)]
	if !ok || a.Status != "online" || a.MaxChats != 50 || a.Load < 1 {
		t.Fatalf("agents %s: the agent is %+v, want online, max_chats 50, load >= 1", b, a)
	}
	if _, ok := byID[fx.w.id(roleAuditor)]; ok {
		t.Fatalf("agents %s include the auditor", b)
	}
}

func roleListsCanned(t *testing.T, fx *roleFixture, b []byte) {
	cs := roleDecode[struct {
		Canned []struct{ ID, Title, Text, Locale string }
	}](t, b).Canned
	if len(cs) == 0 || cs[0].ID == "" || cs[0].Text == "" {
		t.Fatalf("canned %s, want the demo replies", b)
	}
}

func roleListsTicket(t *testing.T, fx *roleFixture, b []byte) {
	for _, tk := range roleDecode[struct {
		Tickets []struct{ ID, Status string }
	}](t, b).Tickets {
		if tk.ID == fx.ticket && tk.Status == "open" {
			return
		}
	}
	t.Fatalf("tickets %s, want the open ticket %s", b, fx.ticket)
}

func roleResolvedBy(actor string) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		tk := roleDecode[struct {
			Ticket struct {
				ID, Status string
				ResolvedBy string `json:"resolved_by"`
			}
		}](t, b).Ticket
		if tk.ID != fx.ticket || tk.Status != "resolved" || tk.ResolvedBy != fx.w.id(actor) {
			t.Fatalf("ticket %s, want %s resolved by %s", b, fx.ticket, actor)
		}
	}
}

func roleMeIs(actor string, cookie bool) func(*testing.T, *roleFixture, []byte) {
	return func(t *testing.T, fx *roleFixture, b []byte) {
		me := roleDecode[struct {
			User struct{ ID, Role string }
			CSRF *string `json:"csrf_token"`
		}](t, b)
		if me.User.ID != fx.w.id(actor) || (me.CSRF != nil) != cookie {
			t.Fatalf("me %s, want %s, csrf_token present: %v", b, actor, cookie)
		}
	}
}

// roleScenario is one request by one actor against a fresh fixture.
type roleScenario struct {
	name   string
	actor  string
	method string
	path   func(*roleFixture) string
	body   any // or func(*roleFixture) any
	want   int
	check  func(t *testing.T, fx *roleFixture, body []byte)
}

func TestDeskRoles(t *testing.T) {
	w := startRoleWorld(t)
	const (
		queue    = "/api/v1/desk/queue"
		list     = "/api/v1/desk/conversations"
		pres     = "/api/v1/desk/presence"
		agents   = "/api/v1/desk/agents"
		canned   = "/api/v1/desk/canned"
		tickets  = "/api/v1/desk/tickets"
		apiKeys  = "/api/v1/auth/api-keys"
		users    = "/api/v1/users"
		me       = "/api/v1/auth/me"
		hello    = "您好，我来帮您"
		noteText = "客户很着急"
	)
	text := map[string]string{"text": hello}
	note := map[string]string{"text": noteText}
	online := map[string]string{"status": "online"}
	assignTo := func(actor string) func(*roleFixture) any {
		return func(fx *roleFixture) any { return map[string]string{"agent_id": fx.w.id(actor)} }
	}
	withTicket := func(path string) func(*roleFixture) string {
		return func(fx *roleFixture) string { fx.ticketID(); return path }
	}
	ticket := func(fx *roleFixture) string { return tickets + "/" + fx.ticketID() + "/resolve" }
	cannedItem := func(fx *roleFixture) string { return canned + "/" + fx.cannedID() }
	apiKey := func(fx *roleFixture) string { return apiKeys + "/" + fx.apiKeyID() }
	newCanned := map[string]string{"title": "感谢", "text": "感谢您的耐心", "locale": "zh-CN"}
	newUser := func(fx *roleFixture) any {
		return map[string]any{"email": fmt.Sprintf("new%d@example.com", fx.w.n), "role": "agent", "password": "a long passphrase"}
	}

	scenarios := []roleScenario{
		// GET /desk/queue
		{"queue: admin", roleAdmin, "GET", rolePath(queue), nil, 200, roleQueueHasQueued},
		{"queue: supervisor", roleSupervisor, "GET", rolePath(queue), nil, 200, roleQueueHasQueued},
		{"queue: agent", roleAgent, "GET", rolePath(queue), nil, 200, roleQueueHasQueued},
		{"queue: other agent", roleOtherAgent, "GET", rolePath(queue), nil, 200, roleQueueHasQueued},
		{"queue: auditor", roleAuditor, "GET", rolePath(queue), nil, 200, roleQueueHasQueued},
		{"queue: anonymous", roleAnonymous, "GET", rolePath(queue), nil, 401, nil},
		{"queue: wrong method", roleAdmin, "DELETE", rolePath(queue), nil, 405, nil},

		// GET /desk/conversations?scope=
		{"mine: admin", roleAdmin, "GET", rolePath(list + "?scope=mine"), nil, 200, roleLists(false, false)},
		{"mine: agent", roleAgent, "GET", rolePath(list + "?scope=mine"), nil, 200, roleLists(false, true)},
		{"mine: agent, scope by default", roleAgent, "GET", rolePath(list), nil, 200, roleLists(false, true)},
		{"mine: other agent", roleOtherAgent, "GET", rolePath(list + "?scope=mine"), nil, 200, roleLists(false, false)},
		{"mine: auditor", roleAuditor, "GET", rolePath(list + "?scope=mine"), nil, 200, roleLists(false, false)},
		{"mine: anonymous", roleAnonymous, "GET", rolePath(list + "?scope=mine"), nil, 401, nil},
		{"active: admin", roleAdmin, "GET", rolePath(list + "?scope=active"), nil, 200, roleLists(true, true)},
		{"active: supervisor", roleSupervisor, "GET", rolePath(list + "?scope=active"), nil, 200, roleLists(true, true)},
		{"active: auditor", roleAuditor, "GET", rolePath(list + "?scope=active"), nil, 200, roleLists(true, true)},
		{"active: agent", roleAgent, "GET", rolePath(list + "?scope=active"), nil, 403, nil},
		{"active: other agent", roleOtherAgent, "GET", rolePath(list + "?scope=active"), nil, 403, nil},
		{"active: anonymous", roleAnonymous, "GET", rolePath(list + "?scope=active"), nil, 401, nil},
		{"closed: admin", roleAdmin, "GET", roleClosedList, nil, 200, roleListsClosed(true, true)},
		{"closed: supervisor", roleSupervisor, "GET", roleClosedList, nil, 200, roleListsClosed(true, true)},
		{"closed: auditor", roleAuditor, "GET", roleClosedList, nil, 200, roleListsClosed(true, true)},
		{"closed: agent", roleAgent, "GET", roleClosedList, nil, 200, roleListsClosed(true, false)},
		{"closed: other agent", roleOtherAgent, "GET", roleClosedList, nil, 200, roleListsClosed(false, false)},
		{"closed: anonymous", roleAnonymous, "GET", roleClosedList, nil, 401, nil},
		{"list: unknown scope", roleAdmin, "GET", rolePath(list + "?scope=everything"), nil, 400, nil},

		// GET /desk/conversations/{id}
		{"get mine: admin", roleAdmin, "GET", roleConv("mine", ""), nil, 200, roleReadsMine},
		{"get mine: supervisor", roleSupervisor, "GET", roleConv("mine", ""), nil, 200, roleReadsMine},
		{"get mine: agent", roleAgent, "GET", roleConv("mine", ""), nil, 200, roleReadsMine},
		{"get mine: other agent", roleOtherAgent, "GET", roleConv("mine", ""), nil, 403, nil},
		{"get mine: auditor", roleAuditor, "GET", roleConv("mine", ""), nil, 200, roleReadsMine},
		{"get mine: anonymous", roleAnonymous, "GET", roleConv("mine", ""), nil, 401, nil},
		{"get queued: agent", roleAgent, "GET", roleConv("queued", ""), nil, 200, roleReadsQueued},
		{"get queued: other agent", roleOtherAgent, "GET", roleConv("queued", ""), nil, 200, roleReadsQueued},
		{"get queued: auditor", roleAuditor, "GET", roleConv("queued", ""), nil, 200, roleReadsQueued},
		{"get queued: anonymous", roleAnonymous, "GET", roleConv("queued", ""), nil, 401, nil},
		{"get missing: admin", roleAdmin, "GET", roleConv("missing", ""), nil, 404, nil},
		{"get missing: supervisor", roleSupervisor, "GET", roleConv("missing", ""), nil, 404, nil},
		{"get missing: agent", roleAgent, "GET", roleConv("missing", ""), nil, 404, nil},
		{"get missing: auditor", roleAuditor, "GET", roleConv("missing", ""), nil, 404, nil},
		{"get missing: anonymous", roleAnonymous, "GET", roleConv("missing", ""), nil, 401, nil},
		{"get: wrong method", roleAdmin, "PUT", roleConv("mine", ""), text, 405, nil},

		// GET /desk/conversations/{id}/suggestions
		{"suggestions mine: agent", roleAgent, "GET", roleConv("mine", "/suggestions"), nil, 200, nil},
		{"suggestions mine: other agent", roleOtherAgent, "GET", roleConv("mine", "/suggestions"), nil, 403, nil},
		{"suggestions mine: auditor", roleAuditor, "GET", roleConv("mine", "/suggestions"), nil, 200, nil},
		{"suggestions mine: anonymous", roleAnonymous, "GET", roleConv("mine", "/suggestions"), nil, 401, nil},

		// POST /desk/conversations/{id}/claim
		{"claim queued: admin", roleAdmin, "POST", roleConv("queued", "/claim"), nil, 200, roleAssignedTo(roleAdmin)},
		{"claim queued: supervisor", roleSupervisor, "POST", roleConv("queued", "/claim"), nil, 200, roleAssignedTo(roleSupervisor)},
		{"claim queued: agent", roleAgent, "POST", roleConv("queued", "/claim"), nil, 200, roleAssignedTo(roleAgent)},
		{"claim queued: other agent", roleOtherAgent, "POST", roleConv("queued", "/claim"), nil, 200, roleAssignedTo(roleOtherAgent)},
		{"claim queued: auditor", roleAuditor, "POST", roleConv("queued", "/claim"), nil, 403, nil},
		{"claim queued: anonymous", roleAnonymous, "POST", roleConv("queued", "/claim"), nil, 401, nil},
		{"claim mine: admin takes over", roleAdmin, "POST", roleConv("mine", "/claim"), nil, 200, roleAssignedTo(roleAdmin)},
		{"claim mine: supervisor takes over", roleSupervisor, "POST", roleConv("mine", "/claim"), nil, 200, roleAssignedTo(roleSupervisor)},
		{"claim mine: agent again is a no-op", roleAgent, "POST", roleConv("mine", "/claim"), nil, 200, roleAssignedTo(roleAgent)},
		{"claim mine: other agent", roleOtherAgent, "POST", roleConv("mine", "/claim"), nil, 403, nil},
		{"claim mine: auditor", roleAuditor, "POST", roleConv("mine", "/claim"), nil, 403, nil},
		{"claim mine: anonymous", roleAnonymous, "POST", roleConv("mine", "/claim"), nil, 401, nil},
		{"claim closed: agent", roleAgent, "POST", roleConv("closed", "/claim"), nil, 409, nil},
		{"claim closed: supervisor", roleSupervisor, "POST", roleConv("closed", "/claim"), nil, 409, nil},
		{"claim missing: admin", roleAdmin, "POST", roleConv("missing", "/claim"), nil, 404, nil},
		{"claim missing: supervisor", roleSupervisor, "POST", roleConv("missing", "/claim"), nil, 404, nil},
		{"claim missing: agent", roleAgent, "POST", roleConv("missing", "/claim"), nil, 404, nil},
		{"claim missing: auditor", roleAuditor, "POST", roleConv("missing", "/claim"), nil, 403, nil},
		{"claim: wrong method", roleAgent, "GET", roleConv("queued", "/claim"), nil, 405, nil},

		// POST /desk/conversations/{id}/messages
		{"message mine: admin", roleAdmin, "POST", roleConv("mine", "/messages"), text, 201, roleAgentMessage(roleAdmin, hello)},
		{"message mine: supervisor", roleSupervisor, "POST", roleConv("mine", "/messages"), text, 201, roleAgentMessage(roleSupervisor, hello)},
		{"message mine: agent", roleAgent, "POST", roleConv("mine", "/messages"), text, 201, roleAgentMessage(roleAgent, hello)},
		{"message mine: other agent", roleOtherAgent, "POST", roleConv("mine", "/messages"), text, 403, nil},
		{"message mine: auditor", roleAuditor, "POST", roleConv("mine", "/messages"), text, 403, nil},
		{"message mine: anonymous", roleAnonymous, "POST", roleConv("mine", "/messages"), text, 401, nil},
		{"message queued: agent must claim first", roleAgent, "POST", roleConv("queued", "/messages"), text, 409, nil},
		{"message queued: supervisor must claim first", roleSupervisor, "POST", roleConv("queued", "/messages"), text, 409, nil},
		{"message queued: auditor", roleAuditor, "POST", roleConv("queued", "/messages"), text, 403, nil},
		{"message closed: agent", roleAgent, "POST", roleConv("closed", "/messages"), text, 409, nil},
		{"message missing: admin", roleAdmin, "POST", roleConv("missing", "/messages"), text, 404, nil},
		{"message missing: supervisor", roleSupervisor, "POST", roleConv("missing", "/messages"), text, 404, nil},
		{"message missing: agent", roleAgent, "POST", roleConv("missing", "/messages"), text, 404, nil},
		{"message: empty text", roleAgent, "POST", roleConv("mine", "/messages"), map[string]string{"text": ""}, 400, nil},
		{"message: blank text", roleAgent, "POST", roleConv("mine", "/messages"), map[string]string{"text": " \n\t"}, 400, nil},
		{"message: no text", roleAgent, "POST", roleConv("mine", "/messages"), map[string]string{}, 400, nil},
		{"message: no body", roleAgent, "POST", roleConv("mine", "/messages"), nil, 400, nil},
		{"message: text is a number", roleAgent, "POST", roleConv("mine", "/messages"), map[string]int{"text": 1}, 400, nil},
		{"message: unknown field", roleAgent, "POST", roleConv("mine", "/messages"), map[string]any{"text": hello, "as": "admin"}, 400, nil},
		{"message: 4001 characters", roleAgent, "POST", roleConv("mine", "/messages"), map[string]string{"text": strings.Repeat("字", 4001)}, 413, nil},

		// POST /desk/conversations/{id}/notes
		{"note mine: admin", roleAdmin, "POST", roleConv("mine", "/notes"), note, 201, roleNoteBy(roleAdmin, noteText)},
		{"note mine: supervisor", roleSupervisor, "POST", roleConv("mine", "/notes"), note, 201, roleNoteBy(roleSupervisor, noteText)},
		{"note mine: agent", roleAgent, "POST", roleConv("mine", "/notes"), note, 201, roleNoteBy(roleAgent, noteText)},
		{"note mine: other agent", roleOtherAgent, "POST", roleConv("mine", "/notes"), note, 403, nil},
		{"note mine: auditor", roleAuditor, "POST", roleConv("mine", "/notes"), note, 403, nil},
		{"note mine: anonymous", roleAnonymous, "POST", roleConv("mine", "/notes"), note, 401, nil},
		{"note queued: agent", roleAgent, "POST", roleConv("queued", "/notes"), note, 201, roleNoteBy(roleAgent, noteText)},
		{"note missing: agent", roleAgent, "POST", roleConv("missing", "/notes"), note, 404, nil},
		{"note: empty text", roleAgent, "POST", roleConv("mine", "/notes"), map[string]string{"text": ""}, 400, nil},
		{"note: unknown field", roleAgent, "POST", roleConv("mine", "/notes"), map[string]any{"text": noteText, "public": true}, 400, nil},

		// POST /desk/conversations/{id}/close
		{"close mine: admin", roleAdmin, "POST", roleConv("mine", "/close"), nil, 200, roleClosed},
		{"close mine: supervisor", roleSupervisor, "POST", roleConv("mine", "/close"), nil, 200, roleClosed},
		{"close mine: agent", roleAgent, "POST", roleConv("mine", "/close"), nil, 200, func(t *testing.T, fx *roleFixture, b []byte) {
			roleClosed(t, fx, b)
			if ms := fx.transcript(fx.mine.ID).Messages; ms[len(ms)-1].Outcome != "rating_request" {
				t.Fatalf("last message %+v, want a rating request (the default)", ms[len(ms)-1])
			}
		}},
		{"close mine: agent, no rating", roleAgent, "POST", roleConv("mine", "/close"), map[string]bool{"ask_rating": false}, 200, func(t *testing.T, fx *roleFixture, b []byte) {
			roleClosed(t, fx, b)
			if ms := fx.transcript(fx.mine.ID).Messages; ms[len(ms)-1].Outcome != "closed" {
				t.Fatalf("last message %+v, want a plain closing line", ms[len(ms)-1])
			}
		}},
		{"close mine: other agent", roleOtherAgent, "POST", roleConv("mine", "/close"), nil, 403, nil},
		{"close mine: auditor", roleAuditor, "POST", roleConv("mine", "/close"), nil, 403, nil},
		{"close mine: anonymous", roleAnonymous, "POST", roleConv("mine", "/close"), nil, 401, nil},
		{"close queued: agent must claim first", roleAgent, "POST", roleConv("queued", "/close"), nil, 409, nil},
		{"close queued: other agent must claim first", roleOtherAgent, "POST", roleConv("queued", "/close"), nil, 409, nil},
		{"close queued: supervisor", roleSupervisor, "POST", roleConv("queued", "/close"), nil, 200, roleClosed},
		{"close queued: admin", roleAdmin, "POST", roleConv("queued", "/close"), nil, 200, roleClosed},
		{"close queued: auditor", roleAuditor, "POST", roleConv("queued", "/close"), nil, 403, nil},
		{"close closed: admin", roleAdmin, "POST", roleConv("closed", "/close"), nil, 409, nil},
		{"close missing: admin", roleAdmin, "POST", roleConv("missing", "/close"), nil, 404, nil},
		{"close missing: agent", roleAgent, "POST", roleConv("missing", "/close"), nil, 404, nil},
		{"close: ask_rating of the wrong type", roleAgent, "POST", roleConv("mine", "/close"), map[string]string{"ask_rating": "yes"}, 400, nil},
		{"close: unknown field", roleAgent, "POST", roleConv("mine", "/close"), map[string]bool{"notify": true}, 400, nil},

		// POST /desk/conversations/{id}/assign
		{"assign queued to agent: admin", roleAdmin, "POST", roleConv("queued", "/assign"), assignTo(roleAgent), 200, roleAssignedTo(roleAgent)},
		{"assign queued to agent: supervisor", roleSupervisor, "POST", roleConv("queued", "/assign"), assignTo(roleAgent), 200, roleAssignedTo(roleAgent)},
		{"assign mine to other agent: supervisor", roleSupervisor, "POST", roleConv("mine", "/assign"), assignTo(roleOtherAgent), 200, roleAssignedTo(roleOtherAgent)},
		{"assign mine to other agent: admin", roleAdmin, "POST", roleConv("mine", "/assign"), assignTo(roleOtherAgent), 200, roleAssignedTo(roleOtherAgent)},
		{"assign mine to the same agent: supervisor", roleSupervisor, "POST", roleConv("mine", "/assign"), assignTo(roleAgent), 200, roleAssignedTo(roleAgent)},
		{"assign queued: agent", roleAgent, "POST", roleConv("queued", "/assign"), assignTo(roleAgent), 403, nil},
		{"assign mine: other agent", roleOtherAgent, "POST", roleConv("mine", "/assign"), assignTo(roleOtherAgent), 403, nil},
		{"assign queued: auditor", roleAuditor, "POST", roleConv("queued", "/assign"), assignTo(roleAgent), 403, nil},
		{"assign queued: anonymous", roleAnonymous, "POST", roleConv("queued", "/assign"), assignTo(roleAgent), 401, nil},
		{"assign closed: supervisor", roleSupervisor, "POST", roleConv("closed", "/assign"), assignTo(roleAgent), 409, nil},
		{"assign missing: supervisor", roleSupervisor, "POST", roleConv("missing", "/assign"), assignTo(roleAgent), 404, nil},
		{"assign: no agent_id", roleSupervisor, "POST", roleConv("queued", "/assign"), map[string]string{}, 400, nil},
		{"assign: unknown agent", roleSupervisor, "POST", roleConv("queued", "/assign"), map[string]string{"agent_id": "unobody"}, 400, nil},
		{"assign: to the auditor", roleSupervisor, "POST", roleConv("queued", "/assign"), assignTo(roleAuditor), 400, nil},
		{"assign: unknown field", roleSupervisor, "POST", roleConv("queued", "/assign"), func(fx *roleFixture) any {
			return map[string]any{"agent_id": fx.w.id(roleAgent), "force": true}
		}, 400, nil},

		// GET and PUT /desk/presence
		{"get presence: admin", roleAdmin, "GET", rolePath(pres), nil, 200, nil},
		{"get presence: supervisor", roleSupervisor, "GET", rolePath(pres), nil, 200, nil},
		{"get presence: agent", roleAgent, "GET", rolePath(pres), nil, 200, rolePresence("online", 50)},
		{"get presence: auditor", roleAuditor, "GET", rolePath(pres), nil, 403, nil},
		{"get presence: anonymous", roleAnonymous, "GET", rolePath(pres), nil, 401, nil},
		{"put presence: admin", roleAdmin, "PUT", rolePath(pres), online, 200, rolePresence("online", 0)},
		{"put presence: supervisor", roleSupervisor, "PUT", rolePath(pres), online, 200, rolePresence("online", 0)},
		{"put presence: agent", roleAgent, "PUT", rolePath(pres), online, 200, rolePresence("online", 50)},
		{"put presence: agent away", roleAgent, "PUT", rolePath(pres), map[string]string{"status": "away"}, 200, rolePresence("away", 50)},
		{"put presence: other agent offline", roleOtherAgent, "PUT", rolePath(pres), map[string]string{"status": "offline"}, 200, rolePresence("offline", 50)},
		{"put presence: auditor", roleAuditor, "PUT", rolePath(pres), online, 403, nil},
		{"put presence: anonymous", roleAnonymous, "PUT", rolePath(pres), online, 401, nil},
		{"put presence: busy is no status", roleAgent, "PUT", rolePath(pres), map[string]string{"status": "busy"}, 400, nil},
		{"put presence: no status", roleAgent, "PUT", rolePath(pres), map[string]string{}, 400, nil},
		{"put presence: unknown field", roleAgent, "PUT", rolePath(pres), map[string]string{"status": "online", "until": "5pm"}, 400, nil},

		// GET /desk/agents
		{"agents: admin", roleAdmin, "GET", rolePath(agents), nil, 200, roleListsAgents},
		{"agents: supervisor", roleSupervisor, "GET", rolePath(agents), nil, 200, roleListsAgents},
		{"agents: auditor", roleAuditor, "GET", rolePath(agents), nil, 200, roleListsAgents},
		{"agents: agent", roleAgent, "GET", rolePath(agents), nil, 403, nil},
		{"agents: other agent", roleOtherAgent, "GET", rolePath(agents), nil, 403, nil},
		{"agents: anonymous", roleAnonymous, "GET", rolePath(agents), nil, 401, nil},

		// /desk/canned
		{"canned: admin", roleAdmin, "GET", rolePath(canned), nil, 200, roleListsCanned},
		{"canned: supervisor", roleSupervisor, "GET", rolePath(canned), nil, 200, roleListsCanned},
		{"canned: agent", roleAgent, "GET", rolePath(canned + "?locale=zh-CN"), nil, 200, roleListsCanned},
		{"canned: auditor", roleAuditor, "GET", rolePath(canned), nil, 200, roleListsCanned},
		{"canned: anonymous", roleAnonymous, "GET", rolePath(canned), nil, 401, nil},
		{"canned: unknown locale", roleAgent, "GET", rolePath(canned + "?locale=fr"), nil, 400, nil},
		{"add canned: admin", roleAdmin, "POST", rolePath(canned), newCanned, 201, nil},
		{"add canned: supervisor", roleSupervisor, "POST", rolePath(canned), newCanned, 201, nil},
		{"add canned: agent", roleAgent, "POST", rolePath(canned), newCanned, 403, nil},
		{"add canned: auditor", roleAuditor, "POST", rolePath(canned), newCanned, 403, nil},
		{"add canned: anonymous", roleAnonymous, "POST", rolePath(canned), newCanned, 401, nil},
		{"add canned: no title", roleSupervisor, "POST", rolePath(canned), map[string]string{"text": "x", "locale": "en"}, 400, nil},
		{"add canned: unknown locale", roleSupervisor, "POST", rolePath(canned), map[string]string{"title": "x", "text": "x", "locale": "fr"}, 400, nil},
		{"delete canned: admin", roleAdmin, "DELETE", cannedItem, nil, 204, nil},
		{"delete canned: supervisor", roleSupervisor, "DELETE", cannedItem, nil, 204, nil},
		{"delete canned: agent", roleAgent, "DELETE", cannedItem, nil, 403, nil},
		{"delete canned: auditor", roleAuditor, "DELETE", cannedItem, nil, 403, nil},
		{"delete canned: anonymous", roleAnonymous, "DELETE", cannedItem, nil, 401, nil},
		{"delete canned: missing", roleSupervisor, "DELETE", rolePath(canned + "/" + roleMissingID), nil, 404, nil},

		// /desk/tickets
		{"tickets: admin", roleAdmin, "GET", withTicket(tickets), nil, 200, roleListsTicket},
		{"tickets: supervisor", roleSupervisor, "GET", withTicket(tickets), nil, 200, roleListsTicket},
		{"tickets: agent", roleAgent, "GET", withTicket(tickets + "?status=open"), nil, 200, roleListsTicket},
		{"tickets: auditor", roleAuditor, "GET", withTicket(tickets), nil, 200, roleListsTicket},
		{"tickets: anonymous", roleAnonymous, "GET", withTicket(tickets), nil, 401, nil},
		{"tickets: unknown status", roleAgent, "GET", rolePath(tickets + "?status=pending"), nil, 400, nil},
		{"resolve ticket: admin", roleAdmin, "POST", ticket, nil, 200, roleResolvedBy(roleAdmin)},
		{"resolve ticket: supervisor", roleSupervisor, "POST", ticket, nil, 200, roleResolvedBy(roleSupervisor)},
		{"resolve ticket: agent", roleAgent, "POST", ticket, nil, 200, roleResolvedBy(roleAgent)},
		{"resolve ticket: other agent", roleOtherAgent, "POST", ticket, nil, 200, roleResolvedBy(roleOtherAgent)},
		{"resolve ticket: auditor", roleAuditor, "POST", ticket, nil, 403, nil},
		{"resolve ticket: anonymous", roleAnonymous, "POST", ticket, nil, 401, nil},
		{"resolve ticket: already resolved", roleAgent, "POST", func(fx *roleFixture) string {
			return tickets + "/" + fx.resolvedTicketID() + "/resolve"
		}, nil, 409, nil},
		{"resolve ticket: missing", roleAgent, "POST", rolePath(tickets + "/" + roleMissingID + "/resolve"), nil, 404, nil},

		// /auth/me
		{"me: admin", roleAdmin, "GET", rolePath(me), nil, 200, roleMeIs(roleAdmin, false)},
		{"me: supervisor", roleSupervisor, "GET", rolePath(me), nil, 200, roleMeIs(roleSupervisor, false)},
		{"me: agent", roleAgent, "GET", rolePath(me), nil, 200, roleMeIs(roleAgent, false)},
		{"me: auditor", roleAuditor, "GET", rolePath(me), nil, 200, roleMeIs(roleAuditor, false)},
		{"me: anonymous", roleAnonymous, "GET", rolePath(me), nil, 401, nil},

		// /auth/api-keys
		{"api keys: admin", roleAdmin, "GET", rolePath(apiKeys), nil, 200, func(t *testing.T, fx *roleFixture, b []byte) {
			if strings.Contains(string(b), `"key"`) {
				t.Fatalf("the list shows keys: %s", b)
			}
		}},
		{"api keys: supervisor", roleSupervisor, "GET", rolePath(apiKeys), nil, 403, nil},
		{"api keys: agent", roleAgent, "GET", rolePath(apiKeys), nil, 403, nil},
		{"api keys: auditor", roleAuditor, "GET", rolePath(apiKeys), nil, 403, nil},
		{"api keys: anonymous", roleAnonymous, "GET", rolePath(apiKeys), nil, 401, nil},
		{"add api key: admin", roleAdmin, "POST", rolePath(apiKeys), map[string]string{"name": "crm"}, 201, func(t *testing.T, fx *roleFixture, b []byte) {
			k := roleDecode[struct {
				ID, Name, Key, Prefix string
				UserID                string `json:"user_id"`
			}](t, b)
			if !strings.HasPrefix(k.Key, "stk_") || !strings.HasPrefix(k.Key, k.Prefix) || k.UserID != fx.w.id(roleAdmin) || k.Name != "crm" {
				t.Fatalf("key %s, want a stk_ key for the admin", b)
			}
		}},
		{"add api key: supervisor", roleSupervisor, "POST", rolePath(apiKeys), map[string]string{"name": "crm"}, 403, nil},
		{"add api key: agent", roleAgent, "POST", rolePath(apiKeys), map[string]string{"name": "crm"}, 403, nil},
		{"add api key: auditor", roleAuditor, "POST", rolePath(apiKeys), map[string]string{"name": "crm"}, 403, nil},
		{"add api key: anonymous", roleAnonymous, "POST", rolePath(apiKeys), map[string]string{"name": "crm"}, 401, nil},
		{"add api key: unknown user", roleAdmin, "POST", rolePath(apiKeys), map[string]string{"name": "crm", "user_id": "unobody"}, 400, nil},
		{"add api key: no name", roleAdmin, "POST", rolePath(apiKeys), map[string]string{}, 400, nil},
		{"delete api key: admin", roleAdmin, "DELETE", apiKey, nil, 204, nil},
		{"delete api key: supervisor", roleSupervisor, "DELETE", apiKey, nil, 403, nil},
		{"delete api key: agent", roleAgent, "DELETE", apiKey, nil, 403, nil},
		{"delete api key: anonymous", roleAnonymous, "DELETE", apiKey, nil, 401, nil},
		{"delete api key: missing", roleAdmin, "DELETE", rolePath(apiKeys + "/" + roleMissingID), nil, 404, nil},

		// /users
		{"users: admin", roleAdmin, "GET", rolePath(users), nil, 200, func(t *testing.T, fx *roleFixture, b []byte) {
			if !strings.Contains(string(b), `"auditor@example.com"`) || strings.Contains(string(b), "password") {
				t.Fatalf("users %s", b)
			}
		}},
		{"users: supervisor", roleSupervisor, "GET", rolePath(users), nil, 403, nil},
		{"users: agent", roleAgent, "GET", rolePath(users), nil, 403, nil},
		{"users: auditor", roleAuditor, "GET", rolePath(users), nil, 403, nil},
		{"users: anonymous", roleAnonymous, "GET", rolePath(users), nil, 401, nil},
		{"add user: admin", roleAdmin, "POST", rolePath(users), newUser, 201, func(t *testing.T, fx *roleFixture, b []byte) {
			u := roleDecode[struct {
				User struct{ ID, Role, Email string }
			}](t, b).User
			if u.ID == "" || u.Role != "agent" || u.Email != fmt.Sprintf("new%d@example.com", fx.w.n) || strings.Contains(string(b), "password") {
				t.Fatalf("user %s", b)
			}
		}},
		{"add user: supervisor", roleSupervisor, "POST", rolePath(users), newUser, 403, nil},
		{"add user: agent", roleAgent, "POST", rolePath(users), newUser, 403, nil},
		{"add user: auditor", roleAuditor, "POST", rolePath(users), newUser, 403, nil},
		{"add user: anonymous", roleAnonymous, "POST", rolePath(users), newUser, 401, nil},
		{"add user: unknown role", roleAdmin, "POST", rolePath(users), map[string]string{"email": "root@example.com", "role": "root", "password": "a long passphrase"}, 400, nil},
		{"add user: taken email", roleAdmin, "POST", rolePath(users), map[string]string{"email": "agent@example.com", "role": "agent", "password": "a long passphrase"}, 409, nil},
		{"disable self: admin", roleAdmin, "PUT", func(fx *roleFixture) string { return users + "/" + fx.w.id(roleAdmin) + "/disabled" }, map[string]bool{"disabled": true}, 409, nil},
		{"disable: agent", roleAgent, "PUT", func(fx *roleFixture) string { return users + "/" + fx.w.id(roleOtherAgent) + "/disabled" }, map[string]bool{"disabled": true}, 403, nil},
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			fx := w.fixture(t)
			path, body := sc.path(fx), sc.body // building them may add to the fixture
			if f, ok := body.(func(*roleFixture) any); ok {
				body = f(fx)
			}
			var before map[string]roleTranscript
			if sc.want >= 400 {
				before = map[string]roleTranscript{"queued": fx.transcript(fx.queued.ID), "mine": fx.transcript(fx.mine.ID)}
			}
			status, b := w.as(t, sc.actor).Do(sc.method, path, body)
			assertRoleAnswer(t, status, b, sc.want)
			if status == http.StatusNoContent && len(b) != 0 {
				t.Fatalf("204 with a body: %s", b)
			}
			if sc.check != nil {
				sc.check(t, fx, b)
			}
			// A refused request changes nothing.
			for which, was := range before {
				now := fx.transcript(fx.conv(which))
				if now.Conversation.State != was.Conversation.State || now.Conversation.assignee() != was.Conversation.assignee() ||
					len(now.Messages) != len(was.Messages) || len(now.Notes) != len(was.Notes) {
					t.Fatalf("refused request changed %s: %+v (%d messages, %d notes), was %+v (%d, %d)", which,
						now.Conversation, len(now.Messages), len(now.Notes), was.Conversation, len(was.Messages), len(was.Notes))
				}
			}
		})
	}
}

// roleCookieConsole is a browser: a cookie jar, and the CSRF token it was given.
type roleCookieConsole struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (c *roleCookieConsole) do(method, path, csrf string, body any) (int, []byte, *http.Response) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp
}

func TestCSRF(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := admin.AddUser("csrf@example.com", "agent", nil) // a bearer session of the same user
	jar, _ := cookiejar.New(nil)
	console := &roleCookieConsole{t: t, base: run.URL, hc: &http.Client{Jar: jar}}

	status, b, resp := console.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "csrf@example.com", "password": "correct horse battery"})
	assertRoleAnswer(t, status, b, 200)
	login := roleDecode[struct {
		Token     string `json:"token"`
		CSRFToken string `json:"csrf_token"`
		ExpiresAt string `json:"expires_at"`
		User      struct{ Role string }
	}](t, b)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "steward_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/" {
		t.Fatalf("session cookie %+v, want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	if login.CSRFToken == "" || login.Token == "" || login.Token == session.Value || login.ExpiresAt == "" || login.User.Role != "agent" {
		t.Fatalf("login %s", b)
	}
	online := map[string]string{"status": "online"}

	steps := []struct {
		name         string
		method, path string
		csrf         string
		body         any
		want         int
		check        func(t *testing.T, b []byte)
	}{
		{"me with the cookie shows the CSRF token", "GET", "/api/v1/auth/me", "", nil, 200, func(t *testing.T, b []byte) {
			if me := roleDecode[struct {
				CSRF string `json:"csrf_token"`
				User struct{ Email string }
			}](t, b); me.CSRF != login.CSRFToken || me.User.Email != "csrf@example.com" {
				t.Fatalf("me %s, want csrf_token %s", b, login.CSRFToken)
			}
		}},
		{"a GET needs no header", "GET", "/api/v1/desk/presence", "", nil, 200, nil},
		{"presence without the header", "PUT", "/api/v1/desk/presence", "", online, 403, nil},
		{"presence with a wrong header", "PUT", "/api/v1/desk/presence", "x" + login.CSRFToken, online, 403, nil},
		{"presence with the bearer token as the header", "PUT", "/api/v1/desk/presence", login.Token, online, 403, nil},
		{"presence with the header", "PUT", "/api/v1/desk/presence", login.CSRFToken, online, 200, nil},
		{"canned without the header (refused before the role check)", "POST", "/api/v1/desk/canned", "", map[string]string{"title": "x", "text": "x", "locale": "en"}, 403, nil},
		{"logout without the header", "POST", "/api/v1/auth/logout", "", nil, 403, nil},
		{"still signed in", "GET", "/api/v1/auth/me", "", nil, 200, nil},
		{"logout", "POST", "/api/v1/auth/logout", login.CSRFToken, nil, 204, nil},
		{"me after logout", "GET", "/api/v1/auth/me", "", nil, 401, nil},
		{"presence after logout", "PUT", "/api/v1/desk/presence", login.CSRFToken, online, 401, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			console.t = t
			status, b, _ := console.do(st.method, st.path, st.csrf, st.body)
			assertRoleAnswer(t, status, b, st.want)
			if st.check != nil {
				st.check(t, b)
			}
		})
	}
	console.t = t

	// The jar dropped the cookie at logout; the server must have ended the
	// session too: the old cookie and the same login's bearer token are dead.
	t.Run("the old cookie after logout", func(t *testing.T) {
		req, _ := http.NewRequest("GET", run.URL+"/api/v1/auth/me", nil)
		req.AddCookie(&http.Cookie{Name: "steward_session", Value: session.Value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		assertRoleAnswer(t, resp.StatusCode, b, 401)
	})
	t.Run("the same login's bearer token after logout", func(t *testing.T) {
		s := &testutil.Staff{T: t, Base: run.URL, Token: login.Token}
		status, b := s.Do("GET", "/api/v1/auth/me", nil)
		assertRoleAnswer(t, status, b, 401)
	})
	t.Run("the cookie token is no bearer token", func(t *testing.T) {
		s := &testutil.Staff{T: t, Base: run.URL, Token: agentCookie(t, run.URL).Value}
		status, b := s.Do("PUT", "/api/v1/desk/presence", online)
		assertRoleAnswer(t, status, b, 401)
	})
	t.Run("the bearer token is no cookie", func(t *testing.T) {
		req, _ := http.NewRequest("GET", run.URL+"/api/v1/auth/me", nil)
		req.AddCookie(&http.Cookie{Name: "steward_session", Value: agent.Token})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		assertRoleAnswer(t, resp.StatusCode, b, 401)
	})
	// An integration signs out with its bearer token: the token must stop
	// working, as the cookie does.
	t.Run("logout with a bearer token ends that session", func(t *testing.T) {
		s := testutil.Login(t, run.URL, "csrf@example.com", "correct horse battery")
		status, b := s.Do("POST", "/api/v1/auth/logout", nil)
		assertRoleAnswer(t, status, b, 204)
		status, b = s.Do("GET", "/api/v1/auth/me", nil)
		assertRoleAnswer(t, status, b, 401)
	})
	t.Run("a bearer token needs no CSRF header", func(t *testing.T) {
		s := *agent
		s.T = t
		status, b := s.Do("PUT", "/api/v1/desk/presence", online)
		assertRoleAnswer(t, status, b, 200)
		status, b = s.Do("GET", "/api/v1/auth/me", nil)
		assertRoleAnswer(t, status, b, 200)
		if strings.Contains(string(b), "csrf_token") {
			t.Fatalf("a bearer session was shown a CSRF token: %s", b)
		}
	})
}

// agentCookie signs csrf@example.com in and returns the session cookie.
func agentCookie(t *testing.T, base string) *http.Cookie {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"csrf@example.com","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "steward_session" && resp.StatusCode == http.StatusOK {
			return c
		}
	}
	t.Fatalf("login: %d, no session cookie", resp.StatusCode)
	return nil
}

func TestLogin(t *testing.T) {
	run := testutil.Start(t, nil)
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	const password = "correct horse battery"
	for _, email := range []string{"login@example.com", "locked@example.com"} {
		admin.Must(http.StatusCreated, "POST", "/api/v1/users",
			map[string]string{"email": email, "role": "agent", "password": password}, nil)
	}
	wrong := func(email string) map[string]string {
		return map[string]string{"email": email, "password": "not the password"}
	}
	right := func(email string) map[string]string { return map[string]string{"email": email, "password": password} }

	// In order: the locked account's five failures come before its lock.
	steps := []struct {
		name string
		body any
		want int
	}{
		{"right password", right("login@example.com"), 200},
		{"email in another case", right("  LOGIN@Example.com "), 200},
		{"wrong password", wrong("login@example.com"), 401},
		{"unknown email", wrong("nobody@example.com"), 401},
		{"no password", map[string]string{"email": "login@example.com"}, 400},
		{"no email", map[string]string{"password": password}, 400},
		{"unknown field", map[string]any{"email": "login@example.com", "password": password, "remember": true}, 400},
		{"no body", nil, 400},
		{"failure 1", wrong("locked@example.com"), 401},
		{"failure 2", wrong("locked@example.com"), 401},
		{"failure 3", wrong("locked@example.com"), 401},
		{"failure 4", wrong("locked@example.com"), 401},
		{"failure 5", wrong("locked@example.com"), 401},
		{"right password after five failures", right("locked@example.com"), 429},
		{"locked in another case", right("Locked@Example.com"), 429},
		{"another account is not locked", right("login@example.com"), 200},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			anon := &testutil.Staff{T: t, Base: run.URL}
			status, b := anon.Do("POST", "/api/v1/auth/login", st.body)
			assertRoleAnswer(t, status, b, st.want)
			if status == 200 {
				l := roleDecode[struct {
					Token string `json:"token"`
					CSRF  string `json:"csrf_token"`
					User  struct{ Email string }
				}](t, b)
				if l.Token == "" || l.CSRF == "" || l.User.Email != "login@example.com" || strings.Contains(string(b), "password") {
					t.Fatalf("login %s", b)
				}
			}
		})
	}
	t.Run("a disabled account cannot sign in, and its sessions end", func(t *testing.T) {
		user := testutil.Login(t, run.URL, "login@example.com", password)
		admin := *admin
		admin.T = t
		admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+user.ID+"/disabled", map[string]bool{"disabled": true}, nil)
		status, b := user.Do("GET", "/api/v1/auth/me", nil)
		assertRoleAnswer(t, status, b, 401)
		anon := &testutil.Staff{T: t, Base: run.URL}
		status, b = anon.Do("POST", "/api/v1/auth/login", right("login@example.com"))
		assertRoleAnswer(t, status, b, 401)
		// Enabled again, the account's old sessions stay ended (a stolen
		// laptop's cookie does not come back to life); it signs in afresh.
		admin.Must(http.StatusOK, "PUT", "/api/v1/users/"+user.ID+"/disabled", map[string]bool{"disabled": false}, nil)
		status, b = user.Do("GET", "/api/v1/auth/me", nil)
		assertRoleAnswer(t, status, b, 401)
		testutil.Login(t, run.URL, "login@example.com", password)
	})
}

func TestAPIKey(t *testing.T) {
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign = true })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)

	var key struct {
		ID, Name, Key, Prefix string
		UserID                string `json:"user_id"`
	}
	admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "crm", "user_id": agent.ID}, &key)
	if !strings.HasPrefix(key.Key, "stk_") || key.UserID != agent.ID || key.ID == "" || !strings.HasPrefix(key.Key, key.Prefix) {
		t.Fatalf("key %+v", key)
	}
	byKey := &testutil.Staff{Base: run.URL, Token: key.Key}
	forged := &testutil.Staff{Base: run.URL, Token: "stk_" + strings.Repeat("A", 43)}
	anon := &testutil.Staff{Base: run.URL}

	steps := []struct {
		name         string
		who          *testutil.Staff
		method, path string
		body         any
		want         int
		check        func(t *testing.T, b []byte)
	}{
		{"the key reads the queue", byKey, "GET", "/api/v1/desk/queue", nil, 200, nil},
		{"the key is the agent", byKey, "GET", "/api/v1/auth/me", nil, 200, func(t *testing.T, b []byte) {
			if u := roleDecode[struct{ User struct{ ID, Role string } }](t, b).User; u.ID != agent.ID || u.Role != "agent" {
				t.Fatalf("me %s, want the agent", b)
			}
		}},
		{"the key has the agent's rights only", byKey, "GET", "/api/v1/desk/agents", nil, 403, nil},
		{"the key cannot make keys", byKey, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "more"}, 403, nil},
		{"the key changes things without a CSRF header", byKey, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, 200, nil},
		{"the list shows the prefix, not the key", admin, "GET", "/api/v1/auth/api-keys", nil, 200, func(t *testing.T, b []byte) {
			if strings.Contains(string(b), key.Key) || !strings.Contains(string(b), `"prefix":"`+key.Prefix+`"`) || !strings.Contains(string(b), key.ID) {
				t.Fatalf("list %s", b)
			}
		}},
		{"a made-up key", forged, "GET", "/api/v1/desk/queue", nil, 401, nil},
		{"an agent cannot revoke it", agent, "DELETE", "/api/v1/auth/api-keys/" + key.ID, nil, 403, nil},
		{"anonymous cannot revoke it", anon, "DELETE", "/api/v1/auth/api-keys/" + key.ID, nil, 401, nil},
		{"the admin revokes it", admin, "DELETE", "/api/v1/auth/api-keys/" + key.ID, nil, 204, nil},
		{"revoking it again", admin, "DELETE", "/api/v1/auth/api-keys/" + key.ID, nil, 404, nil},
		{"the revoked key", byKey, "GET", "/api/v1/desk/queue", nil, 401, nil},
		{"the agent's own session still works", agent, "GET", "/api/v1/desk/queue", nil, 200, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := *st.who
			s.T = t
			status, b := s.Do(st.method, st.path, st.body)
			assertRoleAnswer(t, status, b, st.want)
			if st.check != nil {
				st.check(t, b)
			}
		})
	}
}
