package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/monitor"
	"github.com/steward-cs/steward/internal/testutil"
)

// The authorization matrix: every route × every kind of caller × whose
// object it is, against the real app on the real SQLite store.
//
// The rule the expected statuses follow:
//   - no credentials, or credentials of the wrong kind (a conversation
//     token on the staff surface, a staff token on the customer surface):
//     401 unauthorized;
//   - a signed-in user whose role lacks the permission, or who may not
//     touch that object: 403 forbidden. Staff are told the truth about
//     objects that exist: every conversation an agent could ask for passes
//     through the queue, which every agent sees, so a 404 would hide
//     nothing and only make the console's messages worse;
//   - a customer whose token does not open the conversation gets the same
//     401 whether the conversation exists or not: a token (anyone can get
//     one) must not tell which conversation ids exist;
//   - allowed: 200/201/204, or a state conflict (409) where the object is
//     in no state for the action (a reply to a conversation nobody has
//     claimed), or 404 for an object that is not there for anyone (an
//     incident action nothing waits on).
//
// Every write the auditor tries is refused.

// mxActor is a column of the matrix.
type mxActor int

const (
	mxAnonymous     mxActor = iota // no credentials
	mxCustomer                     // the conversation's own token
	mxCustomerOther                // a token of another conversation
	mxAdmin                        // on the agent's conversation
	mxSupervisor                   // on the agent's conversation
	mxAgentOwn                     // the agent, on the conversation assigned to them
	mxAgentOther                   // another agent, on that conversation
	mxAgentQueued                  // the agent, on a queued conversation nobody has
	mxAuditor                      // on the agent's conversation
	mxAPIKey                       // the agent's API key, on the agent's conversation
	mxActors
)

var mxActorNames = [mxActors]string{"anonymous", "customer", "customer of another conversation", "admin", "supervisor",
	"agent on own conversation", "agent on another agent's conversation", "agent on queued conversation", "auditor",
	"API key"}

// mxCells is a row's expected statuses, by actor.
type mxCells [mxActors]int

// public: the same for everyone, whatever they present.
func public(code int) mxCells {
	var c mxCells
	for i := range c {
		c[i] = code
	}
	return c
}

// customerOnly: the conversation's own token, and nobody else.
func customerOnly(ok int) mxCells {
	c := public(401)
	c[mxCustomer] = ok
	return c
}

// staffOnly: a staff route with no object whose owner matters. The API key
// is the agent's.
func staffOnly(admin, super, agent, auditor int) mxCells {
	return mxCells{401, 401, 401, admin, super, agent, agent, agent, auditor, agent}
}

// deskConv: a route on one conversation.
func deskConv(admin, super, own, other, queued, auditor int) mxCells {
	return mxCells{401, 401, 401, admin, super, own, other, queued, auditor, own}
}

// mxReq is one cell's request.
type mxReq struct {
	path string
	body any
}

// mxRow is a route's row.
type mxRow struct {
	route  string // as httpapi.Routes lists it
	want   mxCells
	target func(c *mxCell) mxReq
	// ws: a WebSocket whose first frame authenticates; the cell's status is
	// read from the server's first frame (ready: 200, error: its code's).
	ws bool
	// relogin: the cell signs its staff user in anew first (logout ends
	// the session it is sent with).
	relogin bool
}

func (r mxRow) method() string { m, _, _ := strings.Cut(r.route, " "); return m }

func path(p string) func(*mxCell) mxReq { return func(*mxCell) mxReq { return mxReq{path: p} } }

func withBody(p string, body any) func(*mxCell) mxReq {
	return func(*mxCell) mxReq { return mxReq{path: p, body: body} }
}

// mxRows is the matrix. Each route of httpapi.Routes has exactly one row.
func mxRows() []mxRow {
	const (
		desk  = "/api/v1/desk/conversations/"
		kb    = "/api/v1/kb"
		pprof = "/api/v1/admin/debug/pprof/"
	)
	cust := func(suffix string, body func(c *mxCell) any) func(*mxCell) mxReq {
		return func(c *mxCell) mxReq {
			r := mxReq{path: "/api/v1/conversations/" + c.fx.cust().ID + suffix}
			if body != nil {
				r.body = body(c)
			}
			return r
		}
	}
	onConv := func(suffix string, body func(c *mxCell) any) func(*mxCell) mxReq {
		return func(c *mxCell) mxReq {
			conv := c.deskConv()
			r := mxReq{path: desk + conv.ID + strings.ReplaceAll(suffix, "{mid}", conv.answer)}
			if body != nil {
				r.body = body(c)
			}
			return r
		}
	}
	entry := func(status, suffix string, body any) func(*mxCell) mxReq {
		return func(c *mxCell) mxReq { return mxReq{path: kb + "/entries/" + c.fx.entry(status) + suffix, body: body} }
	}
	reason := map[string]string{"reason": "matrix"}
	return []mxRow{
		// Operations.
		{route: "GET /livez", want: public(200), target: path("/livez")},
		{route: "GET /readyz", want: public(200), target: path("/readyz")},
		{route: "GET /api/openapi.json", want: public(200), target: path("/api/openapi.json")},
		{route: "GET /metrics", want: public(200), target: path("/metrics")},

		// The customer surface.
		{route: "POST /api/v1/conversations", want: public(201), target: withBody("/api/v1/conversations", map[string]string{"locale": "en"})},
		{route: "GET /api/v1/conversations/{id}", want: customerOnly(200), target: cust("", nil)},
		{route: "POST /api/v1/conversations/{id}/messages", want: customerOnly(200),
			target: cust("/messages", func(*mxCell) any { return map[string]string{"text": "发票怎么开"} })},
		{route: "GET /api/v1/conversations/{id}/stream", want: customerOnly(200), ws: true, target: cust("/stream", nil)},
		{route: "POST /api/v1/conversations/{id}/rating", want: customerOnly(201),
			target: cust("/rating", func(*mxCell) any { return map[string]int{"score": 5} })},
		{route: "POST /api/v1/conversations/{id}/offline-message", want: customerOnly(201),
			target: cust("/offline-message", func(*mxCell) any { return map[string]string{"contact": "li@example.com", "message": "请回电"} })},
		{route: "GET /api/v1/rating-tags", want: public(200), target: path("/api/v1/rating-tags")},
		{route: "POST /api/v1/conversations/{id}/messages/{mid}/flag", want: customerOnly(201), target: func(c *mxCell) mxReq {
			conv := c.fx.cust()
			return mxReq{path: "/api/v1/conversations/" + conv.ID + "/messages/" + conv.answer + "/flag", body: reason}
		}},

		// Signing in and out, API keys, users.
		{route: "POST /api/v1/auth/login", want: public(200), target: withBody("/api/v1/auth/login",
			map[string]string{"email": "other@example.com", "password": roleWorldPassword})},
		{route: "POST /api/v1/auth/logout", want: staffOnly(204, 204, 204, 204), relogin: true, target: path("/api/v1/auth/logout")},
		{route: "GET /api/v1/auth/me", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/auth/me")},
		{route: "GET /api/v1/auth/api-keys", want: staffOnly(200, 403, 403, 403), target: path("/api/v1/auth/api-keys")},
		{route: "POST /api/v1/auth/api-keys", want: staffOnly(201, 403, 403, 403), target: withBody("/api/v1/auth/api-keys", map[string]string{"name": "matrix"})},
		{route: "DELETE /api/v1/auth/api-keys/{id}", want: staffOnly(204, 403, 403, 403),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/auth/api-keys/" + c.fx.apiKey()} }},
		{route: "GET /api/v1/users", want: staffOnly(200, 403, 403, 403), target: path("/api/v1/users")},
		{route: "POST /api/v1/users", want: staffOnly(201, 403, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/users", body: map[string]string{"email": fmt.Sprintf("mx%d@example.com", c.w.next()), "role": "agent",
				"password": roleWorldPassword}}
		}},
		{route: "PUT /api/v1/users/{id}/disabled", want: staffOnly(200, 403, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/users/" + c.w.spare + "/disabled", body: map[string]bool{"disabled": false}}
		}},
		{route: "PUT /api/v1/users/{id}/role", want: staffOnly(200, 403, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/users/" + c.w.spare + "/role", body: map[string]string{"role": "agent"}}
		}},

		// The desk.
		{route: "GET /api/v1/desk/queue", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/desk/queue")},
		{route: "GET /api/v1/desk/conversations", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/desk/conversations")},
		{route: "GET /api/v1/desk/conversations/{id}", want: deskConv(200, 200, 200, 403, 200, 200), target: onConv("", nil)},
		{route: "GET /api/v1/desk/conversations/{id}/suggestions", want: deskConv(200, 200, 200, 403, 200, 200), target: onConv("/suggestions", nil)},
		{route: "POST /api/v1/desk/conversations/{id}/claim", want: deskConv(200, 200, 200, 403, 200, 403), target: onConv("/claim", nil)},
		{route: "POST /api/v1/desk/conversations/{id}/assign", want: deskConv(200, 200, 403, 403, 403, 403),
			target: onConv("/assign", func(c *mxCell) any { return map[string]string{"agent_id": c.w.id(roleOtherAgent)} })},
		{route: "POST /api/v1/desk/conversations/{id}/messages", want: deskConv(201, 201, 201, 403, 409, 403),
			target: onConv("/messages", func(*mxCell) any { return map[string]string{"text": "您好"} })},
		{route: "POST /api/v1/desk/conversations/{id}/notes", want: deskConv(201, 201, 201, 403, 201, 403),
			target: onConv("/notes", func(*mxCell) any { return map[string]string{"text": "备注"} })},
		// An original is for whoever has the conversation: not for any agent
		// while it waits in the queue (nor for an auditor, who reads masked).
		{route: "POST /api/v1/desk/conversations/{id}/reveal", want: deskConv(200, 200, 200, 403, 403, 403),
			target: onConv("/reveal", func(c *mxCell) any { return map[string]string{"ref": c.deskConv().pii} })},
		{route: "POST /api/v1/desk/conversations/{id}/close", want: deskConv(200, 200, 200, 403, 409, 403),
			target: onConv("/close", func(*mxCell) any { return map[string]bool{"ask_rating": false} })},
		{route: "GET /api/v1/desk/presence", want: staffOnly(200, 200, 200, 403), target: path("/api/v1/desk/presence")},
		{route: "PUT /api/v1/desk/presence", want: staffOnly(200, 200, 200, 403), target: withBody("/api/v1/desk/presence", map[string]string{"status": "online"})},
		{route: "GET /api/v1/desk/agents", want: staffOnly(200, 200, 403, 200), target: path("/api/v1/desk/agents")},
		{route: "GET /api/v1/desk/canned", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/desk/canned")},
		{route: "POST /api/v1/desk/canned", want: staffOnly(201, 201, 403, 403),
			target: withBody("/api/v1/desk/canned", map[string]string{"title": "matrix", "text": "稍等", "locale": "zh-CN"})},
		{route: "DELETE /api/v1/desk/canned/{id}", want: staffOnly(204, 204, 403, 403),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/desk/canned/" + c.fx.canned()} }},
		{route: "GET /api/v1/desk/tickets", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/desk/tickets")},
		// Offline messages are the desk's shared inbox: any agent resolves
		// one, whoever has its conversation.
		{route: "POST /api/v1/desk/tickets/{id}/resolve", want: deskConv(200, 200, 200, 200, 200, 403),
			target: func(c *mxCell) mxReq {
				return mxReq{path: "/api/v1/desk/tickets/" + c.fx.ticket(c.deskConv()) + "/resolve"}
			}},
		{route: "GET /api/v1/desk/stream", want: staffOnly(200, 200, 200, 200), ws: true, target: path("/api/v1/desk/stream")},
		{route: "POST /api/v1/desk/conversations/{id}/messages/{mid}/flag", want: deskConv(201, 201, 201, 403, 201, 403),
			target: onConv("/messages/{mid}/flag", func(*mxCell) any { return reason })},

		// The knowledge base.
		{route: "GET /api/v1/kb/entries", want: staffOnly(200, 200, 200, 200), target: path(kb + "/entries")},
		{route: "POST /api/v1/kb/entries", want: staffOnly(201, 201, 201, 403),
			target: func(c *mxCell) mxReq {
				return mxReq{path: kb + "/entries", body: mxEntry(fmt.Sprintf("mx-new-%d", c.w.next()), "")}
			}},
		{route: "GET /api/v1/kb/entries/{id}", want: staffOnly(200, 200, 200, 200), target: entry("draft", "", nil)},
		{route: "PUT /api/v1/kb/entries/{id}", want: staffOnly(200, 200, 200, 403), target: func(c *mxCell) mxReq {
			id := c.fx.entry("draft")
			return mxReq{path: kb + "/entries/" + id, body: mxEntry(id, fmt.Sprintf(" (%d)", c.w.next()))}
		}},
		{route: "GET /api/v1/kb/entries/{id}/history", want: staffOnly(200, 200, 200, 200), target: entry("draft", "/history", nil)},
		{route: "POST /api/v1/kb/entries/{id}/submit", want: staffOnly(200, 200, 200, 403), target: entry("draft", "/submit", nil)},
		{route: "POST /api/v1/kb/entries/{id}/approve", want: staffOnly(200, 200, 403, 403), target: entry("in_review", "/approve", nil)},
		{route: "POST /api/v1/kb/entries/{id}/reject", want: staffOnly(200, 200, 403, 403), target: entry("in_review", "/reject", reason)},
		{route: "POST /api/v1/kb/entries/{id}/retire", want: staffOnly(200, 200, 403, 403), target: entry("draft", "/retire", reason)},
		{route: "GET /api/v1/kb/releases", want: staffOnly(200, 200, 200, 200), target: path(kb + "/releases")},
		{route: "POST /api/v1/kb/releases", want: staffOnly(201, 201, 403, 403), target: withBody(kb+"/releases", map[string]string{"note": "matrix"})},
		{route: "GET /api/v1/kb/releases/{id}", want: staffOnly(200, 200, 200, 200), target: path(kb + "/releases/1")},
		{route: "POST /api/v1/kb/releases/{id}/activate", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: fmt.Sprintf("%s/releases/%d/activate", kb, c.fx.inactiveRelease()), body: reason}
		}},
		{route: "POST /api/v1/kb/rollback", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			c.fx.rollbackable()
			return mxReq{path: kb + "/rollback", body: reason}
		}},
		{route: "GET /api/v1/kb/diff", want: staffOnly(200, 200, 200, 200), target: path(kb + "/diff?from=1&to=1")},
		{route: "GET /api/v1/kb/pending", want: staffOnly(200, 200, 200, 200), target: path(kb + "/pending")},
		{route: "GET /api/v1/kb/golden", want: staffOnly(200, 200, 200, 200), target: path(kb + "/golden")},
		{route: "POST /api/v1/kb/golden", want: staffOnly(201, 201, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: kb + "/golden", body: map[string]string{"question": fmt.Sprintf("运费怎么算 %d", c.w.next()),
				"locale": "zh-CN", "entry_id": c.w.shippingEntry}}
		}},
		{route: "DELETE /api/v1/kb/golden/{id}", want: staffOnly(204, 204, 403, 403),
			target: func(c *mxCell) mxReq { return mxReq{path: kb + "/golden/" + c.fx.golden()} }},
		{route: "GET /api/v1/kb/corrections", want: staffOnly(200, 200, 200, 200), target: path(kb + "/corrections")},
		{route: "POST /api/v1/kb/corrections/dismiss", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: kb + "/corrections/dismiss", body: map[string]any{"flags": []string{c.fx.flag()}, "note": "matrix"}}
		}},
		{route: "GET /api/v1/kb/unanswered", want: staffOnly(200, 200, 200, 200), target: path(kb + "/unanswered")},
		{route: "GET /api/v1/reports/quality", want: staffOnly(200, 200, 403, 200), target: path("/api/v1/reports/quality")},
		{route: "GET /api/v1/kb/export", want: staffOnly(200, 200, 200, 200), target: path(kb + "/export")},
		{route: "POST /api/v1/kb/import", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: kb + "/import", body: map[string]any{"entries": []any{mxEntry(fmt.Sprintf("mx-import-%d", c.w.next()), "")}}}
		}},

		// The audit trail.
		{route: "GET /api/v1/audit", want: staffOnly(200, 403, 403, 200), target: path("/api/v1/audit")},
		{route: "GET /api/v1/audit/verify", want: staffOnly(200, 403, 403, 200), target: path("/api/v1/audit/verify")},

		// Crisis response.
		{route: "GET /api/v1/status", want: public(200), target: path("/api/v1/status")},
		{route: "GET /api/v1/posture", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/posture")},
		{route: "PUT /api/v1/posture", want: staffOnly(200, 200, 403, 403),
			target: withBody("/api/v1/posture", map[string]any{"level": 0, "reason": "matrix"})},
		{route: "POST /api/v1/posture/automatic", want: staffOnly(200, 200, 403, 403), target: path("/api/v1/posture/automatic")},
		{route: "GET /api/v1/notices", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/notices")},
		{route: "PUT /api/v1/notices/{level}", want: staffOnly(200, 200, 403, 403), target: withBody("/api/v1/notices/3",
			map[string]string{"zh": "服务暂时中断，我们正在处理。", "en": "The service is down for now; we are on it."})},
		{route: "GET /api/v1/alerts", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/alerts")},
		{route: "GET /api/v1/silences", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/silences")},
		{route: "POST /api/v1/silences", want: staffOnly(201, 201, 403, 403), target: withBody("/api/v1/silences",
			map[string]any{"matchers": []string{`alertname="matrix"`}, "comment": "matrix", "duration": "1h"})},
		{route: "DELETE /api/v1/silences/{id}", want: staffOnly(204, 204, 403, 403),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/silences/" + c.fx.silence()} }},
		{route: "GET /api/v1/incidents", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/incidents")},
		{route: "POST /api/v1/incidents", want: staffOnly(201, 201, 403, 403), target: func(c *mxCell) mxReq {
			if c.fresh {
				c.w.resolveOpenIncident(c.t)
			}
			return mxReq{path: "/api/v1/incidents", body: map[string]string{"title": "matrix", "severity": "info"}}
		}},
		{route: "GET /api/v1/incidents/{id}", want: staffOnly(200, 200, 200, 200),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/incidents/" + c.fx.incident()} }},
		{route: "POST /api/v1/incidents/{id}/updates", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/incidents/" + c.fx.incident() + "/updates", body: map[string]string{"note": "matrix"}}
		}},
		{route: "POST /api/v1/incidents/{id}/resolve", want: staffOnly(200, 200, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/incidents/" + c.fx.incident() + "/resolve", body: map[string]string{"note": "matrix"}}
		}},
		// On the open incident nothing waits for approval (the allowed are
		// told there is no pending action 0), and it is not recovering (a
		// state conflict).
		{route: "POST /api/v1/incidents/{id}/approve", want: staffOnly(404, 404, 403, 403), target: func(c *mxCell) mxReq {
			return mxReq{path: "/api/v1/incidents/" + c.w.openIncident(c.t) + "/approve", body: map[string]int{"index": 0}}
		}},
		{route: "POST /api/v1/incidents/{id}/confirm", want: staffOnly(409, 409, 403, 403),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/incidents/" + c.w.openIncident(c.t) + "/confirm"} }},
		{route: "GET /api/v1/incidents/{id}/postmortem", want: staffOnly(200, 200, 200, 200),
			target: func(c *mxCell) mxReq { return mxReq{path: "/api/v1/incidents/" + c.fx.incident() + "/postmortem"} }},
		{route: "GET /api/v1/monitor", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/monitor")},
		{route: "GET /api/v1/outbox", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/outbox")},
		{route: "GET /api/v1/outbox/jobs", want: staffOnly(200, 200, 200, 200), target: path("/api/v1/outbox/jobs?status=dead")},
		// No such job: those allowed are told so.
		{route: "POST /api/v1/outbox/jobs/{id}/requeue", want: staffOnly(404, 404, 403, 403), target: path("/api/v1/outbox/jobs/987654/requeue")},
		{route: "GET /api/v1/admin/faults", want: staffOnly(200, 403, 403, 403), target: path("/api/v1/admin/faults")},
		{route: "POST /api/v1/admin/faults", want: staffOnly(201, 403, 403, 403), target: withBody("/api/v1/admin/faults",
			map[string]any{"point": "notify", "scope": "matrix-channel", "latency_ms": 1, "duration_s": 1})},
		{route: "DELETE /api/v1/admin/faults", want: staffOnly(200, 403, 403, 403), target: path("/api/v1/admin/faults")},
		{route: "DELETE /api/v1/admin/faults/{point}", want: staffOnly(200, 403, 403, 403), target: path("/api/v1/admin/faults/notify")},

		// The server's profiles (debug.profile): admins only. The CPU
		// profile and the trace are kept short; they block for as long as
		// they are asked to.
		{route: "GET " + pprof + "{$}", want: staffOnly(200, 403, 403, 403), target: path(pprof)},
		{route: "GET " + pprof + "cmdline", want: staffOnly(200, 403, 403, 403), target: path(pprof + "cmdline")},
		{route: "GET " + pprof + "profile", want: staffOnly(200, 403, 403, 403), target: path(pprof + "profile?seconds=1")},
		{route: "GET " + pprof + "symbol", want: staffOnly(200, 403, 403, 403), target: path(pprof + "symbol")},
		{route: "POST " + pprof + "symbol", want: staffOnly(200, 403, 403, 403), target: path(pprof + "symbol")},
		{route: "GET " + pprof + "trace", want: staffOnly(200, 403, 403, 403), target: path(pprof + "trace?seconds=0.1")},
		{route: "GET " + pprof + "heap", want: staffOnly(200, 403, 403, 403), target: path(pprof + "heap?debug=1")},
		{route: "GET " + pprof + "allocs", want: staffOnly(200, 403, 403, 403), target: path(pprof + "allocs")},
		{route: "GET " + pprof + "goroutine", want: staffOnly(200, 403, 403, 403), target: path(pprof + "goroutine?debug=2")},
		{route: "GET " + pprof + "block", want: staffOnly(200, 403, 403, 403), target: path(pprof + "block")},
		{route: "GET " + pprof + "mutex", want: staffOnly(200, 403, 403, 403), target: path(pprof + "mutex")},
		{route: "GET " + pprof + "threadcreate", want: staffOnly(200, 403, 403, 403), target: path(pprof + "threadcreate")},
	}
}

// mxOptional are routes registered only when a feature is on (the matrix
// world turns them on): they need a row, but Routes may leave them out.
var mxOptional = []string{"GET /metrics"}

// mxAuditorMayNotRead are the GET routes an auditor, who reads everything
// else, is refused, and why.
var mxAuditorMayNotRead = map[string]string{
	"GET /api/v1/desk/presence": "auditors take no conversations, so have no presence",
	"GET /api/v1/auth/api-keys": "API keys are users.manage: the audit trail records their creation and deletion",
	"GET /api/v1/users":         "accounts are users.manage: the audit trail records every change to them",
	"GET /api/v1/admin/faults":  "fault injection is a drill tool (faults.inject)",
}

// auditorMayNotRead is why the auditor is refused a GET route ("" when it
// is not): mxAuditorMayNotRead's reason, or the profiles'.
func auditorMayNotRead(route string) string {
	if strings.HasPrefix(route, "GET /api/v1/admin/debug/pprof/") {
		return "the server's profiles show its inner workings, not what people did (debug.profile, admins only)"
	}
	return mxAuditorMayNotRead[route]
}

func TestAuthorizationMatrix(t *testing.T) {
	rows := mxRows()

	// The table covers every route, once, and nothing else.
	byRoute := map[string]mxRow{}
	for _, r := range rows {
		if _, dup := byRoute[r.route]; dup {
			t.Fatalf("two rows for %s", r.route)
		}
		byRoute[r.route] = r
	}
	routes := httpapi.Routes()
	for _, r := range routes {
		if _, ok := byRoute[r]; !ok {
			t.Errorf("route %s has no row in the authorization matrix: add one to mxRows", r)
		}
	}
	for _, r := range rows {
		if !slices.Contains(routes, r.route) && !slices.Contains(mxOptional, r.route) {
			t.Errorf("the matrix has a row for %s, which is not a route", r.route)
		}
	}
	// The auditor writes nothing (signing in and out aside), and reads
	// everything but what mxAuditorMayNotRead says.
	for _, r := range rows {
		got := r.want[mxAuditor]
		write := r.method() != "GET" && r.route != "POST /api/v1/auth/login" && r.route != "POST /api/v1/auth/logout" &&
			r.route != "POST /api/v1/conversations"
		switch {
		case write && got < 400:
			t.Errorf("%s: the auditor is expected to write (%d)", r.route, got)
		case r.method() == "GET" && got >= 400 && got != 401 && auditorMayNotRead(r.route) == "":
			t.Errorf("%s: the auditor is expected to be refused a read (%d) without a reason in auditorMayNotRead", r.route, got)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	w := startMatrixWorld(t)
	for _, row := range rows {
		t.Run(row.route, func(t *testing.T) {
			for a := range mxActors {
				t.Run(mxActorNames[a], func(t *testing.T) { w.cell(t, row, a) })
			}
		})
	}

	// A refused request left the shared conversations as they were.
	t.Run("refusals changed nothing", func(t *testing.T) {
		fx := w.shared
		for _, c := range []*mxConv{fx.mineConv, fx.queuedConv} {
			if c == nil {
				continue
			}
			now := (&roleFixture{t: t, w: w.roleWorld}).transcript(c.ID)
			if now.Conversation.State != c.state || now.Conversation.assignee() != c.assignee || len(now.Notes) != c.notes {
				t.Errorf("conversation %s is %s/%s with %d notes, was %s/%s with %d", c.ID, now.Conversation.State,
					now.Conversation.assignee(), len(now.Notes), c.state, c.assignee, c.notes)
			}
		}
	})

	// A customer's token on a conversation that does not exist gets the
	// answer it gets on one that exists but is not its own.
	t.Run("conversation ids do not leak to customers", func(t *testing.T) {
		cl := &testutil.Client{T: t, Base: w.url}
		tok := w.shared.cust().Token
		other := w.shared.other().ID
		for _, p := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"POST", "/messages", `{"text":"hi"}`}, {"POST", "/rating", `{"score":5}`},
			{"POST", "/offline-message", `{"contact":"a@b.co","message":"x"}`}, {"POST", "/messages/m1/flag", `{}`},
		} {
			var body []byte
			if p.body != "" {
				body = []byte(p.body)
			}
			s1, b1 := cl.Do(p.method, "/api/v1/conversations/"+other+p.suffix, tok, body)
			s2, b2 := cl.Do(p.method, "/api/v1/conversations/cnotthere"+p.suffix, tok, body)
			if s1 != 401 || s1 != s2 || string(b1) != string(b2) {
				t.Errorf("%s %s: another's %d %s, a missing one's %d %s", p.method, p.suffix, s1, b1, s2, b2)
			}
		}
	})
}

// mxWorld is the running Steward the matrix is checked against.
type mxWorld struct {
	*roleWorld
	apiKey        string // the agent's
	spare         string // a user the role and disable rows change
	shippingEntry string // the demo entry that answers 运费怎么算
	shared        *mxFixture
	seq           int
}

func (w *mxWorld) next() int { w.seq++; return w.seq }

func startMatrixWorld(t *testing.T) *mxWorld {
	t.Helper()
	rw := startRoleWorld(t, func(c *config.Config) {
		c.EnableFaultInjection = true
		// The matrix's flags, ratings and handoffs are no incident: with the
		// detectors on, the controller takes shipping questions to people
		// half way through.
		for _, r := range monitor.DefaultRules() {
			r.Disabled = true
			c.Monitor.Rules = append(c.Monitor.Rules, r)
		}
	})
	w := &mxWorld{roleWorld: rw}
	admin := w.as(t, roleAdmin)
	var key struct{ Key string }
	admin.Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "matrix", "user_id": w.id(roleAgent)}, &key)
	w.apiKey = key.Key
	var spare struct{ User struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/users", map[string]string{"email": "spare@example.com", "role": "agent",
		"password": roleWorldPassword}, &spare)
	w.spare = spare.User.ID
	w.shared = &mxFixture{t: t, w: w}
	// The agent keeps its presence as an API client must (docs/desk.md: PUT it again within 2 minutes), or
	// routing would give its conversations to others half way through the matrix's few minutes.
	agentAPI := w.as(t, roleAgent)
	beat, stop := time.NewTicker(30*time.Second), make(chan struct{})
	t.Cleanup(func() { beat.Stop(); close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-beat.C: // a plain request: t must not be used once the test has ended
				req, _ := http.NewRequest("PUT", agentAPI.Base+"/api/v1/desk/presence", strings.NewReader(`{"status":"online"}`))
				req.Header.Set("Authorization", "Bearer "+agentAPI.Token)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	w.shippingEntry = w.shared.cust().entry
	if w.shippingEntry == "" {
		t.Fatal("运费怎么算 was not answered from an entry")
	}
	// A second release, so that one is not active.
	admin.Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "matrix second release"}, nil)
	// The shared objects refused cells act on, made before any cell runs.
	fx := w.shared
	fx.mine()
	fx.queued()
	fx.other()
	fx.snapshot()
	return w
}

// resolveOpenIncident resolves the open incident, if any.
func (w *mxWorld) resolveOpenIncident(t *testing.T) {
	var list struct {
		Incidents []struct{ ID, Phase string }
	}
	admin := w.as(t, roleAdmin)
	admin.Must(http.StatusOK, "GET", "/api/v1/incidents", nil, &list)
	for _, inc := range list.Incidents {
		if inc.Phase != "resolved" {
			admin.Must(http.StatusOK, "POST", "/api/v1/incidents/"+inc.ID+"/resolve", map[string]string{"note": "matrix"}, nil)
		}
	}
}

// mxCell is one cell being checked.
type mxCell struct {
	t     *testing.T
	w     *mxWorld
	actor mxActor
	// fresh is set when the cell is expected to change something: its
	// objects are then made for it alone.
	fresh bool
	fx    *mxFixture
}

// deskConv is the conversation a desk route acts on for this actor.
func (c *mxCell) deskConv() *mxConv {
	if c.actor == mxAgentQueued {
		return c.fx.queued()
	}
	return c.fx.mine()
}

// staffKey names the roleWorld user of an actor.
var staffKey = map[mxActor]string{mxAdmin: roleAdmin, mxSupervisor: roleSupervisor, mxAgentOwn: roleAgent,
	mxAgentOther: roleOtherAgent, mxAgentQueued: roleAgent, mxAuditor: roleAuditor}

// token is what the actor presents.
func (c *mxCell) token(row mxRow) string {
	switch c.actor {
	case mxAnonymous:
		return ""
	case mxCustomer:
		return c.fx.cust().Token
	case mxCustomerOther:
		return c.w.shared.other().Token
	case mxAPIKey:
		return c.w.apiKey
	}
	who := staffKey[c.actor]
	if row.relogin {
		email := c.w.staff[who].Email
		password := roleWorldPassword
		if who == roleAdmin {
			password = c.w.run.Demo[0].Password
		}
		return testutil.Login(c.t, c.w.url, email, password).Token
	}
	return c.w.staff[who].Token
}

func (w *mxWorld) cell(t *testing.T, row mxRow, actor mxActor) {
	want := row.want[actor]
	w.shared.t = t // what the shared fixture makes on demand, it makes for this cell's test
	c := &mxCell{t: t, w: w, actor: actor, fx: w.shared}
	if want < 300 && row.method() != "GET" {
		c.fresh = true
		c.fx = &mxFixture{t: t, w: w, fresh: true}
		t.Cleanup(c.fx.cleanup)
	}
	req := row.target(c)
	tok := c.token(row)
	var (
		status int
		body   []byte
	)
	if row.ws {
		status, body = mxSocket(t, w.url, req.path, tok)
	} else {
		s := &testutil.Staff{T: t, Base: w.url, Token: tok}
		status, body = s.Do(row.method(), req.path, req.body)
	}
	if status != want {
		t.Fatalf("%s %s as %s: %d %s, want %d", row.method(), req.path, mxActorNames[actor], status, body, want)
	}
	if !row.ws {
		assertRoleAnswer(t, status, body, want)
	}
}

// mxSocket opens a WebSocket, authenticates with its first frame and reads
// the server's first: ready is 200, an error frame its code's status.
func mxSocket(t *testing.T, base, path, tok string) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	defer ws.CloseNow()
	if err := wsjson.Write(ctx, ws, map[string]string{"type": "auth", "token": tok}); err != nil {
		t.Fatal(err)
	}
	var f struct {
		Type  string
		Error *struct{ Code, Message string }
	}
	if err := wsjson.Read(ctx, ws, &f); err != nil {
		t.Fatalf("first frame of %s: %v", path, err)
	}
	b, _ := json.Marshal(f)
	switch {
	case f.Type == "ready":
		return 200, b
	case f.Type == "error" && f.Error != nil:
		for status, code := range roleErrorCodes {
			if code == f.Error.Code && status != 405 && status != 413 {
				return status, b
			}
		}
	}
	return 0, b
}

// mxConv is a conversation of a fixture: the customer asked a question the
// knowledge base answers, and gave a mobile number (masked and sealed).
type mxConv struct {
	testutil.Conversation
	answer string // the bot's answer's message id
	entry  string // the entry it came from
	pii    string // the customer message with the mobile number

	// what a refused request must leave as it was
	state, assignee string
	notes           int
}

// mxFixture makes the objects cells act on, when first asked for. The
// shared fixture's serve every refused cell; a fresh one serves one cell.
type mxFixture struct {
	t     *testing.T
	w     *mxWorld
	fresh bool

	custConv, otherConv, mineConv, queuedConv *mxConv
	tickets                                   map[string]string
	cannedID, apiKeyID, goldenID, silenceID   string
	incidentID, flagID                        string
	entries                                   map[string]string
}

func (fx *mxFixture) admin() *testutil.Staff { return fx.w.as(fx.t, roleAdmin) }

// conversation starts one, asks, gives the number, and asks for a person
// when handoff is set.
func (fx *mxFixture) conversation(handoff bool) *mxConv {
	fx.t.Helper()
	cl := &testutil.Client{T: fx.t, Base: fx.w.url}
	c := &mxConv{Conversation: cl.Start("zh-CN")}
	turn := cl.Say(c.Conversation, "运费怎么算")
	for _, m := range turn.Messages {
		if m.Outcome == "answer" && m.Entry != nil {
			c.answer, c.entry = m.ID, m.Entry.ID
		}
	}
	if c.answer == "" {
		fx.t.Fatalf("运费怎么算 got no answer: %+v", turn.Messages)
	}
	c.pii = cl.Say(c.Conversation, "我的手机号是 13812345678").Customer.ID
	if handoff {
		if turn := cl.Say(c.Conversation, "转人工"); turn.State != "queued" {
			fx.t.Fatalf("handoff: %+v", turn)
		}
	}
	return c
}

func (fx *mxFixture) cust() *mxConv {
	if fx.custConv == nil {
		fx.custConv = fx.conversation(false)
	}
	return fx.custConv
}

// other is another customer's conversation (its token is the "customer of
// another conversation" column's).
func (fx *mxFixture) other() *mxConv {
	if fx.otherConv == nil {
		fx.otherConv = fx.conversation(false)
	}
	return fx.otherConv
}

func (fx *mxFixture) queued() *mxConv {
	if fx.queuedConv == nil {
		fx.w.as(fx.t, roleAgent).Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
		fx.queuedConv = fx.conversation(true)
	}
	return fx.queuedConv
}

// mine is a conversation the agent has claimed.
func (fx *mxFixture) mine() *mxConv {
	if fx.mineConv == nil {
		fx.w.as(fx.t, roleAgent).Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
		fx.mineConv = fx.conversation(true)
		fx.w.as(fx.t, roleAgent).Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+fx.mineConv.ID+"/claim", nil, nil)
	}
	return fx.mineConv
}

// snapshot remembers the state of the shared conversations.
func (fx *mxFixture) snapshot() {
	for _, c := range []*mxConv{fx.mineConv, fx.queuedConv} {
		tr := (&roleFixture{t: fx.t, w: fx.w.roleWorld}).transcript(c.ID)
		c.state, c.assignee, c.notes = tr.Conversation.State, tr.Conversation.assignee(), len(tr.Notes)
	}
}

// cleanup closes a fresh fixture's desk conversations, freeing the agents.
func (fx *mxFixture) cleanup() {
	for _, c := range []*mxConv{fx.mineConv, fx.queuedConv} {
		if c != nil {
			fx.admin().Do("POST", "/api/v1/desk/conversations/"+c.ID+"/close", map[string]bool{"ask_rating": false})
		}
	}
}

// ticket is an open offline message on conversation c.
func (fx *mxFixture) ticket(c *mxConv) string {
	if fx.tickets == nil {
		fx.tickets = map[string]string{}
	}
	if id, ok := fx.tickets[c.ID]; ok {
		return id
	}
	cl := &testutil.Client{T: fx.t, Base: fx.w.url}
	status, b := cl.Do("POST", "/api/v1/conversations/"+c.ID+"/offline-message", c.Token, []byte(`{"contact":"li@example.com","message":"请回电"}`))
	if status != http.StatusCreated {
		fx.t.Fatalf("offline message: %d %s", status, b)
	}
	fx.tickets[c.ID] = roleDecode[struct{ Ticket struct{ ID string } }](fx.t, b).Ticket.ID
	return fx.tickets[c.ID]
}

func (fx *mxFixture) canned() string {
	if fx.cannedID == "" {
		var out struct{ Canned struct{ ID string } }
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/desk/canned", map[string]string{"title": "matrix", "text": "稍等", "locale": "zh-CN"}, &out)
		fx.cannedID = out.Canned.ID
	}
	return fx.cannedID
}

// apiKey is a throwaway key (never the world's, which the API key column uses).
func (fx *mxFixture) apiKey() string {
	if fx.apiKeyID == "" {
		var out struct{ ID string }
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/auth/api-keys", map[string]string{"name": "throwaway"}, &out)
		fx.apiKeyID = out.ID
	}
	return fx.apiKeyID
}

func (fx *mxFixture) golden() string {
	if fx.goldenID == "" {
		var out struct{ ID string }
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/kb/golden", map[string]string{"question": fmt.Sprintf("邮费多少 %d", fx.w.next()),
			"locale": "zh-CN", "entry_id": fx.w.shippingEntry}, &out)
		fx.goldenID = out.ID
	}
	return fx.goldenID
}

func (fx *mxFixture) silence() string {
	if fx.silenceID == "" {
		var out struct{ Silence struct{ ID string } }
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/silences", map[string]any{"matchers": []string{`alertname="matrix"`},
			"comment": "matrix", "duration": "1h"}, &out)
		fx.silenceID = out.Silence.ID
	}
	return fx.silenceID
}

// incident is an incident, open when first asked for.
func (fx *mxFixture) incident() string {
	if fx.incidentID == "" {
		fx.incidentID = fx.w.openIncident(fx.t)
	}
	return fx.incidentID
}

// openIncident is the open incident, declared if there is none.
func (w *mxWorld) openIncident(t *testing.T) string {
	var list struct {
		Incidents []struct{ ID, Phase string }
	}
	admin := w.as(t, roleAdmin)
	admin.Must(http.StatusOK, "GET", "/api/v1/incidents", nil, &list)
	for _, inc := range list.Incidents {
		if inc.Phase != "resolved" {
			return inc.ID
		}
	}
	var out struct{ Incident struct{ ID string } }
	admin.Must(http.StatusCreated, "POST", "/api/v1/incidents", map[string]string{"title": "matrix", "severity": "info"}, &out)
	return out.Incident.ID
}

// flag is an open customer flag on a bot answer.
func (fx *mxFixture) flag() string {
	if fx.flagID == "" {
		c := fx.conversation(false)
		cl := &testutil.Client{T: fx.t, Base: fx.w.url}
		status, b := cl.Do("POST", "/api/v1/conversations/"+c.ID+"/messages/"+c.answer+"/flag", c.Token, []byte(`{"reason":"matrix"}`))
		if status != http.StatusCreated {
			fx.t.Fatalf("flag: %d %s", status, b)
		}
		fx.flagID = roleDecode[struct{ Flag struct{ ID string } }](fx.t, b).Flag.ID
	}
	return fx.flagID
}

// entry is an entry the agent wrote, in status draft or in_review.
func (fx *mxFixture) entry(status string) string {
	if fx.entries == nil {
		fx.entries = map[string]string{}
	}
	if id, ok := fx.entries[status]; ok {
		return id
	}
	id := fmt.Sprintf("mx-%s-%d", strings.ReplaceAll(status, "_", "-"), fx.w.next())
	body := map[string]any{"entry": mxEntry(id, ""), "submit": status == "in_review"}
	fx.w.as(fx.t, roleAgent).Must(http.StatusCreated, "POST", "/api/v1/kb/entries", body, nil)
	fx.entries[status] = id
	return id
}

// inactiveRelease is a release that is not the active one.
func (fx *mxFixture) inactiveRelease() int64 {
	var list struct {
		Releases []struct {
			ID     int64
			Active bool
		}
	}
	fx.admin().Must(http.StatusOK, "GET", "/api/v1/kb/releases", nil, &list)
	for _, r := range list.Releases {
		if !r.Active {
			return r.ID
		}
	}
	fx.t.Fatal("every release is active")
	return 0
}

// rollbackable publishes a release when the cell is to roll back, so that
// there is a release before it to go back to.
func (fx *mxFixture) rollbackable() {
	if fx.fresh {
		fx.admin().Must(http.StatusCreated, "POST", "/api/v1/kb/releases", map[string]string{"note": "to roll back"}, nil)
	}
}

// mxEntry is a knowledge entry with the given id (suffix changes its answer).
func mxEntry(id, suffix string) map[string]any {
	return map[string]any{"id": id, "category": "payment", "title": "矩阵 " + id, "tags": []string{"matrix"},
		"locales": map[string]any{
			"zh-CN": map[string]any{"questions": []string{"矩阵测试问题 " + id, "权限矩阵 " + id}, "answer": "这是权限矩阵的测试条目 " + id + "。" + suffix},
			"en":    map[string]any{"questions": []string{"matrix question " + id, "authorization matrix " + id}, "answer": "The matrix entry " + id + "." + suffix},
		}}
}
