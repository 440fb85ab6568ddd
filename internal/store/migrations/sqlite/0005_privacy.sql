-- Personal data: the stored texts are masked; the originals live here,
-- sealed (AES-256-GCM, key id per record), until the retention period
-- erases them. ref is a message id, "note:<id>" or "ticket:<id>:<field>".
CREATE TABLE pii_vault (
    ref             TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    kinds           TEXT NOT NULL DEFAULT '',
    key_id          TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX pii_vault_created ON pii_vault (created_at);
CREATE INDEX pii_vault_key ON pii_vault (key_id, ref);
