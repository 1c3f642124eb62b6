-- Fences a direct upload's completion (docs/files.md): each open → completing takes the next
-- token; the assembler's heartbeat, finish and reopen must name it, so an assembler that stalled
-- past the stale limit (its upload reopened and completed again elsewhere) can change nothing.
ALTER TABLE uploads ADD COLUMN complete_token INTEGER NOT NULL DEFAULT 0;
