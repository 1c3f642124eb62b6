-- PostgreSQL schema after every migration (generated: npm run schema:dump; checked by test/store-schema.test.ts)
TABLE api_keys
  COLUMN id text NOT NULL
  COLUMN org_uuid text NOT NULL
  COLUMN name text NOT NULL
  COLUMN prefix text NOT NULL
  COLUMN hash text NOT NULL
  COLUMN created_at bigint NOT NULL
  COLUMN revoked_at bigint
TABLE attempts
  COLUMN id text NOT NULL
  COLUMN job_uuid text NOT NULL
  COLUMN number integer NOT NULL
  COLUMN worker_id text NOT NULL
  COLUMN lease_token bigint NOT NULL
  COLUMN lease_expires_at bigint NOT NULL
  COLUMN state text NOT NULL
  COLUMN started_at bigint NOT NULL
  COLUMN ended_at bigint
TABLE checkpoints
  COLUMN id text NOT NULL
  COLUMN job_uuid text NOT NULL
  COLUMN attempt_id text NOT NULL
  COLUMN step bigint NOT NULL
  COLUMN name text NOT NULL
  COLUMN blob_key text NOT NULL
  COLUMN num_bytes bigint NOT NULL
  COLUMN sha256 text NOT NULL
  COLUMN metrics json NOT NULL
  COLUMN meta json
  COLUMN created_at bigint NOT NULL
TABLE events
  COLUMN job_uuid text NOT NULL
  COLUMN seq integer NOT NULL
  COLUMN id text NOT NULL
  COLUMN level text NOT NULL
  COLUMN type text NOT NULL
  COLUMN message text NOT NULL
  COLUMN data json
  COLUMN created_at bigint NOT NULL
TABLE files
  COLUMN file_uid text NOT NULL
  COLUMN org_uuid text NOT NULL
  COLUMN file_id text NOT NULL
  COLUMN file_type text NOT NULL
  COLUMN num_bytes bigint NOT NULL
  COLUMN sha256 text NOT NULL
  COLUMN blob_key text NOT NULL
  COLUMN status text NOT NULL
  COLUMN is_current boolean NOT NULL
  COLUMN file_index integer NOT NULL
  COLUMN attributes json NOT NULL
  COLUMN created_at bigint NOT NULL
  COLUMN deleted_at bigint
  COLUMN purged boolean NOT NULL DEFAULT false
TABLE job_files
  COLUMN job_uuid text NOT NULL
  COLUMN file_uid text NOT NULL
TABLE jobs
  COLUMN uuid text COLLATE "C" NOT NULL
  COLUMN org_uuid text NOT NULL
  COLUMN id text COLLATE "C" NOT NULL
  COLUMN name text NOT NULL
  COLUMN api_version text NOT NULL
  COLUMN model text NOT NULL
  COLUMN status text NOT NULL
  COLUMN config json NOT NULL
  COLUMN datasets json NOT NULL
  COLUMN request_hash text NOT NULL
  COLUMN idempotency_key text
  COLUMN created_at bigint NOT NULL
  COLUMN updated_at bigint NOT NULL
  COLUMN inference_config_path text
  COLUMN error json
  COLUMN progress json
  COLUMN attempts integer NOT NULL DEFAULT 0
  COLUMN current_attempt_id text
  COLUMN lease_token bigint NOT NULL DEFAULT 0
  COLUMN stop_requested_at bigint
  COLUMN hyperparameters json
  COLUMN row_version bigint NOT NULL DEFAULT 0
TABLE metrics
  COLUMN seq bigint NOT NULL IDENTITY
  COLUMN job_uuid text NOT NULL
  COLUMN step bigint NOT NULL
  COLUMN vals json NOT NULL
  COLUMN created_at bigint NOT NULL
TABLE orgs
  COLUMN uuid text NOT NULL
  COLUMN name text NOT NULL
  COLUMN created_at bigint NOT NULL
TABLE schema_migrations
  COLUMN version integer NOT NULL
  COLUMN applied_at bigint NOT NULL
TABLE upload_parts
  COLUMN upload_id text NOT NULL
  COLUMN part_number integer NOT NULL
  COLUMN token text NOT NULL
  COLUMN num_bytes bigint NOT NULL
  COLUMN staged_name text NOT NULL
  COLUMN checkpointed boolean NOT NULL DEFAULT false
  COLUMN created_at bigint NOT NULL
  COLUMN crc32c bigint
TABLE uploads
  COLUMN upload_id text NOT NULL
  COLUMN org_uuid text NOT NULL
  COLUMN file_id text NOT NULL
  COLUMN file_uid text NOT NULL
  COLUMN file_type text NOT NULL
  COLUMN num_bytes bigint NOT NULL
  COLUMN part_size bigint NOT NULL
  COLUMN num_parts integer NOT NULL
  COLUMN state text NOT NULL
  COLUMN created_at bigint NOT NULL
  COLUMN updated_at bigint NOT NULL
  COLUMN complete_token bigint NOT NULL DEFAULT 0
TABLE worker_tokens
  COLUMN id text NOT NULL
  COLUMN name text NOT NULL
  COLUMN prefix text NOT NULL
  COLUMN hash text NOT NULL
  COLUMN created_at bigint NOT NULL
  COLUMN revoked_at bigint
TABLE workers
  COLUMN id text NOT NULL
  COLUMN node text NOT NULL
  COLUMN kind text NOT NULL
  COLUMN concurrency integer NOT NULL
  COLUMN active_jobs integer NOT NULL
  COLUMN last_seen_at bigint NOT NULL
  COLUMN started_at bigint NOT NULL
CONSTRAINT api_keys.api_keys_hash_key UNIQUE (hash)
CONSTRAINT api_keys.api_keys_org_uuid_fkey FOREIGN KEY (org_uuid) REFERENCES orgs(uuid)
CONSTRAINT api_keys.api_keys_pkey PRIMARY KEY (id)
CONSTRAINT attempts.attempts_pkey PRIMARY KEY (id)
CONSTRAINT attempts.attempts_state_check CHECK ((state = ANY (ARRAY['active'::text, 'finished'::text, 'lost'::text])))
CONSTRAINT checkpoints.checkpoints_pkey PRIMARY KEY (id)
CONSTRAINT events.events_pkey PRIMARY KEY (job_uuid, seq)
CONSTRAINT files.files_pkey PRIMARY KEY (file_uid)
CONSTRAINT files.files_status_check CHECK ((status = ANY (ARRAY['ready'::text, 'deleted'::text])))
CONSTRAINT job_files.job_files_pkey PRIMARY KEY (job_uuid, file_uid)
CONSTRAINT jobs.jobs_pkey PRIMARY KEY (uuid)
CONSTRAINT jobs.jobs_status_check CHECK ((status = ANY (ARRAY['REGISTERED'::text, 'STARTING'::text, 'RUNNING'::text, 'FINALIZING'::text, 'COMPLETED'::text, 'STOPPING'::text, 'STOPPED'::text, 'CANCELLED'::text, 'FAILED'::text])))
CONSTRAINT metrics.metrics_pkey PRIMARY KEY (seq)
CONSTRAINT orgs.orgs_name_key UNIQUE (name)
CONSTRAINT orgs.orgs_pkey PRIMARY KEY (uuid)
CONSTRAINT schema_migrations.schema_migrations_pkey PRIMARY KEY (version)
CONSTRAINT upload_parts.upload_parts_pkey PRIMARY KEY (upload_id, part_number)
CONSTRAINT uploads.uploads_file_uid_key UNIQUE (file_uid)
CONSTRAINT uploads.uploads_pkey PRIMARY KEY (upload_id)
CONSTRAINT uploads.uploads_state_check CHECK ((state = ANY (ARRAY['open'::text, 'completing'::text, 'completed'::text, 'aborted'::text, 'expired'::text])))
CONSTRAINT worker_tokens.worker_tokens_hash_key UNIQUE (hash)
CONSTRAINT worker_tokens.worker_tokens_pkey PRIMARY KEY (id)
CONSTRAINT workers.workers_pkey PRIMARY KEY (id)
INDEX api_keys.api_keys_hash_key CREATE UNIQUE INDEX api_keys_hash_key ON api_keys USING btree (hash)
INDEX api_keys.api_keys_pkey CREATE UNIQUE INDEX api_keys_pkey ON api_keys USING btree (id)
INDEX attempts.attempts_active CREATE INDEX attempts_active ON attempts USING btree (lease_expires_at) WHERE (state = 'active'::text)
INDEX attempts.attempts_job CREATE INDEX attempts_job ON attempts USING btree (job_uuid)
INDEX attempts.attempts_pkey CREATE UNIQUE INDEX attempts_pkey ON attempts USING btree (id)
INDEX checkpoints.checkpoints_job CREATE INDEX checkpoints_job ON checkpoints USING btree (job_uuid, step)
INDEX checkpoints.checkpoints_pkey CREATE UNIQUE INDEX checkpoints_pkey ON checkpoints USING btree (id)
INDEX events.events_pkey CREATE UNIQUE INDEX events_pkey ON events USING btree (job_uuid, seq)
INDEX files.files_current CREATE UNIQUE INDEX files_current ON files USING btree (org_uuid, file_id) WHERE is_current
INDEX files.files_org CREATE INDEX files_org ON files USING btree (org_uuid, file_index)
INDEX files.files_pkey CREATE UNIQUE INDEX files_pkey ON files USING btree (file_uid)
INDEX job_files.job_files_file CREATE INDEX job_files_file ON job_files USING btree (file_uid)
INDEX job_files.job_files_pkey CREATE UNIQUE INDEX job_files_pkey ON job_files USING btree (job_uuid, file_uid)
INDEX jobs.jobs_org_created CREATE INDEX jobs_org_created ON jobs USING btree (org_uuid, created_at DESC, id DESC, api_version, uuid, row_version)
INDEX jobs.jobs_org_id CREATE UNIQUE INDEX jobs_org_id ON jobs USING btree (org_uuid, id)
INDEX jobs.jobs_org_idem CREATE UNIQUE INDEX jobs_org_idem ON jobs USING btree (org_uuid, idempotency_key) WHERE (idempotency_key IS NOT NULL)
INDEX jobs.jobs_pkey CREATE UNIQUE INDEX jobs_pkey ON jobs USING btree (uuid)
INDEX jobs.jobs_queue CREATE INDEX jobs_queue ON jobs USING btree (created_at, uuid) WHERE (status = 'REGISTERED'::text)
INDEX jobs.jobs_status CREATE INDEX jobs_status ON jobs USING btree (status)
INDEX metrics.metrics_job CREATE INDEX metrics_job ON metrics USING btree (job_uuid, step)
INDEX metrics.metrics_pkey CREATE UNIQUE INDEX metrics_pkey ON metrics USING btree (seq)
INDEX orgs.orgs_name_key CREATE UNIQUE INDEX orgs_name_key ON orgs USING btree (name)
INDEX orgs.orgs_pkey CREATE UNIQUE INDEX orgs_pkey ON orgs USING btree (uuid)
INDEX schema_migrations.schema_migrations_pkey CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version)
INDEX upload_parts.upload_parts_pkey CREATE UNIQUE INDEX upload_parts_pkey ON upload_parts USING btree (upload_id, part_number)
INDEX uploads.uploads_file_uid_key CREATE UNIQUE INDEX uploads_file_uid_key ON uploads USING btree (file_uid)
INDEX uploads.uploads_live_name CREATE UNIQUE INDEX uploads_live_name ON uploads USING btree (org_uuid, file_id) WHERE (state = ANY (ARRAY['open'::text, 'completing'::text]))
INDEX uploads.uploads_pkey CREATE UNIQUE INDEX uploads_pkey ON uploads USING btree (upload_id)
INDEX uploads.uploads_state CREATE INDEX uploads_state ON uploads USING btree (state, updated_at)
INDEX worker_tokens.worker_tokens_hash_key CREATE UNIQUE INDEX worker_tokens_hash_key ON worker_tokens USING btree (hash)
INDEX worker_tokens.worker_tokens_pkey CREATE UNIQUE INDEX worker_tokens_pkey ON worker_tokens USING btree (id)
INDEX workers.workers_pkey CREATE UNIQUE INDEX workers_pkey ON workers USING btree (id)
TRIGGER jobs.jobs_row_version CREATE TRIGGER jobs_row_version BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_bump_row_version()
FUNCTION jobs_bump_row_version CREATE OR REPLACE FUNCTION jobs_bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $function$ BEGIN NEW.row_version := OLD.row_version + 1; RETURN NEW; END $function$
