-- The core schema, as SQLite's migration 1. Times are BIGINT milliseconds from the injected clock;
-- JSON columns are json (text as written), flags BOOLEAN.
-- jobs.uuid and jobs.id are COLLATE "C": ORDER BY … id / uuid must sort bytewise like SQLite does.
CREATE TABLE orgs (uuid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, org_uuid TEXT NOT NULL REFERENCES orgs(uuid), name TEXT NOT NULL,
  prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT);
CREATE TABLE files (
  file_uid TEXT PRIMARY KEY, org_uuid TEXT NOT NULL, file_id TEXT NOT NULL, file_type TEXT NOT NULL,
  num_bytes BIGINT NOT NULL, sha256 TEXT NOT NULL, blob_key TEXT NOT NULL, status TEXT NOT NULL,
  is_current BOOLEAN NOT NULL, file_index INTEGER NOT NULL, attributes JSON NOT NULL,
  created_at BIGINT NOT NULL, deleted_at BIGINT, purged BOOLEAN NOT NULL DEFAULT FALSE);
CREATE UNIQUE INDEX files_current ON files(org_uuid, file_id) WHERE is_current;
CREATE INDEX files_org ON files(org_uuid, file_index);
CREATE TABLE jobs (
  uuid TEXT COLLATE "C" PRIMARY KEY, org_uuid TEXT NOT NULL, id TEXT COLLATE "C" NOT NULL, name TEXT NOT NULL,
  api_version TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL, config JSON NOT NULL,
  datasets JSON NOT NULL, request_hash TEXT NOT NULL, idempotency_key TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, inference_config_path TEXT,
  error JSON, progress JSON, attempts INTEGER NOT NULL DEFAULT 0, current_attempt_id TEXT,
  lease_token BIGINT NOT NULL DEFAULT 0, stop_requested_at BIGINT, hyperparameters JSON);
CREATE UNIQUE INDEX jobs_org_id ON jobs(org_uuid, id);
CREATE UNIQUE INDEX jobs_org_idem ON jobs(org_uuid, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- api_version last: list pages filter on it (fine-tune vs batch) without reading the rows they skip (46 → 6 ms at offset 50,000)
CREATE INDEX jobs_org_created ON jobs(org_uuid, created_at DESC, id DESC, api_version);
CREATE INDEX jobs_queue ON jobs(created_at, uuid) WHERE status = 'REGISTERED';
CREATE INDEX jobs_status ON jobs(status);
CREATE TABLE job_files (job_uuid TEXT NOT NULL, file_uid TEXT NOT NULL, PRIMARY KEY (job_uuid, file_uid));
CREATE INDEX job_files_file ON job_files(file_uid);
CREATE TABLE attempts (
  id TEXT PRIMARY KEY, job_uuid TEXT NOT NULL, number INTEGER NOT NULL, worker_id TEXT NOT NULL,
  lease_token BIGINT NOT NULL, lease_expires_at BIGINT NOT NULL, state TEXT NOT NULL,
  started_at BIGINT NOT NULL, ended_at BIGINT);
CREATE INDEX attempts_active ON attempts(lease_expires_at) WHERE state = 'active';
CREATE INDEX attempts_job ON attempts(job_uuid);
CREATE TABLE checkpoints (
  id TEXT PRIMARY KEY, job_uuid TEXT NOT NULL, attempt_id TEXT NOT NULL, step BIGINT NOT NULL,
  name TEXT NOT NULL, blob_key TEXT NOT NULL, num_bytes BIGINT NOT NULL, sha256 TEXT NOT NULL,
  metrics JSON NOT NULL, meta JSON, created_at BIGINT NOT NULL);
CREATE INDEX checkpoints_job ON checkpoints(job_uuid, step);
CREATE TABLE events (
  job_uuid TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, level TEXT NOT NULL,
  type TEXT NOT NULL, message TEXT NOT NULL, data JSON, created_at BIGINT NOT NULL,
  PRIMARY KEY (job_uuid, seq));
CREATE TABLE metrics (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_uuid TEXT NOT NULL, step BIGINT NOT NULL,
  vals JSON NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX metrics_job ON metrics(job_uuid, step);
CREATE TABLE workers (
  id TEXT PRIMARY KEY, node TEXT NOT NULL, kind TEXT NOT NULL, concurrency INTEGER NOT NULL,
  active_jobs INTEGER NOT NULL, last_seen_at BIGINT NOT NULL, started_at BIGINT NOT NULL);
