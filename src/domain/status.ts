/**
 * The job lifecycle: the one transition table that every status write is derived from
 * (docs/spec.md#lifecycle). Store implementations turn `allowedFrom(action)` into the `WHERE status IN (...)`
 * guard of a compare-and-set, so no code path can write a transition that is not in this table.
 */
export const JOB_STATUSES = [
  'UNKNOWN',
  'REGISTERED',
  'STARTING',
  'RUNNING',
  'FINALIZING',
  'COMPLETED',
  'STOPPING',
  'STOPPED',
  'CANCELLED',
  'FAILED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['STARTING', 'RUNNING', 'FINALIZING', 'STOPPING'];

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

export function isJobStatus(s: string): s is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(s);
}

/**
 * Everything that can move a job. `progress_*` come from the worker (fenced by lease token),
 * `stop`/`cancel` from users, `lost` from the lease reaper, `fail` from a worker or the reaper.
 */
export type JobAction =
  | 'claim' // worker takes a queued job
  | 'start_training' // data checked, trainer process running
  | 'finalize' // training loop ended, final evaluation + inference config
  | 'complete'
  | 'stop'
  | 'finish_stop' // STOPPING finalized (by the worker or, past the grace budget, the control plane)
  | 'cancel'
  | 'fail'
  | 'lost_retry' // attempt lost, attempts left: back to the queue (resume from last checkpoint)
  | 'lost_stopping'; // attempt lost while STOPPING: control plane finalizes

/** What a user action does from a status: move, answer 200 unchanged, or refuse with 409. */
export type Outcome = { kind: 'move'; to: JobStatus } | { kind: 'noop' } | { kind: 'conflict' };

const move = (to: JobStatus): Outcome => ({ kind: 'move', to });
const NOOP: Outcome = { kind: 'noop' };
const CONFLICT: Outcome = { kind: 'conflict' };

/** The transition table (docs/lifecycle.md). Missing cells mean the action is not possible from that status (409). */
export const TRANSITIONS: Readonly<Record<JobAction, Partial<Record<JobStatus, Outcome>>>> = {
  claim: { REGISTERED: move('STARTING') },
  start_training: { STARTING: move('RUNNING') },
  finalize: { RUNNING: move('FINALIZING') },
  complete: { FINALIZING: move('COMPLETED') },
  stop: {
    REGISTERED: move('STOPPED'),
    STARTING: move('STOPPING'),
    RUNNING: move('STOPPING'),
    FINALIZING: NOOP,
    STOPPING: NOOP,
    STOPPED: NOOP,
    COMPLETED: CONFLICT,
    FAILED: CONFLICT,
    CANCELLED: CONFLICT,
  },
  finish_stop: { STOPPING: move('STOPPED') },
  cancel: {
    REGISTERED: move('CANCELLED'),
    STARTING: move('CANCELLED'),
    RUNNING: move('CANCELLED'),
    FINALIZING: move('CANCELLED'),
    STOPPING: move('CANCELLED'),
    CANCELLED: NOOP,
    COMPLETED: CONFLICT,
    FAILED: CONFLICT,
    STOPPED: CONFLICT,
  },
  fail: {
    REGISTERED: move('FAILED'),
    STARTING: move('FAILED'),
    RUNNING: move('FAILED'),
    FINALIZING: move('FAILED'),
    STOPPING: move('FAILED'),
  },
  lost_retry: {
    STARTING: move('REGISTERED'),
    RUNNING: move('REGISTERED'),
    FINALIZING: move('REGISTERED'),
  },
  lost_stopping: { STOPPING: move('STOPPED') },
};

export function outcome(action: JobAction, from: JobStatus): Outcome {
  return TRANSITIONS[action][from] ?? CONFLICT;
}

/** The statuses from which `action` really moves the job: the SQL compare-and-set guard. */
export function allowedFrom(action: JobAction): JobStatus[] {
  const cells = TRANSITIONS[action];
  return (Object.keys(cells) as JobStatus[]).filter((s) => cells[s]!.kind === 'move');
}

export function targetOf(action: JobAction, from: JobStatus): JobStatus | null {
  const o = outcome(action, from);
  return o.kind === 'move' ? o.to : null;
}

/** v0.6 status words (docs/spec.md#extensions-and-v06). */
export function v06Status(s: JobStatus): string {
  switch (s) {
    case 'REGISTERED':
      return 'QUEUED';
    case 'STARTING':
      return 'VALIDATING_FILES';
    case 'RUNNING':
    case 'FINALIZING':
    case 'STOPPING':
      return 'RUNNING';
    case 'COMPLETED':
      return 'SUCCEEDED';
    default:
      return s;
  }
}
