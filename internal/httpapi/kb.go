package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/steward-cs/steward/internal/monitor"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
)

// maxImport bounds a knowledge-base import through the API: the command
// line's bound, so that the API takes back every export it gives (it
// refused one over 16 MiB).
const maxImport = knowledge.MaxFileBytes

// maxEntryBody bounds one entry: 200 questions of 500 characters in two
// locales, escaped, fit.
const maxEntryBody = 2 << 20

func actorOf(p *auth.Principal) knowledge.Actor {
	return knowledge.Actor{ID: p.User.ID, Name: p.Actor().Name}
}

// queryInt reads the whole number ?name= from lo to hi, def when absent.
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errcode.Localized(errcode.Invalid, "%[1]s must be a whole number from %[2]d to %[3]d, not %[4]q",
			"%[1]s 应为 %[2]d 到 %[3]d 的整数，而不是 %[4]q", name, lo, hi, v)
	}
	return n, nil
}

func need(p *auth.Principal, perm auth.Permission, what string) error {
	if !p.User.Can(perm) {
		return auth.ErrNotPermitted(what)
	}
	return nil
}

// entryJSON is an entry as the API shows it.
type entryJSON struct {
	ID               string                       `json:"id"`
	Category         string                       `json:"category"`
	Title            string                       `json:"title"`
	DisplayTitle     string                       `json:"display_title"` // title, or the zh-CN (else en) locale's
	Tags             []string                     `json:"tags"`
	Essential        bool                         `json:"essential"`
	Status           knowledge.Status             `json:"status"`
	Version          int                          `json:"version"`
	ApprovedVersion  int                          `json:"approved_version"`
	PublishedVersion int                          `json:"published_version"` // in the active release; 0 if not in it
	Author           personJSON                   `json:"author"`
	Reviewer         string                       `json:"reviewer,omitempty"`
	Reason           string                       `json:"reason,omitempty"`
	Locales          map[string]knowledge.Content `json:"locales"`
	CreatedAt        time.Time                    `json:"created_at"`
	UpdatedAt        time.Time                    `json:"updated_at"`
}

func (s *Server) toEntryJSON(r *knowledge.Record) entryJSON {
	e := entryJSON{ID: r.ID, Category: r.Category, Title: r.Title, Tags: nonNilStrings(r.Tags), Essential: r.Essential,
		Status: r.Status, Version: r.Version, ApprovedVersion: r.ApprovedVersion,
		Author: personJSON{ID: r.Author, Name: r.AuthorName}, Reviewer: r.Reviewer, Reason: r.Reason,
		Locales: r.Locales, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	c, _ := r.Text(knowledge.LocaleZH)
	e.DisplayTitle = c.Title
	if a := s.kb.Active(); a != nil && a.Release != nil {
		e.PublishedVersion = a.Release.Versions[r.ID]
	}
	return e
}

// entryRequest is an entry as POST and PUT take it: the shape GET returns
// (its read-only fields are ignored), plus what the change is for.
type entryRequest struct {
	ID        string                       `json:"id"`
	Category  string                       `json:"category"`
	Title     string                       `json:"title"`
	Tags      []string                     `json:"tags"`
	Essential bool                         `json:"essential"`
	Locales   map[string]knowledge.Content `json:"locales"`
	// Version, when given on PUT, must be the entry's current version.
	Version int `json:"version"`
	// Flags are correction-queue flags this change fixes.
	Flags []string `json:"flags"`
	// Submit sends the new version for review at once.
	Submit bool `json:"submit"`

	Status           json.RawMessage `json:"status"`
	ApprovedVersion  json.RawMessage `json:"approved_version"`
	PublishedVersion json.RawMessage `json:"published_version"`
	Author           json.RawMessage `json:"author"`
	Reviewer         json.RawMessage `json:"reviewer"`
	Reason           json.RawMessage `json:"reason"`
	DisplayTitle     json.RawMessage `json:"display_title"`
	CreatedAt        json.RawMessage `json:"created_at"`
	UpdatedAt        json.RawMessage `json:"updated_at"`
	// Entry accepts the entry wrapped as {"entry": {...}}.
	Entry *entryRequest `json:"entry"`
}

func (req *entryRequest) entry() knowledge.Entry {
	if req.Entry != nil {
		return req.Entry.entry()
	}
	return knowledge.Entry{ID: req.ID, Category: req.Category, Title: req.Title, Tags: req.Tags,
		Essential: req.Essential, Locales: req.Locales}
}

// inner is the request with the wrapped entry's fields, when it came
// wrapped; flags, submit and version may sit on either level.
func (req *entryRequest) inner() *entryRequest {
	if req.Entry == nil {
		return req
	}
	in := *req.Entry
	in.Flags = append(in.Flags, req.Flags...)
	in.Submit = in.Submit || req.Submit
	if req.Version != 0 {
		in.Version = req.Version
	}
	return &in
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	q := r.URL.Query()
	f := knowledge.Filter{Status: knowledge.Status(q.Get("status")), Category: q.Get("category"), Query: q.Get("q"),
		All: q.Get("all") == "true" || q.Get("all") == "1"}
	recs, err := s.kb.Records(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]entryJSON, len(recs))
	for i := range recs {
		out[i] = s.toEntryJSON(&recs[i])
	}
	// two_person_rule lets a reviewer's screen hold back Approve on their
	// own versions instead of offering a button the server refuses.
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "two_person_rule": s.kb.TwoPersonRule()})
	return nil
}

func (s *Server) getEntry(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	rec, err := s.kb.Record(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toEntryJSON(rec))
	return nil
}

func (s *Server) createEntry(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPropose, "write knowledge-base drafts"); err != nil {
		return err
	}
	var req entryRequest
	if err := decodeEntry(r, &req, maxEntryBody); err != nil {
		return err
	}
	if err := checkFixFlags(req.inner()); err != nil {
		return err
	}
	rec, err := s.kb.Create(r.Context(), actorOf(p), req.entry())
	if err != nil {
		return err
	}
	if rec, err = s.afterSave(r, p, rec, req.inner()); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.toEntryJSON(rec))
	return nil
}

func (s *Server) putEntry(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPropose, "write knowledge-base drafts"); err != nil {
		return err
	}
	var req entryRequest
	if err := decodeEntry(r, &req, maxEntryBody); err != nil {
		return err
	}
	if err := checkFixFlags(req.inner()); err != nil {
		return err
	}
	rec, err := s.kb.Update(r.Context(), actorOf(p), r.PathValue("id"), req.entry(), req.inner().Version)
	if err != nil {
		return err
	}
	if rec, err = s.afterSave(r, p, rec, req.inner()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toEntryJSON(rec))
	return nil
}

// checkFixFlags refuses a list of flags the change could not link before
// the change is saved: saved first, the entry moved on to a new version
// while the editor showed an error, and saving again was a conflict.
func checkFixFlags(req *entryRequest) error {
	if len(req.Flags) == 0 {
		return nil
	}
	return quality.CheckFlagIDs(req.Flags)
}

// afterSave links the flags a change fixes and submits it when asked.
func (s *Server) afterSave(r *http.Request, p *auth.Principal, rec *knowledge.Record, req *entryRequest) (*knowledge.Record, error) {
	if len(req.Flags) > 0 {
		// A save that changed nothing leaves the version customers get:
		// linked to it, the flags were "resolved" by the next release,
		// whatever it held, with no fix anywhere (and anyone who may
		// propose could close flags that way).
		if a := s.kb.Active(); a != nil && a.Release != nil && rec.Version <= a.Release.Versions[rec.ID] {
			return nil, errcode.Localized(errcode.Conflict,
				"entry %[1]s is unchanged: version %[2]d is what customers get already, so it fixes nothing; change the entry to fix these flags, or dismiss them if no fix is needed",
				"条目 %[1]s 没有改动：第 %[2]d 版就是客户现在看到的内容，无法修复这些标记；请修改条目后再关联，若无需修复请忽略这些标记",
				rec.ID, rec.Version)
		}
		if _, err := s.flags.LinkFix(r.Context(), req.Flags, rec.ID, rec.Version, p.User.ID); err != nil {
			return nil, err
		}
	}
	if req.Submit && (rec.Status == knowledge.StatusDraft || rec.Status == knowledge.StatusRejected) {
		return s.kb.Submit(r.Context(), actorOf(p), rec.ID)
	}
	return rec, nil
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) entryAction(action string) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		return s.doEntryAction(w, r, p, action)
	}
}

func (s *Server) doEntryAction(w http.ResponseWriter, r *http.Request, p *auth.Principal, action string) error {
	perm := auth.KBReview
	if action == "submit" {
		perm = auth.KBPropose
	}
	if err := need(p, perm, action+" entries"); err != nil {
		return err
	}
	var req reasonRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	var (
		rec *knowledge.Record
		err error
		a   = actorOf(p)
		id  = r.PathValue("id")
	)
	switch action {
	case "submit":
		rec, err = s.kb.Submit(r.Context(), a, id)
	case "approve":
		rec, err = s.kb.Approve(r.Context(), a, id)
	case "reject":
		rec, err = s.kb.Reject(r.Context(), a, id, req.Reason)
	case "retire":
		rec, err = s.kb.Retire(r.Context(), a, id, req.Reason)
	default:
		return errcode.Errorf(errcode.NotFound, "no entry action %q (submit, approve, reject or retire)", action)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toEntryJSON(rec))
	return nil
}

func (s *Server) entryHistory(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	revs, err := s.kb.History(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"revisions": revs})
	return nil
}

// releaseJSON is a release with where it stands.
type releaseJSON struct {
	knowledge.Release
	Active   bool `json:"active"`
	LastGood bool `json:"last_good"`
}

func toReleaseJSON(r *knowledge.Release, l *knowledge.ReleaseList) releaseJSON {
	out := releaseJSON{Release: *r}
	if l != nil {
		out.Active, out.LastGood = r.ID == l.ActiveID, r.ID == l.LastGoodID
	}
	if out.Versions == nil {
		out.Versions = map[string]int{}
	}
	if out.Quality.Problems == nil {
		out.Quality.Problems = []knowledge.Problem{}
	}
	return out
}

type publishRequest struct {
	Note     string `json:"note"`
	Override bool   `json:"override"`
	Reason   string `json:"reason"`
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPublish, "publish releases"); err != nil {
		return err
	}
	var req publishRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	if req.Override {
		if err := need(p, auth.KBOverride, "override the quality gate"); err != nil {
			return err
		}
	}
	rel, err := s.kb.Publish(r.Context(), actorOf(p), knowledge.PublishOptions{Note: req.Note, Override: req.Override,
		Reason: req.Reason})
	if gate, ok := errors.AsType[*knowledge.GateError](err); ok {
		msgs := make([]string, len(gate.Report.Problems))
		for i, pr := range gate.Report.Problems {
			msgs[i] = pr.Message
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error": errorDetail{Code: "gate_refused", Message: "the quality gate refused the release: " +
				strings.Join(msgs, "; ")},
			"report": gate.Report,
		})
		return nil
	}
	if err != nil {
		return err
	}
	l, _ := s.kb.Releases(r.Context())
	writeJSON(w, http.StatusCreated, toReleaseJSON(rel, l))
	return nil
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	l, err := s.kb.Releases(r.Context())
	if err != nil {
		return err
	}
	out := make([]releaseJSON, len(l.Releases))
	for i := range l.Releases {
		out[i] = toReleaseJSON(&l.Releases[i], l)
	}
	writeJSON(w, http.StatusOK, map[string]any{"releases": out, "active_id": l.ActiveID, "last_good_id": l.LastGoodID,
		"rollback_to_id": l.RollbackTo})
	return nil
}

func releaseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errcode.Localized(errcode.Invalid, "release id must be a positive whole number, not %q", "发布 id 须为正整数，而不是 %q", s)
	}
	return id, nil
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	var id int64
	if r.PathValue("id") == "active" {
		a := s.kb.Active()
		if a == nil || a.Release == nil {
			return errcode.Errorf(errcode.NotFound, "no release is active yet: publish one")
		}
		id = a.Release.ID
	} else {
		var err error
		if id, err = releaseID(r.PathValue("id")); err != nil {
			return err
		}
	}
	rel, err := s.kb.Release(r.Context(), id)
	if err != nil {
		return err
	}
	l, _ := s.kb.Releases(r.Context())
	out := toReleaseJSON(rel, l)
	items := make([]map[string]any, len(rel.Content))
	for i, e := range rel.Content {
		c, _ := e.Text(knowledge.LocaleZH)
		items[i] = map[string]any{"id": e.ID, "category": e.Category, "title": c.Title, "essential": e.Essential,
			"version": rel.Versions[e.ID]}
	}
	writeJSON(w, http.StatusOK, struct {
		releaseJSON
		Items []map[string]any `json:"items"`
	}{out, items})
	return nil
}

func (s *Server) activateRelease(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPublish, "activate releases"); err != nil {
		return err
	}
	id, err := releaseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req reasonRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	rel, err := s.kb.Activate(r.Context(), actorOf(p), id, req.Reason)
	if err != nil {
		return err
	}
	l, _ := s.kb.Releases(r.Context())
	writeJSON(w, http.StatusOK, toReleaseJSON(rel, l))
	return nil
}

type rollbackRequest struct {
	To     int64  `json:"to"`
	Reason string `json:"reason"`
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPublish, "roll back releases"); err != nil {
		return err
	}
	var req rollbackRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	if req.To < 0 {
		return errcode.Localized(errcode.Invalid, "to must be a release id (or 0 for the last good release)", "to 须为发布 id（0 表示上一个正常的发布）")
	}
	rel, err := s.kb.Rollback(r.Context(), actorOf(p), req.To, req.Reason)
	if err != nil {
		return err
	}
	l, _ := s.kb.Releases(r.Context())
	writeJSON(w, http.StatusOK, toReleaseJSON(rel, l))
	return nil
}

func (s *Server) diffReleases(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	from, err := releaseID(r.URL.Query().Get("from"))
	if err != nil {
		return errcode.Localized(errcode.Invalid, "from: %[1]s", "from：%[2]s", errcode.Message(err), errcode.MessageZH(err))
	}
	to, err := releaseID(r.URL.Query().Get("to"))
	if err != nil {
		return errcode.Localized(errcode.Invalid, "to: %[1]s", "to：%[2]s", errcode.Message(err), errcode.MessageZH(err))
	}
	d, err := s.kb.Diff(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// pendingRelease says what publishing now would change against the active
// release: the same shape as a diff, with to 0 for the release not made yet.
func (s *Server) pendingRelease(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	d, err := s.kb.Pending(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) listGolden(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the knowledge base"); err != nil {
		return err
	}
	g, err := s.kb.GoldenQuestions(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"golden": g})
	return nil
}

type goldenRequest struct {
	Question string `json:"question"`
	Locale   string `json:"locale"`
	EntryID  string `json:"entry_id"`
}

func (s *Server) addGolden(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBReview, "maintain golden questions"); err != nil {
		return err
	}
	var req goldenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	g, err := s.kb.AddGolden(r.Context(), actorOf(p), knowledge.Golden{Question: req.Question, Locale: req.Locale,
		EntryID: req.EntryID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) deleteGolden(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBReview, "maintain golden questions"); err != nil {
		return err
	}
	if err := s.kb.DeleteGolden(r.Context(), actorOf(p), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) corrections(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read the correction queue"); err != nil {
		return err
	}
	status := quality.FlagStatus(r.URL.Query().Get("status"))
	switch status {
	case "", quality.FlagOpen, quality.FlagFixing, quality.FlagResolved, quality.FlagDismissed:
	default:
		return errcode.Localized(errcode.Invalid, "status must be open, fixing, resolved or dismissed, not %q",
			"status 须为 open、fixing、resolved 或 dismissed，而不是 %q", status)
	}
	groups, cov, err := s.flags.Queue(r.Context(), status)
	if err != nil {
		return err
	}
	if groups == nil {
		groups = []quality.Group{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": groups, "flags": cov.Flags, "truncated": cov.Truncated, "oldest": cov.Oldest})
	return nil
}

type dismissRequest struct {
	Flags []string `json:"flags"`
	Note  string   `json:"note"`
}

func (s *Server) dismissFlags(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBReview, "handle corrections"); err != nil {
		return err
	}
	var req dismissRequest
	if err := decodeMax(r, &req, 256<<10); err != nil { // up to a whole group's flag ids
		return err
	}
	n, err := s.flags.Dismiss(r.Context(), req.Flags, p.User.ID, req.Note)
	if err != nil {
		return err
	}
	// Closing customers' complaints is a review decision, audited as the
	// others are (the only trace was the flags' handled_by).
	if n > 0 {
		s.auditEntry(r.Context(), p, "kb.corrections.dismiss", "kb", map[string]any{"flags": req.Flags, "dismissed": n,
			"note": guard.MaskString(req.Note)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"dismissed": n})
	return nil
}

// qualityReport is the quality report of the last days (default 7): how
// many conversations the bot resolved, how many went to a person, the
// answer rate and the ratings, in all and by day.
func (s *Server) qualityReport(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.DeskReadAll, "read the quality report"); err != nil {
		return err
	}
	days, err := queryInt(r.URL.Query(), "days", 7, 1, quality.MaxReportDays)
	if err != nil {
		return err
	}
	if s.reports == nil {
		return errcode.Errorf(errcode.Unavailable, "reports are not available on this server")
	}
	rep, err := quality.BuildReport(r.Context(), s.reports, days, time.Now(), s.reportZone)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) unanswered(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "read unanswered questions"); err != nil {
		return err
	}
	q := r.URL.Query()
	days, err := queryInt(q, "days", 30, 1, 365)
	if err != nil {
		return err
	}
	limit, err := queryInt(q, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	list := s.flags.Unanswered
	kind := q.Get("kind")
	switch kind {
	case "", "unanswered":
		kind = "unanswered"
	case "generated":
		list = s.flags.ModelAnswered
	default:
		return errcode.Localized(errcode.Invalid, "kind must be unanswered or generated, not %q", "kind 应为 unanswered 或 generated，而不是 %q", kind)
	}
	clusters, cov, err := list(r.Context(), time.Now().AddDate(0, 0, -days), limit)
	if err != nil {
		return err
	}
	if clusters == nil {
		clusters = []quality.Cluster{}
	}
	// questions, truncated and from say what the clusters were made of:
	// past the newest 5,000 questions, not the whole period; clusters_total
	// and limit, that the list holds only the most frequent clusters.
	writeJSON(w, http.StatusOK, map[string]any{"clusters": clusters, "kind": kind, "days": days, "questions": cov.Questions,
		"truncated": cov.Truncated, "from": cov.From.UTC(), "clusters_total": cov.Clusters, "limit": limit})
	return nil
}

func formatParam(r *http.Request, def knowledge.Format) (knowledge.Format, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "":
		return def, nil
	case "yaml", "yml":
		return knowledge.FormatYAML, nil
	case "json":
		return knowledge.FormatJSON, nil
	default:
		return "", errcode.Localized(errcode.Invalid, "format must be json or yaml, not %q", "format 须为 json 或 yaml，而不是 %q", f)
	}
}

func (s *Server) exportKB(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBRead, "export the knowledge base"); err != nil {
		return err
	}
	f, err := formatParam(r, knowledge.FormatJSON)
	if err != nil {
		return err
	}
	entries, err := s.kb.Export(r.Context())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := knowledge.Encode(&buf, entries, f); err != nil {
		return err
	}
	ct, name := "application/json; charset=utf-8", "steward-kb.json"
	if f == knowledge.FormatYAML {
		ct, name = "application/yaml; charset=utf-8", "steward-kb.yaml"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Server) importKB(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBReview, "import into the knowledge base"); err != nil {
		return err
	}
	f, err := formatParam(r, knowledge.FormatJSON)
	if err != nil {
		return err
	}
	entries, err := knowledge.Decode(http.MaxBytesReader(w, r.Body, maxImport), f)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errcode.Localized(errcode.TooLarge, "an import may be at most %d MiB", "导入文件最大 %d MiB", maxImport>>20)
		}
		if _, ok := errors.AsType[*errcode.Error](err); ok {
			return err // an entry's error, in both languages
		}
		return errcode.Localized(errcode.Invalid, "%v", "%v", err)
	}
	res, err := s.kb.Import(r.Context(), actorOf(p), entries, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type flagRequest struct {
	Reason string `json:"reason"`
}

// flagAnswer is the customer's thumbs-down on a bot answer.
func (s *Server) flagAnswer(w http.ResponseWriter, r *http.Request) error {
	if bearer(r) == "" {
		return conversation.ErrNoToken
	}
	c, err := s.engine.Authorize(r.Context(), r.PathValue("id"), bearer(r))
	if err != nil {
		return err
	}
	var req flagRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	msgs, err := s.engine.Transcript(r.Context(), c, 0)
	if err != nil {
		return err
	}
	f, created, err := s.flags.Flag(r.Context(), c, msgs, r.PathValue("mid"), req.Reason, quality.SourceCustomer, "")
	if err != nil {
		return err
	}
	if created {
		category, at := flagged(msgs, f.MessageID)
		s.signal(monitor.Signal{Kind: monitor.KindFlag, Category: category, About: at, Repeat: s.flaggedBefore(r, msgs, f.MessageID, quality.SourceCustomer)})
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"flag": map[string]any{"id": f.ID, "message_id": f.MessageID,
		"status": f.Status, "created_at": f.CreatedAt}})
	return nil
}

// flaggedBefore reports whether another answer of the transcript than id
// was flagged already, by the customer or an agent. A conversation's flags
// are one vote towards the alert rules, its first: else one customer
// flagging three answers, or an agent going through a transcript answer by
// answer, fired wrong_answer_flags, and within minutes of a release rolled
// it back. Not known to be the first is counted, not voted (fail closed).
func (s *Server) flaggedBefore(r *http.Request, msgs []conversation.Message, id, source string) bool {
	other := quality.SourceAgent
	if source == quality.SourceAgent {
		other = quality.SourceCustomer
	}
	// The same answer flagged by the other side (the agent flags what the
	// customer complained of) is the same vote.
	same, err := s.flags.FlaggedBy(r.Context(), id, other)
	for _, src := range []string{quality.SourceCustomer, quality.SourceAgent} {
		if err != nil || same {
			break
		}
		same, err = s.flags.FlaggedAnother(r.Context(), msgs, id, src)
	}
	if err != nil {
		s.logger.Warn("flag: look for the conversation's other flags", "error", err)
		return true
	}
	return same
}

// flagged is the category of the flagged answer's entry ("" if none) and
// when it was given.
func flagged(msgs []conversation.Message, id string) (category string, at time.Time) {
	for _, m := range msgs {
		if m.ID == id {
			if m.Entry != nil {
				category = m.Entry.Category
			}
			return category, m.CreatedAt
		}
	}
	return "", time.Time{}
}

// deskFlag is an agent flagging a bot answer in a transcript they may read.
func (s *Server) deskFlag(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.KBPropose, "flag answers"); err != nil {
		return err
	}
	var req flagRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	c, msgs, _, err := s.desk.Transcript(r.Context(), p.User, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, created, err := s.flags.Flag(r.Context(), c, msgs, r.PathValue("mid"), req.Reason, quality.SourceAgent, p.User.ID)
	if err != nil {
		return err
	}
	if created {
		// An agent's flag is a signal as a customer's is: of an answer
		// given now, it counts towards the wrong_answer_flags rule, once a
		// conversation; of one before the current release, it is stale
		// there (monitor.Signal.About).
		category, at := flagged(msgs, f.MessageID)
		s.signal(monitor.Signal{Kind: monitor.KindFlag, Category: category, About: at, Repeat: s.flaggedBefore(r, msgs, f.MessageID, quality.SourceAgent)})
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"flag": f})
	return nil
}

func (s *Server) auditTrail(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := need(p, auth.AuditRead, "read the audit trail"); err != nil {
		return err
	}
	q := r.URL.Query()
	aq := audit.Query{Action: q.Get("action"), Object: q.Get("object")}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errcode.Localized(errcode.Invalid, "before must be a sequence number", "before 须为序号")
		}
		aq.Before = n
	}
	var err error
	if aq.Limit, err = queryInt(q, "limit", 0, 1, 1000); err != nil {
		return err
	}
	entries, err := s.audit.Entries(r.Context(), aq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}
