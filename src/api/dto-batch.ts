/**
 * Wire shapes of /v0.5/batch/jobs (docs/spec.md#batch-jobs, docs/batch.md): the batch job record, its
 * status words, events, progress entries and outputs. Batch records use whole-second UTC timestamps
 * (`2026-04-14T10:00:00Z`), unlike fine-tune records (six fractional digits).
 */
import type { JobStatus } from '../domain/status.js';
import type { Job, JobEvent } from '../domain/types.js';

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * Batch status words. STOPPED cannot happen through the batch API (it has cancel, not stop); a job
 * stopped some other way ended early with partial outputs, so it reads CANCELLED, not COMPLETED.
 */
export function batchStatus(s: JobStatus): string {
  switch (s) {
    case 'REGISTERED':
      return 'PENDING';
    case 'STARTING':
      return 'ADMITTED';
    case 'RUNNING':
    case 'FINALIZING':
    case 'STOPPING':
      return 'RUNNING';
    case 'STOPPED':
      return 'CANCELLED';
    default:
      return s; // COMPLETED, FAILED, CANCELLED
  }
}

/** Batch words → stored statuses, for `?statuses=`. PREEMPTED is a documented word that ftnode never uses. */
export const BATCH_STATUS_WORDS: Record<string, JobStatus[]> = {
  PENDING: ['REGISTERED'],
  ADMITTED: ['STARTING'],
  RUNNING: ['RUNNING', 'FINALIZING', 'STOPPING'],
  COMPLETED: ['COMPLETED'],
  FAILED: ['FAILED'],
  CANCELLED: ['CANCELLED', 'STOPPED'],
  PREEMPTED: [],
};

export function batchJobDto(j: Job): Record<string, unknown> {
  const c = j.config as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    id: j.id,
    uuid: j.uuid,
    org_uuid: j.org_uuid,
    name: j.name,
    pipeline_type: c.pipeline_type ?? 'batch',
    pipeline_key: c.pipeline_key ?? j.model,
    pipeline_version: c.pipeline_version ?? null,
    status: batchStatus(j.status),
    inputs: c.inputs ?? {},
    parameters: c.parameters ?? {},
    checkpoint_id: c.checkpoint?.checkpoint_id ?? null,
    error: j.error,
    progress: j.progress ? { windows_done: j.progress.step, windows_total: j.progress.total_steps, phase: j.progress.phase } : null,
    created_at: isoSeconds(j.created_at),
    updated_at: isoSeconds(j.updated_at),
  };
}

export function batchEventDto(e: JobEvent): Record<string, unknown> {
  return { level: e.level, event_type: e.type, message: e.message, created_at: isoSeconds(e.created_at) };
}

/** A progress entry of the service (batch-service.ts ProgressEntry) with its time formatted. */
export function progressEntryDto<T extends { created_at: number }>(p: T): Omit<T, 'created_at'> & { created_at: string } {
  return { ...p, created_at: isoSeconds(p.created_at) };
}

/**
 * `ref` is chosen by the service (docs/batch.md "Output refs"): a path relative to the version root
 * (`/batch/jobs/{id}/outputs/{filename}`, fetched as `{base ending in /v0.5}{ref}` with the key) or a
 * presigned absolute URL (fetched as it is, no key).
 */
export function outputDto(o: { filename: string; num_bytes: number; sha256: string; input_file_id: string }, ref: string): Record<string, unknown> {
  return { data: { filename: o.filename, ref, num_bytes: o.num_bytes, sha256: o.sha256, input_file_id: o.input_file_id } };
}
