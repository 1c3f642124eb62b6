/**
 * The worker protocol (/v1/worker/…, docs/scaling.md) as one table: every operation a remote
 * `ftnode worker` calls, with its method and path, how its request is checked and what its reply
 * holds. The HTTP routes (src/http/routes/worker-api.ts) and the remote client
 * (src/worker/remote-source.ts) are both built from it, and the WorkSource interface the in-process
 * pool and the remote worker share (src/worker/work-source.ts) derives its fenced methods from it:
 * a new fenced operation is its row here, its use-case in the AttemptsService, and its caller.
 *
 * Fenced calls (`FENCED`) are JSON POSTs `{fence, ...fields}` answered `{<reply>: value}`; a refusal
 * (the attempt lost its lease) is a normal answer carrying `refused`, never an error. Each row maps the
 * arguments of the WorkSource method of the same name to the body's fields (`body`, client side) and
 * back, checked (`args`, server side, 400 `invalid_parameter` for a bad field; it reads the fence
 * where the field checks have always put it, which decides the one 400 a request with both wrong gets).
 * The other operations (`ROUTES`) have a shape of their own: the long-poll claim, downloads (bytes with
 * `content-length` and `x-ftnode-sha256`), multipart uploads (`report` JSON, then `file`), fleet
 * registration and the session stream.
 */
import { FtError } from '../domain/errors.js';
import type { JobStatus } from '../domain/status.js';
import type { EventLevel, Job, JobProgress } from '../domain/types.js';
import type { Fence } from '../domain/work.js';
import { checkpointReportOf, eventOf, hyperparametersOf, metricsOf, outputReportOf, progressOf } from './worker-reports.js';

export const WORKER_API_PREFIX = '/v1/worker';

type Body = Record<string, any>; // a parsed JSON body, checked field by field

/** The fence of a JSON body: `{attempt_id: string, lease_token: integer}`. */
export function fenceOf(v: unknown): Fence {
  const f = v as Partial<Fence> | undefined;
  if (!f || typeof f.attempt_id !== 'string' || !Number.isSafeInteger(f.lease_token)) throw new FtError('invalid_parameter', 'fence must be {attempt_id: string, lease_token: integer}');
  return { attempt_id: f.attempt_id, lease_token: f.lease_token! };
}

/**
 * One fenced operation. `A`: the WorkSource method's arguments after the fence (and after the job,
 * when `job` says it takes one); `R`: its result, which is the reply's one value.
 */
export type JobKind = 'record' | 'uuid' | null;

export interface FencedOp<J extends JobKind, A extends unknown[], R> {
  method: 'POST';
  path: string;
  /** What the WorkSource method takes between the fence and `A`: the job record, its uuid, or nothing. */
  job: J;
  /** Client: `A` → the body's fields (sent after `fence`). */
  body(...args: A): Record<string, unknown>;
  /** Server: the body → [fence, ...A]; `fence()` reads and checks `body.fence`. */
  args(b: Body, fence: () => Fence): [Fence, ...A];
  /** The reply's one key, and the value it carries when the write was refused. */
  reply: 'status' | 'ok' | 'job';
  refused: Extract<R, false | null>;
  /** The attempt ends with this call (the client forgets its local lease). */
  ends?: true;
  /** Retried by the in-process worker through a database outage (a missed heartbeat is harmless: not retried). */
  retried: boolean;
}

const op = <J extends JobKind, A extends unknown[], R>(o: Omit<FencedOp<J, A, R>, 'method'>): FencedOp<J, A, R> => ({ method: 'POST', ...o });

export const FENCED = {
  heartbeat: op<null, [], JobStatus | null>({
    path: '/heartbeat', job: null, body: () => ({}), args: (_b, f) => [f()], reply: 'status', refused: null, retried: false,
  }),
  progress: op<'record', [p: JobProgress, hyperparameters?: Record<string, unknown>], boolean>({
    path: '/progress', job: 'record', reply: 'ok', refused: false, retried: true,
    body: (progress, hyperparameters) => ({ progress, hyperparameters: hyperparameters ?? null }),
    args: (b, f) => [f(), progressOf(b.progress), hyperparametersOf(b.hyperparameters)],
  }),
  metrics: op<'record', [step: number, values: Record<string, number>], boolean>({
    path: '/metrics', job: 'record', reply: 'ok', refused: false, retried: true,
    body: (step, values) => ({ step, values }),
    args: (b, f) => {
      const m = metricsOf(b.step, b.values);
      return [f(), m.step, m.values];
    },
  }),
  event: op<'record', [level: EventLevel, type: string, message: string, data?: Record<string, unknown>], boolean>({
    path: '/events', job: 'record', reply: 'ok', refused: false, retried: true,
    body: (level, type, message, data) => ({ level, type, message, data: data ?? null }),
    args: (b, f) => {
      const fence = f();
      const e = eventOf({ level: b.level, type: b.type, message: b.message, data: b.data });
      return [fence, e.level, e.type, e.message, e.data ?? undefined];
    },
  }),
  advance: op<null, [action: 'start_training' | 'finalize', event: { level: EventLevel; type: string; message: string }, progress?: JobProgress], Job | null>({
    path: '/advance', job: null, reply: 'job', refused: null, retried: true,
    body: (action, event, progress) => ({ action, event, progress: progress ?? null }),
    args: (b, f) => {
      if (b.action !== 'start_training' && b.action !== 'finalize') throw new FtError('invalid_parameter', 'action must be start_training or finalize');
      return [f(), b.action, eventOf(b.event), b.progress == null ? undefined : progressOf(b.progress)];
    },
  }),
  finish: op<'uuid', [], Job | null>({
    path: '/finish', job: 'uuid', body: () => ({}), args: (_b, f) => [f()], reply: 'job', refused: null, ends: true, retried: true,
  }),
  fail: op<null, [code: string, message: string], Job | null>({
    path: '/fail', job: null, reply: 'job', refused: null, ends: true, retried: true,
    body: (code, message) => ({ code, message }),
    args: (b, f) => [f(), String(b.code), String(b.message)],
  }),
} as const;

export type FencedName = keyof typeof FENCED;
export const FENCED_NAMES = Object.keys(FENCED) as FencedName[];

type ArgsOf<K extends FencedName> = (typeof FENCED)[K] extends FencedOp<JobKind, infer A, unknown> ? A : never;
type ResultOf<K extends FencedName> = (typeof FENCED)[K] extends FencedOp<JobKind, unknown[], infer R> ? R : never;
type JobArg<K extends FencedName> = (typeof FENCED)[K]['job'] extends 'record' ? [job: Job] : (typeof FENCED)[K]['job'] extends 'uuid' ? [job_uuid: string] : [];

/** The WorkSource methods the table defines: `name(fence, [job | job_uuid,] ...args): Promise<result>`. */
export type FencedMethods = { [K in FencedName]: (fence: Fence, ...args: [...JobArg<K>, ...ArgsOf<K>]) => Promise<ResultOf<K>> };

/** The operations with a shape of their own; `report` checks an upload's `report` field, `reply` names the answer's key. */
export const ROUTES = {
  info: { method: 'GET', path: '/info' },
  /** Body `{worker_id, wait_ms}`; reply `{work: RemoteWork | null}` after at most the server's claim wait. */
  claim: { method: 'POST', path: '/claim' },
  datasetFile: { method: 'GET', path: '/attempts/:attempt_id/files/:file_uid' },
  checkpointFile: { method: 'GET', path: '/attempts/:attempt_id/checkpoints/:checkpoint_id' },
  resourceCheckpoint: { method: 'GET', path: '/attempts/:attempt_id/resources/checkpoint' },
  commitCheckpoint: { method: 'POST', path: '/attempts/:attempt_id/checkpoints', report: checkpointReportOf, reply: 'checkpoint' },
  commitOutput: { method: 'POST', path: '/attempts/:attempt_id/outputs', report: outputReportOf, reply: 'ok' },
  /** Body `{worker: {id, node, concurrency?, active_jobs?, started_at?}}`; reply `{ok: true}`. */
  register: { method: 'POST', path: '/workers' },
  unregister: { method: 'DELETE', path: '/workers/:worker_id' },
  /** Query `prefix`; a newline-delimited JSON stream of SessionLine. */
  session: { method: 'GET', path: '/session' },
  sessionEnd: { method: 'POST', path: '/session/end' },
} as const;

export type RouteName = keyof typeof ROUTES;

/** The full path of an operation, `:params` filled in (URI-encoded). */
export function workerPath(name: RouteName | FencedName, params: Record<string, string> = {}): string {
  const path = (name in FENCED ? FENCED[name as FencedName] : ROUTES[name as RouteName]).path;
  return WORKER_API_PREFIX + path.replace(/:(\w+)/g, (_m, k: string) => {
    if (params[k] === undefined) throw new Error(`workerPath(${name}): no value for :${k}`);
    return encodeURIComponent(params[k]);
  });
}

/** Download refs the control plane hands out in a claim (when the object store cannot presign one). */
export const DOWNLOAD_PATHS = {
  datasetFile: (attempt_id: string, file_uid: string) => workerPath('datasetFile', { attempt_id, file_uid }),
  checkpointFile: (attempt_id: string, checkpoint_id: string) => workerPath('checkpointFile', { attempt_id, checkpoint_id }),
  resourceCheckpoint: (attempt_id: string) => workerPath('resourceCheckpoint', { attempt_id }),
};
