/**
 * Job creation, shared by v0.5 and v0.6: id rules, idempotent retries (same client id or
 * Idempotency-Key with an identical body → the existing job; a different body → 409), model
 * resolution, file snapshots (every missing id in one 400) and dataset validation. Nothing is stored
 * unless every check passes.
 */
import { createEndpointFor, type Catalog, type CatalogEntry } from '../../domain/catalog.js';
import { FtError, type ErrorDetail } from '../../domain/errors.js';
import type { JobDraft } from '../../domain/drafts.js';
import type { DatasetSnapshot, Job } from '../../domain/types.js';
import { randomHex, slug, uuid } from '../../lib/ids.js';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import { datasetPaths, problemDetails } from '../dataset-paths.js';
import type { ServiceCore } from '../deps.js';
import type { FilesService } from '../files/files-service.js';

export type { JobDraft };

export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface JobCreatorDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'catalog' | 'clock' | 'bus' | 'events' | 'hooks'> {
  files: FilesService;
}

export class JobCreator {
  private readonly store: JobCreatorDeps['store'];
  private readonly catalog: Catalog;

  constructor(private readonly d: JobCreatorDeps) {
    this.store = d.store;
    this.catalog = d.catalog;
  }

  modelEntry(model: string): CatalogEntry {
    const entry = this.catalog[model];
    if (!entry) throw FtError.many(this.missingModel(model));
    return entry;
  }

  private missingModel(model: string): ErrorDetail[] {
    return [{ code: 'model_not_found', message: `model '${model}' is not in the catalog; available: ${Object.keys(this.catalog).join(', ')}` }];
  }

  /** A model of another API family's kind, and a job with nothing to train on, are refused. */
  private productRules(d: JobDraft): ErrorDetail[] {
    const out: ErrorDetail[] = [];
    const entry = this.catalog[d.model];
    if (entry && entry.kind !== d.model_kind) {
      out.push({ code: 'invalid_parameter', message: `model '${d.model}' is a ${entry.kind} model: create its jobs with ${createEndpointFor(entry.kind)}` });
    }
    if (!d.datasets.some((x) => x.split === 'train')) out.push({ code: 'invalid_parameter', message: "config.datasets needs at least one dataset with split 'train'" });
    return out;
  }

  async create(d: JobDraft): Promise<{ job: Job; created: boolean }> {
    // Every problem of the request comes back in one answer (docs/spec.md#wire-conventions): the route's, the id's,
    // the model's and every missing file. Dataset contents are checked only once all of those pass.
    const problems: ErrorDetail[] = [...(d.problems ?? []), ...this.productRules(d)];
    if (d.client_id !== undefined && !JOB_ID_PATTERN.test(d.client_id)) {
      problems.push({ code: 'invalid_parameter', message: `id '${d.client_id.slice(0, 80)}' must match ${JOB_ID_PATTERN.source} (1-64 characters, no '/')` });
    }
    const request_hash = sha256Hex(canonicalJson(d.request));
    // A request with problems was never stored, so it cannot be a retry: answer its problems, not 409.
    const prior = problems.length === 0 ? await this.findPrior(d) : null;
    if (prior) return this.replay(prior, request_hash, d);
    const entry = this.catalog[d.model];
    if (!entry) for (const p of this.missingModel(d.model)) problems.push(p);
    const datasets = await this.snapshot(d, problems);
    // A bad reference in the body is a 400, file_not_found included.
    if (!entry || !datasets || problems.length > 0) throw FtError.many(problems).in('request');
    await this.validateData(entry, d, datasets);
    const now = this.d.clock.now();
    const job: Job = {
      uuid: uuid(), org_uuid: d.org_uuid, id: d.client_id ?? this.generateId(d.name, d.id_prefix), name: d.name,
      api_version: d.api_version, model: d.model, status: 'REGISTERED', config: d.config, datasets, request_hash,
      idempotency_key: d.idempotency_key ?? null, created_at: now, updated_at: now, inference_config_path: null,
      error: null, progress: null, attempts: 0, current_attempt_id: null, stop_requested_at: null, hyperparameters: null,
    };
    const result = await this.store.createJob(job, { level: 'info', type: 'job_registered', message: `Job ${job.id} registered for model ${d.model}` });
    if (!result.created) return this.replay(result.job, request_hash, d); // lost a race with an identical id
    this.d.bus.emit('job-changed', result.job);
    this.d.bus.emit('work-queued');
    this.d.events.emit('jobCreated', { job: result.job });
    return result;
  }

  private async findPrior(d: JobDraft): Promise<Job | null> {
    if (d.client_id !== undefined) return this.store.getJob(d.org_uuid, d.client_id);
    if (d.idempotency_key) return this.store.findJobByIdempotencyKey(d.org_uuid, d.idempotency_key);
    return null;
  }

  private replay(prior: Job, request_hash: string, d: JobDraft): { job: Job; created: boolean } {
    if (prior.request_hash === request_hash && prior.api_version === d.api_version) return { job: prior, created: false };
    const what = d.client_id !== undefined && prior.id === d.client_id ? `id '${d.client_id}'` : `Idempotency-Key '${d.idempotency_key}'`;
    throw new FtError('job_already_exists', `a job with ${what} already exists with a different request body`);
  }

  private generateId(name: string, prefix: string): string {
    // prefix (4) + slug + '-' (1) + 8 hex = at most 64 characters
    return `${prefix}${slug(name, 64 - prefix.length - 9)}-${randomHex(8)}`;
  }

  /** The file_uids the job will use; null (with a problem per missing id added) when some are missing. */
  private async snapshot(d: JobDraft, problems: ErrorDetail[]): Promise<DatasetSnapshot[] | null> {
    const ids = d.datasets.flatMap((ds) => ds.files.map((f) => f.file_id));
    let found;
    try {
      found = await this.d.files.resolveMany(d.org_uuid, ids);
    } catch (err) {
      if (!(err instanceof FtError)) throw err;
      for (const p of err.details) problems.push(p); // one per missing file id: as many as the request names
      return null;
    }
    return d.datasets.map((ds) => ({
      name: ds.name,
      split: ds.split,
      files: ds.files.map((f) => ({ file_id: f.file_id, file_uid: found.get(f.file_id)!.file_uid, ...(f.label !== undefined ? { label: f.label } : {}) })),
    }));
  }

  private async validateData(entry: CatalogEntry, d: JobDraft, datasets: DatasetSnapshot[]): Promise<void> {
    const problems = await this.d.hooks.validate(entry, { config: d.config, datasets: await datasetPaths(this.d, d.org_uuid, datasets) });
    if (problems.length > 0) throw FtError.many(problemDetails(problems));
  }
}
