-- The knowledge lifecycle: entries with status and history, releases with
-- their model artefacts, the active release, golden questions,
-- "wrong answer" flags, and the hash-chained audit log.
ALTER TABLE kb_entries ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE kb_entries ADD COLUMN status TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE kb_entries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE kb_entries ADD COLUMN approved_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE kb_entries ADD COLUMN author TEXT NOT NULL DEFAULT 'system';
ALTER TABLE kb_entries ADD COLUMN author_name TEXT NOT NULL DEFAULT 'Steward';
ALTER TABLE kb_entries ADD COLUMN reviewer TEXT NOT NULL DEFAULT 'system';
ALTER TABLE kb_entries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX kb_entries_status ON kb_entries (status);

CREATE TABLE kb_revisions (
    entry_id   TEXT NOT NULL REFERENCES kb_entries (id),
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    changes    TEXT NOT NULL DEFAULT '[]',
    -- the content, for the steps that changed it (create, edit, import)
    has_content INTEGER NOT NULL DEFAULT 0,
    category   TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    essential  INTEGER NOT NULL DEFAULT 0,
    content    TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (entry_id, seq)
);
INSERT INTO kb_revisions (entry_id, seq, version, action, status, actor, actor_name, has_content, category, tags,
                          essential, content, created_at)
    SELECT id, 1, 1, 'import', 'approved', 'system', 'Steward', TRUE, category, tags, essential, content, updated_at
    FROM kb_entries;

CREATE TABLE kb_releases (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    author          TEXT NOT NULL,
    author_name     TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    entries         INTEGER NOT NULL,
    minimal_entries INTEGER NOT NULL DEFAULT 0,
    versions        TEXT NOT NULL,
    quality         TEXT NOT NULL,
    override        TEXT NOT NULL DEFAULT '',
    model_sha256    TEXT NOT NULL,
    model_bytes     INTEGER NOT NULL,
    content         TEXT NOT NULL,
    activated_at    INTEGER NOT NULL DEFAULT 0,
    rolled_back_at  INTEGER NOT NULL DEFAULT 0,
    rollback_reason TEXT NOT NULL DEFAULT ''
);

CREATE TABLE kb_release_models (
    release_id INTEGER NOT NULL REFERENCES kb_releases (id),
    minimal    INTEGER NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (release_id, minimal)
);

CREATE TABLE kb_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    active_release INTEGER NOT NULL DEFAULT 0,
    activated_at   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO kb_state (id) VALUES (1);

CREATE TABLE kb_golden (
    id         TEXT PRIMARY KEY,
    question   TEXT NOT NULL,
    locale     TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE kb_flags (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    entry_id        TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL DEFAULT '',
    question        TEXT NOT NULL DEFAULT '',
    answer          TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    flagged_by      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'open',
    fix_entry       TEXT NOT NULL DEFAULT '',
    fix_version     INTEGER NOT NULL DEFAULT 0,
    release_id      INTEGER NOT NULL DEFAULT 0,
    handled_by      TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (message_id, source)
);
CREATE INDEX kb_flags_status ON kb_flags (status, created_at);

CREATE INDEX messages_outcome ON messages (outcome, created_at);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    object     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_head (id) VALUES (1);
