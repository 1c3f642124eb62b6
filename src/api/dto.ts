/** Records → wire shapes (v0.5 job record exactly as docs/spec.md#the-v05-job-record, events, checkpoints, metrics). */
import type { Checkpoint, Job, JobEvent, JobView } from '../domain/types.js';
import { isoMicros } from '../domain/time.js';

export function jobDto(j: Job): Record<string, unknown> {
  return {
    name: j.name,
    id: j.id,
    uuid: j.uuid,
    org_uuid: j.org_uuid,
    status: j.status,
    config: j.config,
    created_at: isoMicros(j.created_at),
    updated_at: isoMicros(j.updated_at),
    inference_config_path: j.inference_config_path,
    error: j.error,
    progress: j.progress,
  };
}

/**
 * jobDto(j) as JSON text, assembled from a JobView: the JSON columns are spliced in as stored (they
 * were written by JSON.stringify, so the bytes equal JSON.stringify(jobDto(j)); a test checks it).
 */
export function jobViewJson(v: JobView): string {
  const str = JSON.stringify;
  return `{"name":${str(v.name)},"id":${str(v.id)},"uuid":${str(v.uuid)},"org_uuid":${str(v.org_uuid)},"status":${str(v.status)},` +
    `"config":${v.config_json},"created_at":"${isoMicros(v.created_at)}","updated_at":"${isoMicros(v.updated_at)}",` +
    `"inference_config_path":${str(v.inference_config_path)},"error":${v.error_json ?? 'null'},"progress":${v.progress_json ?? 'null'}}`;
}

export function eventDto(e: JobEvent): Record<string, unknown> {
  return { id: e.id, seq: e.seq, created_at: isoMicros(e.created_at), level: e.level, type: e.type, event_type: e.type, message: e.message, data: e.data };
}

export function checkpointDto(c: Checkpoint): Record<string, unknown> {
  return { id: c.id, name: c.name, step: c.step, metrics: c.metrics, num_bytes: c.num_bytes, sha256: c.sha256, created_at: isoMicros(c.created_at) };
}
