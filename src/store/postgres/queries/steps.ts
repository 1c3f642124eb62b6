/**
 * SQL steps the PostgreSQL query modules share; each runs inside the caller's transaction. The
 * decisions (target status, guard, what a status clears) come from ../../policy.ts; this file only
 * renders them as SQL.
 * Invariants: every status write is the compare-and-set `casStatus` (uuid + the status read + the
 * table's guard `status IN (…)`, inside a row lock, so READ COMMITTED re-checks it against the latest
 * row version); event numbers
 * are per job, gapless and race-free (MAX(seq)+1 under a per-job advisory lock held until commit);
 * wake-ups are NOTIFYs issued in the same transaction, so they are delivered only if it commits.
 */
import type { FileRecord, Job, JobEvent } from '../../../domain/types.js';
import { typeId } from '../../../lib/ids.js';
import { CLAIMABLE, writeEffects, type StatusWrite, type WriteEffects } from '../../policy.js';
import { jobFromRow } from '../../rows.js';
import type { NewEvent, TransitionPatch } from '../../store.js';
import { LOCK_NS, one, type PgDb, type Q, type Row } from '../pg-db.js';

export type { Row };

export const CHANNEL = { work: 'ftnode_work', job: 'ftnode_job' } as const;
export type Channel = (typeof CHANNEL)[keyof typeof CHANNEL];

/** `col IN ($n, $n+1, …)`, its values pushed onto `params`: the transition table's guards always travel as parameters. */
export function inList(col: string, values: readonly string[], params: unknown[]): string {
  return `${col} IN (${values.map((v) => `$${params.push(v)}`).join(', ')})`;
}

/**
 * `col IN ('a', 'b')` with the values written into the SQL: only for a fixed list of ../../policy.ts
 * that a partial index's WHERE repeats (LIVE_UPLOAD_STATES, uploads_live_name). Reads are named
 * prepared statements (pg-db.ts); once PostgreSQL switches one to a generic plan it cannot prove a
 * partial index's predicate from a parameter, only from a constant.
 */
export function inLiterals(col: string, values: readonly string[]): string {
  for (const v of values) if (!/^[A-Za-z_]+$/.test(v)) throw new Error(`store: '${v}' is not a status word`);
  return `${col} IN (${values.map((v) => `'${v}'`).join(', ')})`;
}

export async function insertEvent(c: Q, job_uuid: string, now: number, e: NewEvent): Promise<JobEvent> {
  const id = typeId('evt');
  // An advisory lock, not the job row's: a plain appendEvent must not make claimers (FOR UPDATE SKIP
  // LOCKED) skip a queued job. Taken in its own statement so the next statement's snapshot sees the
  // events committed by the previous holder.
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS.eventSeq, job_uuid]);
  const data = e.data ? JSON.stringify(e.data) : null;
  const r = one(await c.query(
    `INSERT INTO events (job_uuid, seq, id, level, type, message, data, created_at)
     SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM events WHERE job_uuid = $1 RETURNING seq`,
    [job_uuid, id, e.level, e.type, e.message, data, now],
  ))!;
  return { id, job_uuid, seq: Number(r.seq), level: e.level, type: e.type, message: e.message, data: e.data ?? null, created_at: now };
}

/**
 * The compare-and-set every status write goes through: `status = from` (what the caller read) and
 * `status IN (guard)` (the table's allowedFrom), plus the fence's lease token when given. Returns the
 * updated row and the effects it applied (the caller ends the attempts when they say so), or null.
 */
export async function casStatus(
  c: Q, job_uuid: string, w: StatusWrite, now: number, patch: TransitionPatch, leaseToken?: number,
): Promise<{ row: Row; fx: WriteEffects } | null> {
  const fx = writeEffects(w.to, patch);
  const params: unknown[] = [w.to, now];
  const sets = ['status = $1', 'updated_at = $2', ...fx.set.map(([col, v]) => `${col} = $${params.push(v)}`), ...fx.clear.map((col) => `${col} = NULL`)];
  let where = `uuid = $${params.push(job_uuid)} AND status = $${params.push(w.from)} AND ${inList('status', w.guard, params)}`;
  if (leaseToken !== undefined) where += ` AND lease_token = $${params.push(leaseToken)}`;
  const row = one(await c.query(`UPDATE jobs SET ${sets.join(', ')} WHERE ${where} RETURNING *`, params));
  return row ? { row, fx } : null;
}

export async function endActiveAttempts(c: Q, job_uuid: string, now: number): Promise<void> {
  await c.query("UPDATE attempts SET state = 'finished', ended_at = $1 WHERE job_uuid = $2 AND state = 'active'", [now, job_uuid]);
}

/** Wakes listeners at commit: `ftnode_job` on every status change, `ftnode_work` when the job is queued. */
export async function notifyStatus(c: Q, db: PgDb, job: Job): Promise<void> {
  await c.query('SELECT pg_notify($1, $2)', [db.channel(CHANNEL.job), job.uuid]);
  if (CLAIMABLE.includes(job.status)) await c.query('SELECT pg_notify($1, $2)', [db.channel(CHANNEL.work), job.uuid]);
}

export async function loadJob(c: Q, uuid: string): Promise<Job | null> {
  const r = one(await c.query('SELECT * FROM jobs WHERE uuid = $1', [uuid]));
  return r ? jobFromRow(r) : null;
}

/**
 * A new current version of (org, file_id). Locks, in this order everywhere: the name (so an upload's
 * initiate and this insert see each other, as SQLite's single writer guarantees), then the org
 * (file_index is MAX+1 per org).
 */
export async function insertFileVersionRow(c: Q, f: Omit<FileRecord, 'file_index' | 'is_current'>): Promise<FileRecord> {
  await lockFileName(c, f.org_uuid, f.file_id);
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS.fileIndex, f.org_uuid]);
  const prev = one(await c.query('UPDATE files SET is_current = FALSE WHERE org_uuid = $1 AND file_id = $2 AND is_current RETURNING file_index', [f.org_uuid, f.file_id]));
  const next = prev
    ? Number(prev.file_index)
    : Number(one(await c.query('SELECT COALESCE(MAX(file_index), -1) + 1 AS n FROM files WHERE org_uuid = $1', [f.org_uuid]))!.n);
  const rec: FileRecord = { ...f, is_current: true, file_index: next };
  await c.query(
    `INSERT INTO files (file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current,
     file_index, attributes, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10, $11, $12)`,
    [rec.file_uid, rec.org_uuid, rec.file_id, rec.file_type, rec.num_bytes, rec.sha256, rec.blob_key, rec.status,
      rec.file_index, JSON.stringify(rec.attributes), rec.created_at, rec.deleted_at],
  );
  return rec;
}

/** Serializes writers of one file name (uploads and versions) until commit. */
export async function lockFileName(c: Q, org_uuid: string, file_id: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS.fileName, `${org_uuid}/${file_id}`]);
}

/** LIMIT parameter: the Store's -1 ("all") is SQL's LIMIT NULL. */
export const limitOrAll = (n: number): number | null => (n < 0 ? null : n);
