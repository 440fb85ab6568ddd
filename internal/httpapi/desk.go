package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
)

type personJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// itemJSON is a conversation as the desk lists it.
type itemJSON struct {
	ID             string                     `json:"id"`
	State          conversation.State         `json:"state"`
	Locale         string                     `json:"locale"`
	Customer       conversation.Customer      `json:"customer"`
	Priority       int                        `json:"priority"`
	Category       string                     `json:"category"`
	HandoffReason  conversation.HandoffReason `json:"handoff_reason"`
	Assignee       *personJSON                `json:"assignee"`
	QueuedAt       *time.Time                 `json:"queued_at"`
	ClosedAt       *time.Time                 `json:"closed_at,omitempty"`
	WaitingSeconds int64                      `json:"waiting_seconds"`
	Position       int                        `json:"position,omitempty"`
	WaitEstimate   int64                      `json:"wait_estimate_seconds,omitempty"`
	Preview        string                     `json:"preview"`
	LastSeq        int64                      `json:"last_seq"`
	CreatedAt      time.Time                  `json:"created_at"`
	UpdatedAt      time.Time                  `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// names caches user display names for a few seconds: lists show assignees.
type names struct {
	mu   sync.Mutex
	at   time.Time
	byID map[string]string
	// public are the names customers see: the name given, or none, never
	// the email DisplayName falls back to (an internal address handed to
	// anyone who opens the chat).
	public map[string]string
	// missed is when an id was last looked up and not found (loadNames).
	missed map[string]time.Time
}

// userNames are the staff's names as colleagues see them. want are ids
// the caller is about to look up (see loadNames).
func (s *Server) userNames(ctx context.Context, want ...string) map[string]string {
	byID, _ := s.loadNames(ctx, want)
	return byID
}

// publicNames are the staff's names as customers see them ("" for none).
func (s *Server) publicNames(ctx context.Context, want ...string) map[string]string {
	_, public := s.loadNames(ctx, want)
	return public
}

// loadNames returns the cached names, read again when they are 5 s old, or
// when an id in want is not among them: an agent added since (on this node
// or another) who took a conversation at once was shown to the customer
// and the desk without a name. An id still missing after that (a user no
// longer stored) reads them again at most every 5 s.
func (s *Server) loadNames(ctx context.Context, want []string) (byID, public map[string]string) {
	if s.auth == nil {
		return map[string]string{}, map[string]string{}
	}
	s.names.mu.Lock()
	defer s.names.mu.Unlock()
	now := time.Now()
	if s.names.byID != nil && now.Sub(s.names.at) < 5*time.Second {
		missing := false
		for _, id := range want {
			if _, ok := s.names.byID[id]; !ok && id != "" && now.Sub(s.names.missed[id]) >= 5*time.Second {
				if s.names.missed == nil {
					s.names.missed = map[string]time.Time{}
				}
				s.names.missed[id], missing = now, true
			}
		}
		if !missing {
			return s.names.byID, s.names.public
		}
	}
	for id, at := range s.names.missed {
		if now.Sub(at) >= 5*time.Second {
			delete(s.names.missed, id)
		}
	}
	users, err := s.auth.Users(ctx)
	if err != nil {
		s.logger.Warn("list users for names", "error", err)
		return s.names.byID, s.names.public
	}
	byID, public = make(map[string]string, len(users)), make(map[string]string, len(users))
	for i := range users {
		byID[users[i].ID], public[users[i].ID] = users[i].DisplayName(), users[i].Name
	}
	s.names.byID, s.names.public, s.names.at = byID, public, time.Now()
	return byID, public
}

// toItem is a conversation as the desk lists it, with its place in line
// when it is queued.
func (s *Server) toItem(c *conversation.Conversation, nameOf map[string]string, now time.Time) itemJSON {
	it := baseItem(c, nameOf, now)
	if c.State == conversation.StateQueued {
		if pos, ok := s.desk.Snapshot().Position(c.ID); ok {
			it.withPlace(pos)
		}
	}
	return it
}

func baseItem(c *conversation.Conversation, nameOf map[string]string, now time.Time) itemJSON {
	it := itemJSON{ID: c.ID, State: c.State, Locale: c.Locale, Customer: c.Customer, Priority: c.Priority,
		Category: c.Category, HandoffReason: c.HandoffReason, QueuedAt: optTime(c.QueuedAt),
		ClosedAt: optTime(c.ClosedAt), WaitingSeconds: int64(desk.Wait(c, now) / time.Second), LastSeq: c.LastSeq, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.Assignee != "" {
		it.Assignee = &personJSON{ID: c.Assignee, Name: nameOf[c.Assignee]}
	}
	return it
}

// withPlace adds a queued conversation's place in line.
func (it *itemJSON) withPlace(pos desk.Item) {
	it.Position, it.WaitEstimate, it.Preview = pos.Position, int64(pos.Wait/time.Second), pos.Preview
	if !pos.Since.IsZero() {
		// Waiting since it was put back, not since it was first queued:
		// the time an agent served it is no wait.
		it.WaitingSeconds = int64(max(time.Since(pos.Since), 0) / time.Second)
	}
}

func (s *Server) queueItems(ctx context.Context, q *desk.Queue) []itemJSON {
	nameOf := s.userNames(ctx)
	now := time.Now()
	out := make([]itemJSON, len(q.Items))
	for i := range q.Items {
		out[i] = baseItem(&q.Items[i].Conversation, nameOf, now)
		out[i].withPlace(q.Items[i])
	}
	return out
}

func (s *Server) deskQueue(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q, err := s.desk.Queue(r.Context(), p.User)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": s.queueItems(r.Context(), q), "agents_online": q.AgentsOnline})
	return nil
}

func (s *Server) deskList(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	scope := r.URL.Query().Get("scope")
	if scope == "" {
		scope = string(desk.ScopeMine)
	}
	convs, err := s.desk.List(r.Context(), p.User, desk.Scope(scope))
	if err != nil {
		return err
	}
	nameOf := s.userNames(r.Context())
	now := time.Now()
	out := make([]itemJSON, len(convs))
	for i := range convs {
		out[i] = s.toItem(&convs[i], nameOf, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
	return nil
}

// deskMessageJSON is a message as the console sees it: the author's id too.
type deskMessageJSON struct {
	messageJSON
	Author *conversation.Author `json:"author,omitempty"`
	Intent string               `json:"intent,omitempty"`
}

func toDeskJSON(m conversation.Message) deskMessageJSON {
	return deskMessageJSON{messageJSON: toJSON(m), Author: m.Author, Intent: m.Intent}
}

type noteJSON struct {
	ID        string     `json:"id"`
	Author    personJSON `json:"author"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
}

func toNoteJSON(n desk.Note) noteJSON {
	return noteJSON{ID: n.ID, Author: personJSON{ID: n.AuthorID, Name: n.AuthorName}, Text: n.Text, CreatedAt: n.CreatedAt}
}

type summaryJSON struct {
	Text          string                     `json:"text"`
	Questions     []string                   `json:"questions"`
	Intents       []intentJSON               `json:"intents"`
	BotAttempts   []attemptJSON              `json:"bot_attempts"`
	Emotion       emotionJSON                `json:"emotion"`
	HandoffReason conversation.HandoffReason `json:"handoff_reason"`
	Tags          []string                   `json:"tags"`
}

type intentJSON struct {
	Intent     string  `json:"intent"`
	Category   string  `json:"category"`
	Title      string  `json:"title"`
	Confidence float64 `json:"confidence"`
}

type attemptJSON struct {
	Outcome    conversation.Outcome `json:"outcome"`
	Title      string               `json:"title"`
	Confidence float64              `json:"confidence"`
	Text       string               `json:"text"`
	Generated  bool                 `json:"generated,omitempty"`
}

type emotionJSON struct {
	Score float64  `json:"score"`
	Tags  []string `json:"tags"`
}

func toSummaryJSON(sm desk.Summary) summaryJSON {
	out := summaryJSON{Text: sm.Text, Questions: sm.Questions, HandoffReason: sm.HandoffReason, Tags: sm.Tags,
		Emotion: emotionJSON{Score: sm.Emotion.Score, Tags: sm.Emotion.Tags}, Intents: []intentJSON{}, BotAttempts: []attemptJSON{}}
	for _, it := range sm.Intents {
		out.Intents = append(out.Intents, intentJSON(it))
	}
	for _, a := range sm.BotAttempts {
		out.BotAttempts = append(out.BotAttempts, attemptJSON(a))
	}
	return out
}

type suggestionJSON struct {
	EntryID    string  `json:"entry_id"`
	Title      string  `json:"title"`
	Answer     string  `json:"answer"`
	Confidence float64 `json:"confidence"`
}

func toSuggestionsJSON(ss []desk.Suggestion) []suggestionJSON {
	out := make([]suggestionJSON, len(ss))
	for i, sg := range ss {
		out[i] = suggestionJSON(sg)
	}
	return out
}

// consoleLang is the language the console asked for (?lang=), else the
// conversation's.
func consoleLang(r *http.Request, c *conversation.Conversation) string {
	switch l := r.URL.Query().Get("lang"); l {
	case "zh-CN", "en":
		return l
	}
	return c.Locale
}

func (s *Server) deskConversation(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, msgs, notes, err := s.desk.Transcript(r.Context(), p.User, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]deskMessageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = toDeskJSON(m)
	}
	ns := make([]noteJSON, len(notes))
	for i, n := range notes {
		ns[i] = toNoteJSON(n)
	}
	tickets, err := s.desk.ConversationTickets(r.Context(), p.User, c)
	if err != nil {
		return err
	}
	names := s.userNames(r.Context())
	body := map[string]any{
		"conversation": s.toItem(c, names, time.Now()),
		"tickets":      toTicketsJSON(tickets, names),
		"messages":     out,
		"summary":      toSummaryJSON(desk.Summarize(c, msgs, consoleLang(r, c))),
		"notes":        ns,
		"suggestions":  toSuggestionsJSON(s.desk.Suggestions(c, msgs)),
	}
	if rt, err := s.quality.Rating(r.Context(), c.ID); err == nil {
		body["rating"] = toRatingJSON(rt)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) deskSuggestions(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, msgs, _, err := s.desk.Transcript(r.Context(), p.User, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": toSuggestionsJSON(s.desk.Suggestions(c, msgs))})
	return nil
}

func (s *Server) writeItem(w http.ResponseWriter, r *http.Request, c *conversation.Conversation) {
	writeJSON(w, http.StatusOK, map[string]any{"conversation": s.toItem(c, s.userNames(r.Context(), c.Assignee), time.Now())})
}

func (s *Server) deskClaim(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.desk.Claim(r.Context(), p.User, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeItem(w, r, c)
	return nil
}

type assignRequest struct {
	AgentID string `json:"agent_id"`
}

func (s *Server) deskAssign(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.DeskSupervise) {
		return auth.ErrNotPermitted("reassign conversations")
	}
	var req assignRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	c, err := s.desk.Assign(r.Context(), p.User, r.PathValue("id"), req.AgentID)
	if err != nil {
		return err
	}
	s.writeItem(w, r, c)
	return nil
}

type textRequest struct {
	Text *string `json:"text"`
}

// deskText reads the {"text"} body of an agent's message or note, after
// checking that the user may write at all: a reader learns nothing from
// which of their bodies are malformed.
func deskText(r *http.Request, p *auth.Principal, action string) (string, error) {
	if !p.User.Can(auth.DeskWork) {
		return "", auth.ErrNotPermitted(action)
	}
	var req textRequest
	if err := decode(r, &req); err != nil {
		return "", err
	}
	if req.Text == nil {
		return "", errcode.Localized(errcode.Invalid, "text is required", "内容不能为空")
	}
	return *req.Text, nil
}

func (s *Server) deskReply(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	text, err := deskText(r, p, "reply to customers")
	if err != nil {
		return err
	}
	m, err := s.desk.Reply(r.Context(), p.User, r.PathValue("id"), text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"message": toDeskJSON(m)})
	return nil
}

func (s *Server) deskNote(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	text, err := deskText(r, p, "write notes")
	if err != nil {
		return err
	}
	n, err := s.desk.AddNote(r.Context(), p.User, r.PathValue("id"), text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"note": toNoteJSON(n)})
	return nil
}

type closeRequest struct {
	AskRating *bool `json:"ask_rating"`
}

func (s *Server) deskClose(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.DeskWork) {
		return auth.ErrNotPermitted("close conversations")
	}
	var req closeRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	ask := req.AskRating == nil || *req.AskRating
	c, err := s.desk.Close(r.Context(), p.User, r.PathValue("id"), ask)
	if err != nil {
		return err
	}
	s.writeItem(w, r, c)
	return nil
}

type statusJSON struct {
	Status   auth.Presence `json:"status"`
	Load     int           `json:"load"`
	MaxChats int           `json:"max_chats"`
}

func (s *Server) getPresence(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	st, err := s.desk.Status(r.Context(), p.User)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusJSON{Status: st.Presence, Load: st.Load, MaxChats: st.MaxChats})
	return nil
}

type presenceRequest struct {
	Status string `json:"status"`
}

func (s *Server) putPresence(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.DeskWork) {
		return auth.ErrNotPermitted("take conversations")
	}
	var req presenceRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	pr, err := auth.ParsePresence(req.Status)
	if err != nil {
		return err
	}
	st, err := s.desk.SetPresence(r.Context(), p.User, pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusJSON{Status: st.Presence, Load: st.Load, MaxChats: st.MaxChats})
	return nil
}

func (s *Server) deskAgents(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	agents, err := s.desk.Agents(r.Context(), p.User)
	if err != nil {
		return err
	}
	type agentJSON struct {
		userJSON
		Status auth.Presence `json:"status"`
		Load   int           `json:"load"`
	}
	out := make([]agentJSON, len(agents))
	for i := range agents {
		a := &agents[i]
		out[i] = agentJSON{userJSON: toUserJSON(&a.User), Status: a.Status.Presence, Load: a.Status.Load}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
	return nil
}

type cannedJSON struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Text   string `json:"text"`
	Locale string `json:"locale"`
}

func (s *Server) listCanned(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	cs, err := s.desk.CannedReplies(r.Context(), p.User, r.URL.Query().Get("locale"))
	if err != nil {
		return err
	}
	out := make([]cannedJSON, len(cs))
	for i, c := range cs {
		out[i] = cannedJSON{ID: c.ID, Title: c.Title, Text: c.Text, Locale: c.Locale}
	}
	writeJSON(w, http.StatusOK, map[string]any{"canned": out})
	return nil
}

type cannedRequest struct {
	Title  string `json:"title"`
	Text   string `json:"text"`
	Locale string `json:"locale"`
}

func (s *Server) addCanned(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !p.User.Can(auth.CannedManage) {
		return auth.ErrNotPermitted("edit canned replies")
	}
	var req cannedRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	c, err := s.desk.AddCanned(r.Context(), p.User, req.Locale, req.Title, req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"canned": cannedJSON{ID: c.ID, Title: c.Title, Text: c.Text, Locale: c.Locale}})
	return nil
}

func (s *Server) deleteCanned(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := s.desk.DeleteCanned(r.Context(), p.User, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type ticketJSON struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	Contact        string            `json:"contact"`
	Message        string            `json:"message"`
	Locale         string            `json:"locale"`
	Status         desk.TicketStatus `json:"status"`
	CreatedAt      time.Time         `json:"created_at"`
	ResolvedBy     string            `json:"resolved_by,omitempty"`
	// Resolver names who resolved it (resolved_by is their id), so that
	// agents, who may not list the team, see a name.
	Resolver   *personJSON `json:"resolver,omitempty"`
	ResolvedAt *time.Time  `json:"resolved_at,omitempty"`
}

func toTicketJSON(t desk.Ticket) ticketJSON {
	return ticketJSON{ID: t.ID, ConversationID: t.ConversationID, Contact: t.Contact, Message: t.Message, Locale: t.Locale,
		Status: t.Status, CreatedAt: t.CreatedAt, ResolvedBy: t.ResolvedBy, ResolvedAt: optTime(t.ResolvedAt)}
}

// withResolver adds the name of whoever resolved the ticket.
func (t ticketJSON) withResolver(nameOf map[string]string) ticketJSON {
	if t.ResolvedBy != "" {
		t.Resolver = &personJSON{ID: t.ResolvedBy, Name: nameOf[t.ResolvedBy]}
	}
	return t
}

// toTicketsJSON is tickets as the API gives them, each with its resolver's
// name.
func toTicketsJSON(ts []desk.Ticket, nameOf map[string]string) []ticketJSON {
	out := make([]ticketJSON, len(ts))
	for i, t := range ts {
		out[i] = toTicketJSON(t).withResolver(nameOf)
	}
	return out
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ts, total, err := s.desk.Tickets(r.Context(), p.User, r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": toTicketsJSON(ts, s.userNames(r.Context())), "total": total})
	return nil
}

func (s *Server) resolveTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	t, err := s.desk.ResolveTicket(r.Context(), p.User, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The resolver is the caller: named even before the names cache knows them.
	writeJSON(w, http.StatusOK, map[string]any{"ticket": toTicketJSON(*t).withResolver(map[string]string{p.User.ID: p.User.DisplayName()})})
	return nil
}
