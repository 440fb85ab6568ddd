-- Crisis response: the durable outbox for notifications, per-minute signal
-- rollups, alert silences, incidents with their timelines, the service
-- posture and the customer notice texts.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    dedup_key   TEXT NOT NULL UNIQUE,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (status, next_at);

CREATE TABLE metric_rollups (
    minute INTEGER NOT NULL,
    node   TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (minute, node)
);

CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    matchers   TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    severity     TEXT NOT NULL,
    phase        TEXT NOT NULL,
    manual       INTEGER NOT NULL DEFAULT 0,
    opened_by    TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    detected_at  INTEGER NOT NULL DEFAULT 0,
    mitigated_at INTEGER NOT NULL DEFAULT 0,
    resolved_at  INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL DEFAULT '{}',
    postmortem   TEXT NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL
);
CREATE INDEX incidents_started ON incidents (started_at);

CREATE TABLE incident_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (incident_id, seq)
);

CREATE TABLE posture (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    data       TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL DEFAULT 0
);
INSERT INTO posture (id) VALUES (1);

CREATE TABLE notice_texts (
    level      INTEGER PRIMARY KEY,
    zh         TEXT NOT NULL,
    en         TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

-- Where a conversation came from (the widget, an app, an API client): traffic
-- floods are detected and throttled per source.
ALTER TABLE conversations ADD COLUMN source TEXT NOT NULL DEFAULT 'web';
