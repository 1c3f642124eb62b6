/**
 * PostgreSQL queries of jobs: create (with its file snapshot, first event and wake-up), reads, list
 * pages, user and control-plane transitions, delete, counts. Status writes go through steps.ts
 * casStatus with the write ../../policy.ts plans from the transition table; each status change
 * NOTIFYs at commit.
 */
import type { JobAction, JobStatus } from '../../../domain/status.js';
import type { Job, JobView, JobViewKey } from '../../../domain/types.js';
import { DELETABLE, FINALIZING_STOP, planWrite } from '../../policy.js';
import { jobFromRow, jobToParams, jobViewFromRow, JOB_VIEW_COLUMNS } from '../../rows.js';
import { fileVersionsGone, type CreateJobResult, type ListJobsQuery, type NewEvent, type TransitionPatch } from '../../store.js';
import { one, type PgDb, type Q, type Row } from '../pg-db.js';
import { casStatus, endActiveAttempts, inList, insertEvent, limitOrAll, notifyStatus } from './steps.js';

async function findExisting(c: Q, job: Job): Promise<Job | null> {
  const byId = one(await c.query('SELECT * FROM jobs WHERE org_uuid = $1 AND id = $2', [job.org_uuid, job.id]));
  if (byId) return jobFromRow(byId);
  if (!job.idempotency_key) return null;
  const byKey = one(await c.query('SELECT * FROM jobs WHERE org_uuid = $1 AND idempotency_key = $2', [job.org_uuid, job.idempotency_key]));
  return byKey ? jobFromRow(byKey) : null;
}

export async function createJob(db: PgDb, job: Job, event: NewEvent): Promise<CreateJobResult> {
  return db.tx(async (c): Promise<CreateJobResult> => {
    const existing = await findExisting(c, job);
    if (existing) return { created: false, job: existing };
    const uids = [...new Set(job.datasets.flatMap((d) => d.files.map((f) => f.file_uid)))];
    // FOR SHARE: a concurrent garbage collection of these versions waits for this transaction.
    const rows = (await c.query('SELECT file_uid, purged FROM files WHERE file_uid = ANY($1::text[]) FOR SHARE', [uids])).rows as Row[];
    const gone = rows.filter((r) => r.purged).map((r) => String(r.file_uid));
    if (gone.length > 0) throw fileVersionsGone(gone);
    const p = jobToParams(job);
    const cols = Object.keys(p);
    // ON CONFLICT: a replica inserting the same id or idempotency key concurrently wins; we return its job.
    const ins = await c.query(
      `INSERT INTO jobs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`,
      cols.map((k) => p[k]),
    );
    if (ins.rowCount !== 1) return { created: false, job: (await findExisting(c, job))! };
    for (const ds of job.datasets) {
      for (const f of ds.files) await c.query('INSERT INTO job_files (job_uuid, file_uid) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job.uuid, f.file_uid]);
    }
    await insertEvent(c, job.uuid, job.created_at, event);
    await notifyStatus(c, db, job);
    return { created: true, job };
  });
}

export async function getJob(db: PgDb, org_uuid: string, id: string): Promise<Job | null> {
  const [r] = await db.read('SELECT * FROM jobs WHERE org_uuid = $1 AND id = $2', [org_uuid, id]);
  return r ? jobFromRow(r) : null;
}

export async function getJobByUuid(db: PgDb, uuid: string): Promise<Job | null> {
  const [r] = await db.read('SELECT * FROM jobs WHERE uuid = $1', [uuid]);
  return r ? jobFromRow(r) : null;
}

export async function findJobByIdempotencyKey(db: PgDb, org_uuid: string, key: string): Promise<Job | null> {
  const [r] = await db.read('SELECT * FROM jobs WHERE org_uuid = $1 AND idempotency_key = $2', [org_uuid, key]);
  return r ? jobFromRow(r) : null;
}

async function listPage(db: PgDb, columns: string, q: ListJobsQuery): Promise<Row[]> {
  const params: unknown[] = [q.org_uuid];
  let sql = `SELECT ${columns} FROM jobs WHERE org_uuid = $1`;
  if (q.statuses && q.statuses.length > 0) sql += ` AND status = ANY($${params.push(q.statuses)}::text[])`;
  if (q.api_versions && q.api_versions.length > 0) sql += ` AND api_version = ANY($${params.push(q.api_versions)}::text[])`;
  if (q.after) sql += ` AND (created_at, id) < ($${params.push(q.after.created_at)}::bigint, $${params.push(q.after.id)}::text COLLATE "C")`;
  sql += ` ORDER BY created_at DESC, id DESC LIMIT $${params.push(limitOrAll(q.limit))} OFFSET $${params.push(q.offset)}`;
  return db.read(sql, params);
}

export async function listJobs(db: PgDb, q: ListJobsQuery): Promise<Job[]> {
  return (await listPage(db, '*', q)).map(jobFromRow);
}

export async function listJobViewKeys(db: PgDb, q: ListJobsQuery): Promise<JobViewKey[]> {
  return (await listPage(db, 'uuid, row_version', q)).map((r) => ({ uuid: String(r.uuid), row_version: Number(r.row_version) }));
}

export async function getJobViews(db: PgDb, org_uuid: string, uuids: string[]): Promise<JobView[]> {
  if (uuids.length === 0) return [];
  // ::text keeps the json columns as the stored text (pg would parse them), byte-identical to SQLite.
  const sql = `SELECT ${JOB_VIEW_COLUMNS}, config::text AS config_json, error::text AS error_json, progress::text AS progress_json
    FROM jobs WHERE org_uuid = $1 AND uuid = ANY($2::text[])`;
  return (await db.read(sql, [org_uuid, uuids])).map(jobViewFromRow);
}

export async function transition(db: PgDb, job_uuid: string, action: JobAction, expected: JobStatus, now: number, event: NewEvent, patch: TransitionPatch = {}): Promise<Job | null> {
  const w = planWrite(action, expected);
  if (!w) return null;
  return db.tx(async (c) => {
    const done = await casStatus(c, job_uuid, w, now, patch);
    if (!done) return null;
    if (done.fx.endsAttempts) await endActiveAttempts(c, job_uuid, now);
    await insertEvent(c, job_uuid, now, event);
    const job = jobFromRow(done.row);
    await notifyStatus(c, db, job);
    return job;
  });
}

export async function deleteJob(db: PgDb, job_uuid: string): Promise<boolean> {
  return db.tx(async (c) => {
    const params: unknown[] = [job_uuid];
    const r = await c.query(`DELETE FROM jobs WHERE uuid = $1 AND ${inList('status', DELETABLE, params)}`, params);
    if (r.rowCount === 0) return false;
    for (const t of ['events', 'metrics', 'checkpoints', 'attempts', 'job_files']) await c.query(`DELETE FROM ${t} WHERE job_uuid = $1`, [job_uuid]);
    return true;
  });
}

export async function countJobsByStatus(db: PgDb, org_uuid?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rows = org_uuid === undefined
    ? await db.read('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status')
    : await db.read('SELECT status, COUNT(*) AS n FROM jobs WHERE org_uuid = $1 GROUP BY status', [org_uuid]);
  for (const r of rows) out[String(r.status)] = Number(r.n);
  return out;
}

export async function listOverdueStopping(db: PgDb, cutoff: number): Promise<Job[]> {
  const params: unknown[] = [cutoff];
  return (await db.read(`SELECT * FROM jobs WHERE ${inList('status', FINALIZING_STOP, params)} AND stop_requested_at <= $1`, params)).map(jobFromRow);
}
