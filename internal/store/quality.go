package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
)

var _ quality.Store = (*DB)(nil)

// AddRating stores a rating; a conversation's second rating is a conflict.
func (db *DB) AddRating(ctx context.Context, r *quality.Rating) error {
	tags, _ := json.Marshal(r.Tags)
	assigned := errors.New("assigned")
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		// Not while an agent has the conversation, checked as it is
		// stored: an assignment after the caller read the conversation
		// let a rating in that fell on the service still under way. On
		// PostgreSQL the conversation's row is locked first: NOT EXISTS
		// alone reads a snapshot, and an assignment another node was
		// committing was not waited for.
		if err := stored(ctx, t, r.ConversationID, db.d.name() == "postgres"); err != nil {
			return err
		}
		res, err := t.exec(ctx, `INSERT INTO ratings (conversation_id, score, tags, comment, assignee, created_at)
			SELECT $1, $2, $3, $4, $5, $6
			WHERE NOT EXISTS (SELECT 1 FROM conversations WHERE id = $1 AND state = 'assigned')`,
			r.ConversationID, r.Score, string(tags), r.Comment, r.Assignee, millis(r.CreatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return assigned
		}
		return err
	})
	if errors.Is(err, assigned) {
		return quality.ErrRateWhileAssigned
	}
	if isUniqueViolation(err) {
		return errcode.Localized(errcode.Conflict, "this conversation has already been rated", "这个会话已经评价过了")
	}
	if err != nil {
		return fmt.Errorf("add rating to %s: %w", r.ConversationID, err)
	}
	return nil
}

// Rating returns a conversation's rating.
func (db *DB) Rating(ctx context.Context, conversationID string) (*quality.Rating, error) {
	var (
		r    = quality.Rating{ConversationID: conversationID}
		tags string
		crt  int64
	)
	err := db.queryRowContext(ctx, `SELECT score, tags, comment, assignee, created_at FROM ratings WHERE conversation_id = $1`,
		conversationID).Scan(&r.Score, &tags, &r.Comment, &r.Assignee, &crt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Errorf(errcode.NotFound, "conversation %s has no rating", conversationID)
	}
	if err != nil {
		return nil, fmt.Errorf("get rating of %s: %w", conversationID, err)
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, fmt.Errorf("decode rating tags of %s: %w", conversationID, err)
	}
	r.CreatedAt = fromMillis(crt)
	return &r, nil
}

var _ quality.FlagStore = (*DB)(nil)

const flagColumns = `id, conversation_id, message_id, entry_id, outcome, question, answer, locale, reason, source,
	flagged_by, status, fix_entry, fix_version, release_id, handled_by, note, created_at, updated_at`

func scanFlag(sc interface{ Scan(...any) error }) (*quality.Flag, error) {
	var (
		f                quality.Flag
		created, updated int64
	)
	if err := sc.Scan(&f.ID, &f.ConversationID, &f.MessageID, &f.EntryID, &f.Outcome, &f.Question, &f.Answer, &f.Locale,
		&f.Reason, &f.Source, &f.FlaggedBy, &f.Status, &f.FixEntry, &f.FixVersion, &f.ReleaseID, &f.HandledBy, &f.Note,
		&created, &updated); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &f, nil
}

// AddFlag stores a flag; a message's second flag from one source is a conflict.
func (db *DB) AddFlag(ctx context.Context, f *quality.Flag) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO kb_flags (`+flagColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			f.ID, f.ConversationID, f.MessageID, f.EntryID, f.Outcome, f.Question, f.Answer, f.Locale, f.Reason, f.Source,
			f.FlaggedBy, string(f.Status), f.FixEntry, f.FixVersion, f.ReleaseID, f.HandledBy, f.Note,
			millis(f.CreatedAt), millis(f.UpdatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return errcode.Localized(errcode.Conflict, "this answer has already been flagged", "这条回答已经被标记过了")
	}
	if err != nil {
		return fmt.Errorf("add flag on %s: %w", f.MessageID, err)
	}
	return nil
}

// FlagByMessage returns a message's flag from a source.
func (db *DB) FlagByMessage(ctx context.Context, messageID, source string) (*quality.Flag, error) {
	f, err := scanFlag(db.queryRowContext(ctx, `SELECT `+flagColumns+` FROM kb_flags WHERE message_id = $1 AND source = $2`,
		messageID, source))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Errorf(errcode.NotFound, "message %s has no %s flag", messageID, source)
	}
	if err != nil {
		return nil, fmt.Errorf("get flag on %s: %w", messageID, err)
	}
	return f, nil
}

func (db *DB) flags(ctx context.Context, where string, args ...any) ([]quality.Flag, error) {
	rows, err := db.queryContext(ctx, `SELECT `+flagColumns+` FROM kb_flags WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list flags: %w", err)
	}
	defer rows.Close()
	var out []quality.Flag
	for rows.Next() {
		f, err := scanFlag(rows)
		if err != nil {
			return nil, fmt.Errorf("list flags: %w", err)
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// Flags returns the flags in the given statuses, newest first.
func (db *DB) Flags(ctx context.Context, statuses []quality.FlagStatus, limit int) ([]quality.Flag, error) {
	args := []any{}
	ph := make([]string, len(statuses))
	for i, s := range statuses {
		args = append(args, string(s))
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	args = append(args, limit)
	// id breaks ties, so that a list cut by its limit is the same list
	// each time it is read, and on both databases.
	return db.flags(ctx, `status IN (`+strings.Join(ph, ", ")+`) ORDER BY created_at DESC, id DESC LIMIT `+
		fmt.Sprintf("$%d", len(args)), args...)
}

// FixingFlags returns the flags waiting for their fix to be released.
func (db *DB) FixingFlags(ctx context.Context) ([]quality.Flag, error) {
	return db.flags(ctx, `status = 'fixing' ORDER BY created_at, id`)
}

// FixedFlags returns every resolved flag with a fix.
func (db *DB) FixedFlags(ctx context.Context) ([]quality.Flag, error) {
	return db.flags(ctx, `status = 'resolved' AND fix_entry <> '' ORDER BY created_at, id`)
}

// UpdateFlags applies u to the flags among ids that are in one of from.
func (db *DB) UpdateFlags(ctx context.Context, ids []string, from []quality.FlagStatus, u quality.FlagUpdate) (int, error) {
	var n int64
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		n = 0 // fn may run more than once: see update
		for _, id := range ids {
			setNote := 0
			if u.SetNote {
				setNote = 1
			}
			args := []any{id, string(u.Status), u.FixEntry, u.FixVersion, u.ReleaseID, u.HandledBy, u.Note, millis(u.At), setNote}
			ph := make([]string, len(from))
			for i, s := range from {
				args = append(args, string(s))
				ph[i] = fmt.Sprintf("$%d", len(args))
			}
			res, err := t.exec(ctx, `UPDATE kb_flags SET status = $2,
				fix_entry = CASE WHEN $3 = '' THEN fix_entry ELSE $3 END,
				fix_version = CASE WHEN $4 = 0 THEN fix_version ELSE $4 END,
				release_id = CASE WHEN $5 = 0 THEN release_id ELSE $5 END,
				handled_by = CASE WHEN $6 = '' THEN handled_by ELSE $6 END,
				note = CASE WHEN $7 = '' AND $9 = 0 THEN note ELSE $7 END, updated_at = $8
				WHERE id = $1 AND status IN (`+strings.Join(ph, ", ")+`)`, args...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("update %d flags: %w", len(ids), err)
	}
	return int(n), nil
}

// Unanswered returns the customer messages the bot could not answer since
// a time, newest first: those answered with a fallback, and those handed
// to a person (or offered the offline form) because the bot could not
// answer them again. A handoff for any other reason (the customer asked,
// anger, an incident) carries an intent "handoff.<reason>" and is not
// counted.
func (db *DB) Unanswered(ctx context.Context, since time.Time, limit int) ([]quality.Asked, error) {
	return db.asked(ctx, "unanswered questions", `b.outcome IN ('fallback', 'handoff', 'offline') AND b.intent NOT LIKE 'handoff.%'`, since, limit)
}

// AnsweredByModel returns the customer messages the language model
// answered (from the knowledge base's closest entries, since the intent
// model was unsure) since a time, newest first.
func (db *DB) AnsweredByModel(ctx context.Context, since time.Time, limit int) ([]quality.Asked, error) {
	return db.asked(ctx, "questions the model answered", `b.outcome = 'answer' AND b.intent = 'llm'`, since, limit)
}

// asked returns the customer messages whose bot reply b matches reply
// (SQL over b), with the reply made since a time, newest first.
func (db *DB) asked(ctx context.Context, what, reply string, since time.Time, limit int) ([]quality.Asked, error) {
	rows, err := db.queryContext(ctx, `SELECT c.text, c.locale, c.conversation_id, c.created_at
		FROM messages b JOIN messages c ON c.conversation_id = b.conversation_id AND c.seq = b.seq - 1
		WHERE `+reply+`
			AND b.created_at >= $1 AND c.role = 'customer'
		ORDER BY b.created_at DESC, b.conversation_id, b.seq DESC LIMIT $2`, millis(since), limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []quality.Asked
	for rows.Next() {
		var (
			a  quality.Asked
			at int64
		)
		if err := rows.Scan(&a.Text, &a.Locale, &a.ConversationID, &at); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		a.At = fromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ConversationStats counts, for each conversation started in [from, to),
// its customer messages and its bot and agent replies by outcome. The
// bot's small talk ("你好", "thanks") answers no question: it is left out
// of the bot's turns and answers.
func (db *DB) ConversationStats(ctx context.Context, from, to time.Time) ([]quality.ConversationStat, error) {
	rows, err := db.queryContext(ctx, `SELECT c.created_at,
			COALESCE(SUM(CASE WHEN m.role = 'customer' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.role = 'bot' AND m.outcome = 'answer' AND m.intent NOT LIKE 'builtin.smalltalk.%' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.role = 'bot' AND m.outcome IN ('answer', 'clarify', 'fallback', 'handoff', 'offline', 'notice', 'refused')
				AND NOT (m.outcome = 'answer' AND m.intent LIKE 'builtin.smalltalk.%') THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.role = 'bot' AND m.outcome = 'handoff' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.role = 'bot' AND m.outcome = 'offline' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.role = 'agent' THEN 1 ELSE 0 END), 0)
		FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
		WHERE c.created_at >= $1 AND c.created_at < $2
		GROUP BY c.id, c.created_at`, millis(from), millis(to))
	if err != nil {
		return nil, fmt.Errorf("conversation stats: %w", err)
	}
	defer rows.Close()
	var out []quality.ConversationStat
	for rows.Next() {
		var (
			s  quality.ConversationStat
			at int64
		)
		if err := rows.Scan(&at, &s.Asked, &s.Answered, &s.BotTurns, &s.Handoffs, &s.Offline, &s.AgentReplies); err != nil {
			return nil, fmt.Errorf("conversation stats: %w", err)
		}
		s.StartedAt = fromMillis(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// RatingScores returns the ratings given in [from, to): when, and how many stars.
func (db *DB) RatingScores(ctx context.Context, from, to time.Time) ([]quality.Score, error) {
	rows, err := db.queryContext(ctx, `SELECT created_at, score FROM ratings WHERE created_at >= $1 AND created_at < $2`,
		millis(from), millis(to))
	if err != nil {
		return nil, fmt.Errorf("rating scores: %w", err)
	}
	defer rows.Close()
	var out []quality.Score
	for rows.Next() {
		var (
			s  quality.Score
			at int64
		)
		if err := rows.Scan(&at, &s.Stars); err != nil {
			return nil, fmt.Errorf("rating scores: %w", err)
		}
		s.At = fromMillis(at)
		out = append(out, s)
	}
	return out, rows.Err()
}
