// Package quality is the loop that tells how well Steward serves: ratings,
// "wrong answer" flags and the correction queue, unanswered questions, and
// the quality report (report.go).
package quality

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
)

// Store keeps ratings. A conversation's second rating fails with a conflict.
type Store interface {
	// AddRating fails with ErrRateWhileAssigned while an agent has the
	// conversation, and with errcode.Conflict if it is rated already.
	AddRating(ctx context.Context, r *Rating) error
	Rating(ctx context.Context, conversationID string) (*Rating, error)
}

// Limits on a rating.
const (
	maxComment = 1000
	maxTags    = 10
)

// ErrRateWhileAssigned refuses a rating while an agent has the
// conversation (Store.AddRating refuses it too, as it stores it).
var ErrRateWhileAssigned = errcode.Localized(errcode.Conflict, "rate the conversation once the agent has closed it",
	"请在客服结束会话后再评价")

// Rating is a customer's verdict on a conversation.
type Rating struct {
	ConversationID string
	Score          int
	Tags           []string // tag ids
	Comment        string
	Assignee       string // the agent who had the conversation, if any
	CreatedAt      time.Time
}

// RatingTag is a tag customers may attach to a rating.
type RatingTag struct {
	ID    string            `yaml:"id" json:"id"`
	Label map[string]string `yaml:"label" json:"label"` // by locale: zh-CN, en
}

// DefaultRatingTags are the tags offered unless configured otherwise.
func DefaultRatingTags() []RatingTag {
	return []RatingTag{
		{ID: "solved", Label: map[string]string{"zh-CN": "问题已解决", "en": "Solved"}},
		{ID: "helpful", Label: map[string]string{"zh-CN": "耐心专业", "en": "Helpful"}},
		{ID: "slow", Label: map[string]string{"zh-CN": "响应太慢", "en": "Slow"}},
		{ID: "incomplete", Label: map[string]string{"zh-CN": "回答不完整", "en": "Incomplete answer"}},
		{ID: "unfriendly", Label: map[string]string{"zh-CN": "态度冷漠", "en": "Unfriendly"}},
		{ID: "unsolved", Label: map[string]string{"zh-CN": "问题未解决", "en": "Not solved"}},
	}
}

// Service records ratings.
type Service struct {
	store Store
	tags  []RatingTag
	now   func() time.Time
}

// NewService returns a Service; nil tags mean DefaultRatingTags.
func NewService(store Store, tags []RatingTag) *Service {
	if tags == nil {
		tags = DefaultRatingTags()
	}
	return &Service{store: store, tags: tags, now: time.Now}
}

// RatingTags returns the tags customers may choose from.
func (s *Service) RatingTags() []RatingTag { return s.tags }

// Rate records a customer's rating; a conversation is rated once. c must
// be authorised by the caller.
func (s *Service) Rate(ctx context.Context, c *conversation.Conversation, score int, tags []string, comment string) (*Rating, error) {
	if score < 1 || score > 5 {
		return nil, errcode.Localized(errcode.Invalid, "score must be a whole number from 1 to 5, not %d", "评分应为 1 到 5 的整数，而不是 %d", score)
	}
	// While an agent has it, their service is not over: a rating then was
	// laid at whoever had it at that moment (a transfer could follow), and
	// the close's rating request met "already rated". The bot's service,
	// or a wait in the queue, may be rated at any time; an agent's once the
	// conversation is closed.
	if c.State == conversation.StateAssigned {
		return nil, ErrRateWhileAssigned
	}
	if len(tags) > maxTags {
		return nil, errcode.Localized(errcode.Invalid, "at most %d tags", "最多选择 %d 个标签", maxTags)
	}
	ids := make([]string, 0, len(tags))
	for _, t := range tags {
		id, ok := s.tagID(t)
		if !ok {
			return nil, errcode.Localized(errcode.Invalid, "unknown tag %q; the tags are: %s", "没有标签 %q；可选标签：%s", t, s.tagList())
		}
		if !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if !utf8.ValidString(comment) {
		return nil, errcode.Errorf(errcode.Invalid, "comment is not valid UTF-8")
	}
	comment = strings.TrimSpace(comment)
	if n := utf8.RuneCountInString(comment); n > maxComment {
		return nil, errcode.Localized(errcode.TooLarge, "comment exceeds %d characters (got %d)", "评价超过 %d 个字（现有 %d 个）", maxComment, n)
	}
	// Personal data in a comment is masked, as in every text a customer
	// writes; its original is not kept (no one needs it to act on a rating).
	r := &Rating{ConversationID: c.ID, Score: score, Tags: ids, Comment: guard.MaskString(comment), Assignee: c.Assignee,
		CreatedAt: s.now().UTC()}
	if err := s.store.AddRating(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Rating returns a conversation's rating, or a not_found error.
func (s *Service) Rating(ctx context.Context, conversationID string) (*Rating, error) {
	return s.store.Rating(ctx, conversationID)
}

// tagID accepts a tag's id or any of its labels.
func (s *Service) tagID(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	for _, t := range s.tags {
		if strings.EqualFold(t.ID, tag) {
			return t.ID, true
		}
		for _, l := range t.Label {
			if l == tag {
				return t.ID, true
			}
		}
	}
	return "", false
}

func (s *Service) tagList() string {
	ids := make([]string, len(s.tags))
	for i, t := range s.tags {
		ids[i] = t.ID
	}
	return strings.Join(ids, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
