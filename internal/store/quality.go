package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/quality"
)

var _ quality.Store = (*DB)(nil)

// AddRating stores a rating; a conversation's second rating is a conflict.
func (db *DB) AddRating(ctx context.Context, r *quality.Rating) error {
	tags, _ := json.Marshal(r.Tags)
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO ratings (conversation_id, score, tags, comment, assignee, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.ConversationID, r.Score, string(tags), r.Comment, r.Assignee, millis(r.CreatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return errcode.Errorf(errcode.Conflict, "this conversation has already been rated")
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
