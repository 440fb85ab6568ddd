package spool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
)

// TicketStore is what the spool needs of the desk's store to keep offline
// messages (tickets) through an outage: the offline form is what a
// degraded posture offers the customers it cannot serve, the database's
// own outage included, and it was a 503 for that outage's length.
type TicketStore interface {
	AddTicket(ctx context.Context, t *desk.Ticket, maxOpen int) error
	OpenTickets(ctx context.Context, conversationID string) (int, error)
	ConversationTickets(ctx context.Context, conversationID string) ([]desk.Ticket, error)
}

// errNoTicketStore is the error for a ticket when Options.Tickets is unset.
var errNoTicketStore = errors.New("spool: no ticket store configured")

// ticketJSON is a desk.Ticket as the journal spells it, with its sealed
// originals (ciphertext only).
type ticketJSON struct {
	ID             string      `json:"id"`
	ConversationID string      `json:"conversation_id"`
	Contact        string      `json:"contact"`
	Message        string      `json:"message"`
	Locale         string      `json:"locale"`
	CreatedAt      time.Time   `json:"created_at"`
	Originals      []vaultJSON `json:"originals,omitempty"`
}

type vaultJSON struct {
	Ref       string       `json:"ref"`
	Kinds     []string     `json:"kinds,omitempty"`
	Sealed    guard.Sealed `json:"sealed"`
	CreatedAt time.Time    `json:"created_at"`
}

func ticketToJSON(t *desk.Ticket) *ticketJSON {
	out := &ticketJSON{ID: t.ID, ConversationID: t.ConversationID, Contact: t.Contact, Message: t.Message,
		Locale: t.Locale, CreatedAt: t.CreatedAt}
	for _, r := range t.Originals {
		out.Originals = append(out.Originals, vaultJSON{Ref: r.Ref, Kinds: slices.Clone(r.Kinds),
			Sealed: *cloneSealed(&r.Sealed), CreatedAt: r.CreatedAt})
	}
	return out
}

func (t *ticketJSON) ticket() *desk.Ticket {
	out := &desk.Ticket{ID: t.ID, ConversationID: t.ConversationID, Contact: t.Contact, Message: t.Message,
		Locale: t.Locale, Status: desk.TicketOpen, CreatedAt: t.CreatedAt}
	for _, r := range t.Originals {
		out.Originals = append(out.Originals, guard.VaultRecord{Ref: r.Ref, ConversationID: t.ConversationID,
			Kinds: slices.Clone(r.Kinds), Sealed: *cloneSealed(&r.Sealed), CreatedAt: r.CreatedAt})
	}
	return out
}

// AddTicket stores an offline message and its sealed originals, in the
// journal if the store cannot take them or the conversation has writes
// there (a conversation begun during the outage is in the store only once
// they are replayed, and its ticket must follow them). maxOpen is
// counted by the store when it takes the ticket; a journalled ticket was
// counted by OpenTickets, and is replayed whatever the count by then: the
// customer was told it was received.
func (s *Store) AddTicket(ctx context.Context, t *desk.Ticket, maxOpen int) error {
	if s.opts.Tickets == nil {
		return errNoTicketStore
	}
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return err
	}
	if s.reserveIfBehind(t.ConversationID) {
		return s.spoolTicket(t, ErrBehind)
	}
	err := s.innerWrite(ctx, func(ctx context.Context) error { return s.opts.Tickets.AddTicket(ctx, t, maxOpen) })
	// A conversation the store does not hold, with nothing of it here,
	// is in another node's journal: journalled here, the ticket would be
	// replayed before it and set aside. The customer tries again.
	if err == nil || !storeFault(err) || errors.Is(err, conversation.ErrNotStoredYet) ||
		errors.Is(ctx.Err(), context.Canceled) {
		if err == nil {
			s.wrote(opTicket, true)
		}
		return err
	}
	s.reserve(t.ConversationID)
	return s.spoolTicket(t, err)
}

// OpenTickets counts a conversation's open tickets: the store's, or none
// when it cannot count them (it is down), and those in the journal.
func (s *Store) OpenTickets(ctx context.Context, conversationID string) (int, error) {
	if s.opts.Tickets == nil {
		return 0, errNoTicketStore
	}
	n, err := s.opts.Tickets.OpenTickets(ctx, conversationID)
	if err != nil {
		if !storeFault(err) {
			return 0, err
		}
		n = 0
	}
	for _, r := range s.spooled(conversationID) {
		if r.Op == opTicket {
			n++
		}
	}
	return n, nil
}

func (s *Store) spoolTicket(t *desk.Ticket, cause error) error {
	return s.appendRecord(&record{V: journalVersion, Op: opTicket, Seq: s.seq.Add(1), ConversationID: t.ConversationID,
		At: time.Now().UTC(), Ticket: ticketToJSON(t)}, cause)
}

// applyTicket brings a journalled ticket into the store unless it is there
// already; false with a nil error means it was set aside as rejected.
func (s *Store) applyTicket(ctx context.Context, rec *record) (bool, error) {
	if s.opts.Tickets == nil {
		return false, errNoTicketStore
	}
	if _, err := s.inner.Conversation(ctx, rec.ConversationID); err != nil {
		if errcode.Is(err, errcode.NotFound) {
			return false, s.reject(rec, "conversation is not in the store")
		}
		return false, err
	}
	stored, err := s.opts.Tickets.ConversationTickets(ctx, rec.ConversationID)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(stored, func(t desk.Ticket) bool { return t.ID == rec.Ticket.ID }) {
		return true, nil // landed before a crash, or after its caller stopped waiting
	}
	err = s.innerWrite(ctx, func(ctx context.Context) error {
		return s.opts.Tickets.AddTicket(ctx, rec.Ticket.ticket(), 0)
	})
	switch {
	case err == nil:
		if s.opts.OnTicketLanded != nil {
			s.opts.OnTicketLanded(rec.ConversationID)
		}
		return true, nil
	case storeFault(err) || errcode.Is(err, errcode.Conflict):
		return false, err // next round looks again
	default:
		return false, s.reject(rec, fmt.Sprintf("the store refused the ticket: %v", err))
	}
}
