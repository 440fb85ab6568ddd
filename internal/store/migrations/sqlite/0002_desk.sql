-- The desk: accounts, sessions, API keys, routing columns on conversations,
-- internal notes, canned replies, offline-message tickets and ratings.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    skills        TEXT NOT NULL DEFAULT '[]',
    languages     TEXT NOT NULL DEFAULT '[]',
    max_chats     INTEGER NOT NULL DEFAULT 5,
    presence      TEXT NOT NULL DEFAULT 'offline',
    presence_at   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    bearer_hash BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    key_hash   BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    name       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);

ALTER TABLE conversations ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN queued_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_assignee ON conversations (assignee, state);

CREATE TABLE notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_id       TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, created_at);

CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY,
    locale     TEXT NOT NULL,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE tickets (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    contact         TEXT NOT NULL,
    message         TEXT NOT NULL,
    locale          TEXT NOT NULL,
    status          TEXT NOT NULL,
    resolved_by     TEXT NOT NULL DEFAULT '',
    resolved_at     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, created_at);

CREATE TABLE ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    score           INTEGER NOT NULL,
    tags            TEXT NOT NULL DEFAULT '[]',
    comment         TEXT NOT NULL DEFAULT '',
    assignee        TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
