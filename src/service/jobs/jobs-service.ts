/**
 * User-facing job use-cases: read, list, stop, cancel, delete, metrics, events, checkpoints,
 * inference config and prediction. Stop and cancel read the status, look the action up in the
 * transition table and compare-and-set; a lost race re-reads and decides again, so 50 concurrent
 * calls still end in one legal state.
 * Families: fine-tune routes (v0.5, v0.6) and batch routes share this service but never see each
 * other's jobs: `family` (default 'fine-tune') makes another family's id a 404, and list filters by
 * api_version (docs/batch.md).
 */
import { FtError } from '../../domain/errors.js';
import { outcome, type JobStatus } from '../../domain/status.js';
import type { ApiVersion, Checkpoint, Job, JobEvent, JobView, JobViewKey, MetricEntry } from '../../domain/types.js';
import type { ListJobsQuery } from '../../store/store.js';
import type { ServiceCore } from '../deps.js';
import type { FilesService } from '../files/files-service.js';
import type { PredictRequest } from '../trainer-hooks.js';
import { inferenceConfigKey, type Finalizer } from './finalize.js';

/** Which routes are asking: fine-tune jobs (v0.5 and v0.6 records) or batch jobs. */
export type JobFamily = 'fine-tune' | 'batch';
export const FINE_TUNE_API_VERSIONS: ApiVersion[] = ['v0.5', 'v0.6'];

export interface MetricsPage {
  /** In checkpoint steps (epochs for Omega, docs/spec.md#extensions-and-v06). */
  last_checkpoint_step: number;
  metrics: Array<Record<string, number>>;
  /**
   * Extension: each committed checkpoint with `metrics_step`, where it sits on the metrics' step axis
   * (the step of the evaluation it was saved from), so a chart can mark it on its curve.
   */
  checkpoints: Array<{ id: string; name: string; step: number; metrics_step: number }>;
}

/** Which page of a job list: `after` is a job id (keyset cursor, O(limit) at any depth), `offset` counts from there. */
export interface JobPage {
  statuses?: JobStatus[];
  limit: number; // -1 = all
  offset: number;
  after?: string;
  api_versions?: ApiVersion[];
}

export interface JobsDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'catalog' | 'clock' | 'bus' | 'hooks'> {
  files: FilesService;
  finalizer: Finalizer;
}

export class JobsService {
  private readonly store: JobsDeps['store'];
  private readonly blobs: JobsDeps['blobs'];
  private readonly files: FilesService;
  private readonly bus: JobsDeps['bus'];

  constructor(private readonly d: JobsDeps) {
    ({ store: this.store, blobs: this.blobs, files: this.files, bus: this.bus } = d);
  }

  async get(org_uuid: string, id: string, family: JobFamily = 'fine-tune'): Promise<Job> {
    const job = await this.store.getJob(org_uuid, id);
    if (!job || (job.api_version === 'batch') !== (family === 'batch')) throw new FtError('job_not_found', `job '${id}' not found`);
    return job;
  }

  /** A page of the org's jobs, newest first (fine-tune jobs unless `api_versions` says otherwise). */
  async list(org_uuid: string, page: JobPage): Promise<Job[]> {
    return this.store.listJobs(await this.query(org_uuid, page));
  }

  /** The same page as list(), as keys (uuid + row_version): for routes that reuse rendered records. */
  async listViewKeys(org_uuid: string, page: JobPage): Promise<JobViewKey[]> {
    return this.store.listJobViewKeys(await this.query(org_uuid, page));
  }

  /** `after` (a job id) becomes the store's keyset cursor; an id the list would not show is a 400. */
  private async query(org_uuid: string, p: JobPage): Promise<ListJobsQuery> {
    const api_versions = p.api_versions ?? FINE_TUNE_API_VERSIONS;
    const q: ListJobsQuery = { org_uuid, statuses: p.statuses, api_versions, limit: p.limit, offset: p.offset };
    if (p.after !== undefined) {
      const j = await this.store.getJob(org_uuid, p.after);
      if (!j || !api_versions.includes(j.api_version)) throw new FtError('invalid_parameter', `after: no job '${p.after}' in this list`);
      q.after = { created_at: j.created_at, id: j.id };
    }
    return q;
  }

  /** Jobs of the org as JobViews (JSON columns as stored text), for assembling wire JSON without re-parsing. */
  getViews(org_uuid: string, uuids: string[]): Promise<JobView[]> {
    return this.store.getJobViews(org_uuid, uuids);
  }

  stop(org_uuid: string, id: string): Promise<Job> {
    return this.act(org_uuid, id, 'stop', 'fine-tune');
  }

  cancel(org_uuid: string, id: string, family: JobFamily = 'fine-tune'): Promise<Job> {
    return this.act(org_uuid, id, 'cancel', family);
  }

  private async act(org_uuid: string, id: string, action: 'stop' | 'cancel', family: JobFamily): Promise<Job> {
    for (;;) {
      const job = await this.get(org_uuid, id, family);
      const o = outcome(action, job.status);
      if (o.kind === 'conflict') {
        throw new FtError('invalid_state_transition', `cannot ${action} job '${id}': it is ${job.status}`);
      }
      if (o.kind === 'noop') return job;
      // Stopping a queued job ends it at once, finalized like any stop (finalize.ts); otherwise the status moves here.
      if (action === 'stop' && o.to === 'STOPPED') {
        const stopped = await this.d.finalizer.finishStop(job, { by: 'queued' });
        if (stopped) return stopped;
        continue;
      }
      const now = this.d.clock.now();
      const event = action === 'stop'
        ? { level: 'info' as const, type: 'stop_requested', message: 'Stop requested: finishing the evaluation in progress, then finalizing from the last checkpoint' }
        : { level: 'warn' as const, type: 'cancelled', message: `Cancelled from ${job.status}: ${family === 'batch' ? 'batch process killed, no further outputs' : 'training process killed, no further checkpoints'}` };
      const patch = action === 'stop' ? { stop_requested_at: now, inference_config_path: null } : { inference_config_path: null };
      const moved = await this.store.transition(job.uuid, action, job.status, now, event, patch);
      if (moved) {
        this.bus.emit('job-changed', moved);
        return moved;
      }
      // Someone else changed the status between our read and our write: decide again from the new status.
    }
  }

  async delete(org_uuid: string, id: string, family: JobFamily = 'fine-tune'): Promise<Job> {
    const job = await this.get(org_uuid, id, family);
    if (!(await this.store.deleteJob(job.uuid))) {
      throw new FtError('invalid_state_transition', `job '${id}' is ${job.status}; ${family === 'batch' ? 'cancel it' : 'stop or cancel it'} before deleting`);
    }
    await this.blobs.deletePrefix(`checkpoints/${job.uuid}`);
    await this.blobs.deletePrefix(`outputs/${job.uuid}`); // batch outputs (docs/batch.md)
    await this.blobs.delete(inferenceConfigKey(job));
    await this.files.collectGarbage();
    return job;
  }

  async metrics(org_uuid: string, id: string, limit: number, offset: number): Promise<MetricsPage> {
    const job = await this.get(org_uuid, id);
    const rows = await this.store.listMetrics(job.uuid, -1, 0);
    const ckpts = await this.store.listCheckpoints(job.uuid);
    const latest = ckpts.reduce<Checkpoint | null>((a, c) => (!a || c.step > a.step ? c : a), null);
    const merged = mergeByStep(rows);
    const page = limit < 0 ? merged.slice(offset) : merged.slice(offset, offset + limit);
    return { last_checkpoint_step: latest?.step ?? 0, metrics: page, checkpoints: ckpts.map((c) => ({ id: c.id, name: c.name, step: c.step, metrics_step: metricsStepOf(c, merged) })) };
  }

  async events(org_uuid: string, id: string, opts: { limit: number; newestFirst: boolean; afterSeq?: number; offset?: number }, family: JobFamily = 'fine-tune'): Promise<JobEvent[]> {
    const job = await this.get(org_uuid, id, family);
    return this.store.listEvents(job.uuid, opts);
  }

  async checkpoints(org_uuid: string, id: string): Promise<Checkpoint[]> {
    const job = await this.get(org_uuid, id);
    return this.store.listCheckpoints(job.uuid);
  }

  async checkpoint(org_uuid: string, id: string, ckpt_id: string): Promise<{ job: Job; checkpoint: Checkpoint }> {
    const job = await this.get(org_uuid, id);
    const checkpoint = await this.store.getCheckpoint(job.uuid, ckpt_id);
    if (!checkpoint) throw new FtError('checkpoint_not_found', `checkpoint '${ckpt_id}' not found for job '${id}'`);
    return { job, checkpoint };
  }

  openCheckpoint(c: Checkpoint): NodeJS.ReadableStream {
    return this.blobs.readStream(c.blob_key);
  }

  async inferenceConfig(org_uuid: string, id: string): Promise<{ job: Job; stream: NodeJS.ReadableStream }> {
    const job = await this.get(org_uuid, id);
    if (!job.inference_config_path) {
      throw new FtError('not_found', `job '${id}' has no inference config yet (it is ${job.status}; configs are written when a job completes or stops with a checkpoint)`);
    }
    return { job, stream: this.blobs.readStream(inferenceConfigKey(job)) };
  }

  async predict(org_uuid: string, id: string, body: { checkpoint_id?: string; examples?: unknown[]; file_ids?: string[]; rows?: Array<Record<string, unknown>> }): Promise<{ job: Job; checkpoint: Checkpoint; predictions: unknown[] }> {
    const job = await this.get(org_uuid, id);
    const checkpoint = body.checkpoint_id
      ? (await this.checkpoint(org_uuid, id, body.checkpoint_id)).checkpoint
      : await this.store.latestCheckpoint(job.uuid);
    if (!checkpoint) throw new FtError('prediction_unavailable', `job '${id}' has no committed checkpoint yet`);
    const entry = this.d.catalog[job.model];
    if (!entry) throw new FtError('model_not_found', `model '${job.model}' is no longer in the catalog`);
    const req: PredictRequest = { examples: body.examples, rows: body.rows };
    if (body.file_ids) {
      const found = await this.files.resolveMany(org_uuid, body.file_ids).catch((e: unknown) => {
        throw e instanceof FtError ? e.in('request') : e;
      });
      req.files = [];
      for (const fid of body.file_ids) req.files.push({ file_id: fid, path: await this.files.localPath(found.get(fid)!) });
    }
    try {
      const predictions = await this.d.hooks.predict(entry, await this.blobs.localPath(checkpoint.blob_key), req);
      return { job, checkpoint, predictions };
    } catch (err) {
      if (err instanceof FtError) throw err;
      throw new FtError('invalid_parameter', `prediction failed: ${(err as Error).message}`);
    }
  }

  /** Calls `fn` with every status change of this org's fine-tune jobs (the jobs table's live stream). */
  subscribeOrg(org_uuid: string, fn: (job: Job) => void): () => void {
    return this.bus.on('job-changed', (j) => j.org_uuid === org_uuid && FINE_TUNE_API_VERSIONS.includes(j.api_version) && fn(j));
  }

  /**
   * Calls `onTouched` whenever anything is recorded for this job (SSE), with the job as the change
   * left it when its status (or record) changed; returns the unsubscribe function.
   */
  subscribe(job: Job, onTouched: (changed?: Job) => void): () => void {
    const offTouched = this.bus.on('job-touched', (u) => u === job.uuid && onTouched());
    const offChange = this.bus.on('job-changed', (j) => j.uuid === job.uuid && onTouched(j));
    return () => {
      offTouched();
      offChange();
    };
  }
}

/**
 * A checkpoint's place on the metrics axis: trainers whose checkpoint steps count epochs (Omega's
 * `step_<epoch>`) record the epoch in the checkpoint's metrics and in the evaluation's entry, so the
 * last entry of that epoch with evaluation values is the one; otherwise checkpoint and metrics steps
 * are the same unit.
 */
function metricsStepOf(c: Checkpoint, entries: Array<Record<string, number>>): number {
  const epoch = c.metrics.epoch;
  if (typeof epoch !== 'number') return c.step;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.epoch === epoch && Object.keys(e).some((k) => k === 'macro_f1' || k.startsWith('eval_'))) return e.step!;
  }
  return c.step;
}

/** One entry per step, keys merged (training loss and eval metrics of the same step side by side). */
function mergeByStep(rows: MetricEntry[]): Array<Record<string, number>> {
  const byStep = new Map<number, Record<string, number>>();
  for (const r of rows) byStep.set(r.step, { ...(byStep.get(r.step) ?? { step: r.step }), ...r.values, step: r.step });
  return [...byStep.values()].sort((a, b) => a.step! - b.step!);
}
