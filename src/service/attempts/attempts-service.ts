/**
 * The control plane as workers see it: claim, heartbeat, progress, metrics, checkpoint commits and the
 * end of an attempt. Every call carries the attempt's fence; a worker that lost its lease (reaped,
 * superseded, job cancelled) gets `false`/null back and must stop. The in-process worker calls this
 * directly; remote workers reach the same methods over HTTP.
 */
import { BlobMismatchError } from '../../blobs/blob-store.js';
import type { Readable } from 'node:stream';
import type { JobStatus } from '../../domain/status.js';
import type { Checkpoint, EventLevel, Job, JobProgress } from '../../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport } from '../../domain/work.js';
import { typeId } from '../../lib/ids.js';
import type { NewEvent } from '../../store/store.js';
import { newOutputKey, OUTPUT_EVENT, OUTPUT_NAME } from '../batch/batch-outputs.js';
import { batchResources } from '../batch/batch-resources.js';
import { datasetPaths } from '../dataset-paths.js';
import type { ServiceCore } from '../deps.js';
import type { Finalizer } from '../jobs/finalize.js';

export interface AttemptSettings {
  leaseMs: number;
}

export interface AttemptsDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'catalog' | 'clock' | 'bus' | 'events'> {
  finalizer: Finalizer;
  settings: AttemptSettings;
}

export class AttemptsService {
  private readonly store: AttemptsDeps['store'];
  private readonly blobs: AttemptsDeps['blobs'];
  private readonly clock: AttemptsDeps['clock'];
  private readonly bus: AttemptsDeps['bus'];
  private readonly events: AttemptsDeps['events'];
  private readonly settings: AttemptSettings;

  constructor(private readonly d: AttemptsDeps) {
    ({ store: this.store, blobs: this.blobs, clock: this.clock, bus: this.bus, events: this.events, settings: this.settings } = d);
  }

  get leaseMs(): number {
    return this.settings.leaseMs;
  }

  /** `localPaths` false (remote workers): paths stay empty, the worker downloads by ref instead of this host fetching objects. */
  async claim(worker_id: string, localPaths = true): Promise<ClaimedWork | null> {
    for (;;) {
      const c = await this.store.claimJob(worker_id, this.clock.now(), this.settings.leaseMs);
      if (!c) return null;
      this.bus.emit('job-changed', c.job);
      const entry = this.d.catalog[c.job.model];
      const fence = { attempt_id: c.attempt.id, lease_token: c.attempt.lease_token };
      if (!entry) {
        await this.fail(fence, 'model_not_found', `model '${c.job.model}' was removed from the catalog`);
        continue;
      }
      const datasets = await datasetPaths(this.d, c.job.org_uuid, c.job.datasets, localPaths);
      const resume = c.resume ? { checkpoint_id: c.resume.id, step: c.resume.step, path: localPaths ? await this.blobs.localPath(c.resume.blob_key) : '' } : null;
      const resources = c.job.api_version === 'batch' ? await batchResources(this.store, this.blobs, c.job, localPaths) : undefined;
      if (resources && 'missing' in resources) {
        await this.fail(fence, 'checkpoint_not_found', resources.missing);
        continue;
      }
      this.events.emit('attemptClaimed', { job: c.job, attempt_id: fence.attempt_id, attempt_number: c.attempt.number, worker_id, resume_checkpoint_id: resume?.checkpoint_id ?? null });
      return { job: c.job, fence, attempt_number: c.attempt.number, entry, datasets, resume, ...(resources ? { resources } : {}) };
    }
  }

  heartbeat(fence: Fence): Promise<JobStatus | null> {
    return this.store.heartbeat(fence, this.clock.now(), this.settings.leaseMs);
  }

  async currentStatus(job_uuid: string): Promise<JobStatus | null> {
    return (await this.store.getJobByUuid(job_uuid))?.status ?? null;
  }

  scratchDir(job: Job, attempt_number: number): Promise<string> {
    return this.blobs.scratchDir(`${job.uuid}/attempt-${attempt_number}`);
  }

  async progress(fence: Fence, job: Job, p: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean> {
    const ok = await this.store.updateProgress(fence, this.clock.now(), p, hyperparameters);
    if (ok) this.bus.emit('job-touched', job.uuid);
    return ok;
  }

  async metrics(fence: Fence, job: Job, step: number, values: Record<string, number>): Promise<boolean> {
    const ok = await this.store.appendMetrics(fence, job.uuid, step, values, this.clock.now());
    if (ok) this.bus.emit('job-touched', job.uuid);
    return ok;
  }

  async event(fence: Fence, job: Job, level: EventLevel, type: string, message: string, data?: Record<string, unknown>): Promise<boolean> {
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return false;
    await this.store.appendEvent(job.uuid, this.clock.now(), { level, type, message, data: data ?? null });
    this.bus.emit('job-touched', job.uuid);
    return true;
  }

  /** STARTING → RUNNING (data checked, trainer up); RUNNING → FINALIZING (training loop over). */
  async advance(fence: Fence, action: 'start_training' | 'finalize', event: NewEvent, progress?: JobProgress): Promise<Job | null> {
    const job = await this.store.fencedTransition(fence, action, this.clock.now(), event, progress ? { progress } : {});
    if (job) this.bus.emit('job-changed', job);
    return job;
  }

  /** Verify (size, sha256) → move into the artifact store → fenced row insert. Refused: the bytes are deleted. */
  async commitCheckpoint(fence: Fence, job: Job, r: CheckpointReport): Promise<Checkpoint | null> {
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return this.refused(fence, job, r.step);
    const id = typeId('ckp');
    const blob_key = `checkpoints/${job.uuid}/${id}.ckpt`;
    await this.blobs.importFile(r.path, blob_key, { size: r.size, sha256: r.sha256 });
    const ckpt: Checkpoint = {
      id, job_uuid: job.uuid, attempt_id: fence.attempt_id, step: r.step, name: r.name, blob_key,
      num_bytes: r.size, sha256: r.sha256, metrics: r.metrics, meta: r.meta, created_at: this.clock.now(),
    };
    let committed: boolean;
    try {
      committed = await this.store.commitCheckpoint(fence, ckpt);
    } catch (err) {
      // e.g. the database is restarting: the file goes back where the trainer left it, so the
      // worker can retry the commit (RetryingWorkSource) instead of losing the checkpoint
      await this.blobs.returnFile(blob_key, r.path).catch(() => this.blobs.delete(blob_key));
      throw err;
    }
    if (!committed) {
      await this.blobs.delete(blob_key);
      return this.refused(fence, job, r.step);
    }
    return this.committed(fence, job, ckpt);
  }

  private committed(fence: Fence, job: Job, checkpoint: Checkpoint): Checkpoint {
    this.bus.emit('job-touched', job.uuid);
    this.events.emit('checkpointCommitted', { job, attempt_id: fence.attempt_id, checkpoint });
    return checkpoint;
  }

  private refused(fence: Fence, job: Job, step: number): null {
    this.events.emit('checkpointRefused', { job, attempt_id: fence.attempt_id, step });
    return null;
  }

  /**
   * A remote worker's checkpoint on object storage: streamed into a multipart upload under its own
   * new key (no scratch copy on the replica), completed only once size and sha256 match the report
   * and the fence still holds, then the fenced insert; refused or failed, the object is aborted or
   * deleted. The key is new for every upload, so nothing committed is ever overwritten.
   */
  async commitCheckpointStream(fence: Fence, job: Job, r: Omit<CheckpointReport, 'path'>, body: Readable): Promise<Checkpoint | null> {
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return this.refused(fence, job, r.step);
    const id = typeId('ckp');
    const blob_key = `checkpoints/${job.uuid}/${id}.ckpt`;
    const staged = await this.blobs.stage(body, { key: blob_key, maxBytes: r.size });
    if (staged.overLimit || staged.size !== r.size || staged.sha256 !== r.sha256) {
      await staged.discard();
      throw new BlobMismatchError(`expected ${r.size} bytes sha256 ${r.sha256}, found ${staged.overLimit ? 'more' : staged.size} bytes sha256 ${staged.sha256}`);
    }
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) {
      await staged.discard(); // a zombie's bytes never become an object
      return this.refused(fence, job, r.step);
    }
    await staged.commit(blob_key);
    const ckpt: Checkpoint = {
      id, job_uuid: job.uuid, attempt_id: fence.attempt_id, step: r.step, name: r.name, blob_key,
      num_bytes: r.size, sha256: r.sha256, metrics: r.metrics, meta: r.meta, created_at: this.clock.now(),
    };
    let committed = false;
    try {
      committed = await this.store.commitCheckpoint(fence, ckpt);
    } finally {
      if (!committed) await this.blobs.delete(blob_key); // refused, or the database failed: the worker retries the upload
    }
    if (!committed) return this.refused(fence, job, r.step);
    return this.committed(fence, job, ckpt);
  }

  /**
   * A batch output (docs/batch.md): verify (size, sha256) → move to a new key of its own
   * (batch-outputs.ts) → `output_committed` event appended under the fence. Refused (false) once the
   * fence no longer holds, before or after the bytes moved (they are deleted then): a zombie's output
   * is never listed, and no upload ever replaces a committed object.
   */
  async commitOutput(fence: Fence, job: Job, r: OutputReport): Promise<boolean> {
    if (!OUTPUT_NAME.test(r.filename)) throw new Error(`output filename '${r.filename.slice(0, 80)}' is not a plain file name`);
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return false;
    const key = newOutputKey(job.uuid, r.filename);
    await this.blobs.importFile(r.path, key, { size: r.size, sha256: r.sha256 });
    let recorded: boolean;
    try {
      recorded = await this.recordOutput(fence, r, key);
    } catch (err) {
      await this.blobs.returnFile(key, r.path).catch(() => this.blobs.delete(key)); // as in commitCheckpoint: a retry can import it again
      throw err;
    }
    if (!recorded) {
      await this.blobs.delete(key);
      return false;
    }
    this.bus.emit('job-touched', job.uuid);
    return true;
  }

  /**
   * A remote worker's batch output on object storage, as commitCheckpointStream: streamed straight
   * into a multipart upload under a new key, completed only when size and sha256 match the report and
   * the fence still holds, then the fenced event; refused or failed, the object is aborted or deleted.
   */
  async commitOutputStream(fence: Fence, job: Job, r: Omit<OutputReport, 'path'>, body: Readable): Promise<boolean> {
    if (!OUTPUT_NAME.test(r.filename)) throw new Error(`output filename '${r.filename.slice(0, 80)}' is not a plain file name`);
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return false;
    const key = newOutputKey(job.uuid, r.filename);
    const staged = await this.blobs.stage(body, { key, maxBytes: r.size });
    if (staged.overLimit || staged.size !== r.size || staged.sha256 !== r.sha256) {
      await staged.discard();
      throw new BlobMismatchError(`expected ${r.size} bytes sha256 ${r.sha256}, found ${staged.overLimit ? 'more' : staged.size} bytes sha256 ${staged.sha256}`);
    }
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) {
      await staged.discard(); // a zombie's bytes never become an object
      return false;
    }
    await staged.commit(key);
    let recorded = false;
    try {
      recorded = await this.recordOutput(fence, r, key);
    } finally {
      if (!recorded) await this.blobs.delete(key); // refused, or the database failed: the worker retries the upload
    }
    if (!recorded) return false;
    this.bus.emit('job-touched', job.uuid);
    return true;
  }

  private recordOutput(fence: Fence, r: Omit<OutputReport, 'path'>, blob_key: string): Promise<boolean> {
    return this.store.appendFencedEvent(fence, this.clock.now(), {
      level: 'info', type: OUTPUT_EVENT, message: `Output ${r.filename} committed (${r.size} bytes, from ${r.input_file_id})`,
      data: { filename: r.filename, blob_key, num_bytes: r.size, sha256: r.sha256, input_file_id: r.input_file_id, attempt_id: fence.attempt_id },
    });
  }

  /**
   * The trainer finished (completed, or stopped on request): finalize from the latest committed
   * checkpoint. RUNNING/FINALIZING end COMPLETED, STOPPING ends STOPPED; anything else (cancelled,
   * reaped) only closes the attempt.
   */
  async finish(fence: Fence, job_uuid: string): Promise<Job | null> {
    const job = await this.settle(fence, job_uuid);
    this.events.emit('attemptFinished', { job_uuid, attempt_id: fence.attempt_id, job });
    return job;
  }

  private async settle(fence: Fence, job_uuid: string): Promise<Job | null> {
    const job = await this.store.getJobByUuid(job_uuid);
    if (!job) return null;
    if (job.status === 'RUNNING') {
      await this.advance(fence, 'finalize', { level: 'info', type: 'finalizing', message: 'Training finished; finalizing' });
    }
    const current = await this.store.getJobByUuid(job_uuid);
    if (!current || (current.status !== 'FINALIZING' && current.status !== 'STOPPING')) {
      await this.store.endAttempt(fence, this.clock.now());
      return current;
    }
    const phase = { step: current.progress?.step ?? 0, total_steps: current.progress?.total_steps ?? null, epoch: current.progress?.epoch ?? null, phase: 'writing_inference_config', eta_seconds: null };
    await this.store.updateProgress(fence, this.clock.now(), phase);
    const done = current.status === 'STOPPING' ? await this.d.finalizer.finishStop(current, { by: 'worker', fence }) : await this.complete(fence, current);
    if (!done) await this.store.endAttempt(fence, this.clock.now());
    return done ?? (await this.store.getJobByUuid(job_uuid));
  }

  private async complete(fence: Fence, job: Job): Promise<Job | null> {
    const path = await this.d.finalizer.writeInferenceConfig(job);
    const done = await this.store.fencedTransition(fence, 'complete', this.clock.now(), {
      level: 'info', type: 'job_completed',
      message: `Completed${path ? '; inference config written' : ''}`, // batch jobs have outputs, not checkpoints
      data: { inference_config_path: path },
    }, { inference_config_path: path });
    if (done) this.bus.emit('job-changed', done);
    return done;
  }

  async fail(fence: Fence, code: string, message: string): Promise<Job | null> {
    const job = await this.store.fencedTransition(fence, 'fail', this.clock.now(), { level: 'error', type: 'job_failed', message: `${code}: ${message}` }, { error: { code, message } });
    if (job) this.bus.emit('job-changed', job);
    else await this.store.endAttempt(fence, this.clock.now());
    this.events.emit('attemptFailed', { attempt_id: fence.attempt_id, code, message, job, refused: job === null });
    return job;
  }
}
