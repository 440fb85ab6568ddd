package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
)

var _ conversation.Store = (*DB)(nil)

// messageMeta is the part of a message kept as JSON: fields only some
// messages have.
type messageMeta struct {
	Entry   *conversation.EntryRef `json:"entry,omitempty"`
	Choices []conversation.Choice  `json:"choices,omitempty"`
	Author  *conversation.Author   `json:"author,omitempty"`
	PII     []string               `json:"pii,omitempty"`
	// ClientID is a customer message's client key (a retry finds it).
	ClientID string `json:"client_id,omitempty"`
}

// CreateConversation stores a new conversation with its greeting messages.
func (db *DB) CreateConversation(ctx context.Context, c *conversation.Conversation, greeting []conversation.Message) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO conversations
			(id, token_hash, state, locale, customer_external_id, customer_name, vip, unresolved, last_seq, handoff_reason, created_at, updated_at, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			c.ID, c.TokenHash, string(c.State), c.Locale, c.Customer.ExternalID, c.Customer.Name, c.Customer.VIP,
			c.Unresolved, c.LastSeq, string(c.HandoffReason), millis(c.CreatedAt), millis(c.UpdatedAt), c.Source)
		if err != nil {
			return err
		}
		return insertMessages(ctx, t, greeting)
	})
	if err != nil {
		return fmt.Errorf("create conversation %s: %w", c.ID, err)
	}
	return nil
}

// SaveTurn writes a turn's messages and the conversation's new state in one
// transaction. It fails with a conflict if the conversation's last_seq moved
// since the caller read it, so no two writers can interleave a conversation.
func (db *DB) SaveTurn(ctx context.Context, turn conversation.Turn) error {
	c := turn.Conversation
	prevSeq := c.LastSeq - int64(len(turn.Messages))
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		if turn.AssigneeLimit > 0 && c.State == conversation.StateAssigned && c.Assignee != "" {
			if err := db.withinLimit(ctx, t, c.ID, c.Assignee, turn.AssigneeLimit); err != nil {
				return err
			}
		}
		res, err := t.exec(ctx, `UPDATE conversations
			SET state = $1, locale = $2, unresolved = $3, last_seq = $4, handoff_reason = $5, updated_at = $6,
				category = $9, priority = $10, assignee = $11, queued_at = $12, assigned_at = $13, closed_at = $14
			WHERE id = $7 AND last_seq = $8`,
			string(c.State), c.Locale, c.Unresolved, c.LastSeq, string(c.HandoffReason), millis(c.UpdatedAt), c.ID, prevSeq,
			c.Category, c.Priority, c.Assignee, optMillis(c.QueuedAt), optMillis(c.AssignedAt), optMillis(c.ClosedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errcode.Errorf(errcode.Conflict, "conversation %s changed concurrently", c.ID)
		}
		return insertMessages(ctx, t, turn.Messages)
	})
	if err != nil {
		return fmt.Errorf("save turn of conversation %s: %w", c.ID, err)
	}
	return nil
}

// withinLimit refuses with conversation.ErrAssigneeFull when agent already
// has limit conversations other than id assigned. On PostgreSQL a
// transaction advisory lock on the agent, held until the commit, makes the
// assignments to one agent from every node take turns, and each counts
// what its predecessors committed (read committed: a statement sees what
// committed before it began). On SQLite the one writer already takes them
// in turn.
func (db *DB) withinLimit(ctx context.Context, t tx, id, agent string, limit int) error {
	if db.d.name() == "postgres" {
		if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceAgent, lockKey(agent)); err != nil {
			return err
		}
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM conversations WHERE assignee = $1 AND state = $2 AND id <> $3`,
		agent, string(conversation.StateAssigned), id).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("%s has %d conversations, the limit %d: %w", agent, n, limit, conversation.ErrAssigneeFull)
	}
	return nil
}

func insertMessages(ctx context.Context, t tx, msgs []conversation.Message) error {
	for _, m := range msgs {
		meta, err := json.Marshal(messageMeta{Entry: m.Entry, Choices: m.Choices, Author: m.Author, PII: m.PII, ClientID: m.ClientID})
		if err != nil {
			return err
		}
		entryID := ""
		if m.Entry != nil {
			entryID = m.Entry.ID
		}
		if _, err := t.exec(ctx, `INSERT INTO messages
			(id, conversation_id, seq, role, text, outcome, confidence, entry_id, intent, locale, meta, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			m.ID, m.ConversationID, m.Seq, string(m.Role), m.Text, string(m.Outcome), m.Confidence, entryID,
			m.Intent, m.Locale, string(meta), millis(m.CreatedAt)); err != nil {
			return fmt.Errorf("insert message %d: %w", m.Seq, err)
		}
		if m.Sealed != nil {
			if err := putVault(ctx, t, guard.VaultRecord{Ref: m.ID, ConversationID: m.ConversationID, Kinds: m.PII,
				Sealed: *m.Sealed, CreatedAt: m.CreatedAt}); err != nil {
				return fmt.Errorf("insert message %d: %w", m.Seq, err)
			}
		}
	}
	return nil
}

const conversationColumns = `id, token_hash, state, locale, customer_external_id, customer_name, vip,
	unresolved, last_seq, handoff_reason, category, priority, assignee, queued_at, assigned_at, closed_at,
	created_at, updated_at, source`

func scanConversation(row rowScanner) (*conversation.Conversation, error) {
	var (
		c                                  conversation.Conversation
		state, reason                      string
		queued, assigned, closed, crt, upd int64
	)
	if err := row.Scan(&c.ID, &c.TokenHash, &state, &c.Locale, &c.Customer.ExternalID, &c.Customer.Name, &c.Customer.VIP,
		&c.Unresolved, &c.LastSeq, &reason, &c.Category, &c.Priority, &c.Assignee, &queued, &assigned, &closed,
		&crt, &upd, &c.Source); err != nil {
		return nil, err
	}
	c.State, c.HandoffReason = conversation.State(state), conversation.HandoffReason(reason)
	c.QueuedAt, c.AssignedAt, c.ClosedAt = optTime(queued), optTime(assigned), optTime(closed)
	c.CreatedAt, c.UpdatedAt = fromMillis(crt), fromMillis(upd)
	return &c, nil
}

// optMillis stores the zero time as 0.
func optMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return millis(t)
}

func optTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// Conversation returns the conversation with the given id, or a not_found error.
func (db *DB) Conversation(ctx context.Context, id string) (*conversation.Conversation, error) {
	c, err := scanConversation(db.queryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "conversation %s not found", "找不到会话 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get conversation %s: %w", id, err)
	}
	return c, nil
}

// ClosedConversations returns at most limit closed conversations, the most
// recently closed first: those assigned to assignee when it was closed, or
// every one when assignee is "".
func (db *DB) ClosedConversations(ctx context.Context, assignee string, limit int) ([]conversation.Conversation, error) {
	// The state is written out, not bound: only then can the planners use
	// the partial index conversations_closed (migration 0008).
	q := `SELECT ` + conversationColumns + ` FROM conversations WHERE state = 'closed'`
	var args []any
	if assignee != "" {
		q += ` AND assignee = $1`
		args = append(args, assignee)
	}
	q += fmt.Sprintf(` ORDER BY closed_at DESC, id DESC LIMIT %d`, max(limit, 1))
	out, err := db.conversations(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list closed conversations: %w", err)
	}
	return out, nil
}

// conversations runs a query of conversationColumns and scans every row.
func (db *DB) conversations(ctx context.Context, q string, args ...any) ([]conversation.Conversation, error) {
	rows, err := db.queryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []conversation.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// ConversationsIn returns the conversations in the given states (queued and
// assigned ones, for the desk), highest priority first, then longest waiting.
func (db *DB) ConversationsIn(ctx context.Context, states ...conversation.State) ([]conversation.Conversation, error) {
	if len(states) == 0 {
		return nil, nil
	}
	q := `SELECT ` + conversationColumns + ` FROM conversations WHERE state IN (`
	args := make([]any, len(states))
	for i, st := range states {
		if i > 0 {
			q += ", "
		}
		q += fmt.Sprintf("$%d", i+1)
		args[i] = string(st)
	}
	q += `) ORDER BY priority DESC, queued_at, created_at, id`
	out, err := db.conversations(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return out, nil
}

// Messages returns a conversation's messages with seq > afterSeq, in order.
func (db *DB) Messages(ctx context.Context, conversationID string, afterSeq int64) ([]conversation.Message, error) {
	rows, err := db.queryContext(ctx, `SELECT id, seq, role, text, outcome, confidence, intent, locale, meta, created_at
		FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq`, conversationID, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", conversationID, err)
	}
	defer rows.Close()
	var msgs []conversation.Message
	for rows.Next() {
		var (
			m             conversation.Message
			role, outcome string
			meta          string
			created       int64
		)
		if err := rows.Scan(&m.ID, &m.Seq, &role, &m.Text, &outcome, &m.Confidence, &m.Intent, &m.Locale, &meta, &created); err != nil {
			return nil, fmt.Errorf("scan message of %s: %w", conversationID, err)
		}
		var mm messageMeta
		if err := json.Unmarshal([]byte(meta), &mm); err != nil {
			return nil, fmt.Errorf("decode meta of message %s: %w", m.ID, err)
		}
		m.ConversationID, m.Role, m.Outcome = conversationID, conversation.Role(role), conversation.Outcome(outcome)
		m.Entry, m.Choices, m.Author, m.CreatedAt = mm.Entry, mm.Choices, mm.Author, fromMillis(created)
		m.PII, m.ClientID = mm.PII, mm.ClientID
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", conversationID, err)
	}
	return msgs, nil
}
