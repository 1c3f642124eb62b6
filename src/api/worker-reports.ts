/**
 * What a remote worker reports is stored and served back to users, so it is checked at the edge:
 * - `progress` (POST /v1/worker/progress and /advance) goes into every job record, whose response
 *   schema it must match: anything else made the job's stop and cancel answers fail to serialise
 *   (500). It is rebuilt with exactly the record's keys; absent optional keys become null.
 * - an event (POST /v1/worker/events, the `event` of /advance): a message that was an array reached
 *   SQLite as several bind values (500 "Too many parameter values").
 * - metrics (POST /v1/worker/metrics): a missing `step` was NaN, refused by the NOT NULL column (500).
 * - a registration (POST /v1/worker/workers): `concurrency: {}` was NaN in an integer column (500).
 * - the `report` of a checkpoint or output upload: an output `filename` that was an array became
 *   its String() and failed the service's plain-name check as a 500.
 * All found by the route fuzzer (docs/testing.md). A bad report is a 400 `invalid_parameter`.
 */
import { FtError } from '../domain/errors.js';
import type { EventLevel, JobProgress } from '../domain/types.js';
import { OUTPUT_NAME, type CheckpointReport, type OutputReport } from '../domain/work.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v: unknown): boolean => v === undefined || v === null || isNum(v);

export function progressOf(v: unknown): JobProgress {
  const p = v as Record<string, unknown> | null;
  const ok = !!p && typeof p === 'object' && !Array.isArray(p) && isNum(p.step) &&
    numOrNull(p.total_steps) && numOrNull(p.epoch) && numOrNull(p.eta_seconds) && (p.phase === undefined || p.phase === null || typeof p.phase === 'string');
  if (!ok) throw new FtError('invalid_parameter', 'progress must be {step: number, total_steps?: number|null, epoch?: number|null, phase?: string|null, eta_seconds?: number|null}');
  return {
    step: p!.step as number, total_steps: (p!.total_steps as number | undefined) ?? null, epoch: (p!.epoch as number | undefined) ?? null,
    phase: (p!.phase as string | undefined) ?? null, eta_seconds: (p!.eta_seconds as number | undefined) ?? null,
  };
}

/** `hyperparameters` beside a progress report: an object, or absent/null. */
export function hyperparametersOf(v: unknown): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new FtError('invalid_parameter', 'hyperparameters must be an object or null');
  return v as Record<string, unknown>;
}

const LEVELS: readonly EventLevel[] = ['info', 'warn', 'error'];

export interface ReportedEvent {
  level: EventLevel;
  type: string;
  message: string;
  data: Record<string, unknown> | null;
}

/** An event as a worker sends it: `level` (default info), `type` and `message` strings, `data` an object or null. */
export function eventOf(v: unknown): ReportedEvent {
  const e = v as Record<string, unknown> | null;
  const data = e?.data ?? null;
  const ok = !!e && typeof e === 'object' && !Array.isArray(e) && (e.level === undefined || LEVELS.includes(e.level as EventLevel)) &&
    typeof e.type === 'string' && typeof e.message === 'string' && (data === null || (typeof data === 'object' && !Array.isArray(data)));
  if (!ok) throw new FtError('invalid_parameter', `an event must be {level?: ${LEVELS.join('|')}, type: string, message: string, data?: object|null}`);
  return { level: (e!.level as EventLevel | undefined) ?? 'info', type: e!.type as string, message: e!.message as string, data: data as Record<string, unknown> | null };
}

/** A metrics report: `step` a number, `values` an object (kept as sent: the trainer's numbers, a NaN as null). */
export function metricsOf(step: unknown, values: unknown): { step: number; values: Record<string, number> } {
  const v = values ?? {};
  if (!isNum(step) || typeof v !== 'object' || Array.isArray(v)) throw new FtError('invalid_parameter', 'metrics must be {step: number, values: {name: number}}');
  return { step, values: v as Record<string, number> };
}

const count = (v: unknown): boolean => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);

/** A worker slot's registration: `node` a string; `concurrency`, `active_jobs`, `started_at` non-negative integers when given. */
export function registrationOf(v: unknown): { node: string; concurrency?: number; active_jobs?: number; started_at?: number } {
  const w = v as Record<string, unknown> | null;
  const ok = !!w && typeof w === 'object' && !Array.isArray(w) && typeof w.node === 'string' && count(w.concurrency) && count(w.active_jobs) && count(w.started_at);
  if (!ok) throw new FtError('invalid_parameter', 'worker must be {id, node: string, concurrency?, active_jobs?, started_at?: non-negative integers}');
  return { node: w!.node as string, concurrency: w!.concurrency as number | undefined, active_jobs: w!.active_jobs as number | undefined, started_at: w!.started_at as number | undefined };
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const SHA256 = /^[0-9a-f]{64}$/;
const sizeAndHash = (r: Record<string, unknown>): boolean => Number.isSafeInteger(r.size) && (r.size as number) >= 0 && typeof r.sha256 === 'string' && SHA256.test(r.sha256);

/** The `report` of POST /v1/worker/attempts/:id/checkpoints: step, size, sha256; name, metrics and meta optional. */
export function checkpointReportOf(r: Record<string, unknown>): Omit<CheckpointReport, 'path'> {
  const ok = Number.isSafeInteger(r.step) && (r.step as number) >= 0 && sizeAndHash(r) && (r.name === undefined || r.name === null || typeof r.name === 'string') &&
    (r.metrics === undefined || r.metrics === null || isObject(r.metrics)) && (r.meta === undefined || r.meta === null || isObject(r.meta));
  if (!ok) throw new FtError('invalid_parameter', 'a checkpoint report must be {step: integer >= 0, size: integer >= 0, sha256: 64 hex digits, name?: string, metrics?: object, meta?: object}');
  return {
    step: r.step as number, name: (r.name as string | null | undefined) ?? `step_${r.step}`, size: r.size as number, sha256: r.sha256 as string,
    metrics: (r.metrics as Record<string, number> | null | undefined) ?? {}, meta: (r.meta as Record<string, unknown> | null | undefined) ?? {},
  };
}

/** The `report` of POST /v1/worker/attempts/:id/outputs: a plain file name, size, sha256 and the input file it came from. */
export function outputReportOf(r: Record<string, unknown>): Omit<OutputReport, 'path'> {
  const ok = typeof r.filename === 'string' && OUTPUT_NAME.test(r.filename) && sizeAndHash(r) && typeof r.input_file_id === 'string';
  if (!ok) throw new FtError('invalid_parameter', 'an output report must be {filename: plain file name, size: integer >= 0, sha256: 64 hex digits, input_file_id: string}');
  return { filename: r.filename as string, size: r.size as number, sha256: r.sha256 as string, input_file_id: r.input_file_id as string };
}
