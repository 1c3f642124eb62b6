/**
 * Lifecycle decisions of the store, made once for both SQL drivers (sqlite/queries, postgres/queries),
 * which only execute them: which status write an action makes (target and guard, from the transition
 * table in domain/status.ts), what a new status clears, which statuses a worker may still write in,
 * what becomes of a job whose attempt was lost (re-queue or fail), the events' texts and the failure
 * codes the store writes. Also the value lists of every status column, which the schemas' CHECK
 * constraints repeat (migration 7; test/store-schema.test.ts compares the two).
 */
import { ACTIVE_STATUSES, JOB_STATUSES, TERMINAL_STATUSES, allowedFrom, isTerminal, targetOf, type JobAction, type JobStatus } from '../domain/status.js';
import type { Attempt, Checkpoint, FileRecord, Job, JobError } from '../domain/types.js';
import { uuid as newUuid } from '../lib/ids.js';
import type { NewEvent, TransitionPatch, UploadState } from './store.js';

// ---- value lists of the status columns (CHECK constraints of migration 7)
/** jobs.status: every status but UNKNOWN, which is reserved for the wire and never stored. */
export const STORED_JOB_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => s !== 'UNKNOWN');
export const ATTEMPT_STATES: readonly Attempt['state'][] = ['active', 'finished', 'lost'];
export const UPLOAD_STATES: readonly UploadState[] = ['open', 'completing', 'completed', 'aborted', 'expired'];
export const FILE_STATUSES: readonly FileRecord['status'][] = ['ready', 'deleted'];
/** At most one upload per name in these states (the partial unique index uploads_live_name). */
export const LIVE_UPLOAD_STATES: readonly UploadState[] = ['open', 'completing'];

// ---- which rows a query may touch, by status
/** An attempt may write progress, metrics and checkpoints only while its job is active (not queued, not ended). */
export const WORKER_WRITABLE: readonly JobStatus[] = ACTIVE_STATUSES;
export const workerMayWrite = (s: JobStatus): boolean => WORKER_WRITABLE.includes(s);
/** A job row (and its history) may be deleted only once it ended. */
export const DELETABLE: readonly JobStatus[] = TERMINAL_STATUSES;
/** A job not in these statuses still needs the file versions it snapshotted (garbage collection keeps them). */
export const RELEASES_FILES: readonly JobStatus[] = TERMINAL_STATUSES;
/** Jobs waiting for a worker: those a claim takes. */
export const CLAIMABLE: readonly JobStatus[] = allowedFrom('claim');
/** Jobs a stop is finalizing: the grace-budget enforcer looks at these. */
export const FINALIZING_STOP: readonly JobStatus[] = allowedFrom('finish_stop');

// ---- status writes
/**
 * One compare-and-set: from the status the caller read to the table's target. `guard` is the
 * table's allowedFrom(action), which the drivers render as `status IN (…)` next to `status = from`,
 * so the SQL itself refuses a write the table does not allow.
 */
export interface StatusWrite {
  action: JobAction;
  from: JobStatus;
  to: JobStatus;
  guard: readonly JobStatus[];
}

/** The write `action` makes from `from`, or null when the table has no move there. */
export function planWrite(action: JobAction, from: JobStatus): StatusWrite | null {
  const guard = allowedFrom(action);
  const to = targetOf(action, from);
  return to && guard.includes(from) ? { action, from, to, guard } : null;
}

/** What the UPDATE sets besides status and updated_at: the patch, and what the new status clears. */
export interface WriteEffects {
  set: Array<[column: 'inference_config_path' | 'error' | 'progress' | 'stop_requested_at', value: unknown]>;
  /** Columns set to NULL: progress once ended or re-queued (unless the patch sets it); the attempt once re-queued. */
  clear: Array<'progress' | 'current_attempt_id'>;
  /** The job ended: its active attempts end too. */
  endsAttempts: boolean;
}

export function writeEffects(to: JobStatus, patch: TransitionPatch): WriteEffects {
  const set: WriteEffects['set'] = [];
  if (patch.inference_config_path !== undefined) set.push(['inference_config_path', patch.inference_config_path]);
  if (patch.error !== undefined) set.push(['error', patch.error ? JSON.stringify(patch.error) : null]);
  if (patch.progress !== undefined) set.push(['progress', patch.progress ? JSON.stringify(patch.progress) : null]);
  if (patch.stop_requested_at !== undefined) set.push(['stop_requested_at', patch.stop_requested_at]);
  const clear: WriteEffects['clear'] = [];
  if ((isTerminal(to) || to === 'REGISTERED') && patch.progress === undefined) clear.push('progress');
  if (to === 'REGISTERED') clear.push('current_attempt_id');
  return { set, clear, endsAttempts: isTerminal(to) };
}

// ---- failure codes and event texts the store writes
/** error.code values the store itself writes (the service and workers write their own). */
export type StoreFailureCode = 'worker_lost';
export interface StoreFailure extends JobError {
  code: StoreFailureCode;
}

export const EVENTS = {
  attemptStarted: (a: Pick<Attempt, 'number' | 'worker_id'>): NewEvent => ({
    level: 'info', type: 'attempt_started', message: `Attempt ${a.number} claimed by worker ${a.worker_id}`, data: { attempt: a.number, worker_id: a.worker_id },
  }),
  checkpointCommitted: (c: Checkpoint): NewEvent => ({
    level: 'info', type: 'checkpoint_committed', message: `Checkpoint ${c.name} committed at step ${c.step}`, data: { checkpoint_id: c.id, step: c.step, metrics: c.metrics },
  }),
};

// ---- a lost attempt
/**
 * What becomes of the job of an attempt the reaper found lost:
 * - its current attempt, in a status the table re-queues from (lost_retry): back to REGISTERED to resume
 *   from the last committed checkpoint, or, once `max_attempts` attempts were used, FAILED worker_lost;
 * - its current attempt otherwise (STOPPING: the service finalizes it): only released, with an event;
 * - not its current attempt (superseded, or the job already moved on): nothing but the attempt row.
 */
export type LostDecision =
  | { action: 'requeued'; write: StatusWrite; patch: TransitionPatch; event: NewEvent }
  | { action: 'failed'; write: StatusWrite; patch: TransitionPatch & { error: StoreFailure }; event: NewEvent }
  | { action: 'released'; clearCurrent: boolean; event: NewEvent | null };

export function settleLost(j: Job, attempt: Attempt, max_attempts: number): LostDecision {
  const current = j.current_attempt_id === attempt.id;
  const lostMsg = `Attempt ${attempt.number} lost: worker ${attempt.worker_id} stopped heartbeating`;
  const data = { attempt: attempt.number };
  const retry = current ? planWrite('lost_retry', j.status) : null;
  if (retry && j.attempts >= max_attempts) {
    const error: StoreFailure = { code: 'worker_lost', message: `${lostMsg}; ${j.attempts} of ${max_attempts} attempts used` };
    return { action: 'failed', write: planWrite('fail', j.status)!, patch: { error }, event: { level: 'error', type: 'job_failed', message: error.message, data } };
  }
  if (retry) {
    return { action: 'requeued', write: retry, patch: {}, event: { level: 'warn', type: 'attempt_lost', message: `${lostMsg}; job re-queued to resume from its last committed checkpoint`, data } };
  }
  return { action: 'released', clearCurrent: current, event: current ? { level: 'warn', type: 'attempt_lost', message: lostMsg, data } : null };
}

/** The attempt a claim opens: the job's next number, the lease token one above the last (the fence). */
export function newAttempt(job: Job, worker_id: string, last_lease_token: number, now: number, lease_ms: number): Attempt {
  return {
    id: newUuid(), job_uuid: job.uuid, number: job.attempts + 1, worker_id, lease_token: last_lease_token + 1,
    lease_expires_at: now + lease_ms, state: 'active', started_at: now, ended_at: null,
  };
}
