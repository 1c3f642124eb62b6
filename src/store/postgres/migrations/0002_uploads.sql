-- Direct (multipart) uploads of the files API: one row per upload, one per received part.
-- At most one live (open or completing) upload per name; ended uploads keep their row, not their parts.
CREATE TABLE uploads (
  upload_id TEXT PRIMARY KEY, org_uuid TEXT NOT NULL, file_id TEXT NOT NULL, file_uid TEXT NOT NULL UNIQUE,
  file_type TEXT NOT NULL, num_bytes BIGINT NOT NULL, part_size BIGINT NOT NULL, num_parts INTEGER NOT NULL,
  state TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE UNIQUE INDEX uploads_live_name ON uploads(org_uuid, file_id) WHERE state IN ('open', 'completing');
CREATE INDEX uploads_state ON uploads(state, updated_at);
CREATE TABLE upload_parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, token TEXT NOT NULL, num_bytes BIGINT NOT NULL,
  staged_name TEXT NOT NULL, checkpointed BOOLEAN NOT NULL DEFAULT FALSE, created_at BIGINT NOT NULL,
  PRIMARY KEY (upload_id, part_number));
