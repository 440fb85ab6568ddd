-- The console's Closed tab lists the most recently closed conversations
-- (every one for a supervisor, an agent's own otherwise), latest first.
-- Partial, so that the turns of open conversations, which rewrite their row,
-- never touch it; state leads so that SQLite's planner prefers it to
-- conversations_state, which would need a sort.
CREATE INDEX conversations_closed ON conversations (state, closed_at, id) WHERE state = 'closed';
