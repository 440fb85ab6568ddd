CREATE TABLE conversations (
    id                   TEXT PRIMARY KEY,
    token_hash           BYTEA NOT NULL,
    state                TEXT NOT NULL,
    locale               TEXT NOT NULL,
    customer_external_id TEXT NOT NULL DEFAULT '',
    customer_name        TEXT NOT NULL DEFAULT '',
    vip                  BOOLEAN NOT NULL DEFAULT FALSE,
    unresolved           INTEGER NOT NULL DEFAULT 0,
    last_seq             BIGINT NOT NULL DEFAULT 0,
    handoff_reason       TEXT NOT NULL DEFAULT '',
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX conversations_state ON conversations (state, updated_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq             BIGINT NOT NULL,
    role            TEXT NOT NULL,
    text            TEXT NOT NULL,
    outcome         TEXT NOT NULL DEFAULT '',
    confidence      DOUBLE PRECISION NOT NULL DEFAULT 0,
    entry_id        TEXT NOT NULL DEFAULT '',
    intent          TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    meta            TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE kb_entries (
    id         TEXT PRIMARY KEY,
    category   TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]',
    essential  BOOLEAN NOT NULL DEFAULT FALSE,
    content    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kb_entries_category ON kb_entries (category);
