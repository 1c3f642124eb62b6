/**
 * Wire types the client reads and sends. Request bodies and the v0.5 job record come straight from the
 * TypeBox schemas in src/api (Static<> types, imported as types only so the compiled client has no
 * runtime dependency and runs in a browser); the other answers mirror the DTO functions in src/api
 * (dto.ts, dto-v06.ts) and the files routes, field for field.
 */
import type { Static } from '@sinclair/typebox';
import type { CreateJobV05 as CreateJobV05Schema, JobRecord, PredictBody as PredictBodySchema } from '../api/schemas.js';
import type { CreateJobV06 as CreateJobV06Schema } from '../api/schemas-v06.js';
import type { ErrorEnvelope, WireError } from '../api/envelope.js';

export type { ErrorEnvelope, WireError };
export type Job = Static<typeof JobRecord>;
export type JobStatus = Job['status'];
export type JobProgress = NonNullable<Job['progress']>;
export type CreateJobV05 = Static<typeof CreateJobV05Schema>;
export type CreateJobV06 = Static<typeof CreateJobV06Schema>;
export type PredictBody = Static<typeof PredictBodySchema>;

export const TERMINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
export const isTerminalStatus = (s: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(s);

/** api/dto.ts eventDto. */
export interface JobEvent {
  id: string;
  seq: number;
  created_at: string;
  level: 'info' | 'warn' | 'error';
  type: string;
  event_type: string;
  message: string;
  data: Record<string, unknown> | null;
}

/** api/dto.ts checkpointDto. */
export interface Checkpoint {
  id: string;
  name: string;
  step: number;
  metrics: Record<string, number>;
  num_bytes: number;
  sha256: string;
  created_at: string;
}

/** GET …/metrics: one entry per step (training and eval values merged), ascending. */
export interface MetricsPage {
  last_checkpoint_step: number;
  metrics: Array<Record<string, number> & { step: number }>;
  /** ftnode extension (absent on other servers): where each checkpoint sits on the metrics' step axis. */
  checkpoints?: Array<{ id: string; name: string; step: number; metrics_step: number }>;
}

export interface DataList<T> {
  data: T[];
}

export interface DeleteJobResult {
  is_valid: true;
  id: string;
  uuid: string;
}

export interface PredictResult {
  job_id: string;
  checkpoint_id: string;
  step: number;
  stand_in: boolean;
  predictions: unknown[];
}

export interface Model {
  id: string;
  trainer: string;
  kind: 'text' | 'timeseries' | string;
  stand_in: boolean;
  description: string | null;
  api: string;
}

export interface FleetStatus {
  status: 'READY' | 'BUSY' | 'STALE' | 'ERROR' | string;
  updated_at: string;
  workers: number;
  live_workers: number;
  active_jobs: number;
  queue_depth: number;
  jobs_by_status: Record<string, number>;
}

/** v0.6 job (api/dto-v06.ts jobDtoV06): OpenAI-style statuses, Unix-second times. */
export interface JobV06 {
  object: 'fine_tuning.job';
  id: string;
  uuid: string;
  org_uuid: string;
  name: string;
  model: string;
  status: string;
  v05_status: JobStatus;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  hyperparameters: Record<string, unknown> | null;
  inference_config_path: string | null;
  error: { code: string; message: string } | null;
  progress: JobProgress | null;
  [key: string]: unknown;
}

export interface ListV06<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

export interface EventV06 {
  object: 'fine_tuning.job.event';
  id: string;
  created_at: number;
  level: string;
  type: string;
  message: string;
  data: Record<string, unknown> | null;
}

export interface CheckpointV06 {
  object: 'fine_tuning.job.checkpoint';
  id: string;
  fine_tuning_job_id: string;
  name: string;
  step: number;
  metrics: Record<string, number>;
  num_bytes: number;
  sha256: string;
  created_at: number;
}

/** POST /v0.5/files, /v0.5/files/base64 and DELETE /v0.5/files/delete/{id}. */
export interface FileRef {
  is_valid: boolean;
  file_id: string;
  file_uid: string;
}

/** GET /v0.5/files/metadata[/{id}] (docs/spec.md#files). */
export interface FileMetadata {
  file_id: string;
  file_uid: string;
  file_type: string;
  num_bytes: number;
  file_status: string;
  ingested: boolean;
  file_index: number;
  file_tags: Record<string, unknown>;
  file_attributes: Record<string, unknown>;
  is_valid?: boolean;
}

export interface FilesInfo {
  num_files: number;
  num_bytes: number;
  num_ingested: number;
  last_updated: number;
}

/** Direct (multipart) uploads, docs/spec.md#files. */
export interface UploadPart {
  part_number: number; // 0-based
  url: string;
  offset: number;
  length: number;
  expires_at: string | number;
}

export interface InitiateUploadBody {
  filename: string;
  file_type: string;
  num_bytes: number;
  resume_if_started?: boolean;
}

export interface InitiatedUpload {
  upload_id: string;
  file_uid: string;
  file_name: string;
  total_bytes: number;
  num_parts: number;
  part_size: number;
  is_resume: boolean;
  parts: UploadPart[];
  integrity_algorithm?: string;
}

export interface PartToken {
  part_number: number;
  part_token: string;
}

export interface CompletedUpload {
  file_uid: string;
  file_name: string;
  num_bytes: number;
  file_status: string;
  file_attributes: Record<string, unknown>;
}

/** api/dto-batch.ts batchJobDto (docs/batch.md): batch status words, whole-second times. */
export interface BatchJob {
  id: string;
  uuid: string;
  org_uuid: string;
  name: string;
  pipeline_type: string;
  pipeline_key: string;
  pipeline_version: string | null;
  status: 'PENDING' | 'ADMITTED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'PREEMPTED' | string;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  checkpoint_id: string | null;
  error: { code: string; message: string } | null;
  progress: { windows_done: number; windows_total: number | null; phase: string | null } | null;
  created_at: string;
  updated_at: string;
}

export const BATCH_TERMINAL: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export interface BatchPage {
  total: number;
  offset: number;
  limit: number;
}

export interface BatchOutput {
  filename: string;
  /** Relative to the version root (`/batch/jobs/{id}/outputs/{name}`) or a presigned absolute URL. */
  ref: string;
  num_bytes: number;
  sha256: string;
  input_file_id: string;
}

export interface BatchEvent {
  level: string;
  event_type: string;
  message: string;
  created_at: string;
}
