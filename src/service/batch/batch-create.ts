/**
 * Batch job creation (POST /v0.5/batch/jobs, docs/batch.md): the checked request (api/drafts-batch.ts)
 * → file snapshots (file_uids, as fine-tune jobs) → the attached checkpoint resolved within the org
 * → the trainer's cheap content checks (CSV headers against the columns in force, n_shots files in
 * full) → one row in the jobs table (`api_version: 'batch'`, `model` = pipeline key, id `job_…`).
 * Every problem found comes back in one 400; nothing is stored unless all checks pass.
 * Datasets: the port names, `worker.inference` as split 'eval' (classified, never trained on) and
 * `worker.n_shots` as split 'train' with `label` = metadata.class (absent when a checkpoint is attached).
 */
import { PORTS, type BatchRequest } from '../../domain/drafts.js';
import { FtError, type ErrorDetail } from '../../domain/errors.js';
import type { Checkpoint, DatasetSnapshot, FileRecord, Job } from '../../domain/types.js';
import { typeId, uuid } from '../../lib/ids.js';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import type { NewEvent } from '../../store/store.js';
import { datasetPaths, problemDetails } from '../dataset-paths.js';
import type { ServiceCore } from '../deps.js';
import type { FilesService } from '../files/files-service.js';
import { FINE_TUNE_API_VERSIONS } from '../jobs/jobs-service.js';

/** What the job's config records about the attached checkpoint; the bytes are found again at claim. */
export interface CheckpointRef {
  checkpoint_id: string;
  job_id: string;
  job_uuid: string;
  step: number;
}

export interface BatchCreatorDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'catalog' | 'clock' | 'bus' | 'events' | 'hooks'> {
  files: FilesService;
}

export class BatchCreator {
  private readonly store: BatchCreatorDeps['store'];

  constructor(private readonly d: BatchCreatorDeps) {
    this.store = d.store;
  }

  /** `req`: the body as drafts-batch.ts checked it; `body`: as sent (its hash is the record's request_hash). */
  async create(org_uuid: string, req: BatchRequest, body: unknown): Promise<Job> {
    const problems: ErrorDetail[] = [];
    const found = await this.resolveFiles(org_uuid, req, problems);
    const ckpt = req.checkpointId ? await this.findCheckpoint(org_uuid, req.checkpointId) : null;
    if (req.checkpointId && !ckpt) {
      problems.push({ code: 'checkpoint_not_found', message: `checkpoint '${req.checkpointId}' not found: it must be a committed checkpoint of a time-series (omega) fine-tune job of this organization` });
    }
    const id = typeId('job');
    const outputs = outputNames(req.name ?? id, req.inference.map((f) => f.file_id), problems);
    const datasets: DatasetSnapshot[] = [
      { name: PORTS.inference, split: 'eval', files: req.inference.filter((f) => found.has(f.file_id)).map((f) => ({ file_id: f.file_id, file_uid: found.get(f.file_id)!.file_uid })) },
    ];
    if (!ckpt) {
      datasets.push({
        name: PORTS.nShots, split: 'train',
        files: req.nShots.filter((f) => found.has(f.file_id)).map((f) => ({ file_id: f.file_id, file_uid: found.get(f.file_id)!.file_uid, label: String(f.metadata.class) })),
      });
    }
    const config = {
      name: req.name, pipeline_type: 'batch', pipeline_key: req.pipeline_key, pipeline_version: req.pipeline_version,
      inputs: req.inputs,
      parameters: { ...req.otherParameters, worker: { parallelism: req.parallelism, config: req.workerConfig } },
      checkpoint: ckpt ? { checkpoint_id: ckpt.checkpoint.id, job_id: ckpt.job.id, job_uuid: ckpt.job.uuid, step: ckpt.checkpoint.step } satisfies CheckpointRef : null,
      outputs,
    };
    // Content checks need the files (and checkpoint) that resolved; their problems join the others.
    for (const p of await this.checkContents(req, config, datasets, org_uuid, ckpt?.checkpoint ?? null)) problems.push(p); // one per input file at most
    if (problems.length > 0) throw FtError.many(problems).in('request');
    const now = this.d.clock.now();
    const job: Job = {
      uuid: uuid(), org_uuid, id, name: req.name ?? id, api_version: 'batch', model: req.pipeline_key, status: 'REGISTERED', config, datasets,
      request_hash: sha256Hex(canonicalJson(body)), idempotency_key: null, created_at: now, updated_at: now, inference_config_path: null,
      error: null, progress: null, attempts: 0, current_attempt_id: null, stop_requested_at: null, hyperparameters: null,
    };
    const what = ckpt ? `checkpoint ${ckpt.checkpoint.id} of ${ckpt.job.id} (step ${ckpt.checkpoint.step})` : `a few-shot knn from ${req.nShots.length} n_shots files`;
    const result = await this.store.createJob(job, { level: 'info', type: 'job_registered', message: `Batch job ${id} registered: pipeline ${req.pipeline_key} v${req.pipeline_version}, ${req.inference.length} input files, ${what}` });
    const mapped = modelMapping(req, ckpt !== null);
    if (mapped) await this.store.appendEvent(job.uuid, now, mapped);
    this.d.bus.emit('job-changed', result.job);
    this.d.bus.emit('work-queued');
    this.d.events.emit('jobCreated', { job: result.job });
    return result.job;
  }

  private async resolveFiles(org_uuid: string, req: BatchRequest, problems: ErrorDetail[]): Promise<Map<string, FileRecord>> {
    const ids = [...req.inference.map((f) => f.file_id), ...(req.checkpointId ? [] : req.nShots.map((f) => f.file_id))];
    try {
      return await this.d.files.resolveMany(org_uuid, ids);
    } catch (err) {
      if (!(err instanceof FtError)) throw err;
      for (const p of err.details) problems.push(p);
      const found = new Map<string, FileRecord>();
      for (const id of ids) {
        const f = await this.store.getCurrentFile(org_uuid, id);
        if (f) found.set(id, f);
      }
      return found;
    }
  }

  /**
   * A checkpoint id is unique, but the Store finds checkpoints per job: scan the org's time-series
   * fine-tune jobs (one indexed lookup each; 1,000 jobs ≈ 10 ms on SQLite). Another org's id is "not found".
   */
  private async findCheckpoint(org_uuid: string, checkpoint_id: string): Promise<{ job: Job; checkpoint: Checkpoint } | null> {
    const jobs = await this.store.listJobs({ org_uuid, api_versions: FINE_TUNE_API_VERSIONS, limit: -1, offset: 0 });
    for (const job of jobs) {
      if (this.d.catalog[job.model]?.kind !== 'timeseries') continue;
      const checkpoint = await this.store.getCheckpoint(job.uuid, checkpoint_id);
      if (checkpoint) return { job, checkpoint };
    }
    return null;
  }

  private async checkContents(req: BatchRequest, config: Record<string, unknown>, datasets: DatasetSnapshot[], org_uuid: string, ckpt: Checkpoint | null): Promise<ErrorDetail[]> {
    const withPaths = await datasetPaths(this.d, org_uuid, datasets);
    // The checkpoint travels as a pseudo-dataset of the validation input only (never stored).
    if (ckpt) withPaths.push({ name: PORTS.checkpoint, split: 'eval', files: [{ file_id: ckpt.id, path: await this.d.blobs.localPath(ckpt.blob_key) }] });
    if (withPaths[0]!.files.length === 0 && !ckpt && (withPaths[1]?.files.length ?? 0) === 0) return [];
    return problemDetails(await this.d.hooks.validate(req.entry, { config, datasets: withPaths }));
  }
}

/** `[A-Za-z0-9._-]` only, no leading dot or dash, at most 100 characters: safe in any file system and URL. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 100);
}

/** `<job name or id>_output_<input stem>.csv` per input; two inputs with one output name are a 400. */
export function outputNames(base: string, fileIds: string[], problems: ErrorDetail[]): Array<{ input_file_id: string; filename: string }> {
  const prefix = safeName(base) || 'batch';
  const seen = new Map<string, string>();
  return fileIds.map((file_id, i) => {
    const stem = safeName(file_id.replace(/\.[^.]*$/, '')) || `input${i}`;
    const filename = `${prefix}_output_${stem}.csv`;
    const other = seen.get(filename);
    if (other !== undefined) problems.push({ code: 'invalid_parameter', message: `inputs ${other} and ${file_id} would both write ${filename}; rename one of the files` });
    seen.set(filename, file_id);
    return { input_file_id: file_id, filename };
  });
}

/** model_type / base_model_path name Archetype models ftnode does not have: say what serves instead. */
function modelMapping(req: BatchRequest, withCheckpoint: boolean): NewEvent | null {
  const c = req.workerConfig;
  const paths = Object.entries(c).flatMap(([k, v]) => (k === 'base_model_path' ? [v] : typeof v === 'object' && v !== null && 'base_model_path' in v ? [(v as Record<string, unknown>).base_model_path] : []));
  if (c.model_type === undefined && paths.length === 0) return null;
  const named = [c.model_type !== undefined ? `model_type ${JSON.stringify(c.model_type)}` : '', ...paths.map((p) => `base_model_path ${JSON.stringify(p)}`)].filter(Boolean).join(', ');
  const serves = withCheckpoint ? "the checkpoint's own encoder (ftnode's built-in stand-in encoder, fitted when it was trained)" : "ftnode's built-in few-shot classifier (window statistics of the n_shots windows, class-scaled nearest neighbours)";
  return { level: 'warn', type: 'model_mapped', message: `${named}: not a model ftnode has; ${serves} is used instead`, data: { model_type: c.model_type ?? null, base_model_paths: paths } };
}
