package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/errcode"
)

var _ auth.Store = (*DB)(nil)

const userColumns = `u.id, u.email, u.name, u.role, u.password_hash, u.disabled, u.skills, u.languages, u.max_chats,
	u.presence, u.presence_at, u.created_at, u.updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(row rowScanner, extra ...any) (*auth.User, error) {
	var (
		u                 auth.User
		role, presence    string
		skills, langs     string
		presAt, crt, updt int64
	)
	dest := append([]any{&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.Disabled, &skills, &langs, &u.MaxChats,
		&presence, &presAt, &crt, &updt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role, u.Presence = auth.Role(role), auth.Presence(presence)
	u.PresenceAt, u.CreatedAt, u.UpdatedAt = fromMillis(presAt), fromMillis(crt), fromMillis(updt)
	if err := json.Unmarshal([]byte(skills), &u.Skills); err != nil {
		return nil, fmt.Errorf("decode skills of user %s: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(langs), &u.Languages); err != nil {
		return nil, fmt.Errorf("decode languages of user %s: %w", u.ID, err)
	}
	return &u, nil
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// isUniqueViolation reports whether err is a unique-constraint failure in
// either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") ||
		strings.Contains(msg, "duplicate key value")
}

// CreateUser stores a new user; a taken email is a conflict.
func (db *DB) CreateUser(ctx context.Context, u *auth.User) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO users (id, email, name, role, password_hash, disabled, skills, languages,
				max_chats, presence, presence_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled, jsonList(u.Skills), jsonList(u.Languages),
			u.MaxChats, string(u.Presence), millis(u.PresenceAt), millis(u.CreatedAt), millis(u.UpdatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return errcode.Errorf(errcode.Conflict, "a user with email %s already exists", u.Email)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return nil
}

// ModifyUser implements auth.Store: it reads the user inside the write
// transaction (on PostgreSQL with its row locked, after the admins' lock),
// lets change modify it, and writes it back. Two changes on two nodes take
// turns and each starts from what the other wrote: written whole from
// copies read before, a role change undid another node's disable.
func (db *DB) ModifyUser(ctx context.Context, id string, change func(u *auth.User) (keepAdmin bool, err error)) (*auth.User, error) {
	var out *auth.User
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		out = nil // fn may run more than once: see update
		q := `SELECT ` + userColumns + ` FROM users u WHERE u.id = $1`
		if db.d.name() == "postgres" {
			// Every change to a user takes the admins' lock first, so that
			// one that takes an admin away counts the admins its
			// predecessors left (read committed: a statement sees what
			// committed before it began), on every node.
			if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceAdmins, 0); err != nil {
				return err
			}
			q += ` FOR UPDATE`
		}
		u, err := scanUser(t.queryRow(ctx, q, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errcode.Localized(errcode.NotFound, "user %s not found", "找不到用户 %s", id)
		}
		if err != nil {
			return err
		}
		keep, err := change(u)
		if err != nil {
			return err
		}
		if err := updateUser(ctx, t, u); err != nil {
			return err
		}
		if keep {
			var admins int
			if err := t.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = $2`,
				string(auth.RoleAdmin), false).Scan(&admins); err != nil {
				return err
			}
			if admins == 0 {
				return auth.ErrNoAdminLeft
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

func updateUser(ctx context.Context, t tx, u *auth.User) error {
	res, err := t.exec(ctx, `UPDATE users SET email = $2, name = $3, role = $4, password_hash = $5, disabled = $6,
			skills = $7, languages = $8, max_chats = $9, presence = $10, presence_at = $11, updated_at = $12
		WHERE id = $1`,
		u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled, jsonList(u.Skills), jsonList(u.Languages),
		u.MaxChats, string(u.Presence), millis(u.PresenceAt), millis(u.UpdatedAt))
	if err != nil {
		return err
	}
	return oneRow(res, "user", u.ID)
}

func oneRow(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errcode.Errorf(errcode.NotFound, "%s %s not found", what, id)
	}
	return nil
}

// User returns the user with the given id.
func (db *DB) User(ctx context.Context, id string) (*auth.User, error) {
	u, err := scanUser(db.queryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "user %s not found", "找不到用户 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with the given (lower-case) email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*auth.User, error) {
	u, err := scanUser(db.queryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errcode.Localized(errcode.NotFound, "no user with email %s", "没有邮箱为 %s 的用户", email)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", email, err)
	}
	return u, nil
}

// Users returns every user, by email.
func (db *DB) Users(ctx context.Context) ([]auth.User, error) {
	rows, err := db.queryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.email`+bytewise(db.d))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetPresence records an agent's status and when their client was last
// heard from; an empty p records only the time (a console's beat, which
// must not undo a change of status made meanwhile).
func (db *DB) SetPresence(ctx context.Context, userID string, p auth.Presence, at time.Time) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		q, args := `UPDATE users SET presence = $2, presence_at = $3 WHERE id = $1`, []any{userID, string(p), millis(at)}
		if p == "" {
			q, args = `UPDATE users SET presence_at = $2 WHERE id = $1`, []any{userID, millis(at)}
		}
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		return oneRow(res, "user", userID)
	})
	if err != nil {
		return fmt.Errorf("set presence of %s: %w", userID, err)
	}
	return nil
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO sessions (token_hash, bearer_hash, user_id, csrf_token, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, s.TokenHash, s.BearerHash, s.UserID, s.CSRF, millis(s.CreatedAt), millis(s.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session of %s: %w", s.UserID, err)
	}
	return nil
}

// SessionUser returns the session whose cookie (or bearer) token hashes to
// hash, and its user.
func (db *DB) SessionUser(ctx context.Context, hash []byte, bearer bool) (*auth.Session, *auth.User, error) {
	col := "token_hash"
	if bearer {
		col = "bearer_hash"
	}
	var (
		s            auth.Session
		crt, expires int64
	)
	u, err := scanUser(db.queryRowContext(ctx, `SELECT `+userColumns+`, s.token_hash, s.bearer_hash, s.csrf_token, s.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.`+col+` = $1`, hash),
		&s.TokenHash, &s.BearerHash, &s.CSRF, &crt, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errcode.Errorf(errcode.NotFound, "no such session")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get session: %w", err)
	}
	s.UserID, s.CreatedAt, s.ExpiresAt = u.ID, fromMillis(crt), fromMillis(expires)
	return &s, u, nil
}

// DeleteSession ends a session; ending one that does not exist is not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements auth.Store.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete the sessions of user %s: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, millis(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}

// CreateAPIKey stores a new API key (its hash).
func (db *DB) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `INSERT INTO api_keys (id, key_hash, prefix, name, user_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.KeyHash, k.Prefix, k.Name, k.UserID, millis(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create API key %s: %w", k.Name, err)
	}
	return nil
}

// APIKeyUser returns the API key whose hash is hash, and its user.
func (db *DB) APIKeyUser(ctx context.Context, hash []byte) (*auth.APIKey, *auth.User, error) {
	var (
		k   auth.APIKey
		crt int64
	)
	u, err := scanUser(db.queryRowContext(ctx, `SELECT `+userColumns+`, k.id, k.key_hash, k.prefix, k.name, k.created_at
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`, hash),
		&k.ID, &k.KeyHash, &k.Prefix, &k.Name, &crt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errcode.Errorf(errcode.NotFound, "no such API key")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get API key: %w", err)
	}
	k.UserID, k.CreatedAt = u.ID, fromMillis(crt)
	return &k, u, nil
}

// APIKeys lists every API key, newest first, without hashes.
func (db *DB) APIKeys(ctx context.Context) ([]auth.APIKey, error) {
	rows, err := db.queryContext(ctx, `SELECT id, prefix, name, user_id, created_at FROM api_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	var out []auth.APIKey
	for rows.Next() {
		var (
			k   auth.APIKey
			crt int64
		)
		if err := rows.Scan(&k.ID, &k.Prefix, &k.Name, &k.UserID, &crt); err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		k.CreatedAt = fromMillis(crt)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// DeleteAPIKey revokes an API key.
func (db *DB) DeleteAPIKey(ctx context.Context, id string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		res, err := t.exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
		if err != nil {
			return err
		}
		return oneRow(res, "API key", id)
	})
	if err != nil {
		return fmt.Errorf("delete API key %s: %w", id, err)
	}
	return nil
}

// LoginFailures implements auth.Store: how many failed sign-ins the
// account has had after since, on any node, and the last one's time.
func (db *DB) LoginFailures(ctx context.Context, userID string, since time.Time) (int, time.Time, error) {
	var n int
	var last int64
	if err := db.queryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(at), 0) FROM login_failures WHERE user_id = $1 AND at > $2`,
		userID, millis(since)).Scan(&n, &last); err != nil {
		return 0, time.Time{}, fmt.Errorf("failed sign-ins of user %s: %w", userID, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, fromMillis(last), nil
}

// AddLoginFailure implements auth.Store. The account's failures up to since
// are forgotten, the new one is added, and if it is the max-th after since
// every failure is moved to at, so that the lock lasts its window from now.
// On PostgreSQL the account's row is locked for the transaction, so that
// failures on two nodes at once are counted one after the other.
func (db *DB) AddLoginFailure(ctx context.Context, userID string, at, since time.Time, max int) (bool, error) {
	var locked bool
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		locked = false // fn may run more than once: see update
		if db.d.name() == "postgres" {
			if _, err := t.exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, `DELETE FROM login_failures WHERE user_id = $1 AND at <= $2`, userID, millis(since)); err != nil {
			return err
		}
		var before int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE user_id = $1`, userID).Scan(&before); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO login_failures (user_id, at) VALUES ($1, $2)`, userID, millis(at)); err != nil {
			return err
		}
		if before == max-1 { // this failure is the max-th: it sets the lock
			locked = true
			_, err := t.exec(ctx, `UPDATE login_failures SET at = $2 WHERE user_id = $1`, userID, millis(at))
			return err
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("count a failed sign-in of user %s: %w", userID, err)
	}
	return locked, nil
}

// ClearLoginFailures implements auth.Store.
func (db *DB) ClearLoginFailures(ctx context.Context, userID string) error {
	err := db.update(ctx, func(ctx context.Context, t tx) error {
		_, err := t.exec(ctx, `DELETE FROM login_failures WHERE user_id = $1`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear the failed sign-ins of user %s: %w", userID, err)
	}
	return nil
}
