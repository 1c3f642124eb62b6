-- Remote workers' tokens (docs/scaling.md), as in SQLite migration 4.
CREATE TABLE worker_tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL, revoked_at BIGINT);
