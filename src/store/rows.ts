/**
 * Row ↔ record mapping shared by the SQL stores: JSON columns, booleans and nullable fields.
 * Both dialects select the same column names, so one mapping serves both.
 */
import type { JobStatus } from '../domain/status.js';
import type { ApiKeyRecord, Attempt, Checkpoint, FileRecord, Job, JobEvent, JobView, MetricEntry, WorkerRecord } from '../domain/types.js';
import type { UploadPart, UploadRecord, UploadState } from './store.js';

type Row = Record<string, unknown>;

const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : (JSON.parse(String(v)) as T));
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function jobFromRow(r: Row): Job {
  return {
    uuid: String(r.uuid),
    org_uuid: String(r.org_uuid),
    id: String(r.id),
    name: String(r.name),
    api_version: r.api_version as Job['api_version'],
    model: String(r.model),
    status: r.status as JobStatus,
    config: json(r.config, {}),
    datasets: json(r.datasets, []),
    request_hash: String(r.request_hash),
    idempotency_key: (r.idempotency_key as string | null) ?? null,
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
    inference_config_path: (r.inference_config_path as string | null) ?? null,
    error: json(r.error, null),
    progress: json(r.progress, null),
    attempts: num(r.attempts),
    current_attempt_id: (r.current_attempt_id as string | null) ?? null,
    stop_requested_at: numOrNull(r.stop_requested_at),
    hyperparameters: json(r.hyperparameters, null),
  };
}

export function jobToParams(j: Job): Row {
  return {
    uuid: j.uuid,
    org_uuid: j.org_uuid,
    id: j.id,
    name: j.name,
    api_version: j.api_version,
    model: j.model,
    status: j.status,
    config: JSON.stringify(j.config),
    datasets: JSON.stringify(j.datasets),
    request_hash: j.request_hash,
    idempotency_key: j.idempotency_key,
    created_at: j.created_at,
    updated_at: j.updated_at,
    inference_config_path: j.inference_config_path,
    error: j.error ? JSON.stringify(j.error) : null,
    progress: j.progress ? JSON.stringify(j.progress) : null,
    attempts: j.attempts,
    current_attempt_id: j.current_attempt_id,
    stop_requested_at: j.stop_requested_at,
    hyperparameters: j.hyperparameters ? JSON.stringify(j.hyperparameters) : null,
  };
}

export const JOB_VIEW_COLUMNS = 'name, id, uuid, org_uuid, status, created_at, updated_at, inference_config_path, row_version';

export function jobViewFromRow(r: Row): JobView {
  return {
    name: String(r.name),
    id: String(r.id),
    uuid: String(r.uuid),
    org_uuid: String(r.org_uuid),
    status: String(r.status),
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
    inference_config_path: (r.inference_config_path as string | null) ?? null,
    config_json: String(r.config_json),
    error_json: (r.error_json as string | null) ?? null,
    progress_json: (r.progress_json as string | null) ?? null,
    row_version: num(r.row_version),
  };
}

export function fileFromRow(r: Row): FileRecord {
  return {
    file_uid: String(r.file_uid),
    org_uuid: String(r.org_uuid),
    file_id: String(r.file_id),
    file_type: String(r.file_type),
    num_bytes: num(r.num_bytes),
    sha256: String(r.sha256),
    blob_key: String(r.blob_key),
    status: r.status as FileRecord['status'],
    is_current: Boolean(r.is_current),
    file_index: num(r.file_index),
    attributes: json(r.attributes, {}),
    created_at: num(r.created_at),
    deleted_at: numOrNull(r.deleted_at),
  };
}

export function attemptFromRow(r: Row): Attempt {
  return {
    id: String(r.id),
    job_uuid: String(r.job_uuid),
    number: num(r.number),
    worker_id: String(r.worker_id),
    lease_token: num(r.lease_token),
    lease_expires_at: num(r.lease_expires_at),
    state: r.state as Attempt['state'],
    started_at: num(r.started_at),
    ended_at: numOrNull(r.ended_at),
  };
}

export function checkpointFromRow(r: Row): Checkpoint {
  return {
    id: String(r.id),
    job_uuid: String(r.job_uuid),
    attempt_id: String(r.attempt_id),
    step: num(r.step),
    name: String(r.name),
    blob_key: String(r.blob_key),
    num_bytes: num(r.num_bytes),
    sha256: String(r.sha256),
    metrics: json(r.metrics, {}),
    meta: json(r.meta, {}),
    created_at: num(r.created_at),
  };
}

export function eventFromRow(r: Row): JobEvent {
  return {
    id: String(r.id),
    job_uuid: String(r.job_uuid),
    seq: num(r.seq),
    level: r.level as JobEvent['level'],
    type: String(r.type),
    message: String(r.message),
    data: json(r.data, null),
    created_at: num(r.created_at),
  };
}

export function metricFromRow(r: Row): MetricEntry {
  return { job_uuid: String(r.job_uuid), step: num(r.step), values: json(r.vals, {}), created_at: num(r.created_at) };
}

export function apiKeyFromRow(r: Row): ApiKeyRecord {
  return {
    id: String(r.id),
    org_uuid: String(r.org_uuid),
    name: String(r.name),
    prefix: String(r.prefix),
    created_at: num(r.created_at),
    revoked_at: numOrNull(r.revoked_at),
  };
}

export function workerFromRow(r: Row): WorkerRecord {
  return {
    id: String(r.id),
    node: String(r.node),
    kind: r.kind as WorkerRecord['kind'],
    concurrency: num(r.concurrency),
    active_jobs: num(r.active_jobs),
    last_seen_at: num(r.last_seen_at),
    started_at: num(r.started_at),
  };
}

export function uploadFromRow(r: Row): UploadRecord {
  return {
    upload_id: String(r.upload_id), org_uuid: String(r.org_uuid), file_id: String(r.file_id), file_uid: String(r.file_uid),
    file_type: String(r.file_type), num_bytes: Number(r.num_bytes), part_size: Number(r.part_size), num_parts: Number(r.num_parts),
    state: r.state as UploadState, created_at: Number(r.created_at), updated_at: Number(r.updated_at),
  };
}

/** `checkpointed` is BOOLEAN on PostgreSQL and 0/1 on SQLite. */
export function partFromRow(r: Row): UploadPart {
  return {
    upload_id: String(r.upload_id), part_number: Number(r.part_number), token: String(r.token), num_bytes: Number(r.num_bytes),
    staged_name: String(r.staged_name), crc32c: r.crc32c === null || r.crc32c === undefined ? null : Number(r.crc32c),
    checkpointed: r.checkpointed === true || Number(r.checkpointed) === 1, created_at: Number(r.created_at),
  };
}
