-- Remote workers' tokens (docs/scaling.md): hashed like API keys, but a separate table so a
-- worker token can never pass as a user key and the other way round.
CREATE TABLE worker_tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, revoked_at INTEGER);
