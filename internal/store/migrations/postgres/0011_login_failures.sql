-- Failed sign-ins of known accounts, so that the lock-out (auth.Service)
-- holds on every node and across a restart: one row a failure, deleted
-- when the account signs in or the failure is older than the window.
CREATE TABLE login_failures (
    user_id TEXT NOT NULL REFERENCES users (id),
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (user_id, at);
