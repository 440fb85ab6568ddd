package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/token"
)

// Status is where an entry's working version stands.
type Status string

// An entry's working version is written as a draft, submitted for review,
// approved (or rejected, back to its author), then published in a release.
// Entries are retired, never deleted: a release or a revision may still
// name them.
const (
	StatusDraft     Status = "draft"
	StatusInReview  Status = "in_review"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusPublished Status = "published"
	StatusRetired   Status = "retired"
)

// ValidStatus reports whether s names a status.
func ValidStatus(s Status) bool {
	switch s {
	case StatusDraft, StatusInReview, StatusApproved, StatusRejected, StatusPublished, StatusRetired:
		return true
	}
	return false
}

// Record is an entry under management: its working version and where that
// version stands.
type Record struct {
	Entry
	Status     Status
	Version    int    // the working version; every content change adds one
	Author     string // who wrote the working version (user id)
	AuthorName string
	Reviewer   string // who approved or rejected it
	Reason     string // why it was rejected or retired
	// ApprovedVersion is the newest approved version, 0 if none: what the
	// next release publishes, even while a newer draft is being written.
	ApprovedVersion int
}

// Action is what a revision did.
type Action string

// The actions on an entry's history.
const (
	ActionCreate  Action = "create"
	ActionEdit    Action = "edit"
	ActionImport  Action = "import"
	ActionSubmit  Action = "submit"
	ActionApprove Action = "approve"
	ActionReject  Action = "reject"
	ActionRetire  Action = "retire"
	// ActionRollback and ActionActivate realign an entry's approval with a
	// release activated by hand (see Service.realign).
	ActionRollback Action = "rollback"
	ActionActivate Action = "activate"
)

// Revision is one step of an entry's history: who did what, when. Content
// is set when the step changed the content (create, edit, import).
type Revision struct {
	EntryID   string    `json:"entry_id"`
	Version   int       `json:"version"`
	Action    Action    `json:"action"`
	Status    Status    `json:"status"` // after the step
	Actor     string    `json:"actor"`
	ActorName string    `json:"actor_name"`
	Reason    string    `json:"reason,omitempty"`
	Changes   []string  `json:"changes,omitempty"`
	Content   *Entry    `json:"content,omitempty"`
	At        time.Time `json:"at"`
}

// Actor is who acts: a signed-in user, or an operator at the command line
// ("cli:<name>"), or Steward itself ("system").
type Actor struct {
	ID   string
	Name string
}

// System is Steward acting on its own (the first release at start-up).
var System = Actor{ID: "system", Name: "Steward"}

// Filter selects records.
type Filter struct {
	Status   Status // empty for all but retired; "all" is not a status
	All      bool   // include retired entries
	Category string
	Query    string // substring of id, title, question or answer
}

// Golden is a pinned question the bot must keep answering with an entry:
// a publish that breaks one is refused.
type Golden struct {
	ID        string    `json:"id"`
	Question  string    `json:"question"`
	Locale    string    `json:"locale"`
	EntryID   string    `json:"entry_id"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// RecordWrite is one write of Store.WriteKBRecords: Record and its
// Revision, a new entry if FromVersion is 0, else an update of the entry
// still at FromVersion and FromStatus.
type RecordWrite struct {
	Record      *Record
	Revision    *Revision
	FromVersion int
	FromStatus  Status
}

// ErrEntryChanged is wrapped by a store's refusal of a write whose entry
// changed since it was read.
var ErrEntryChanged = errors.New("the entry changed since it was read")

// Store keeps entries, their history, releases and golden questions.
type Store interface {
	KBRecords(ctx context.Context, f Filter) ([]Record, error)
	// KBRecord fails with errcode.NotFound.
	KBRecord(ctx context.Context, id string) (*Record, error)
	// CreateKBRecord fails with errcode.Conflict when the id is taken.
	CreateKBRecord(ctx context.Context, r *Record, rev *Revision) error
	// UpdateKBRecord stores r and appends rev if the stored record is still
	// at fromVersion and fromStatus; errcode.Conflict otherwise.
	UpdateKBRecord(ctx context.Context, r *Record, fromVersion int, fromStatus Status, rev *Revision) error
	// WriteKBRecords makes every write in one transaction, or none: it
	// fails as CreateKBRecord and UpdateKBRecord do, naming the entry.
	WriteKBRecords(ctx context.Context, ws []RecordWrite) error
	KBHistory(ctx context.Context, id string) ([]Revision, error)
	// KBContent returns an entry's content at a version.
	KBContent(ctx context.Context, id string, version int) (*Entry, error)

	// CreateRelease stores a release with its models (the minimal model
	// may be nil), gives it an id, and marks each entry whose approved
	// version it publishes as published: one transaction.
	// CreateRelease stores r and makes it the active release, in one
	// transaction, if active is still the active release (errcode.Conflict
	// otherwise: another publish or a rollback came first).
	CreateRelease(ctx context.Context, r *Release, model, minimalModel []byte, active int64) error
	Releases(ctx context.Context) ([]Release, error)
	// Release returns a release with its entries; errcode.NotFound.
	Release(ctx context.Context, id int64) (*Release, error)
	// ReleaseModel returns a release's model artefact, or its minimal
	// model's; nil when it has none.
	ReleaseModel(ctx context.Context, id int64, minimal bool) ([]byte, error)
	// ActiveRelease returns the active release id, 0 if none.
	ActiveRelease(ctx context.Context) (int64, error)
	// ActivateRelease makes id the active release if active still is
	// (errcode.Conflict otherwise). When rolledBack is not 0 that release
	// is marked as rolled back, with reason. The writes (the entries'
	// approvals following the switch) are made in the same transaction:
	// if one finds its entry changed, nothing is, and the error wraps
	// ErrEntryChanged.
	ActivateRelease(ctx context.Context, id int64, at time.Time, rolledBack int64, reason string, active int64,
		writes []RecordWrite) error

	GoldenQuestions(ctx context.Context) ([]Golden, error)
	AddGolden(ctx context.Context, g *Golden) error
	DeleteGolden(ctx context.Context, id string) error
}

// Target is what serves the active release: the conversation engine.
type Target interface{ SetIndex(*Index) }

// Options configure a Service.
type Options struct {
	// TwoPersonRule requires the approver of a version to be someone other
	// than its author.
	TwoPersonRule bool
	Gate          GateOptions
	// Extra are the training examples every release's model learns besides
	// the entries: the built-in small talk and out-of-scope background.
	Extra  []Example
	Target Target
	Audit  *audit.Log // optional
	// OnRelease is told about a release once it is active: published, or
	// activated (rolled back to) on this node.
	OnRelease func(ctx context.Context, r *Release)
	Logger    *slog.Logger
	// Models, if not nil, remembers trained models, so that publishing
	// the same entries again costs no training (tests that start many
	// servers over the demo knowledge base share one).
	Models *nlu.Memo
}

// Service runs the knowledge lifecycle: editing with history, review,
// publishing through the quality gate, activation and rollback.
type Service struct {
	store   Store
	opts    Options
	logger  *slog.Logger
	now     func() time.Time
	publish sync.Mutex // one publish or activation at a time
	// serving orders the switches of the release served, each made only
	// while its release is the stored active one. Sync takes it and not
	// publish: a publish trains and gates for a minute on a large knowledge
	// base, and another node's rollback waited that long to be served.
	serving sync.Mutex
	active  atomic.Pointer[Active]
}

// Active is the release being served, with its index.
type Active struct {
	Release *Release
	Index   *Index
	Minimal *Index // the essential entries only; nil when none are essential
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Gate.defaults()
	return &Service{store: store, opts: opts, logger: opts.Logger.With("component", "knowledge"), now: time.Now}
}

func (s *Service) audit(ctx context.Context, a Actor, action, object string, detail map[string]any) {
	if s.opts.Audit == nil {
		return
	}
	_ = s.opts.Audit.Record(ctx, audit.Entry{Actor: a.ID, ActorName: a.Name, Action: action, Object: object, Detail: detail})
}

// Records lists entries.
func (s *Service) Records(ctx context.Context, f Filter) ([]Record, error) {
	if f.Status != "" && !ValidStatus(f.Status) {
		return nil, errcode.Localized(errcode.Invalid, "unknown status %q", "未知状态 %q", f.Status)
	}
	if utf8.RuneCountInString(f.Query) > 200 {
		return nil, errcode.Localized(errcode.Invalid, "q exceeds 200 characters", "搜索词 q 超过 200 个字符")
	}
	return s.store.KBRecords(ctx, f)
}

// Record returns one entry.
func (s *Service) Record(ctx context.Context, id string) (*Record, error) {
	return s.store.KBRecord(ctx, id)
}

// History returns an entry's revisions, oldest first.
func (s *Service) History(ctx context.Context, id string) ([]Revision, error) {
	if _, err := s.store.KBRecord(ctx, id); err != nil {
		return nil, err
	}
	return s.store.KBHistory(ctx, id)
}

func invalid(err error) error {
	if errcode.Code(err) == errcode.Invalid {
		return err // already says what was wrong, in both languages
	}
	return errcode.Errorf(errcode.Invalid, "%v", err)
}

// prepare copies, trims, checks and stamps an entry someone wrote.
func (s *Service) prepare(e Entry) (Entry, time.Time, error) {
	e = e.Clone()
	e.Normalize()
	if err := e.Validate(); err != nil {
		return e, time.Time{}, invalid(err)
	}
	now := s.now().UTC()
	e.CreatedAt, e.UpdatedAt = now, now
	return e, now, nil
}

// Create adds a new entry as a draft by a.
func (s *Service) Create(ctx context.Context, a Actor, e Entry) (*Record, error) {
	e, now, err := s.prepare(e)
	if err != nil {
		return nil, err
	}
	r := &Record{Entry: e, Status: StatusDraft, Version: 1, Author: a.ID, AuthorName: a.Name}
	rev := &Revision{EntryID: e.ID, Version: 1, Action: ActionCreate, Status: StatusDraft, Actor: a.ID,
		ActorName: a.Name, Content: &r.Entry, At: now}
	if err := s.store.CreateKBRecord(ctx, r, rev); err != nil {
		return nil, err
	}
	s.audit(ctx, a, "kb.entry.create", "entry:"+e.ID, nil)
	return r, nil
}

// Update replaces an entry's content with a new draft version by a. When
// version is not 0 it must be the working version (optimistic locking).
// An unchanged entry is returned as it is. Editing a retired entry brings
// it back as a draft.
func (s *Service) Update(ctx context.Context, a Actor, id string, e Entry, version int) (*Record, error) {
	if e.ID = strings.TrimSpace(e.ID); e.ID == "" {
		e.ID = id
	}
	if e.ID != id {
		return nil, errcode.Localized(errcode.Invalid, "id %q in the body does not match %q in the path", "请求体中的 id %q 与路径中的 %q 不一致", e.ID, id)
	}
	e, now, err := s.prepare(e)
	if err != nil {
		return nil, err
	}
	cur, err := s.store.KBRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if version != 0 && version != cur.Version {
		return nil, errcode.Localized(errcode.Conflict, "entry %s is at version %d, not %d: reload it and apply your change again",
			"条目 %s 已是第 %d 版，而不是第 %d 版：请重新加载后再修改", id, cur.Version, version)
	}
	changes := cur.Entry.Changes(&e)
	if len(changes) == 0 && cur.Status != StatusRetired {
		return cur, nil
	}
	next := *cur
	e.CreatedAt, e.UpdatedAt = cur.CreatedAt, now
	next.Entry, next.Status, next.Version = e, StatusDraft, cur.Version+1
	next.Author, next.AuthorName, next.Reviewer, next.Reason = a.ID, a.Name, "", ""
	if cur.Status == StatusRetired {
		// Back from retirement only by a second person's approval: its old
		// approval stood, and the next publish, by anyone, shipped the
		// retired answer again on the strength of an edit by someone who
		// may only propose.
		next.ApprovedVersion = 0
	}
	rev := &Revision{EntryID: id, Version: next.Version, Action: ActionEdit, Status: StatusDraft, Actor: a.ID,
		ActorName: a.Name, Changes: changes, Content: &next.Entry, At: now}
	if err := s.store.UpdateKBRecord(ctx, &next, cur.Version, cur.Status, rev); err != nil {
		return nil, err
	}
	s.audit(ctx, a, "kb.entry.edit", "entry:"+id, map[string]any{"version": next.Version, "changes": changes})
	return &next, nil
}

// transition moves an entry from one of the statuses in from to to.
func (s *Service) transition(ctx context.Context, a Actor, id string, action Action, from []Status, to Status,
	check func(r *Record) error, reason string) (*Record, error) {
	cur, err := s.store.KBRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	ok := false
	for _, f := range from {
		ok = ok || cur.Status == f
	}
	if !ok {
		names, namesZH := make([]string, len(from)), make([]string, len(from))
		for i, f := range from {
			names[i], namesZH[i] = string(f), statusZH(f)
		}
		return nil, errcode.Localized(errcode.Conflict, "entry %[1]s is %[2]s; only an entry that is %[3]s can be %[4]s",
			"条目 %[1]s 的状态是“%[6]s”：只有状态为“%[7]s”的条目才能%[5]s", id, cur.Status, strings.Join(names, " or "),
			pastTense(action), actionZH(action), statusZH(cur.Status), strings.Join(namesZH, "”或“"))
	}
	if check != nil {
		if err := check(cur); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	next := *cur
	next.Status, next.UpdatedAt = to, now
	switch action {
	case ActionApprove:
		next.Reviewer, next.ApprovedVersion, next.Reason = a.ID, cur.Version, ""
	case ActionReject:
		next.Reviewer, next.Reason = a.ID, reason
	case ActionRetire:
		next.Reason = reason
	case ActionSubmit:
		next.Reviewer, next.Reason = "", ""
	}
	rev := &Revision{EntryID: id, Version: cur.Version, Action: action, Status: to, Actor: a.ID, ActorName: a.Name,
		Reason: reason, At: now}
	if err := s.store.UpdateKBRecord(ctx, &next, cur.Version, cur.Status, rev); err != nil {
		return nil, err
	}
	detail := map[string]any{"version": cur.Version}
	if reason != "" {
		detail["reason"] = reason
	}
	s.audit(ctx, a, "kb.entry."+string(action), "entry:"+id, detail)
	return &next, nil
}

// actionZH names an action in Chinese, for the refusals of a review step.
// statusZH names a status as the console's Chinese pages do (kbstatus_*).
func statusZH(st Status) string {
	switch st {
	case StatusDraft:
		return "草稿"
	case StatusInReview:
		return "待审核"
	case StatusApproved:
		return "已批准"
	case StatusRejected:
		return "已驳回"
	case StatusPublished:
		return "已发布"
	case StatusRetired:
		return "已下线"
	}
	return string(st)
}

func actionZH(a Action) string {
	switch a {
	case ActionSubmit:
		return "提交审核"
	case ActionApprove:
		return "批准"
	case ActionReject:
		return "驳回"
	case ActionRetire:
		return "下线"
	}
	return string(a)
}

func pastTense(a Action) string {
	switch a {
	case ActionSubmit:
		return "submitted"
	case ActionApprove:
		return "approved"
	case ActionReject:
		return "rejected"
	case ActionRetire:
		return "retired"
	}
	return string(a) + "ed"
}

const maxReason = 1000

func checkReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case required && reason == "":
		return "", errcode.Localized(errcode.Invalid, "reason is required", "必须填写理由")
	case !utf8.ValidString(reason):
		return "", errcode.Localized(errcode.Invalid, "reason is not valid UTF-8", "理由不是有效的 UTF-8 文本")
	case utf8.RuneCountInString(reason) > maxReason:
		return "", errcode.Localized(errcode.Invalid, "reason exceeds %d characters", "理由超过 %d 个字符", maxReason)
	}
	return reason, nil
}

// Submit asks for a review of the working version.
func (s *Service) Submit(ctx context.Context, a Actor, id string) (*Record, error) {
	return s.transition(ctx, a, id, ActionSubmit, []Status{StatusDraft, StatusRejected}, StatusInReview, nil, "")
}

// ErrSelfApproval is the two-person rule's refusal.
var ErrSelfApproval = errcode.Localized(errcode.Forbidden,
	"two-person rule: the author of a version cannot approve it; ask another editor to review it",
	"双人复核：版本的作者不能批准自己的修改，请让另一位编辑审核")

// TwoPersonRule reports whether a version's author is refused as its
// approver, so that a reviewer's screen can say so before they try.
func (s *Service) TwoPersonRule() bool { return s.opts.TwoPersonRule }

// Approve accepts the version under review; with the two-person rule on,
// a must not be its author.
func (s *Service) Approve(ctx context.Context, a Actor, id string) (*Record, error) {
	return s.transition(ctx, a, id, ActionApprove, []Status{StatusInReview}, StatusApproved, func(r *Record) error {
		if s.opts.TwoPersonRule && r.Author == a.ID {
			return ErrSelfApproval
		}
		return nil
	}, "")
}

// Reject sends the version under review back to its author with a reason.
func (s *Service) Reject(ctx context.Context, a Actor, id, reason string) (*Record, error) {
	reason, err := checkReason(reason, true)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, a, id, ActionReject, []Status{StatusInReview}, StatusRejected, nil, reason)
}

// Retire takes an entry out of the next release; its history stays.
func (s *Service) Retire(ctx context.Context, a Actor, id, reason string) (*Record, error) {
	reason, err := checkReason(reason, false)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, a, id, ActionRetire, []Status{StatusDraft, StatusInReview, StatusApproved,
		StatusRejected, StatusPublished}, StatusRetired, nil, reason)
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created   int `json:"created"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	// Rejected counts entries the file matches whose working version a
	// reviewer rejected: they are left rejected (counted unchanged too).
	Rejected int `json:"rejected,omitempty"`
}

// Import writes entries from a file. Approved, they are ready to publish:
// for an operator's bulk load (the command line, the demo), which is the
// review. Otherwise each new or changed entry becomes a draft by a.
func (s *Service) Import(ctx context.Context, a Actor, entries []Entry, approved bool) (ImportResult, error) {
	var res ImportResult
	status := StatusDraft
	if approved {
		status = StatusApproved
	}
	// Every entry is checked before any is written: a bad one further down
	// the file used to leave those before it imported.
	prepared := make([]Entry, len(entries))
	stamps := make([]time.Time, len(entries))
	for i, e := range entries {
		var err error
		if prepared[i], stamps[i], err = s.prepare(e); err != nil {
			return res, err
		}
	}
	// Written in one transaction: an entry changed by someone else between
	// the read and the write used to leave the entries before it written,
	// without the import's audit record.
	var writes []RecordWrite
	for i, e := range prepared {
		now := stamps[i]
		cur, err := s.store.KBRecord(ctx, e.ID)
		switch {
		case errcode.Code(err) == errcode.NotFound:
			r := &Record{Entry: e, Status: status, Version: 1, Author: a.ID, AuthorName: a.Name}
			if approved {
				r.ApprovedVersion, r.Reviewer = 1, a.ID
			}
			rev := &Revision{EntryID: e.ID, Version: 1, Action: ActionImport, Status: status, Actor: a.ID,
				ActorName: a.Name, Content: &r.Entry, At: now}
			writes = append(writes, RecordWrite{Record: r, Revision: rev})
			res.Created++
		case err != nil:
			return ImportResult{}, err
		default:
			changes := cur.Entry.Changes(&e)
			// Imported as approved, an entry the file matches but whose
			// working version is not the approved one (a draft, in review,
			// rejected) is approved as it is: it used to count as
			// unchanged and never ship.
			if len(changes) == 0 && cur.Status != StatusRetired && (!approved || cur.ApprovedVersion == cur.Version) {
				res.Unchanged++
				continue
			}
			// A version a reviewer rejected is not approved by a file that
			// holds it (an export imported back, as a backup or a move
			// is): it shipped with the next publish, the rejection gone.
			if len(changes) == 0 && cur.Status == StatusRejected {
				res.Unchanged++
				res.Rejected++
				continue
			}
			next := *cur
			e.CreatedAt = cur.CreatedAt
			next.Entry, next.Status, next.Version = e, status, cur.Version+1
			next.Author, next.AuthorName, next.Reviewer, next.Reason = a.ID, a.Name, "", ""
			if approved {
				next.ApprovedVersion, next.Reviewer = next.Version, a.ID
			} else if cur.Status == StatusRetired {
				next.ApprovedVersion = 0 // back only by a new approval (Update)
			}
			rev := &Revision{EntryID: e.ID, Version: next.Version, Action: ActionImport, Status: status, Actor: a.ID,
				ActorName: a.Name, Changes: changes, Content: &next.Entry, At: now}
			writes = append(writes, RecordWrite{Record: &next, Revision: rev, FromVersion: cur.Version, FromStatus: cur.Status})
			res.Changed++
		}
	}
	if len(writes) > 0 {
		if err := s.store.WriteKBRecords(ctx, writes); err != nil {
			return ImportResult{}, fmt.Errorf("import: %w", err)
		}
	}
	s.audit(ctx, a, "kb.import", "kb", map[string]any{"created": res.Created, "changed": res.Changed,
		"unchanged": res.Unchanged, "approved": approved})
	return res, nil
}

// Export returns the working version of every entry that is not retired,
// in the import format.
func (s *Service) Export(ctx context.Context) ([]Entry, error) {
	recs, err := s.store.KBRecords(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(recs))
	for i := range recs {
		out[i] = recs[i].Entry
	}
	return out, nil
}

// Golden questions.

// GoldenQuestions lists the pinned questions.
func (s *Service) GoldenQuestions(ctx context.Context) ([]Golden, error) {
	return s.store.GoldenQuestions(ctx)
}

// AddGolden pins a question to the entry that must answer it.
func (s *Service) AddGolden(ctx context.Context, a Actor, g Golden) (*Golden, error) {
	g.Question = strings.TrimSpace(g.Question)
	switch {
	case g.Question == "":
		return nil, errcode.Localized(errcode.Invalid, "question is required", "必须填写问题")
	case !utf8.ValidString(g.Question) || utf8.RuneCountInString(g.Question) > MaxQuestionRunes:
		return nil, errcode.Localized(errcode.Invalid, "question must be valid UTF-8 of at most %d characters", "问题须为有效的 UTF-8 文本，最多 %d 个字符", MaxQuestionRunes)
	case g.Locale == "":
		g.Locale = LocaleZH
		if !hasHan(g.Question) {
			g.Locale = LocaleEN
		}
	case g.Locale != LocaleZH && g.Locale != LocaleEN:
		return nil, errcode.Localized(errcode.Invalid, "locale must be \"zh-CN\" or \"en\", not %q", "语言须为 \"zh-CN\" 或 \"en\"，而不是 %q", g.Locale)
	}
	if _, err := s.store.KBRecord(ctx, g.EntryID); err != nil {
		if errcode.Code(err) == errcode.NotFound {
			return nil, errcode.Localized(errcode.Invalid, "entry_id %q names no entry", "entry_id %q 没有对应的条目", g.EntryID)
		}
		return nil, err
	}
	g.ID, g.CreatedBy, g.CreatedAt = token.ID("g", 8), a.ID, s.now().UTC()
	if err := s.store.AddGolden(ctx, &g); err != nil {
		return nil, err
	}
	s.audit(ctx, a, "kb.golden.add", "golden:"+g.ID, map[string]any{"entry": g.EntryID, "question": g.Question})
	return &g, nil
}

// DeleteGolden unpins a question.
func (s *Service) DeleteGolden(ctx context.Context, a Actor, id string) error {
	if err := s.store.DeleteGolden(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, a, "kb.golden.delete", "golden:"+id, nil)
	return nil
}
