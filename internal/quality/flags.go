package quality

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/token"
)

// FlagStatus is where a "wrong answer" flag stands.
type FlagStatus string

// A flag is open until an editor links it to a fix (fixing) or dismisses
// it; it is resolved when a release publishes the fix.
const (
	FlagOpen      FlagStatus = "open"
	FlagFixing    FlagStatus = "fixing"
	FlagResolved  FlagStatus = "resolved"
	FlagDismissed FlagStatus = "dismissed"
)

// Who flagged an answer.
const (
	SourceCustomer = "customer"
	SourceAgent    = "agent"
)

// Flag says a bot answer was wrong.
type Flag struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	MessageID      string     `json:"message_id"`
	EntryID        string     `json:"entry_id"` // the entry the bot answered from; "" for a fallback
	Outcome        string     `json:"outcome"`
	Question       string     `json:"question"` // the customer's words that got the answer
	Answer         string     `json:"answer"`
	Locale         string     `json:"locale"`
	Reason         string     `json:"reason"`
	Source         string     `json:"source"`
	FlaggedBy      string     `json:"flagged_by,omitempty"` // the agent; "" for the customer
	Status         FlagStatus `json:"status"`
	FixEntry       string     `json:"fix_entry,omitempty"`
	FixVersion     int        `json:"fix_version,omitempty"`
	ReleaseID      int64      `json:"release_id,omitempty"`
	HandledBy      string     `json:"handled_by,omitempty"`
	Note           string     `json:"note,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// FlagUpdate is what UpdateFlags sets.
type FlagUpdate struct {
	Status     FlagStatus
	FixEntry   string
	FixVersion int
	ReleaseID  int64
	HandledBy  string
	Note       string // "" keeps the flag's note, unless SetNote
	// SetNote replaces the note even with "": a dismissal without a note
	// must not keep an older note that no longer holds.
	SetNote bool
	At      time.Time
}

// Asked is a customer question the bot could not answer.
type Asked struct {
	Text           string
	Locale         string
	ConversationID string
	At             time.Time
}

// FlagStore keeps flags and finds unanswered questions.
type FlagStore interface {
	// AddFlag fails with errcode.Conflict when the message already has a
	// flag from the same source.
	AddFlag(ctx context.Context, f *Flag) error
	FlagByMessage(ctx context.Context, messageID, source string) (*Flag, error)
	Flags(ctx context.Context, statuses []FlagStatus, limit int) ([]Flag, error)
	// UpdateFlags applies u to the flags among ids whose status is one of
	// from, and returns how many changed.
	UpdateFlags(ctx context.Context, ids []string, from []FlagStatus, u FlagUpdate) (int, error)
	// FixingFlags returns the flags waiting for a release of their fix.
	FixingFlags(ctx context.Context) ([]Flag, error)
	// FixedFlags returns every resolved flag with a fix (an entry and its
	// version), however many.
	FixedFlags(ctx context.Context) ([]Flag, error)
	// Unanswered returns the customer messages the bot could not answer (a
	// fallback, or the handoff that follows the second in a row) since a
	// time, newest first.
	Unanswered(ctx context.Context, since time.Time, limit int) ([]Asked, error)
	// AnsweredByModel returns the customer messages the language model
	// answered since a time, newest first.
	AnsweredByModel(ctx context.Context, since time.Time, limit int) ([]Asked, error)
}

// Flags is the correction loop: flags in, grouped queue out.
type Flags struct {
	store FlagStore
	now   func() time.Time
}

// NewFlags returns the correction loop over store.
func NewFlags(store FlagStore) *Flags { return &Flags{store: store, now: time.Now} }

const maxFlagReason = 500

// Flag records that the bot message messageID of c was wrong. transcript
// is c's messages. A second flag of the same message from the same source
// returns the first, with created false.
func (s *Flags) Flag(ctx context.Context, c *conversation.Conversation, transcript []conversation.Message,
	messageID, reason, source, by string) (*Flag, bool, error) {
	if !utf8.ValidString(reason) {
		return nil, false, errcode.Errorf(errcode.Invalid, "reason is not valid UTF-8")
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n > maxFlagReason {
		return nil, false, errcode.Localized(errcode.TooLarge, "reason exceeds %d characters (got %d)", "原因超过 %d 个字（现有 %d 个）", maxFlagReason, n)
	}
	idx := slices.IndexFunc(transcript, func(m conversation.Message) bool { return m.ID == messageID })
	if idx < 0 {
		return nil, false, errcode.Localized(errcode.NotFound, "conversation %s has no message %q", "会话 %s 中没有消息 %q", c.ID, messageID)
	}
	m := transcript[idx]
	switch {
	case m.Role != conversation.RoleBot:
		return nil, false, errcode.Localized(errcode.Invalid, "only the bot's answers can be flagged; message %s is from the %s",
			"只能标记机器人的回答；消息 %s 来自 %s",
			messageID, m.Role)
	case m.Outcome != conversation.OutcomeAnswer && m.Outcome != conversation.OutcomeClarify &&
		m.Outcome != conversation.OutcomeFallback:
		return nil, false, errcode.Localized(errcode.Invalid, "message %s is not an answer (it is a %s message)", "消息 %s 不是回答（它是 %s 消息）", messageID,
			m.Outcome)
	}
	if old, err := s.store.FlagByMessage(ctx, messageID, source); err == nil {
		return old, false, nil
	}
	now := s.now().UTC()
	f := &Flag{ID: token.ID("f", 8), ConversationID: c.ID, MessageID: m.ID, Outcome: string(m.Outcome), Answer: m.Text,
		Locale: m.Locale, Reason: guard.MaskString(reason), Source: source, FlaggedBy: by, Status: FlagOpen, CreatedAt: now, UpdatedAt: now}
	if m.Entry != nil && !strings.HasPrefix(m.Entry.Category, "smalltalk") {
		f.EntryID = m.Entry.ID
	}
	for i := idx - 1; i >= 0; i-- {
		if transcript[i].Role == conversation.RoleCustomer {
			f.Question = transcript[i].Text
			break
		}
	}
	if err := s.store.AddFlag(ctx, f); err != nil {
		if errcode.Code(err) == errcode.Conflict {
			if old, err := s.store.FlagByMessage(ctx, messageID, source); err == nil {
				return old, false, nil
			}
		}
		return nil, false, err
	}
	return f, true, nil
}

// FlaggedAnother reports whether source flagged another answer of the
// transcript (of its newest maxFlagScan) than messageID. A conversation's
// flags count once towards the alert rules: else one customer flagging
// three answers of one conversation fired wrong_answer_flags, and within
// minutes of a release rolled the release back.
func (s *Flags) FlaggedAnother(ctx context.Context, transcript []conversation.Message, messageID, source string) (bool, error) {
	scanned := 0
	for i := len(transcript) - 1; i >= 0 && scanned < maxFlagScan; i-- {
		m := transcript[i]
		if m.ID == messageID || m.Role != conversation.RoleBot || (m.Outcome != conversation.OutcomeAnswer &&
			m.Outcome != conversation.OutcomeClarify && m.Outcome != conversation.OutcomeFallback) {
			continue
		}
		scanned++
		switch _, err := s.store.FlagByMessage(ctx, m.ID, source); {
		case err == nil:
			return true, nil
		case errcode.Code(err) != errcode.NotFound:
			return false, fmt.Errorf("flags of conversation %s: %w", m.ConversationID, err)
		}
	}
	return false, nil
}

// FlaggedBy reports whether source flagged the message.
func (s *Flags) FlaggedBy(ctx context.Context, messageID, source string) (bool, error) {
	switch _, err := s.store.FlagByMessage(ctx, messageID, source); {
	case err == nil:
		return true, nil
	case errcode.Code(err) == errcode.NotFound:
		return false, nil
	default:
		return false, fmt.Errorf("flags of message %s: %w", messageID, err)
	}
}

// maxFlagScan bounds the answers FlaggedAnother looks at.
const maxFlagScan = 200

// Group is a set of open flags with one cause: the same entry, or (for
// answers that came from no entry) the same question.
type Group struct {
	Key      string `json:"key"` // "entry:<id>" or "question:<normalised question>"
	EntryID  string `json:"entry_id,omitempty"`
	Question string `json:"question,omitempty"`
	// Count is how many answers were flagged: a customer's flag and an
	// agent's on the same message are one answer (Flags holds both).
	Count     int             `json:"count"`
	Questions []QuestionCount `json:"questions"` // the customers' wordings, most frequent first
	Reasons   []string        `json:"reasons"`
	Flags     []Flag          `json:"flags"`
	LastAt    time.Time       `json:"last_at"`
}

// QuestionCount is a wording and how often it came.
type QuestionCount struct {
	Text   string `json:"text"`
	Locale string `json:"locale"`
	Count  int    `json:"count"`
}

// updateBatch bounds the flags one write updates: the store's writer is
// shared with every customer's turn, which would wait behind thousands.
const updateBatch = 200

// update applies u to ids in writes of at most updateBatch flags.
func (s *Flags) update(ctx context.Context, ids []string, from []FlagStatus, u FlagUpdate) (int, error) {
	// An id given twice is one flag: fixing → fixing would count it again.
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	n := 0
	for chunk := range slices.Chunk(ids, updateBatch) {
		k, err := s.store.UpdateFlags(ctx, chunk, from, u)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// maxQueued bounds the flags the queue reads: the newest ones.
const maxQueued = 5000

// QueueCoverage says what a correction queue was made from, so that a
// reviewer knows when older flags were left out of its groups and counts.
type QueueCoverage struct {
	Flags int `json:"flags"` // flags read
	// Truncated: more flags were in the statuses asked for than the newest
	// maxQueued, which were all that was read; Oldest is the oldest of
	// those read, and older flags are in no group.
	Truncated bool       `json:"truncated"`
	Oldest    *time.Time `json:"oldest,omitempty"`
}

// Queue returns the open and fixing flags grouped, the largest group first.
func (s *Flags) Queue(ctx context.Context, status FlagStatus) ([]Group, QueueCoverage, error) {
	statuses := []FlagStatus{FlagOpen, FlagFixing}
	if status != "" {
		statuses = []FlagStatus{status}
	}
	flags, err := s.store.Flags(ctx, statuses, maxQueued+1)
	if err != nil {
		return nil, QueueCoverage{}, err
	}
	var cov QueueCoverage
	if len(flags) > maxQueued {
		flags, cov.Truncated = flags[:maxQueued], true
	}
	cov.Flags = len(flags)
	for _, f := range flags {
		if cov.Oldest == nil || f.CreatedAt.Before(*cov.Oldest) {
			at := f.CreatedAt
			cov.Oldest = &at
		}
	}
	byKey := map[string]*Group{}
	var order []*Group
	answers := map[string]bool{} // group key and message id: an answer counted once
	for _, f := range flags {
		key := "entry:" + f.EntryID
		if f.EntryID == "" {
			key = "question:" + nlu.Normalize(f.Question)
		}
		g, ok := byKey[key]
		if !ok {
			g = &Group{Key: key, EntryID: f.EntryID, Reasons: []string{}}
			if f.EntryID == "" {
				g.Question = f.Question
			}
			byKey[key] = g
			order = append(order, g)
		}
		g.Flags = append(g.Flags, f)
		if f.Reason != "" && len(g.Reasons) < 20 {
			g.Reasons = append(g.Reasons, f.Reason)
		}
		if f.CreatedAt.After(g.LastAt) {
			g.LastAt = f.CreatedAt
		}
		if answer := key + "\x00" + f.MessageID; f.MessageID == "" || !answers[answer] {
			answers[answer] = true
			g.Count++
			g.Questions = addQuestion(g.Questions, f.Question, f.Locale)
		}
	}
	out := make([]Group, len(order))
	for i, g := range order {
		slices.SortStableFunc(g.Questions, func(a, b QuestionCount) int { return b.Count - a.Count })
		out[i] = *g
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return b.LastAt.Compare(a.LastAt)
	})
	return out, cov, nil
}

func addQuestion(qs []QuestionCount, text, locale string) []QuestionCount {
	if text == "" {
		return qs
	}
	norm := nlu.Normalize(text)
	for i := range qs {
		if nlu.Normalize(qs[i].Text) == norm {
			qs[i].Count++
			return qs
		}
	}
	return append(qs, QuestionCount{Text: text, Locale: locale, Count: 1})
}

// maxFlagIDs bounds one request's flag list: as many as the queue puts in
// one group, so that the console can dismiss or fix a whole group at once.
const maxFlagIDs = maxQueued

// CheckFlagIDs checks a list of flag ids to link or dismiss.
func CheckFlagIDs(ids []string) error { return checkIDs(ids) }

func checkIDs(ids []string) error {
	switch {
	case len(ids) == 0:
		return errcode.Localized(errcode.Invalid, "flags: give at least one flag id", "请至少选择一条标记")
	case len(ids) > maxFlagIDs:
		return errcode.Localized(errcode.Invalid, "flags: at most %d ids", "一次最多处理 %d 条标记", maxFlagIDs)
	}
	return nil
}

// LinkFix marks flags as fixed by a version of an entry, to be resolved
// when a release publishes it.
func (s *Flags) LinkFix(ctx context.Context, ids []string, entryID string, version int, by string) (int, error) {
	if err := checkIDs(ids); err != nil {
		return 0, err
	}
	return s.update(ctx, ids, []FlagStatus{FlagOpen, FlagFixing}, FlagUpdate{Status: FlagFixing,
		FixEntry: entryID, FixVersion: version, HandledBy: by, At: s.now().UTC()})
}

// Dismiss closes flags that need no fix, with a note.
func (s *Flags) Dismiss(ctx context.Context, ids []string, by, note string) (int, error) {
	if err := checkIDs(ids); err != nil {
		return 0, err
	}
	note = strings.TrimSpace(note)
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > maxFlagReason {
		return 0, errcode.Localized(errcode.Invalid, "note must be valid UTF-8 of at most %d characters", "备注最多 %d 个字", maxFlagReason)
	}
	// An editor may quote the customer: the note is masked like a reason.
	return s.update(ctx, ids, []FlagStatus{FlagOpen, FlagFixing}, FlagUpdate{Status: FlagDismissed,
		HandledBy: by, Note: guard.MaskString(note), SetNote: true, At: s.now().UTC()})
}

// notServedNote ends the note of a resolved flag that a release sent back
// to fixing.
const notServedNote = "does not serve the fix (rolled back, or the entry retired)"

// Released follows the active release: the flags whose fix it serves (the
// fixed entry at the fix's version or later) are resolved, and resolved
// flags whose fix it no longer serves (a rollback, a retired entry) go back
// to fixing, to be resolved again by a release that serves it. It returns
// how many flags changed.
func (s *Flags) Released(ctx context.Context, releaseID int64, versions map[string]int) (int, error) {
	fixing, err := s.store.FixingFlags(ctx)
	if err != nil {
		return 0, err
	}
	resolved, err := s.store.FixedFlags(ctx)
	if err != nil {
		return 0, err
	}
	var fixed, fixedAgain, undone []string
	for _, f := range fixing {
		if v, ok := versions[f.FixEntry]; ok && v >= f.FixVersion {
			if strings.HasSuffix(f.Note, notServedNote) {
				fixedAgain = append(fixedAgain, f.ID)
			} else {
				fixed = append(fixed, f.ID)
			}
		}
	}
	for _, f := range resolved {
		if f.FixEntry != "" && versions[f.FixEntry] < f.FixVersion {
			undone = append(undone, f.ID)
		}
	}
	now := s.now().UTC()
	n := 0
	if len(fixed) > 0 {
		k, err := s.update(ctx, fixed, []FlagStatus{FlagFixing}, FlagUpdate{Status: FlagResolved,
			ReleaseID: releaseID, At: now})
		if err != nil {
			return n, err
		}
		n += k
	}
	if len(fixedAgain) > 0 {
		// The note that a rollback took the fix away no longer holds.
		k, err := s.update(ctx, fixedAgain, []FlagStatus{FlagFixing}, FlagUpdate{Status: FlagResolved,
			ReleaseID: releaseID, Note: fmt.Sprintf("release %d serves the fix again", releaseID), At: now})
		if err != nil {
			return n, err
		}
		n += k
	}
	if len(undone) > 0 {
		// Back to fixing, not open: they keep their fix, and the release
		// that serves it again resolves them again.
		k, err := s.update(ctx, undone, []FlagStatus{FlagResolved}, FlagUpdate{Status: FlagFixing,
			Note: fmt.Sprintf("release %d %s", releaseID, notServedNote), At: now})
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}
