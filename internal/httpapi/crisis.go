package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/jobs"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/monitor"
)

// Crisis is the crisis-response machinery the HTTP surface exposes.
type Crisis struct {
	Monitor    *monitor.Monitor
	Metrics    *monitor.Metrics
	Alerts     *monitor.Manager
	Controller *incident.Controller
	Outbox     *jobs.Outbox
	// Faults is nil unless the server runs with fault injection; then
	// BadRelease publishes the drills' damaged release.
	Faults     *incident.Faults
	BadRelease func(ctx context.Context) (*knowledge.Release, error)
	// Components reports each component's health for the status page.
	Components func(ctx context.Context) []Component
	// SpoolPending counts customer writes waiting for the database.
	SpoolPending func() int
	// SpoolHealthy says why the spool cannot take writes, or nil
	// (readiness while the database is away).
	SpoolHealthy func() error
	// MetricsToken, when set, is the bearer token GET /metrics wants.
	MetricsToken string
}

// Component is one line of the public status page.
type Component struct {
	Name   string `json:"name"`
	NameZH string `json:"name_zh"`
	Status string `json:"status"` // operational, degraded_performance, partial_outage, major_outage
	// Note and NoteZH say why a line is not operational when its status
	// alone would mislead ("no agent online; leave a message").
	Note   string `json:"note,omitempty"`
	NoteZH string `json:"note_zh,omitempty"`
}

func (s *Server) crisisRoutes(mux *routeMux) {
	if s.crisis == nil {
		return
	}
	if s.crisis.Metrics != nil {
		var h http.Handler = promhttp.HandlerFor(s.crisis.Metrics.Registry, promhttp.HandlerOpts{})
		if tok := s.crisis.MetricsToken; tok != "" {
			h = s.metricsAuth(tok, h)
		}
		mux.Handle("GET /metrics", h)
	}
	mux.HandleFunc("GET /api/v1/status", s.handle(s.publicStatus))
	mux.HandleFunc("GET /api/v1/posture", s.staff(s.getPosture))
	mux.HandleFunc("PUT /api/v1/posture", s.staff(s.putPosture))
	mux.HandleFunc("POST /api/v1/posture/automatic", s.staff(s.automaticPosture))
	mux.HandleFunc("GET /api/v1/notices", s.staff(s.getNotices))
	mux.HandleFunc("PUT /api/v1/notices/{level}", s.staff(s.putNotice))
	mux.HandleFunc("GET /api/v1/alerts", s.staff(s.listAlerts))
	mux.HandleFunc("GET /api/v1/silences", s.staff(s.listSilences))
	mux.HandleFunc("POST /api/v1/silences", s.staff(s.addSilence))
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.staff(s.expireSilence))
	mux.HandleFunc("GET /api/v1/incidents", s.staff(s.listIncidents))
	mux.HandleFunc("POST /api/v1/incidents", s.staff(s.declareIncident))
	mux.HandleFunc("GET /api/v1/incidents/{id}", s.staff(s.getIncident))
	mux.HandleFunc("POST /api/v1/incidents/{id}/updates", s.staff(s.updateIncident))
	mux.HandleFunc("POST /api/v1/incidents/{id}/resolve", s.staff(s.resolveIncident))
	mux.HandleFunc("POST /api/v1/incidents/{id}/approve", s.staff(s.approveAction))
	mux.HandleFunc("POST /api/v1/incidents/{id}/confirm", s.staff(s.confirmRecovery))
	mux.HandleFunc("GET /api/v1/incidents/{id}/postmortem", s.staff(s.postmortem))
	mux.HandleFunc("GET /api/v1/monitor", s.staff(s.monitorSummary))
	mux.HandleFunc("GET /api/v1/outbox", s.staff(s.listOutbox))
	mux.HandleFunc("GET /api/v1/outbox/jobs", s.staff(s.listJobs))
	mux.HandleFunc("POST /api/v1/outbox/jobs/{id}/requeue", s.staff(s.requeueJob))
	mux.HandleFunc("GET /api/v1/admin/faults", s.staff(s.listFaults))
	mux.HandleFunc("POST /api/v1/admin/faults", s.staff(s.injectFault))
	mux.HandleFunc("DELETE /api/v1/admin/faults", s.staff(s.clearFaults))
	mux.HandleFunc("DELETE /api/v1/admin/faults/{point}", s.staff(s.clearFaults))
}

func incidentActor(p *auth.Principal) incident.Actor {
	return incident.Actor{ID: p.User.ID, Name: p.Actor().Name}
}

// what each permission lets one do, for refusals.
var permWhat = map[auth.Permission]string{
	auth.IncidentRead:   "read alerts, incidents and the service posture",
	auth.IncidentManage: "manage incidents, the posture, silences and notices",
	auth.FaultsInject:   "inject faults",
}

// ---- public status ----

type statusIncidentJSON struct {
	ID         string           `json:"id"`
	Title      string           `json:"title"`
	TitleZH    string           `json:"title_zh"`
	Phase      string           `json:"phase"`
	Severity   string           `json:"severity"`
	StartedAt  time.Time        `json:"started_at"`
	ResolvedAt time.Time        `json:"resolved_at,omitzero"`
	Updates    []statusEventRow `json:"updates,omitempty"`
}

type statusEventRow struct {
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
	TextZH string    `json:"text_zh"`
}

// statusRank orders the public statuses, best first.
var statusRank = map[string]int{"operational": 0, "degraded_performance": 1, "partial_outage": 2, "major_outage": 3}

// worse returns the worse of two public statuses.
func worse(a, b string) string {
	if statusRank[b] > statusRank[a] {
		return b
	}
	return a
}

// publicStatus is the status page's data: no personal data, no internals
// beyond what a customer needs. status is the service posture's; overall
// is what the page's banner shows: the worst of status, the components
// and an open incident (at least degraded_performance while one is open).
func (s *Server) publicStatus(w http.ResponseWriter, r *http.Request) error {
	ctl := s.crisis.Controller
	p := ctl.Posture()
	notice := ctl.Notice(p)
	desc, descZH := p.PublicDescribe()
	status := "operational"
	switch {
	case p.Level >= incident.Level2:
		status = "major_outage"
	case p.Level == incident.Level1:
		status = "partial_outage"
	case len(p.Throttle) > 0:
		status = "degraded_performance"
	}
	overall := status
	out := map[string]any{"status": status, "level": p.Level, "description": desc, "description_zh": descZH,
		"notice": map[string]string{"zh-CN": notice.ZH, "en": notice.EN}, "updated_at": time.Now().UTC()}
	if s.crisis.Components != nil {
		comps := s.crisis.Components(r.Context())
		for _, c := range comps {
			overall = worse(overall, c.Status)
		}
		out["components"] = comps
	}
	// The page is read most when things break, the database too: what
	// this node serves (the posture, the components) is always shown, and
	// the incidents, read from the database, when they can be.
	history := []statusIncidentJSON{} // [] rather than null when nothing happened
	// Bounded: a database that hangs (rather than refusing) held the page's
	// request for good, while this node served level 3 from memory.
	rctx, cancel := context.WithTimeout(r.Context(), statusReadTimeout)
	defer cancel()
	incs, err := ctl.Incidents(rctx, 10)
	if err != nil {
		s.logger.Warn("status page: read the incidents", "error", err)
		out["history_unavailable"] = true
		// The open incident is in memory: it disappeared from the page
		// for the outage's length.
		if cur := ctl.Current(); cur != nil {
			incs = []incident.Incident{*cur}
		}
	}
	for _, inc := range incs {
		title, titleZH := publicTitle(&inc)
		row := statusIncidentJSON{ID: inc.ID, Title: title, TitleZH: titleZH, Phase: inc.Phase, Severity: inc.Severity,
			StartedAt: inc.StartedAt, ResolvedAt: inc.ResolvedAt}
		if inc.Open() {
			var events []incident.Event
			if err == nil { // else the database is away: the incident as this node holds it, without its updates
				var rerr error
				if _, events, rerr = ctl.Incident(rctx, inc.ID); rerr != nil {
					s.logger.Warn("status page: read the open incident", "incident", inc.ID, "error", rerr)
					out["history_unavailable"] = true
				}
			}
			for _, e := range events {
				if e.Kind == incident.EventPhase || e.Kind == incident.EventOpened || e.Kind == incident.EventPosture ||
					e.Kind == incident.EventResolved {
					text, textZH := publicEventText(&inc, &e)
					row.Updates = append(row.Updates, statusEventRow{At: e.At, Text: text, TextZH: textZH})
				}
			}
			cur := row
			out["incident"] = &cur
			overall = worse(overall, "degraded_performance")
		}
		history = append(history, row)
	}
	out["history"] = history
	out["overall"] = overall
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// statusReadTimeout bounds the status page's reads of the incidents.
const statusReadTimeout = 2 * time.Second

// publicTitle is an incident's title as the public sees it: an operator's
// own (written for the public, and masked), or, for one Steward opened by
// itself, a neutral line by its severity: its title is the first alert's
// summary, which named channels, hosts and Go errors ("notification
// channel ops-pager is failing: webhook: Post \"http://…\": dial tcp …").
func publicTitle(inc *incident.Incident) (string, string) {
	if inc.Manual {
		zh := inc.TitleZH
		if zh == "" {
			zh = inc.Title
		}
		return inc.Title, zh
	}
	switch inc.Severity {
	case monitor.LevelCritical:
		return "Service disruption", "服务中断"
	case monitor.LevelInfo:
		return "Service notice", "服务提示"
	}
	return "Degraded service", "服务受到影响"
}

// publicEventText is a timeline event as the public sees it: a neutral line
// made from the event's kind and data. What a person did is recorded with
// their name ("declared by …", "set by …", their reason or note), and what
// Steward did with its alerts' text and playbooks' names: neither is the
// public's.
func publicEventText(inc *incident.Incident, e *incident.Event) (string, string) {
	title, titleZH := publicTitle(inc)
	switch e.Kind {
	case incident.EventOpened:
		return "incident opened: " + title, "事件开启：" + titleZH
	case incident.EventPhase:
		phase, _ := e.Data["phase"].(string)
		if zh, ok := phaseZH[phase]; ok {
			return "phase " + phase, "阶段：" + zh
		}
		return "phase changed", "处理阶段已更新"
	case incident.EventPosture:
		var pos incident.Posture
		if b, err := json.Marshal(e.Data["posture"]); err == nil && json.Unmarshal(b, &pos) == nil {
			en, zh := pos.PublicDescribe()
			return "posture: " + en, "服务状态：" + zh
		}
		return "service posture changed", "服务状态已调整"
	case incident.EventResolved:
		return "resolved", "已解决"
	}
	return "incident updated", "事件已更新"
}

// phaseZH names the phases as the status page does.
var phaseZH = map[string]string{incident.PhaseInvestigating: "调查中", incident.PhaseIdentified: "已定位",
	incident.PhaseMonitoring: "观察中", incident.PhaseResolved: "已解决"}

// ---- posture ----

func (s *Server) getPosture(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	ctl := s.crisis.Controller
	pos := ctl.Posture()
	desc, descZH := pos.Describe()
	writeJSON(w, http.StatusOK, map[string]any{"posture": pos, "description": desc, "description_zh": descZH,
		"notice": ctl.Notice(pos), "incident": ctl.Current()})
	return nil
}

type postureRequest struct {
	incident.Posture
	Reason string `json:"reason"`
	// Keep names what the new posture takes from the one in force when it
	// gives none of its own: "throttle", "notice", "intents"
	// (incident.Keep). The console's form sends all three.
	Keep []string `json:"keep"`
}

func (req postureRequest) keep() (incident.Keep, error) {
	var k incident.Keep
	for _, name := range req.Keep {
		switch name {
		case "throttle":
			k.Throttle = true
		case "notice":
			k.Notice = true
		case "intents":
			k.Intents = true
		default:
			return k, errcode.Localized(errcode.Invalid, "keep: %q is not one of throttle, notice, intents",
				"keep：%q 不是 throttle、notice、intents 之一", name)
		}
	}
	return k, nil
}

func (s *Server) putPosture(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req postureRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	keep, err := req.keep()
	if err != nil {
		return err
	}
	pos, problems, err := s.crisis.Controller.SetPostureKeeping(r.Context(), incidentActor(p), req.Posture, req.Reason, keep)
	if err != nil {
		return err
	}
	// problems: what the change set off and failed (a level 2 whose knowledge
	// rollback failed); the posture itself is in force.
	if problems == nil {
		problems = []incident.Problem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"posture": pos, "problems": problems})
	return nil
}

func (s *Server) automaticPosture(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	pos, err := s.crisis.Controller.Automatic(r.Context(), incidentActor(p))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"posture": pos})
	return nil
}

func (s *Server) getNotices(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	out := map[string]incident.Notice{}
	for l, n := range s.crisis.Controller.Notices() {
		out[strconv.Itoa(l)] = n
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": out})
	return nil
}

func (s *Server) putNotice(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	level, err := strconv.Atoi(r.PathValue("level"))
	if err != nil {
		return errcode.Localized(errcode.Invalid, "level must be 1, 2 or 3", "级别须为 1、2 或 3")
	}
	var n incident.Notice
	if err := decode(r, &n); err != nil {
		return err
	}
	if err := s.crisis.Controller.SetNotice(r.Context(), incidentActor(p), level, n); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"level": level, "notice": n})
	return nil
}

// ---- alerts and silences ----

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	firing := s.crisis.Alerts.Active()
	recent := s.crisis.Alerts.Recent(100)
	if firing == nil {
		firing = []monitor.Alert{}
	}
	if recent == nil {
		recent = []monitor.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"firing": firing, "recent": recent})
	return nil
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	list, err := s.crisis.Alerts.Silences(r.Context(), time.Now())
	if err != nil {
		return err
	}
	if list == nil {
		list = []monitor.Silence{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": list})
	return nil
}

type silenceRequest struct {
	Matchers []string  `json:"matchers"`
	Comment  string    `json:"comment"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Duration string    `json:"duration"` // instead of ends_at: "2h"
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req silenceRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.Matchers) == 0 || len(req.Matchers) > 20 {
		return errcode.Localized(errcode.Invalid, "matchers: give 1 to 20, e.g. [\"alertname=\\\"slow_turns\\\"\"]",
			"匹配条件（matchers）应有 1 到 20 条，例如 [\"alertname=\\\"slow_turns\\\"\"]")
	}
	if req.Comment == "" || len([]rune(req.Comment)) > 500 {
		return errcode.Localized(errcode.Invalid, "comment is required (at most 500 characters): say why", "需要填写说明（最多 500 个字符）：说明原因")
	}
	sil := monitor.Silence{Comment: req.Comment, CreatedBy: p.User.ID, StartsAt: req.StartsAt, EndsAt: req.EndsAt}
	for _, m := range req.Matchers {
		mm, err := monitor.ParseMatcher(m)
		if err != nil {
			return err
		}
		sil.Matchers = append(sil.Matchers, mm)
	}
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return errcode.Localized(errcode.Invalid, "duration must be like \"30m\" or \"2h\"", "时长应形如 \"30m\" 或 \"2h\"")
		}
		start := req.StartsAt
		if start.IsZero() {
			start = time.Now()
		}
		sil.EndsAt = start.Add(d)
	}
	out, err := s.crisis.Alerts.AddSilence(r.Context(), sil)
	if err != nil {
		return err
	}
	s.auditEntry(r.Context(), p, "alert.silence", "silence:"+out.ID, map[string]any{"matchers": req.Matchers,
		"comment": req.Comment, "ends_at": out.EndsAt})
	writeJSON(w, http.StatusCreated, map[string]any{"silence": out})
	return nil
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.crisis.Alerts.ExpireSilence(r.Context(), id, time.Now()); err != nil {
		return err
	}
	s.auditEntry(r.Context(), p, "alert.silence.expire", "silence:"+id, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- incidents ----

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	incs, err := s.crisis.Controller.Incidents(r.Context(), 100)
	if err != nil {
		return err
	}
	if incs == nil {
		incs = []incident.Incident{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": incs})
	return nil
}

type declareRequest struct {
	Title    string `json:"title"`
	TitleZH  string `json:"title_zh"`
	Severity string `json:"severity"`
}

func (s *Server) declareIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req declareRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	inc, err := s.crisis.Controller.Declare(r.Context(), incidentActor(p), req.Title, req.TitleZH, req.Severity)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"incident": inc})
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	inc, events, err := s.crisis.Controller.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if events == nil {
		events = []incident.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc, "timeline": events})
	return nil
}

type incidentUpdate struct {
	Phase string `json:"phase"`
	Note  string `json:"note"`
	Index int    `json:"index"`
	// Playbook and Alert name the action to approve as the console showed
	// it; Index alone is its place in a list that may have changed since.
	Playbook string `json:"playbook"`
	Alert    string `json:"alert"`
}

func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req incidentUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Phase == "" && req.Note == "" {
		return errcode.Localized(errcode.Invalid, "give a phase, a note, or both", "请给出阶段或备注，或两者都给")
	}
	inc, err := s.crisis.Controller.Update(r.Context(), incidentActor(p), r.PathValue("id"), req.Phase, req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc})
	return nil
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req incidentUpdate
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	inc, err := s.crisis.Controller.Resolve(r.Context(), incidentActor(p), r.PathValue("id"), req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc})
	return nil
}

func (s *Server) approveAction(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	var req incidentUpdate
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	inc, err := s.crisis.Controller.Approve(r.Context(), incidentActor(p), r.PathValue("id"),
		incident.ActionRef{Index: req.Index, Playbook: req.Playbook, Alert: req.Alert})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc})
	return nil
}

func (s *Server) confirmRecovery(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	inc, err := s.crisis.Controller.ConfirmRecovery(r.Context(), incidentActor(p), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc})
	return nil
}

// postmortem is the incident's postmortem in Markdown: written again from
// the rollups on every request, so the "after" column fills in.
func (s *Server) postmortem(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	inc, _, err := s.crisis.Controller.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	md, err := s.crisis.Controller.Postmortem(r.Context(), inc)
	if err != nil {
		return err
	}
	im, err := s.crisis.Controller.Measure(r.Context(), inc)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "markdown" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, err := w.Write([]byte(md))
		return err
	}
	d := im.During.All
	writeJSON(w, http.StatusOK, map[string]any{"incident": inc, "markdown": md, "numbers": map[string]any{
		"time_to_detect_s":          secondsBetween(inc.StartedAt, inc.DetectedAt),
		"time_to_mitigate_s":        secondsBetween(inc.StartedAt, inc.MitigatedAt),
		"time_to_resolve_s":         secondsBetween(inc.StartedAt, inc.ResolvedAt),
		"conversations_affected":    im.ConversationsAffected,
		"session_interruption_rate": im.InterruptionRate,
		"interruptions":             im.Interruptions,
		"handoffs_caused":           im.HandoffsCaused,
		"spooled_messages":          im.Spooled,
		"turns": map[string]int{"before": im.Before.All.Turns + im.Before.All.Diverted, "during": d.Turns + d.Diverted,
			"after": im.After.All.Turns + im.After.All.Diverted},
		"answer_rate": map[string]float64{"before": im.Before.All.AnswerRate(), "during": d.AnswerRate(), "after": im.After.All.AnswerRate()},
		"ratings":     map[string]int{"before": im.Before.All.Ratings, "during": d.Ratings, "after": im.After.All.Ratings},
		"low_ratings": map[string]int{"before": im.Before.All.LowRating, "during": d.LowRating, "after": im.After.All.LowRating},
		"flags":       map[string]int{"before": im.Before.All.Flags, "during": d.Flags, "after": im.After.All.Flags},
	}})
	return nil
}

func secondsBetween(a, b time.Time) *float64 {
	if a.IsZero() || b.IsZero() {
		return nil
	}
	v := b.Sub(a).Seconds()
	return &v
}

// monitorSummary is the live windows for the console.
func (s *Server) monitorSummary(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	now := time.Now()
	out := map[string]any{}
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour} {
		c := s.crisis.Monitor.Window(now, d)
		out[d.String()] = map[string]any{"turns": c.All.Turns + c.All.Diverted, "answer_rate": c.All.AnswerRate(),
			"mean_confidence": c.All.MeanConfidence(), "errors": c.All.Errors, "diverted": c.All.Diverted,
			"handoffs": c.All.Handoff + c.All.Offline, "fallbacks": c.All.Fallback, "ratings": c.All.Ratings,
			"low_ratings": c.All.LowRating, "low_ratings_left_out": c.All.StaleLowRating, "flags": c.All.Flags, "p95_latency_s": c.Latency.Quantile(0.95),
			"writes": c.Writes, "write_failures": c.WriteFails}
	}
	res := map[string]any{"windows": out}
	if s.crisis.SpoolPending != nil {
		res["spool_pending"] = s.crisis.SpoolPending()
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	if s.crisis.Outbox == nil {
		return errcode.Errorf(errcode.NotFound, "no outbox")
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": s.crisis.Outbox.Health()})
	return nil
}

// jobView is one outbox job as operators see it.
type jobView struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Key       string     `json:"key"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	Payload   string     `json:"payload"`
	CreatedAt time.Time  `json:"created_at"`
	NextAt    time.Time  `json:"next_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// listJobs lists the outbox's jobs, newest first: ?status=dead finds the
// notices given up on, which an operator may requeue once the channel is
// fixed. ?kind= and ?limit= (at most 1000, default 100) narrow it.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentRead, permWhat[auth.IncidentRead]); err != nil {
		return err
	}
	if s.crisis.Outbox == nil {
		return errcode.Errorf(errcode.NotFound, "no outbox")
	}
	q := r.URL.Query()
	f := jobs.JobFilter{Status: q.Get("status"), Kind: q.Get("kind")}
	var err error
	if f.Limit, err = queryInt(q, "limit", 0, 1, 1000); err != nil {
		return err
	}
	if len(f.Kind) > 200 {
		return errcode.Localized(errcode.Invalid, "kind is longer than 200 bytes", "kind 超过 200 字节")
	}
	js, err := s.crisis.Outbox.Jobs(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]jobView, 0, len(js))
	for _, j := range js {
		out = append(out, jobView{ID: j.ID, Kind: j.Kind, Key: j.Key, Status: j.Status, Attempts: j.Attempts,
			LastError: j.LastError, Payload: string(j.Payload), CreatedAt: j.CreatedAt, NextAt: j.NextAt,
			SentAt: optTime(j.SentAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
	return nil
}

// requeueJob gives a dead job (a notice given up on) another attempt now.
func (s *Server) requeueJob(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.IncidentManage, permWhat[auth.IncidentManage]); err != nil {
		return err
	}
	if s.crisis.Outbox == nil {
		return errcode.Errorf(errcode.NotFound, "no outbox")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return errcode.Localized(errcode.Invalid, "job id %q is not a positive whole number", "任务 id %q 不是正整数", r.PathValue("id"))
	}
	if err := s.crisis.Outbox.Requeue(r.Context(), id); err != nil {
		return err
	}
	s.auditEntry(r.Context(), p, "outbox.requeue", "job:"+strconv.FormatInt(id, 10), nil)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": jobs.StatusPending})
	return nil
}

// ---- fault injection (drills) ----

// faultsOff answers every fault route when the server runs without
// --enable-fault-injection: the API does not exist.
var errFaultsOff = errcode.Localized(errcode.NotFound, "fault injection is off (start the server with --enable-fault-injection)",
	"故障注入未开启（以 --enable-fault-injection 启动服务器）")

type faultRequest struct {
	incident.Fault
	DurationS float64 `json:"duration_s"`
}

func (s *Server) listFaults(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	// The permission first: whether drills are on is not for everyone to learn.
	if err := need(p, auth.FaultsInject, permWhat[auth.FaultsInject]); err != nil {
		return err
	}
	if s.crisis.Faults == nil {
		return errFaultsOff
	}
	list := s.crisis.Faults.List()
	if list == nil {
		list = []incident.Fault{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": list, "points": incident.FaultPoints})
	return nil
}

func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	// The permission first: whether drills are on is not for everyone to learn.
	if err := need(p, auth.FaultsInject, permWhat[auth.FaultsInject]); err != nil {
		return err
	}
	if s.crisis.Faults == nil {
		return errFaultsOff
	}
	var req faultRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DurationS < 0 || req.DurationS > incident.MaxFault.Seconds() {
		return errcode.Localized(errcode.Invalid, "duration_s must be between 0 and %.0f", "持续时间（duration_s）应在 0 到 %.0f 秒之间",
			incident.MaxFault.Seconds())
	}
	if req.Point == incident.FaultBadRelease {
		if s.crisis.BadRelease == nil {
			return errcode.Localized(errcode.Unavailable, "no knowledge base to damage", "没有可供损坏的知识库")
		}
		rel, err := s.crisis.BadRelease(r.Context())
		if err != nil {
			return err
		}
		s.auditEntry(r.Context(), p, "drill.fault", "fault:"+req.Point, map[string]any{"release": rel.ID})
		writeJSON(w, http.StatusCreated, map[string]any{"fault": req.Fault, "release": rel})
		return nil
	}
	f, err := s.crisis.Faults.Set(req.Fault, time.Duration(req.DurationS*float64(time.Second)))
	if err != nil {
		return err
	}
	s.auditEntry(r.Context(), p, "drill.fault", "fault:"+f.Point, map[string]any{"error_rate": f.ErrorRate,
		"latency_ms": f.LatencyMS, "scope": f.Scope, "until": f.Until})
	writeJSON(w, http.StatusCreated, map[string]any{"fault": f})
	return nil
}

func (s *Server) clearFaults(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	// The permission first: whether drills are on is not for everyone to learn.
	if err := need(p, auth.FaultsInject, permWhat[auth.FaultsInject]); err != nil {
		return err
	}
	if s.crisis.Faults == nil {
		return errFaultsOff
	}
	point := r.PathValue("point")
	cleared := s.crisis.Faults.Clear(point)
	s.auditEntry(r.Context(), p, "drill.fault.clear", "fault:"+point, nil)
	writeJSON(w, http.StatusOK, map[string]any{"cleared": cleared})
	return nil
}

// signal records a customer-side signal, if monitoring is on.
func (s *Server) signal(sig monitor.Signal) {
	if s.crisis != nil && s.crisis.Monitor != nil {
		s.crisis.Monitor.Record(sig)
	}
}

// noticeFor is the degraded-service notice customers see, if any.
func (s *Server) noticeFor(locale string) string {
	if s.crisis == nil || s.crisis.Controller == nil {
		return ""
	}
	p := s.engine.Posture()
	if !p.Degraded() {
		return ""
	}
	return p.NoticeText(locale)
}

// auditEntry records an operator's action in the audit log.
func (s *Server) auditEntry(ctx context.Context, p *auth.Principal, action, object string, detail map[string]any) {
	if s.audit == nil {
		return
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.User.ID, ActorName: p.Actor().Name, Action: action, Object: object,
		Detail: detail}); err != nil {
		s.logger.Error("audit", "action", action, "error", err)
	}
}

// metricsAuth lets a request through to next only with the bearer token.
// Both sides are hashed first, so the comparison takes the same time
// whatever the token's length and contents.
func (s *Server) metricsAuth(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		got := sha256.Sum256([]byte(bearer(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			return errcode.Errorf(errcode.Unauthorized, "/metrics needs the bearer token of monitor.metrics_token (STEWARD_METRICS_TOKEN)")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
