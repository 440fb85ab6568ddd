-- The quality report (GET /api/v1/reports/quality) reads the conversations
-- started, and the ratings given, in a span of days.
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX ratings_created ON ratings (created_at);
