package desk

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/token"
)

// Note is an internal note on a conversation; customers never see it.
type Note struct {
	ID             string
	ConversationID string
	AuthorID       string
	AuthorName     string
	Text           string
	CreatedAt      time.Time
}

// Canned is a prepared reply agents insert with one click.
type Canned struct {
	ID        string
	Locale    string
	Title     string
	Text      string
	CreatedBy string
	CreatedAt time.Time
}

// TicketStatus is where an offline message stands.
type TicketStatus string

// The ticket states.
const (
	TicketOpen     TicketStatus = "open"
	TicketResolved TicketStatus = "resolved"
)

// Ticket is a message a customer left when nobody could answer.
type Ticket struct {
	ID             string
	ConversationID string
	Contact        string
	Message        string
	Locale         string
	Status         TicketStatus
	ResolvedBy     string
	ResolvedAt     time.Time
	CreatedAt      time.Time
	// Originals are the sealed originals of the contact and the message,
	// stored with the ticket in one write (AddTicket) and never read back
	// with it.
	Originals []guard.VaultRecord
}

// Limits on what customers leave.
const (
	maxContact        = 200
	maxOpenTickets    = 3 // per conversation: a form is not a flood gate
	maxCannedTitle    = 100
	offlineMessageMax = conversation.MaxTextRunes
)

// fieldZH names a field of required in Chinese, for its messages.
func fieldZH(field string) string {
	if zh, ok := map[string]string{"contact": "联系方式", "message": "留言内容", "text": "内容", "title": "标题"}[field]; ok {
		return zh
	}
	return field
}

func required(field, s string, maxRunes int) (string, error) {
	if !utf8.ValidString(s) {
		return "", errcode.Errorf(errcode.Invalid, "%s is not valid UTF-8", field)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errcode.Localized(errcode.Invalid, "%[1]s is required", "请填写%[2]s", field, fieldZH(field))
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return "", errcode.Localized(errcode.TooLarge, "%[1]s exceeds %[3]d characters (got %[4]d)", "%[2]s超过 %[3]d 个字（现有 %[4]d 个）", field, fieldZH(field), maxRunes, n)
	}
	return s, nil
}

// TicketsFull refuses an offline message in a conversation that has n
// waiting for an agent, the most it may have (maxOpenTickets).
func TicketsFull(n int) error {
	return errcode.Localized(errcode.Conflict, "this conversation already has %d messages waiting for an agent",
		"这个会话已有 %d 条留言在等待客服处理，请耐心等待回复", n)
}

// errConversationClosed refuses the offline form of a closed conversation.
var errConversationClosed = errcode.Localized(errcode.Conflict, "conversation is closed; start a new one",
	"会话已结束，请开始新会话")

// LeaveMessage turns a customer's offline form into a ticket and thanks
// them in the transcript. c must be authorised by the caller.
func (d *Desk) LeaveMessage(ctx context.Context, c *conversation.Conversation, contact, message string) (*Ticket, error) {
	// Not in a conversation that is over: the form was the one way left to
	// write into a closed transcript, and it opened a ticket for it.
	if c.State == conversation.StateClosed {
		return nil, errConversationClosed
	}
	contact, err := required("contact", contact, maxContact)
	if err != nil {
		return nil, err
	}
	message, err = required("message", message, offlineMessageMax)
	if err != nil {
		return nil, err
	}
	// Counted first so that a refused message seals nothing; counted again
	// as the ticket is stored, which holds against messages sent at once.
	if n, err := d.store.OpenTickets(ctx, c.ID); err != nil {
		return nil, err
	} else if n >= maxOpenTickets {
		return nil, TicketsFull(n)
	}
	t := &Ticket{ID: token.ID("t", 10), ConversationID: c.ID, Locale: c.Locale, Status: TicketOpen,
		CreatedAt: d.opts.Now().UTC()}
	// The contact is personal data by design: masked whole whatever its
	// form (a landline or a WeChat id is no less personal than a mobile
	// number), the original sealed for the agent who calls back (and
	// reveals it). The message is masked like the rest. The originals are
	// stored with the ticket, in its write: an acknowledged ticket must be
	// revealable, and while the database is away the two are journalled
	// together (the spool).
	contactSafe, contactRec, err := d.opts.Vault.SealWhole(c.ID, "ticket:"+t.ID+":contact", contact, t.CreatedAt)
	if err != nil {
		return nil, err
	}
	messageSafe, messageRec, err := d.opts.Vault.Seal(c.ID, "ticket:"+t.ID+":message", message, t.CreatedAt)
	if err != nil {
		return nil, err
	}
	t.Contact, t.Message = contactSafe.Text, messageSafe.Text
	for _, rec := range []*guard.VaultRecord{contactRec, messageRec} {
		if rec != nil {
			t.Originals = append(t.Originals, *rec)
		}
	}
	if err := d.store.AddTicket(ctx, t, maxOpenTickets); err != nil {
		return nil, err
	}
	// The ticket is durable; the thank-you line is a courtesy.
	if _, _, err := d.engine.Apply(ctx, c.ID, func(c *conversation.Conversation) ([]conversation.Message, error) {
		if c.State == conversation.StateClosed {
			return nil, errConversationClosed // closed meanwhile: nothing follows the close
		}
		return []conversation.Message{{Role: conversation.RoleBot, Outcome: conversation.OutcomeTicket,
			Intent: "offline.received", Text: phrase(phraseTicket, c.Locale)}}, nil
	}); err != nil {
		d.logger.Warn("thank for offline message", "conversation", c.ID, "error", err)
	}
	d.logger.Info("offline message", "conversation", c.ID, "ticket", t.ID)
	return t, nil
}

// ConversationTickets lists the offline messages left in c, which the
// caller has just read (Transcript), oldest first: the console shows them in
// the transcript, where the customer left them. The actor's right to read c
// is checked again here without reading it twice.
func (d *Desk) ConversationTickets(ctx context.Context, actor *auth.User, c *conversation.Conversation) ([]Ticket, error) {
	if err := need(actor, auth.DeskRead, "read conversations"); err != nil {
		return nil, err
	}
	if err := mayRead(actor, c); err != nil {
		return nil, err
	}
	return d.store.ConversationTickets(ctx, c.ID)
}

// Tickets lists offline messages by status.
//
// total is how many there are: the list holds at most TicketsListed (open
// ones oldest first), so that after a weekend nobody was online the
// console can say that more are waiting than it shows.
func (d *Desk) Tickets(ctx context.Context, actor *auth.User, status string) (_ []Ticket, total int, _ error) {
	if err := need(actor, auth.DeskRead, "read offline messages"); err != nil {
		return nil, 0, err
	}
	switch TicketStatus(status) {
	case TicketOpen, TicketResolved:
	case "":
		status = string(TicketOpen)
	default:
		return nil, 0, errcode.Errorf(errcode.Invalid, "status must be \"open\" or \"resolved\", not %q", status)
	}
	ts, err := d.store.Tickets(ctx, TicketStatus(status))
	if err != nil {
		return nil, 0, err
	}
	total = len(ts)
	if total >= TicketsListed {
		if total, err = d.store.CountTickets(ctx, TicketStatus(status)); err != nil {
			return nil, 0, err
		}
	}
	return ts, total, nil
}

// TicketsListed is how many tickets of a status a list holds at most.
const TicketsListed = 500

// ResolveTicket marks an offline message as handled.
func (d *Desk) ResolveTicket(ctx context.Context, actor *auth.User, id string) (*Ticket, error) {
	if err := need(actor, auth.TicketsWork, "resolve offline messages"); err != nil {
		return nil, err
	}
	tk, err := d.store.ResolveTicket(ctx, id, actor.ID, d.opts.Now().UTC())
	if err != nil {
		return nil, err
	}
	if d.pub != nil {
		// The other consoles showed it open until their next minute's
		// read, and their Messages count until the tab was opened.
		d.pub.PublishTickets()
	}
	return tk, nil
}

// CannedReplies lists canned replies in a locale ("" for all).
func (d *Desk) CannedReplies(ctx context.Context, actor *auth.User, locale string) ([]Canned, error) {
	if err := need(actor, auth.DeskRead, "read canned replies"); err != nil {
		return nil, err
	}
	if locale != "" && locale != "zh-CN" && locale != "en" {
		return nil, errcode.Errorf(errcode.Invalid, "locale must be \"zh-CN\" or \"en\", not %q", locale)
	}
	return d.store.CannedReplies(ctx, locale)
}

// AddCanned creates a canned reply.
func (d *Desk) AddCanned(ctx context.Context, actor *auth.User, locale, title, text string) (*Canned, error) {
	if err := need(actor, auth.CannedManage, "edit canned replies"); err != nil {
		return nil, err
	}
	if locale != "zh-CN" && locale != "en" {
		return nil, errcode.Errorf(errcode.Invalid, "locale must be \"zh-CN\" or \"en\", not %q", locale)
	}
	title, err := required("title", title, maxCannedTitle)
	if err != nil {
		return nil, err
	}
	text, err = required("text", text, MaxText)
	if err != nil {
		return nil, err
	}
	c := &Canned{ID: token.ID("r", 8), Locale: locale, Title: title, Text: text, CreatedBy: actor.ID, CreatedAt: d.opts.Now().UTC()}
	if err := d.store.AddCanned(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteCanned removes a canned reply.
func (d *Desk) DeleteCanned(ctx context.Context, actor *auth.User, id string) error {
	if err := need(actor, auth.CannedManage, "edit canned replies"); err != nil {
		return err
	}
	return d.store.DeleteCanned(ctx, id)
}

// DemoCanned are the canned replies seeded with the demo knowledge base.
func DemoCanned() []Canned {
	return []Canned{
		{Locale: "zh-CN", Title: "问候", Text: "您好，我是人工客服，很高兴为您服务。请问有什么可以帮您？"},
		{Locale: "zh-CN", Title: "稍等查询", Text: "好的，我这边帮您查询一下，请稍等一两分钟。"},
		{Locale: "zh-CN", Title: "要订单号", Text: "麻烦提供一下您的订单号，我帮您核实具体情况。"},
		{Locale: "zh-CN", Title: "结束语", Text: "请问还有其他可以帮您的吗？感谢您的耐心，祝您生活愉快！"},
		{Locale: "en", Title: "Greeting", Text: "Hi, I'm a member of the support team and happy to help. What can I do for you?"},
		{Locale: "en", Title: "Checking", Text: "Thanks, let me look into that for you — it'll take a minute or two."},
		{Locale: "en", Title: "Order number", Text: "Could you share your order number so I can check the details?"},
		{Locale: "en", Title: "Wrap-up", Text: "Is there anything else I can help with? Thanks for your patience, and have a great day!"},
	}
}

// SeedCanned stores canned replies if there are none yet.
func (d *Desk) SeedCanned(ctx context.Context, replies []Canned) error {
	have, err := d.store.CannedReplies(ctx, "")
	if err != nil || len(have) > 0 {
		return err
	}
	now := d.opts.Now().UTC()
	for i := range replies {
		c := replies[i]
		c.ID, c.CreatedAt = token.ID("r", 8), now
		if err := d.store.AddCanned(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}

// Reveal returns the original, unmasked text of ref in conversation id: a
// message id, "note:<id>", or "ticket:<id>:contact" / "ticket:<id>:message".
// Only people who handle the conversation may see it: its assignee or a
// supervisor, and for an offline message whoever works the tickets. The
// caller audits the reveal before showing it.
func (d *Desk) Reveal(ctx context.Context, actor *auth.User, id, ref string) (string, []string, error) {
	if err := need(actor, auth.PIIReveal, "reveal personal data"); err != nil {
		return "", nil, err
	}
	c, err := d.engine.Conversation(ctx, id)
	if err != nil {
		return "", nil, err
	}
	// Not mayWrite: that lets any agent act on a conversation nobody has
	// yet (queued, or still with the bot), and an original is for the
	// person who has the conversation, not for whoever asks first.
	if handles := actor.Can(auth.DeskSupervise) || c.Assignee != "" && c.Assignee == actor.ID; !handles {
		if !strings.HasPrefix(ref, "ticket:") || !actor.Can(auth.TicketsWork) {
			return "", nil, errcode.Localized(errcode.Forbidden, "only the agent who has this conversation (or a supervisor) may see its originals",
				"只有负责这个会话的客服（或主管）可以查看原文")
		}
	}
	if d.opts.Vault == nil {
		return "", nil, errcode.Localized(errcode.NotFound, "no original is kept for %s", "%s 没有保存原文", ref)
	}
	text, rec, err := d.opts.Vault.Reveal(ctx, id, ref)
	if errors.Is(err, guard.ErrErased) {
		return "", nil, errcode.Localized(errcode.NotFound, "no original is kept for %s: nothing was masked, or the retention period erased it",
			"%s 没有保存原文：没有内容被遮盖，或已超过保留期被删除", ref)
	}
	if err != nil {
		return "", nil, err
	}
	return text, rec.Kinds, nil
}
