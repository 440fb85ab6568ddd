package httpapi

import (
	"github.com/steward-cs/steward/internal/monitor"
	"net/http"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
)

// queueJSON is a queued customer's place in line.
type queueJSON struct {
	Position    int   `json:"position"`
	WaitSeconds int64 `json:"wait_seconds"`
	// AfterHours: the wait goes on when the desk opens again (nobody is
	// online and it runs past closing time).
	AfterHours bool `json:"after_hours,omitempty"`
}

func (s *Server) queuePosition(id string) *queueJSON {
	if s.desk == nil {
		return nil
	}
	it, ok := s.desk.Snapshot().Position(id)
	if !ok {
		return nil
	}
	return &queueJSON{Position: it.Position, WaitSeconds: int64(it.Wait / time.Second), AfterHours: it.AfterHours}
}

// agentName is the name of the agent who has c, as the customer sees it.
func (s *Server) agentName(r *http.Request, c *conversation.Conversation) *struct {
	Name string `json:"name"`
} {
	if c.State != conversation.StateAssigned || c.Assignee == "" || s.auth == nil {
		return nil
	}
	return &struct {
		Name string `json:"name"`
	}{Name: s.publicNames(r.Context(), c.Assignee)[c.Assignee]}
}

type ratingJSON struct {
	Score     int       `json:"score"`
	Tags      []string  `json:"tags"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
}

func toRatingJSON(r *quality.Rating) ratingJSON {
	return ratingJSON{Score: r.Score, Tags: nonNilStrings(r.Tags), Comment: r.Comment, CreatedAt: r.CreatedAt}
}

type ratingRequest struct {
	Score   *int     `json:"score"`
	Tags    []string `json:"tags"`
	Comment string   `json:"comment"`
}

func (s *Server) rateConversation(w http.ResponseWriter, r *http.Request) error {
	if bearer(r) == "" {
		return conversation.ErrNoToken
	}
	c, err := s.engine.Authorize(r.Context(), r.PathValue("id"), bearer(r))
	if err != nil {
		return err
	}
	var req ratingRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Score == nil {
		return errcode.Localized(errcode.Invalid, "score is required (1 to 5)", "请给出 1 到 5 的评分")
	}
	rt, err := s.quality.Rate(r.Context(), c, *req.Score, req.Tags, req.Comment)
	if err != nil {
		return err
	}
	// A rating judges the whole conversation: it is about what was served
	// from its start, and, once it was queued for people, about the desk
	// too (a handoff nobody could take left it with the bot: that rating
	// still judges the bot).
	s.signal(monitor.Signal{Kind: monitor.KindRating, Stars: *req.Score, Category: c.Category, About: c.CreatedAt,
		Staffed: !c.QueuedAt.IsZero() || c.Assignee != ""})
	// A console with the conversation open shows it at once (it showed
	// only when the transcript was read again).
	HubPublisher{Hub: s.hub, Cluster: s.cluster}.PublishRating(c.ID, *rt)
	writeJSON(w, http.StatusCreated, map[string]any{"rating": toRatingJSON(rt)})
	return nil
}

type offlineRequest struct {
	Contact string `json:"contact"`
	Message string `json:"message"`
}

func (s *Server) leaveMessage(w http.ResponseWriter, r *http.Request) error {
	if bearer(r) == "" {
		return conversation.ErrNoToken
	}
	c, err := s.engine.Authorize(r.Context(), r.PathValue("id"), bearer(r))
	if err != nil {
		return err
	}
	var req offlineRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	t, err := s.desk.LeaveMessage(r.Context(), c, req.Contact, req.Message)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ticket": toTicketJSON(*t)})
	return nil
}

func (s *Server) ratingTags(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"tags": s.quality.RatingTags()})
	return nil
}
