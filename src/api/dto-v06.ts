/**
 * v0.6 wire shapes (OpenAI-style, docs/spec.md#extensions-and-v06): statuses mapped as that section says, lists as
 * `{object: "list", data, has_more}`, times as Unix seconds (OpenAI's convention).
 */
import { v06Status } from '../domain/status.js';
import type { Checkpoint, Job, JobEvent } from '../domain/types.js';

const unix = (ms: number): number => Math.floor(ms / 1000);

export function jobDtoV06(j: Job): Record<string, unknown> {
  const c = j.config as Record<string, unknown>;
  const terminal = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'].includes(j.status);
  return {
    object: 'fine_tuning.job',
    id: j.id,
    uuid: j.uuid,
    org_uuid: j.org_uuid,
    name: j.name,
    model: j.model,
    status: v06Status(j.status),
    v05_status: j.status,
    created_at: unix(j.created_at),
    updated_at: unix(j.updated_at),
    finished_at: terminal ? unix(j.updated_at) : null,
    seed: c.seed ?? 0,
    method: c.method ?? null,
    training_files: c.training_files ?? [],
    validation_files: c.validation_files ?? [],
    hyperparameters: j.hyperparameters,
    // Omega has no model handle: clients use the best checkpoint's ckp_ id (docs/spec.md#extensions-and-v06).
    fine_tuned_model: null,
    inference_config_path: j.inference_config_path,
    error: j.error,
    progress: j.progress,
  };
}

export function eventDtoV06(e: JobEvent): Record<string, unknown> {
  return { object: 'fine_tuning.job.event', id: e.id, created_at: unix(e.created_at), level: e.level, type: e.type, event_type: e.type, message: e.message, data: e.data };
}

export function checkpointDtoV06(c: Checkpoint, jobId: string): Record<string, unknown> {
  return {
    object: 'fine_tuning.job.checkpoint',
    id: c.id,
    fine_tuning_job_id: jobId,
    name: c.name,
    step: c.step,
    metrics: c.metrics,
    num_bytes: c.num_bytes,
    sha256: c.sha256,
    created_at: unix(c.created_at),
  };
}

export function list<T>(data: T[], hasMore = false): { object: 'list'; data: T[]; has_more: boolean } {
  return { object: 'list', data, has_more: hasMore };
}
