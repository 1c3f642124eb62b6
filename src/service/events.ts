/**
 * What the services did, as a typed map of past-tense events with their payloads. The services emit
 * them after the write they describe has landed (or been refused); observers (Prometheus metrics and
 * the attempt logs, metrics-observer.ts) subscribe here instead of wrapping service methods, so a new
 * caller of a use-case (the worker API's streamed checkpoint upload, say) is observed without anyone
 * remembering to wrap it. Listeners run synchronously in emit order; one that throws is reported to
 * `onError` and never fails the use-case that emitted.
 * Not the Bus (bus.ts): the bus carries wake-ups that other replicas also feed (NOTIFY); these events
 * are this process's own actions only, which is what per-replica counters must count.
 */
import type { Checkpoint, Job } from '../domain/types.js';

export interface ServiceEventMap {
  /** A job was stored REGISTERED (fine-tune v0.5/v0.6 or batch). */
  jobCreated: { job: Job };
  /** A worker claimed an attempt (in-process or remote). `retry`: the job had an earlier attempt. */
  attemptClaimed: { job: Job; attempt_id: string; attempt_number: number; worker_id: string; resume_checkpoint_id: string | null };
  /** A worker's `finish` was handled; `job` is the record after it (null when the job is gone). */
  attemptFinished: { job_uuid: string; attempt_id: string; job: Job | null };
  /** A worker's `fail` was handled; `refused`: the attempt no longer held its lease. */
  attemptFailed: { attempt_id: string; code: string; message: string; job: Job | null; refused: boolean };
  /** A checkpoint was verified, stored and inserted under the attempt's fence. */
  checkpointCommitted: { job: Job; attempt_id: string; checkpoint: Checkpoint };
  /** A checkpoint was refused: the attempt no longer held its lease (its bytes were deleted). */
  checkpointRefused: { job: Job; attempt_id: string; step: number };
  /** A fenced worker-API write other than fail/checkpoint commits was refused, by operation. */
  writeRefused: { op: string; attempt_id: string };
  /** A STOPPING job ended STOPPED (`by`: its worker, the control plane, or a stop while queued). */
  jobStopped: { job: Job; by: 'worker' | 'control_plane' | 'queued'; inference_config_path: string | null };
  /** A recovery pass settled lost attempts (emitted only when it settled any). */
  lostAttemptsSettled: { requeued: number; failed: number; stopped: number; dead_prefix: string | null };
}

export type ServiceEventName = keyof ServiceEventMap;
type Listener<K extends ServiceEventName> = (payload: ServiceEventMap[K]) => void;

export class ServiceEvents {
  private readonly listeners = new Map<ServiceEventName, Set<Listener<never>>>();

  constructor(private readonly onError: (err: unknown) => void = () => undefined) {}

  emit<K extends ServiceEventName>(name: K, payload: ServiceEventMap[K]): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        (fn as Listener<K>)(payload);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Returns the unsubscribe function. */
  on<K extends ServiceEventName>(name: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => void set.delete(fn as Listener<never>);
  }
}
