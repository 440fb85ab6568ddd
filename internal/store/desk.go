package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/desk"
	"github.com/steward-cs/steward/internal/errcode"
)

var _ desk.Store = (*DB)(nil)

// stored returns conversation.ErrNotStoredYet unless conversation id is in the store;
// share also locks its row against writers until the commit (PostgreSQL).
func stored(ctx context.Context, t tx, id string, share bool) error {
	q := `SELECT 1 FROM conversations WHERE id = $1`
	if share {
		q += ` FOR SHARE`
	}
	var one int
	err := t.queryRow(ctx, q, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return conversation.ErrNotStoredYet
	}
	return err
}

// AddNote stores an internal note.
func (db *DB) AddNote(ctx context.Context, n *desk.Note) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		if err := stored(ctx, t, n.ConversationID, false); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO notes (id, conversation_id, author_id, author_name, text, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, n.ID, n.ConversationID, n.AuthorID, n.AuthorName, n.Text, millis(n.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("add note to %s: %w", n.ConversationID, err)
	}
	return nil
}

// Notes returns a conversation's notes, oldest first.
func (db *DB) Notes(ctx context.Context, conversationID string) ([]desk.Note, error) {
	rows, err := db.queryContext(ctx, `SELECT id, author_id, author_name, text, created_at FROM notes
		WHERE conversation_id = $1 ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list notes of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := []desk.Note{}
	for rows.Next() {
		n := desk.Note{ConversationID: conversationID}
		var crt int64
		if err := rows.Scan(&n.ID, &n.AuthorID, &n.AuthorName, &n.Text, &crt); err != nil {
			return nil, fmt.Errorf("list notes of %s: %w", conversationID, err)
		}
		n.CreatedAt = fromMillis(crt)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list notes of %s: %w", conversationID, err)
	}
	return out, nil
}

// CannedReplies lists canned replies of a locale ("" for every locale).
func (db *DB) CannedReplies(ctx context.Context, locale string) ([]desk.Canned, error) {
	rows, err := db.queryContext(ctx, `SELECT id, locale, title, text, created_by, created_at FROM canned_replies
		WHERE $1 = '' OR locale = $1 ORDER BY locale, created_at, id`, locale)
	if err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	defer rows.Close()
	out := []desk.Canned{}
	for rows.Next() {
		var (
			c   desk.Canned
			crt int64
		)
		if err := rows.Scan(&c.ID, &c.Locale, &c.Title, &c.Text, &c.CreatedBy, &crt); err != nil {
			return nil, fmt.Errorf("list canned replies: %w", err)
		}
		c.CreatedAt = fromMillis(crt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	return out, nil
}

// AddCanned stores a canned reply.
func (db *DB) AddCanned(ctx context.Context, c *desk.Canned) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO canned_replies (id, locale, title, text, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.Locale, c.Title, c.Text, c.CreatedBy, millis(c.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("add canned reply: %w", err)
	}
	return nil
}

// DeleteCanned removes a canned reply.
func (db *DB) DeleteCanned(ctx context.Context, id string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `DELETE FROM canned_replies WHERE id = $1`, id)
		if err != nil {
			return err
		}
		return oneRow(res, "canned reply", id)
	})
	if err != nil {
		return fmt.Errorf("delete canned reply %s: %w", id, err)
	}
	return nil
}

// AddTicket stores an offline message and its sealed originals, unless its
// conversation has maxOpen (> 0) open ones already (desk.ErrTicketsFull), counted in the same
// transaction: on PostgreSQL a transaction advisory lock on the
// conversation makes concurrent offline messages of it, from any node, take
// turns; on SQLite the one writer does.
func (db *DB) AddTicket(ctx context.Context, tk *desk.Ticket, maxOpen int) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		if db.d.name() == "postgres" {
			if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceTickets, lockKey(tk.ConversationID)); err != nil {
				return err
			}
		}
		if err := stored(ctx, t, tk.ConversationID, false); err != nil {
			return err
		}
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM tickets WHERE conversation_id = $1 AND status = 'open'`,
			tk.ConversationID).Scan(&n); err != nil {
			return err
		}
		if maxOpen > 0 && n >= maxOpen {
			return desk.TicketsFull(n)
		}
		if _, err := t.exec(ctx, `INSERT INTO tickets (id, conversation_id, contact, message, locale, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, tk.ID, tk.ConversationID, tk.Contact, tk.Message, tk.Locale,
			string(tk.Status), millis(tk.CreatedAt)); err != nil {
			return err
		}
		for _, r := range tk.Originals {
			if err := putVault(ctx, t, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add ticket for %s: %w", tk.ConversationID, err)
	}
	return nil
}

const ticketColumns = `id, conversation_id, contact, message, locale, status, resolved_by, resolved_at, created_at`

func scanTicket(row rowScanner) (*desk.Ticket, error) {
	var (
		tk            desk.Ticket
		status        string
		resolved, crt int64
	)
	if err := row.Scan(&tk.ID, &tk.ConversationID, &tk.Contact, &tk.Message, &tk.Locale, &status, &tk.ResolvedBy,
		&resolved, &crt); err != nil {
		return nil, err
	}
	tk.Status, tk.ResolvedAt, tk.CreatedAt = desk.TicketStatus(status), optTime(resolved), fromMillis(crt)
	return &tk, nil
}

// CountTickets counts the tickets of a status.
func (db *DB) CountTickets(ctx context.Context, status desk.TicketStatus) (int, error) {
	var n int
	if err := db.queryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE status = $1`, string(status)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tickets: %w", err)
	}
	return n, nil
}

// Tickets lists tickets of a status, at most desk.TicketsListed: open ones oldest first (a
// to-do list), resolved ones most recently resolved first (with the oldest
// first, past 500 the newly resolved never showed).
func (db *DB) Tickets(ctx context.Context, status desk.TicketStatus) ([]desk.Ticket, error) {
	order := "created_at, id"
	if status == desk.TicketResolved {
		order = "resolved_at DESC, id DESC"
	}
	rows, err := db.queryContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE status = $1 ORDER BY `+order+` LIMIT $2`,
		string(status), desk.TicketsListed)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	out := []desk.Ticket{}
	for rows.Next() {
		tk, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		out = append(out, *tk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

// ConversationTickets lists a conversation's tickets, oldest first.
func (db *DB) ConversationTickets(ctx context.Context, conversationID string) ([]desk.Ticket, error) {
	rows, err := db.queryContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE conversation_id = $1
		ORDER BY created_at, id LIMIT 100`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list tickets of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := []desk.Ticket{}
	for rows.Next() {
		tk, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("list tickets of %s: %w", conversationID, err)
		}
		out = append(out, *tk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets of %s: %w", conversationID, err)
	}
	return out, nil
}

// OpenTickets counts a conversation's open tickets.
func (db *DB) OpenTickets(ctx context.Context, conversationID string) (int, error) {
	var n int
	if err := db.queryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE conversation_id = $1 AND status = 'open'`,
		conversationID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tickets of %s: %w", conversationID, err)
	}
	return n, nil
}

// ResolveTicket marks a ticket resolved; resolving it again is a conflict.
func (db *DB) ResolveTicket(ctx context.Context, id, by string, at time.Time) (*desk.Ticket, error) {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `UPDATE tickets SET status = 'resolved', resolved_by = $2, resolved_at = $3
			WHERE id = $1 AND status = 'open'`, id, by, millis(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var status string
		err = t.sqlTx.QueryRowContext(ctx, t.d.rebind(`SELECT status FROM tickets WHERE id = $1`), id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return errcode.Localized(errcode.NotFound, "ticket %s not found", "找不到留言 %s", id)
		}
		if err != nil {
			return err
		}
		return errcode.Localized(errcode.Conflict, "ticket %s is already resolved", "留言 %s 已处理", id)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve ticket %s: %w", id, err)
	}
	tk, err := scanTicket(db.queryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return tk, nil
}
