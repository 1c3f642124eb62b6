/**
 * v0.6 fine_tuning jobs: POST /v0.6/fine_tuning/jobs body (Omega) → a JobDraft (domain/drafts.ts).
 * `method.type` defaults to `head` and `seed` to 0 (both echoed in the record's config); the name
 * defaults to `<model>-<type>-fine-tune`; training and validation files become the datasets
 * `training_files` (split train) and `validation_files` (split eval), each file with its label.
 */
import type { JobDraft } from '../domain/drafts.js';
import { idempotencyKeyOf } from './drafts-v05.js';
import type { CreateJobV06 } from './schemas-v06.js';

export function draftV06(org_uuid: string, b: CreateJobV06, idempotencyKey: unknown): JobDraft {
  const type = b.method?.type ?? 'head';
  const config = { ...b, seed: b.seed ?? 0, method: { ...(b.method ?? {}), type } };
  return {
    org_uuid,
    api_version: 'v0.6',
    client_id: b.id,
    name: b.name ?? `${b.model}-${type}-fine-tune`,
    model: b.model,
    config,
    datasets: [
      { name: 'training_files', split: 'train', files: b.training_files.map((f) => ({ file_id: f.file_id, label: f.label })) },
      { name: 'validation_files', split: 'eval', files: b.validation_files.map((f) => ({ file_id: f.file_id, label: f.label })) },
    ],
    request: b,
    idempotency_key: idempotencyKeyOf(idempotencyKey),
    id_prefix: 'ftj_',
    model_kind: 'timeseries',
  };
}
