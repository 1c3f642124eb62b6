-- Every status column accepts only its known values (the lists of src/store/policy.ts, which
-- test/store-schema.test.ts compares with these): a write outside the lifecycle fails in the
-- database, whatever code path made it. SQLite cannot add a CHECK to a table, so each table is
-- rebuilt as SQLite's ALTER TABLE documentation prescribes (new table, copy, drop, rename), with the
-- same columns in the same order, then its indexes and the jobs trigger are created again.
CREATE TABLE jobs_new (
  uuid TEXT PRIMARY KEY, org_uuid TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
  api_version TEXT NOT NULL, model TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'COMPLETED', 'STOPPING', 'STOPPED', 'CANCELLED', 'FAILED')),
  config TEXT NOT NULL, datasets TEXT NOT NULL, request_hash TEXT NOT NULL, idempotency_key TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, inference_config_path TEXT,
  error TEXT, progress TEXT, attempts INTEGER NOT NULL DEFAULT 0, current_attempt_id TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0, stop_requested_at INTEGER, hyperparameters TEXT,
  row_version INTEGER NOT NULL DEFAULT 0);
INSERT INTO jobs_new (uuid, org_uuid, id, name, api_version, model, status, config, datasets, request_hash, idempotency_key,
  created_at, updated_at, inference_config_path, error, progress, attempts, current_attempt_id, lease_token, stop_requested_at,
  hyperparameters, row_version)
SELECT uuid, org_uuid, id, name, api_version, model, status, config, datasets, request_hash, idempotency_key,
  created_at, updated_at, inference_config_path, error, progress, attempts, current_attempt_id, lease_token, stop_requested_at,
  hyperparameters, row_version FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE UNIQUE INDEX jobs_org_id ON jobs(org_uuid, id);
CREATE UNIQUE INDEX jobs_org_idem ON jobs(org_uuid, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_org_created ON jobs(org_uuid, created_at DESC, id DESC, api_version, uuid, row_version);
CREATE INDEX jobs_queue ON jobs(status, created_at);
CREATE TRIGGER jobs_row_version AFTER UPDATE ON jobs FOR EACH ROW WHEN NEW.row_version = OLD.row_version
BEGIN UPDATE jobs SET row_version = OLD.row_version + 1 WHERE rowid = NEW.rowid; END;

CREATE TABLE attempts_new (
  id TEXT PRIMARY KEY, job_uuid TEXT NOT NULL, number INTEGER NOT NULL, worker_id TEXT NOT NULL,
  lease_token INTEGER NOT NULL, lease_expires_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'finished', 'lost')),
  started_at INTEGER NOT NULL, ended_at INTEGER);
INSERT INTO attempts_new (id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at, ended_at)
SELECT id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at, ended_at FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_active ON attempts(state, lease_expires_at);
CREATE INDEX attempts_job ON attempts(job_uuid);

CREATE TABLE uploads_new (
  upload_id TEXT PRIMARY KEY, org_uuid TEXT NOT NULL, file_id TEXT NOT NULL, file_uid TEXT NOT NULL UNIQUE,
  file_type TEXT NOT NULL, num_bytes INTEGER NOT NULL, part_size INTEGER NOT NULL, num_parts INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'completing', 'completed', 'aborted', 'expired')),
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, complete_token INTEGER NOT NULL DEFAULT 0);
INSERT INTO uploads_new (upload_id, org_uuid, file_id, file_uid, file_type, num_bytes, part_size, num_parts, state, created_at, updated_at, complete_token)
SELECT upload_id, org_uuid, file_id, file_uid, file_type, num_bytes, part_size, num_parts, state, created_at, updated_at, complete_token FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_new RENAME TO uploads;
CREATE UNIQUE INDEX uploads_live_name ON uploads(org_uuid, file_id) WHERE state IN ('open', 'completing');
CREATE INDEX uploads_state ON uploads(state, updated_at);

CREATE TABLE files_new (
  file_uid TEXT PRIMARY KEY, org_uuid TEXT NOT NULL, file_id TEXT NOT NULL, file_type TEXT NOT NULL,
  num_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, blob_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'deleted')),
  is_current INTEGER NOT NULL, file_index INTEGER NOT NULL, attributes TEXT NOT NULL,
  created_at INTEGER NOT NULL, deleted_at INTEGER, purged INTEGER NOT NULL DEFAULT 0);
INSERT INTO files_new (file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current, file_index, attributes, created_at, deleted_at, purged)
SELECT file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current, file_index, attributes, created_at, deleted_at, purged FROM files;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;
CREATE UNIQUE INDEX files_current ON files(org_uuid, file_id) WHERE is_current = 1;
CREATE INDEX files_org ON files(org_uuid, file_index);
