-- A conversation's offline messages are read with its transcript (the
-- console shows them where they were left) and counted before another is
-- accepted: both by conversation, which no index served.
CREATE INDEX tickets_conversation ON tickets (conversation_id, created_at);
