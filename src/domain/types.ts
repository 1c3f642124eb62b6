/**
 * The records the service keeps. Times are milliseconds since the epoch (from the injected clock);
 * the API layer formats them. `uuid` is the internal primary key of a job; `id` is its per-org name.
 */
import type { JobStatus } from './status.js';

export interface Org {
  uuid: string;
  name: string;
  created_at: number;
}

export interface ApiKeyRecord {
  id: string;
  org_uuid: string;
  name: string;
  prefix: string; // first characters of the key, shown in listings
  created_at: number;
  revoked_at: number | null;
}

/** A remote worker's credential: `wk_…`, stored as a sha256 hash only; valid for the worker API alone. */
export interface WorkerTokenRecord {
  id: string; // wkt_<8 hex>
  name: string;
  prefix: string; // first characters of the token, shown in listings
  created_at: number;
  revoked_at: number | null;
}

export interface FileRecord {
  file_uid: string;
  org_uuid: string;
  file_id: string;
  file_type: string;
  num_bytes: number;
  sha256: string;
  blob_key: string;
  status: 'ready' | 'deleted';
  is_current: boolean;
  file_index: number;
  attributes: Record<string, unknown>;
  created_at: number;
  deleted_at: number | null;
}

/** 'batch': a /v0.5/batch/jobs job (docs/batch.md), stored in the same jobs table and run by the same workers. */
export type ApiVersion = 'v0.5' | 'v0.6' | 'batch';

export interface JobProgress {
  step: number;
  total_steps: number | null;
  epoch: number | null;
  phase: string | null;
  eta_seconds: number | null;
}

export interface JobError {
  code: string;
  message: string;
}

/** The file versions a job trains on, fixed at create (docs/spec.md#files: later deletes never change them). */
export interface DatasetSnapshot {
  name: string;
  split: 'train' | 'eval';
  files: Array<{ file_id: string; file_uid: string; label?: string }>;
}

export interface Job {
  uuid: string;
  org_uuid: string;
  id: string;
  name: string;
  api_version: ApiVersion;
  model: string;
  status: JobStatus;
  config: Record<string, unknown>;
  datasets: DatasetSnapshot[];
  request_hash: string;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  inference_config_path: string | null;
  error: JobError | null;
  progress: JobProgress | null;
  attempts: number; // attempts started so far
  current_attempt_id: string | null;
  stop_requested_at: number | null;
  hyperparameters: Record<string, unknown> | null;
}

/**
 * A job as list pages show it: the record's own columns, with the JSON columns left as the text the
 * store holds (written by JSON.stringify), so a page of 100 is assembled without parsing and
 * re-serialising 300 objects (docs/benchmarks-core.md: 1,455 → ~460 µs per page).
 */
export interface JobView {
  name: string;
  id: string;
  uuid: string;
  org_uuid: string;
  status: string;
  created_at: number;
  updated_at: number;
  inference_config_path: string | null;
  config_json: string;
  error_json: string | null;
  progress_json: string | null;
  /** Bumped by every write to the job's row (a database trigger): equal versions, equal records. */
  row_version: number;
}

/** Which job, in which version: a list page's rows as its index holds them (no row read). */
export interface JobViewKey {
  uuid: string;
  row_version: number;
}

export interface Attempt {
  id: string;
  job_uuid: string;
  number: number; // 1-based
  worker_id: string;
  lease_token: number; // fencing token, strictly increasing per job
  lease_expires_at: number;
  state: 'active' | 'finished' | 'lost';
  started_at: number;
  ended_at: number | null;
}

export interface Checkpoint {
  id: string; // ckp_…
  job_uuid: string;
  attempt_id: string;
  step: number;
  name: string;
  blob_key: string;
  num_bytes: number;
  sha256: string;
  metrics: Record<string, number>;
  /** What inference needs to know, from the trainer: labels, reader/window settings, format. */
  meta: Record<string, unknown>;
  created_at: number;
}

export type EventLevel = 'info' | 'warn' | 'error';

export interface JobEvent {
  id: string;
  job_uuid: string;
  seq: number;
  level: EventLevel;
  type: string;
  message: string;
  data: Record<string, unknown> | null;
  created_at: number;
}

export interface MetricEntry {
  job_uuid: string;
  step: number;
  values: Record<string, number>;
  created_at: number;
}

export interface WorkerRecord {
  id: string;
  node: string;
  kind: 'builtin' | 'remote';
  concurrency: number;
  active_jobs: number;
  last_seen_at: number;
  started_at: number;
}
