/**
 * Finalization (docs/spec.md#outputs): the inference config YAML written from the most recent committed
 * checkpoint, then the terminal status and `inference_config_path` set in ONE guarded write. Used by
 * workers (COMPLETED / STOPPED) and by the control plane (STOPPING whose worker vanished or ran past
 * the stop grace budget).
 * finishStop() is the one way a job ends STOPPED, for its three paths: a stop of a queued job
 * (JobsService), the worker's graceful end (AttemptsService.finish) and the control plane's
 * (Recovery): the same inference config, the same event shapes, the same bus wake-up.
 */
import { stringify } from 'yaml';
import type { Checkpoint, Job } from '../../domain/types.js';
import type { Fence } from '../../domain/work.js';
import { isoMicros } from '../../domain/time.js';
import type { NewEvent } from '../../store/store.js';
import type { ServiceCore } from '../deps.js';

export function inferenceConfigKey(job: Job): string {
  return `orgs/${job.org_uuid}/inference-configs/${job.id}.yaml`;
}

/**
 * How a stop ends: `queued` (a stop of a REGISTERED/STARTING-less job: the table's `stop` goes
 * straight to STOPPED), `worker` (the trainer finished after a stop: fenced `finish_stop`), or
 * `control_plane` (the worker was lost while stopping, or ran past the stop grace budget).
 */
export type StopPath =
  | { by: 'queued' }
  | { by: 'worker'; fence: Fence }
  | { by: 'control_plane'; action: 'lost_stopping' | 'finish_stop'; message: string };

export type FinalizerDeps = Pick<ServiceCore, 'store' | 'blobs' | 'catalog' | 'clock' | 'bus' | 'events'>;

export class Finalizer {
  private readonly store: FinalizerDeps['store'];
  private readonly blobs: FinalizerDeps['blobs'];

  constructor(private readonly d: FinalizerDeps) {
    this.store = d.store;
    this.blobs = d.blobs;
  }

  /**
   * `job` (as read by the caller: REGISTERED for `queued`, STOPPING otherwise) → STOPPED with the
   * inference config of its latest committed checkpoint (null when there is none). Returns the
   * stopped job, or null when the guarded write lost (status moved, fence gone): the caller decides.
   */
  async finishStop(job: Job, path: StopPath): Promise<Job | null> {
    const inference_config_path = await this.writeInferenceConfig(job);
    const now = this.d.clock.now();
    const data = { inference_config_path };
    let done: Job | null;
    if (path.by === 'queued') {
      // A queued job that already trained (re-queued after a lost worker) keeps its most recent checkpoint, like a running one.
      const message = inference_config_path ? 'Stopped while queued: finalized from its last committed checkpoint' : 'Stopped before it started: nothing to finalize';
      done = await this.store.transition(job.uuid, 'stop', job.status, now, { level: 'info', type: 'stop_requested', message }, { stop_requested_at: now, inference_config_path });
    } else if (path.by === 'worker') {
      const message = `Stopped gracefully; ${inference_config_path ? 'inference config written from the last committed checkpoint' : 'no checkpoint had been committed, so no inference config'}`;
      done = await this.store.fencedTransition(path.fence, 'finish_stop', now, { level: 'info', type: 'job_stopped', message, data }, { inference_config_path });
    } else {
      const event: NewEvent = { level: 'warn', type: 'job_stopped', message: path.message, data };
      done = await this.store.transition(job.uuid, path.action, 'STOPPING', now, event, { inference_config_path });
    }
    if (done) {
      this.d.bus.emit('job-changed', done);
      this.d.events.emit('jobStopped', { job: done, by: path.by, inference_config_path });
    }
    return done;
  }

  /** Writes the YAML for `job` from its latest committed checkpoint; returns its URI, or null when there is none. */
  async writeInferenceConfig(job: Job): Promise<string | null> {
    const ckpt = await this.store.latestCheckpoint(job.uuid);
    if (!ckpt) return null;
    const key = inferenceConfigKey(job);
    await this.blobs.writeBuffer(key, this.render(job, ckpt));
    return this.blobs.uri(key);
  }

  render(job: Job, ckpt: Checkpoint): string {
    const entry = this.d.catalog[job.model];
    const doc = {
      job_id: job.id,
      job_uuid: job.uuid,
      org_uuid: job.org_uuid,
      model: job.model,
      trainer: entry?.trainer ?? 'unknown',
      stand_in: entry?.stand_in ?? false,
      checkpoint: {
        id: ckpt.id,
        name: ckpt.name,
        step: ckpt.step,
        uri: this.blobs.uri(ckpt.blob_key),
        sha256: ckpt.sha256,
        num_bytes: ckpt.num_bytes,
        created_at: isoMicros(ckpt.created_at),
      },
      ...ckpt.meta, // labels, reader/window settings, format: as the trainer reported them
      metrics: ckpt.metrics,
      hyperparameters: job.hyperparameters ?? {},
      created_at: isoMicros(this.d.clock.now()),
    };
    return stringify(doc);
  }
}
