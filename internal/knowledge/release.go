package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/nlu"
)

// Release is an immutable published knowledge base: the approved entries
// at their versions, the model trained on them, and the gate's report.
type Release struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name"`
	Note       string    `json:"note,omitempty"`
	Entries    int       `json:"entries"`
	// Versions maps each entry id to the version the release holds.
	Versions map[string]int `json:"versions"`
	Quality  Report         `json:"quality"`
	// Override is set when an admin published past a refusing gate.
	Override    *Override `json:"override,omitempty"`
	ModelSHA256 string    `json:"model_sha256"`
	ModelBytes  int       `json:"model_bytes"`
	// Minimal counts the essential entries: the minimal release served in
	// disaster-recovery mode.
	Minimal        int        `json:"minimal_entries"`
	ActivatedAt    *time.Time `json:"activated_at,omitempty"` // first activation
	RolledBackAt   *time.Time `json:"rolled_back_at,omitempty"`
	RollbackReason string     `json:"rollback_reason,omitempty"`
	// Content is the entries as published (not in listings).
	Content []Entry `json:"-"`
}

// Override records who published past the gate, and why.
type Override struct {
	By     string `json:"by"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Good reports whether r is a release to fall back to: it was served,
// passed the gate on its own and was never rolled back.
func (r *Release) Good() bool {
	return r.ActivatedAt != nil && r.RolledBackAt == nil && r.Quality.Passed && r.Override == nil
}

// GateError is a publish the quality gate refused.
type GateError struct{ Report Report }

func (e *GateError) Error() string {
	return "the quality gate refused the release: " + e.Report.Summary()
}

// PublishOptions qualify a publish.
type PublishOptions struct {
	Note string
	// Override publishes even if the gate refuses; Reason is required and
	// recorded. The caller checks that the actor may override.
	Override bool
	Reason   string
	// Entries, when set, are published instead of the approved entries
	// (the drills' damaged release); the versions recorded are those of
	// the active release the entries come from.
	Entries []Entry

	// firstRelease marks the release Load publishes when none is active:
	// cross-validation is skipped (start-up stays fast, and there is no
	// baseline to compare with) and a refusal is overridden, as nothing
	// else could be served.
	firstRelease bool
}

// Publish builds a release from the approved entries, runs the quality
// gate, and when it passes (or is overridden) stores the release and
// activates it.
func (s *Service) Publish(ctx context.Context, a Actor, opts PublishOptions) (*Release, error) {
	note, err := checkReason(opts.Note, false)
	if err != nil {
		return nil, errcode.Localized(errcode.Invalid, "note: %[1]s", "发布说明：%[2]s", errcode.Message(err), errcode.MessageZH(err))
	}
	reason, err := checkReason(opts.Reason, opts.Override)
	if err != nil {
		return nil, errcode.Localized(errcode.Invalid, "an override needs a reason: %[1]s", "强制发布需要理由：%[2]s", errcode.Message(err), errcode.MessageZH(err))
	}
	s.publish.Lock()
	defer s.publish.Unlock()
	// The baseline is the stored active release: another node or a command
	// may have activated one this process does not serve yet. Read before
	// the approvals: a rollback after this point changes the active release,
	// and the publish is refused rather than ship what it took back.
	baseline, err := s.activeRelease(ctx)
	if err != nil {
		return nil, err
	}
	entries, versions, err := s.approved(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Entries != nil {
		// The versions are the content's: the active release's. With the
		// approvals recorded, an entry approved since (and never served)
		// was marked published, flags linked to it were resolved, and the
		// drill's rollback took its approval back as if it had shipped.
		entries, versions = opts.Entries, map[string]int{}
		for _, e := range entries {
			if baseline != nil && baseline.Versions[e.ID] > 0 {
				versions[e.ID] = baseline.Versions[e.ID]
			}
		}
	}
	if len(entries) == 0 {
		return nil, errcode.Localized(errcode.Invalid, "nothing to publish: no entry has an approved version", "没有可发布的内容：没有任何条目有已批准的版本")
	}
	ix, err := buildIndex(s.opts.Models, entries, s.opts.Extra, nlu.TrainOptions{})
	if err != nil {
		return nil, err
	}
	report, err := s.runGate(ctx, entries, ix, baseline, !opts.firstRelease)
	if err != nil {
		return nil, fmt.Errorf("quality gate: %w", err)
	}
	if !report.Passed && opts.firstRelease {
		s.logger.Warn("the first release does not pass the quality gate; publishing it anyway, as nothing else can be served",
			"report", report.Summary())
		opts.Override, reason = true, "first release at start-up: there was no release to serve · 启动时的首个版本：此前没有可用的版本"
	}
	if !report.Passed && !opts.Override {
		s.audit(ctx, a, "kb.release.refused", "kb", map[string]any{"problems": len(report.Problems),
			"first": report.Problems[0].Message})
		return nil, &GateError{Report: report}
	}
	model, err := ix.Model()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(model)
	now := s.now().UTC()
	r := &Release{CreatedAt: now, Author: a.ID, AuthorName: a.Name, Note: note, Entries: len(entries),
		Versions: versions, Quality: report, ModelSHA256: hex.EncodeToString(sum[:]), ModelBytes: len(model),
		Content: entries}
	if !report.Passed {
		r.Override = &Override{By: a.ID, Name: a.Name, Reason: reason}
	}
	var essential []Entry
	for _, e := range entries {
		if e.Essential {
			essential = append(essential, e)
		}
	}
	var minimal *Index
	var minimalModel []byte
	if len(essential) > 0 {
		// The minimal index is the linear model alone: it answers a
		// handful of essential entries in disaster recovery only, and
		// every release builds one, so the network's training (most of a
		// small knowledge base's) would buy little there.
		if minimal, err = buildIndex(s.opts.Models, essential, s.opts.Extra, nlu.TrainOptions{Hidden: -1}); err != nil {
			return nil, fmt.Errorf("minimal release: %w", err)
		}
		if minimalModel, err = minimal.Model(); err != nil {
			return nil, err
		}
		r.Minimal = len(essential)
	}
	// Stored and activated in one transaction, over the baseline it was
	// gated against: a rollback or a publish elsewhere meanwhile (the
	// process's lock does not reach other nodes or commands) refuses it,
	// rather than be undone by it.
	var active int64
	if baseline != nil {
		active = baseline.ID
	}
	if err := s.store.CreateRelease(ctx, r, model, minimalModel, active); err != nil {
		return nil, fmt.Errorf("store release: %w", err)
	}
	r.ActivatedAt = &now
	if served, active := s.serveStored(ctx, &Active{Release: r, Index: ix, Minimal: minimal}); !served {
		s.logger.Warn("the release just published was replaced meanwhile; the newer one is served", "release", r.ID,
			"active", active)
	}
	detail := map[string]any{"entries": r.Entries, "cv_accuracy": report.Accuracy, "passed": report.Passed}
	if r.Override != nil {
		detail["override_reason"] = reason
	}
	s.audit(ctx, a, "kb.release.publish", fmt.Sprintf("release:%d", r.ID), detail)
	s.logger.Info("knowledge release published", "release", r.ID, "entries", r.Entries, "essential", r.Minimal,
		"cv_accuracy", report.Accuracy, "override", r.Override != nil, "by", a.ID)
	s.released(ctx, r)
	return r, nil
}

// released tells OnRelease of the release the store serves now: r, unless
// another node or command activated another meanwhile. Told of r then,
// the correction queue resolved the flags whose fix r holds while
// customers were served a release without it. Whichever node tells last
// reads the release that stayed.
func (s *Service) released(ctx context.Context, r *Release) {
	if s.opts.OnRelease == nil {
		return
	}
	if id, err := s.store.ActiveRelease(ctx); err == nil && id != r.ID {
		cur, err := s.store.Release(ctx, id)
		if err != nil {
			s.logger.Warn("read the release served now, to follow its flags", "release", id, "error", err)
			return
		}
		r = cur
	}
	s.opts.OnRelease(ctx, r)
}

// approved returns the approved version of every entry that is not
// retired, and those versions by entry id.
func (s *Service) approved(ctx context.Context) ([]Entry, map[string]int, error) {
	recs, err := s.store.KBRecords(ctx, Filter{})
	if err != nil {
		return nil, nil, err
	}
	var out []Entry
	versions := map[string]int{}
	for _, r := range recs {
		if r.ApprovedVersion == 0 {
			continue
		}
		e := r.Entry
		if r.Version != r.ApprovedVersion {
			c, err := s.store.KBContent(ctx, r.ID, r.ApprovedVersion)
			if err != nil {
				return nil, nil, fmt.Errorf("approved version %d of %s: %w", r.ApprovedVersion, r.ID, err)
			}
			e = *c
		}
		versions[r.ID] = r.ApprovedVersion
		out = append(out, e)
	}
	return out, versions, nil
}

// activeRelease returns the stored active release, nil if none.
func (s *Service) activeRelease(ctx context.Context) (*Release, error) {
	id, err := s.store.ActiveRelease(ctx)
	if err != nil {
		return nil, err
	}
	return s.release(ctx, id)
}

// release returns release id (nil for 0), from memory when it is the one
// served.
func (s *Service) release(ctx context.Context, id int64) (*Release, error) {
	if id == 0 {
		return nil, nil
	}
	if s.servedID() == id {
		return s.Active().Release, nil
	}
	return s.store.Release(ctx, id)
}

// serve makes a the release the bot answers from.
func (s *Service) serve(a *Active) {
	s.serving.Lock()
	defer s.serving.Unlock()
	s.serveLocked(a)
}

func (s *Service) serveLocked(a *Active) {
	s.active.Store(a)
	if s.opts.Target != nil {
		s.opts.Target.SetIndex(a.Index)
	}
}

// serveStored serves a if it is the stored active release: another
// activation (a rollback on another node, served here by Sync) may have
// taken its place since a was stored or read, and serving a then would
// undo it on this node. It returns whether it served a and, if not, the
// release that is active instead.
func (s *Service) serveStored(ctx context.Context, a *Active) (bool, int64) {
	s.serving.Lock()
	defer s.serving.Unlock()
	if id, err := s.store.ActiveRelease(ctx); err == nil && id != a.Release.ID {
		return false, id
	}
	s.serveLocked(a)
	return true, a.Release.ID
}

// servedID is the id of the release served, 0 if none.
func (s *Service) servedID() int64 {
	if cur := s.Active(); cur != nil && cur.Release != nil {
		return cur.Release.ID
	}
	return 0
}

// Active returns the release being served, nil before the first one.
func (s *Service) Active() *Active { return s.active.Load() }

// load reads a stored release and its model artefacts into an Active.
func (s *Service) load(ctx context.Context, id int64) (*Active, error) {
	r, err := s.store.Release(ctx, id)
	if err != nil {
		return nil, err
	}
	model, err := s.store.ReleaseModel(ctx, id, false)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(model); hex.EncodeToString(sum[:]) != r.ModelSHA256 {
		return nil, fmt.Errorf("release %d: the stored model does not match its checksum", id)
	}
	ix, err := LoadIndex(r.Content, model)
	if err != nil {
		return nil, fmt.Errorf("release %d: %w", id, err)
	}
	a := &Active{Release: r, Index: ix}
	if r.Minimal > 0 {
		mm, err := s.store.ReleaseModel(ctx, id, true)
		if err != nil {
			return nil, err
		}
		var essential []Entry
		for _, e := range r.Content {
			if e.Essential {
				essential = append(essential, e)
			}
		}
		if a.Minimal, err = LoadIndex(essential, mm); err != nil {
			return nil, fmt.Errorf("minimal release %d: %w", id, err)
		}
	}
	return a, nil
}

// Activate serves release id, on this node at once and on the others at
// their next Sync. Activating a release older than the active one is a
// rollback: the one left is marked as rolled back.
func (s *Service) Activate(ctx context.Context, a Actor, id int64, reason string) (*Release, error) {
	reason, err := checkReason(reason, false)
	if err != nil {
		return nil, err
	}
	s.publish.Lock()
	defer s.publish.Unlock()
	return s.activate(ctx, a, id, reason, false)
}

func (s *Service) activate(ctx context.Context, a Actor, id int64, reason string, rollback bool) (*Release, error) {
	var (
		current int64
		next    *Active
		now     time.Time
	)
	// The entries' approvals follow the switch in the same transaction: made
	// after it, a publish in between (on another node) read the approvals
	// about to be taken back and served them again, and a failure to make
	// them, only logged, left them to ship with the next publish. An entry
	// edited between the plan and the switch is planned again.
	for attempt := 1; ; attempt++ {
		var err error
		if current, err = s.store.ActiveRelease(ctx); err != nil {
			return nil, err
		}
		if id == current {
			return nil, errcode.Localized(errcode.Conflict, "release %d is already active", "版本 %d 已是当前版本", id)
		}
		if next == nil {
			if next, err = s.load(ctx, id); err != nil {
				return nil, err
			}
		}
		var left int64
		if current != 0 && id < current {
			left, rollback = current, true
		}
		previous, err := s.release(ctx, current)
		if err != nil {
			return nil, err
		}
		var writes []RecordWrite
		if previous != nil {
			if writes, err = s.realign(ctx, a, previous, next.Release, rollback, reason); err != nil {
				return nil, fmt.Errorf("realign entries with release %d: %w", id, err)
			}
		}
		now = s.now().UTC()
		err = s.store.ActivateRelease(ctx, id, now, left, reason, current, writes)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrEntryChanged) || attempt == 3 {
			return nil, fmt.Errorf("activate release %d: %w", id, err)
		}
	}
	if next.Release.ActivatedAt == nil {
		next.Release.ActivatedAt = &now
	}
	next.Release.RolledBackAt, next.Release.RollbackReason = nil, ""
	if served, active := s.serveStored(ctx, next); !served {
		s.logger.Warn("the release just activated was replaced meanwhile; the newer one is served", "release", id,
			"active", active)
	}
	action := "kb.release.activate"
	if rollback {
		action = "kb.release.rollback"
	}
	s.released(ctx, next.Release)
	detail := map[string]any{"from": current, "to": id}
	if reason != "" {
		detail["reason"] = reason
	}
	s.audit(ctx, a, action, fmt.Sprintf("release:%d", id), detail)
	s.logger.Warn("knowledge release activated", "release", id, "previous", current, "rollback", rollback, "by", a.ID,
		"reason", reason)
	return next.Release, nil
}

// realign plans the writes that make the entries' approvals follow a
// switch from release from to release to, so the next publish builds on
// what is served: an entry whose approved version is the one from served
// now has to's version approved (none, if to lacks it). Its working
// version is then published if to holds it; otherwise, on a rollback, it
// is rejected with the reason, so its author sees that it was taken back.
// Entries approved since from was published are left alone.
func (s *Service) realign(ctx context.Context, a Actor, from, to *Release, rollback bool, reason string) ([]RecordWrite, error) {
	ids := map[string]bool{}
	for id := range from.Versions {
		ids[id] = true
	}
	for id := range to.Versions {
		ids[id] = true
	}
	action, why := ActionActivate, fmt.Sprintf("release %d activated in place of release %d", to.ID, from.ID)
	if rollback {
		action, why = ActionRollback, fmt.Sprintf("release %d was rolled back to release %d", from.ID, to.ID)
	}
	if reason != "" {
		why += ": " + reason
	}
	var writes []RecordWrite
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		fv, tv := from.Versions[id], to.Versions[id]
		if fv == tv {
			continue
		}
		w, err := s.realignEntry(ctx, a, id, fv, tv, action, why)
		if err != nil {
			return nil, err
		}
		if w != nil {
			writes = append(writes, *w)
		}
	}
	return writes, nil
}

// realignEntry plans the write that makes entry id follow a switch from a
// release holding it at version fv to one holding it at tv (0: not at
// all), nil if it needs none; see realign.
func (s *Service) realignEntry(ctx context.Context, a Actor, id string, fv, tv int, action Action, why string) (*RecordWrite, error) {
	r, err := s.store.KBRecord(ctx, id)
	if errcode.Code(err) == errcode.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.ApprovedVersion != fv && !(fv == 0 && r.Status == StatusRetired) {
		return nil, nil
	}
	if fv != 0 && r.Status == StatusRetired {
		// Retired since from was published: a decision taken after it,
		// which stands (it used to come back as rejected, approved at
		// to's version, and ship again with the next publish).
		return nil, nil
	}
	next := *r
	next.ApprovedVersion, next.UpdatedAt = tv, s.now().UTC()
	switch {
	case tv != 0 && r.Version == tv:
		next.Status, next.Reason = StatusPublished, ""
	case r.Status == StatusPublished || r.Status == StatusApproved || r.Status == StatusRetired:
		next.Status, next.Reason = StatusRejected, why
	}
	if next.Status == r.Status && next.ApprovedVersion == r.ApprovedVersion {
		return nil, nil
	}
	rev := &Revision{EntryID: id, Version: r.Version, Action: action, Status: next.Status, Actor: a.ID,
		ActorName: a.Name, Reason: why, At: next.UpdatedAt}
	return &RecordWrite{Record: &next, Revision: rev, FromVersion: r.Version, FromStatus: r.Status}, nil
}

// Rollback activates release to, or when to is 0 the newest good release
// older than the active one.
func (s *Service) Rollback(ctx context.Context, a Actor, to int64, reason string) (*Release, error) {
	reason, err := checkReason(reason, false)
	if err != nil {
		return nil, err
	}
	s.publish.Lock()
	defer s.publish.Unlock()
	if to == 0 {
		list, err := s.Releases(ctx)
		if err != nil {
			return nil, err
		}
		if to = list.RollbackTo; to == 0 {
			return nil, errcode.Localized(errcode.Conflict,
				"there is no earlier good release to roll back to; name one with --to ID (or \"to\" in the request)",
				"没有更早的正常版本可回滚：请用 --to ID（或请求中的 \"to\"）指定一个版本")
		}
	}
	// A rollback goes back: it marks the release left as rolled back and
	// takes its approvals back. Going to a newer release is activating it.
	if current, err := s.store.ActiveRelease(ctx); err != nil {
		return nil, err
	} else if to > current {
		return nil, errcode.Localized(errcode.Conflict,
			"release %d is newer than the active release %d: a rollback goes back; activate it instead",
			"版本 %d 比当前版本 %d 新：回滚只能回到更早的版本；请改用激活", to, current)
	}
	return s.activate(ctx, a, to, reason, true)
}

// ReleaseList is every release with the active one and the fallbacks.
type ReleaseList struct {
	Releases []Release `json:"releases"`
	ActiveID int64     `json:"active_id"`
	// LastGoodID is the newest good release, the active one included.
	LastGoodID int64 `json:"last_good_id"`
	// RollbackTo is where a rollback without a target goes: the newest
	// good release older than the active one. (Other than the active one,
	// it could be newer after a rollback, which Rollback refuses: every
	// rollback without a target then failed, the incident controller's
	// level-2 rollback among them.)
	RollbackTo int64 `json:"rollback_to_id"`
}

// Releases lists releases, newest first.
func (s *Service) Releases(ctx context.Context) (*ReleaseList, error) {
	rs, err := s.store.Releases(ctx)
	if err != nil {
		return nil, err
	}
	active, err := s.store.ActiveRelease(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rs, func(a, b Release) int { return int(b.ID - a.ID) })
	l := &ReleaseList{Releases: rs, ActiveID: active}
	for i := range rs {
		if !rs[i].Good() {
			continue
		}
		if l.LastGoodID == 0 {
			l.LastGoodID = rs[i].ID
		}
		if l.RollbackTo == 0 && rs[i].ID < active {
			l.RollbackTo = rs[i].ID
		}
	}
	return l, nil
}

// Release returns one release with its entries.
func (s *Service) Release(ctx context.Context, id int64) (*Release, error) {
	return s.store.Release(ctx, id)
}

// Load serves the active release at start-up. With none active it
// publishes the approved entries as the first release, past the gate if
// need be (there is nothing older to fall back to), and with no approved
// entries it serves an index of the built-in examples alone.
func (s *Service) Load(ctx context.Context) error {
	id, err := s.store.ActiveRelease(ctx)
	if err != nil {
		return err
	}
	if id != 0 {
		a, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		s.serve(a)
		return nil
	}
	// In both languages: shown as it is on every install's Releases tab.
	_, err = s.Publish(ctx, System, PublishOptions{Note: "first release at start-up · 启动时的首个版本", firstRelease: true})
	if errcode.Code(err) == errcode.Conflict {
		// Another node starting on the same new database published the
		// first release meanwhile (the active release is compared and
		// swapped): serve that one. This node failed to start before.
		switched, err := s.Sync(ctx)
		if err == nil && !switched && s.Active() == nil {
			err = fmt.Errorf("load knowledge: the first release conflicted, and no release is active")
		}
		return err
	}
	if errcode.Code(err) == errcode.Invalid {
		ix, err := BuildIndex(nil, s.opts.Extra)
		if err != nil {
			return err
		}
		s.serve(&Active{Index: ix})
		return nil
	}
	return err
}

// Sync serves the stored active release if another node or a command
// changed it. It returns whether it switched.
func (s *Service) Sync(ctx context.Context) (bool, error) {
	id, err := s.store.ActiveRelease(ctx)
	if err != nil || id == 0 {
		return false, err
	}
	// Loaded outside any lock (a publish on this node may be training),
	// then served only if it still is the active release.
	for range 3 {
		if s.servedID() == id {
			return false, nil
		}
		a, err := s.load(ctx, id)
		if err != nil {
			return false, err
		}
		served, active := s.serveStored(ctx, a)
		if served {
			s.logger.Info("serving the knowledge release activated elsewhere", "release", id)
			return true, nil
		}
		id = active // activated again meanwhile
	}
	return false, nil
}

// Watch calls Sync every interval until ctx ends.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("sync knowledge release", "error", err)
			}
		}
	}
}

// Diff says how release b differs from release a.
type Diff struct {
	From    int64         `json:"from"`
	To      int64         `json:"to"`
	Added   []DiffEntry   `json:"added"`
	Removed []DiffEntry   `json:"removed"`
	Changed []DiffChanged `json:"changed"`
}

// DiffEntry is an entry only one side has, with its content there: a
// reviewer reads what a release adds or takes away, not only its id.
type DiffEntry struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Version int    `json:"version"`
	Entry   *Entry `json:"entry,omitempty"`
}

// DiffChanged is an entry both sides have at different versions.
type DiffChanged struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	FromVersion int      `json:"from_version"`
	ToVersion   int      `json:"to_version"`
	Fields      []string `json:"fields"`
	Before      Entry    `json:"before"`
	After       Entry    `json:"after"`
}

// Diff compares two releases.
func (s *Service) Diff(ctx context.Context, from, to int64) (*Diff, error) {
	a, err := s.store.Release(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := s.store.Release(ctx, to)
	if err != nil {
		return nil, err
	}
	return diffContent(from, to, a.Content, a.Versions, b.Content, b.Versions), nil
}

// Pending says what publishing now would change: the approved versions
// against the active release (To is 0: the release does not exist yet).
// An editor sees what Publish will ship, and that nothing would change
// before training a release that serves the same answers.
func (s *Service) Pending(ctx context.Context) (*Diff, error) {
	entries, versions, err := s.approved(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending release: %w", err)
	}
	active, err := s.activeRelease(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending release: %w", err)
	}
	if active == nil {
		return diffContent(0, 0, nil, nil, entries, versions), nil
	}
	return diffContent(active.ID, 0, active.Content, active.Versions, entries, versions), nil
}

// diffContent says how content b (at versions bv) differs from content a.
func diffContent(from, to int64, a []Entry, av map[string]int, b []Entry, bv map[string]int) *Diff {
	d := &Diff{From: from, To: to, Added: []DiffEntry{}, Removed: []DiffEntry{}, Changed: []DiffChanged{}}
	before := map[string]*Entry{}
	for i := range a {
		before[a[i].ID] = &a[i]
	}
	for i := range b {
		e := &b[i]
		old, ok := before[e.ID]
		delete(before, e.ID)
		title, _ := e.Text(LocaleZH)
		switch {
		case !ok:
			d.Added = append(d.Added, DiffEntry{ID: e.ID, Title: title.Title, Version: bv[e.ID], Entry: e})
		case av[e.ID] != bv[e.ID]:
			fields := old.Changes(e)
			if len(fields) == 0 {
				continue
			}
			d.Changed = append(d.Changed, DiffChanged{ID: e.ID, Title: title.Title, FromVersion: av[e.ID],
				ToVersion: bv[e.ID], Fields: fields, Before: *old, After: *e})
		}
	}
	for id, e := range before {
		title, _ := e.Text(LocaleZH)
		d.Removed = append(d.Removed, DiffEntry{ID: id, Title: title.Title, Version: av[id], Entry: e})
	}
	slices.SortFunc(d.Removed, func(x, y DiffEntry) int { return strings.Compare(x.ID, y.ID) })
	return d
}

// Damaged returns a copy of entries with every entry's questions moved to
// the next entry (by id) in each locale: a release built from it answers
// confidently and wrongly. The drills publish it as "a bad release".
func Damaged(entries []Entry) []Entry {
	out := make([]Entry, len(entries))
	for i := range entries {
		out[i] = entries[i].Clone()
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	if len(out) < 2 {
		return out
	}
	for _, loc := range Locales {
		var idx []int
		for i := range out {
			if _, ok := out[i].Locales[loc]; ok {
				idx = append(idx, i)
			}
		}
		if len(idx) < 2 {
			continue
		}
		first := out[idx[0]].Locales[loc].Questions
		for k := range idx {
			c := out[idx[k]].Locales[loc]
			if k+1 < len(idx) {
				c.Questions = out[idx[k+1]].Locales[loc].Questions
			} else {
				c.Questions = first
			}
			c.Title = ""
			out[idx[k]].Locales[loc] = c
		}
	}
	return out
}
