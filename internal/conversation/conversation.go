// Package conversation owns a customer's conversation with Steward: its states,
// its messages, and the engine that decides what the bot says on each turn.
package conversation

import (
	"context"
	"time"

	"github.com/steward-cs/steward/internal/guard"
)

// State is where a conversation stands.
type State string

// The states of a conversation. A conversation starts with the bot, is queued
// for a human on handoff, assigned when an agent takes it, and closed at the end.
const (
	StateBot      State = "bot"
	StateQueued   State = "queued"
	StateAssigned State = "assigned"
	StateClosed   State = "closed"
)

// Role says who wrote a message.
type Role string

// The roles of a message's author.
const (
	RoleCustomer Role = "customer"
	RoleBot      Role = "bot"
	RoleAgent    Role = "agent"
	RoleSystem   Role = "system"
)

// Outcome is what a bot turn did.
type Outcome string

// The outcomes of a bot turn.
const (
	OutcomeAnswer   Outcome = "answer"   // answered from a knowledge-base entry (or polite small talk)
	OutcomeClarify  Outcome = "clarify"  // offered two or three close candidates as choices
	OutcomeFallback Outcome = "fallback" // not understood; said so and offered a human
	OutcomeHandoff  Outcome = "handoff"  // handed to the human queue
	// OutcomeOffline: a handoff with nobody to take it (no agent online, or
	// outside opening hours); the customer is offered the offline form.
	OutcomeOffline Outcome = "offline"
	// OutcomeJoined and OutcomeClosed mark the desk's system messages: an
	// agent took the conversation; it was closed.
	OutcomeJoined Outcome = "joined"
	OutcomeClosed Outcome = "closed"
	// OutcomeTicket is the bot's thanks for an offline message: not an
	// answer to rate or flag, nor one the bot's answer counts include.
	OutcomeTicket Outcome = "ticket"
	// OutcomeRequeued marks the desk's message that a conversation went
	// back to the queue: its agent left (signed out, went offline, or their
	// console was not heard from).
	OutcomeRequeued Outcome = "requeued"
	// OutcomeRatingRequest is a closing message that asks for a rating.
	OutcomeRatingRequest Outcome = "rating_request"
	// OutcomeRefused: the input firewall recognised a prompt-injection,
	// jailbreak or harmful request and the bot declined it.
	OutcomeRefused Outcome = "refused"
)

// HandoffReason says why the bot handed a conversation to a human.
type HandoffReason string

// The reasons for a handoff.
const (
	HandoffRequest    HandoffReason = "request"    // the customer asked for a human
	HandoffUnresolved HandoffReason = "unresolved" // the second consecutive turn the bot could not answer
	HandoffEmotion    HandoffReason = "emotion"    // strong anger
)

// Customer is what the embedding site tells us about the person chatting.
type Customer struct {
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name,omitempty"`
	VIP        bool   `json:"vip"`
}

// Conversation is one customer's conversation, without its messages.
type Conversation struct {
	ID            string
	TokenHash     []byte // SHA-256 of the customer's bearer token; the token itself is never stored
	State         State
	Locale        string
	Customer      Customer
	Unresolved    int   // consecutive bot turns that did not resolve the customer's question
	LastSeq       int64 // seq of the newest message
	HandoffReason HandoffReason
	// Category is the knowledge-base category the conversation is about,
	// as far as the bot could tell: the desk routes on it.
	Category   string
	Priority   int    // higher is served first; VIP and anger raise it
	Assignee   string // the user id of the agent who has it
	QueuedAt   time.Time
	AssignedAt time.Time
	ClosedAt   time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Source is where the conversation came from ("web" by default): floods
	// are detected and throttled per source.
	Source string
}

// Author is the person who wrote an agent's message.
type Author struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EntryRef names the knowledge-base entry an answer came from.
type EntryRef struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Title    string `json:"title"`
}

// Choice is one candidate offered by a clarify turn.
type Choice struct {
	EntryID string `json:"entry_id"`
	Title   string `json:"title"`
}

// Message is one message of a conversation. Seq orders a conversation's
// messages without gaps, starting at 1.
type Message struct {
	ID             string
	ConversationID string
	Seq            int64
	Role           Role
	Text           string
	Outcome        Outcome // bot messages of a turn only
	Confidence     float64
	Entry          *EntryRef
	Choices        []Choice
	Intent         string  // the intent the NLU chose, for reports
	Author         *Author // agent messages only
	Locale         string
	CreatedAt      time.Time
	// PII lists the kinds of personal data masked in Text (guard.Kind
	// names): the desk offers to reveal the original.
	PII []string
	// Sealed is the unmasked text, encrypted. It is set on the way in only:
	// the store keeps it in the vault and never loads it with a transcript.
	Sealed *guard.Sealed
	// ClientID is the client's key of a customer message (Input.ClientID).
	ClientID string
}

// Turn is everything one customer message changes, written in one transaction:
// the conversation's new state and the new messages (the customer's first).
type Turn struct {
	Conversation *Conversation
	Messages     []Message
	// AssigneeLimit, when above 0 and the turn leaves the conversation
	// assigned, is how many conversations its assignee may have: the store
	// refuses the turn with ErrAssigneeFull if the assignee already has
	// that many others assigned, counted in the turn's own transaction, so
	// that claims and routing on any node cannot pass an agent's limit.
	AssigneeLimit int
}

// Store keeps conversations durably. Implementations must write a Turn
// atomically: all of it or none of it.
type Store interface {
	CreateConversation(ctx context.Context, c *Conversation, greeting []Message) error
	Conversation(ctx context.Context, id string) (*Conversation, error)
	Messages(ctx context.Context, conversationID string, afterSeq int64) ([]Message, error)
	SaveTurn(ctx context.Context, t Turn) error
}
