/**
 * v0.5 fine-tune jobs: POST /v0.5/fine-tune/jobs body → a JobDraft (domain/drafts.ts) for the
 * service's JobCreator. `model` defaults to the catalog's default text model; `hyperparameters`
 * anywhere in the body are refused (chosen from the dataset size), reported together with the
 * service's own checks; datasets keep their names and splits, one file per `file_ids` entry.
 */
import { DEFAULT_MODEL_ID } from '../domain/catalog.js';
import type { JobDraft } from '../domain/drafts.js';
import { FtError, type ErrorDetail } from '../domain/errors.js';
import type { CreateJobV05 } from './schemas.js';

/** `idempotencyKey`: the Idempotency-Key header as sent (kept to 255 characters). */
export function draftV05(org_uuid: string, body: CreateJobV05 | null | undefined, idempotencyKey: unknown): JobDraft {
  if (body === undefined || body === null || typeof body !== 'object') throw new FtError('missing_parameter', 'the request body must be a JSON object with name and config');
  const problems: ErrorDetail[] = [];
  if ('hyperparameters' in body || 'hyperparameters' in body.config) {
    problems.push({ code: 'invalid_parameter', message: 'hyperparameters are not accepted: epochs, learning rate and batch size are chosen from the dataset size (see the job events and metrics)' });
  }
  const model = body.config.model ?? DEFAULT_MODEL_ID;
  return {
    org_uuid,
    api_version: 'v0.5',
    client_id: body.id,
    name: body.name,
    model,
    config: { ...body.config, model },
    datasets: body.config.datasets.map((d) => ({ name: d.name, split: d.split, files: d.file_ids.map((file_id) => ({ file_id })) })),
    request: { name: body.name, id: body.id, config: body.config },
    idempotency_key: idempotencyKeyOf(idempotencyKey),
    id_prefix: 'ftj-',
    model_kind: 'text',
    problems, // reported together with the model kind, id, model and file checks
  };
}

/** The Idempotency-Key header: a non-empty string, at most 255 characters kept; anything else is none. */
export function idempotencyKeyOf(header: unknown): string | undefined {
  return typeof header === 'string' && header ? header.slice(0, 255) : undefined;
}
