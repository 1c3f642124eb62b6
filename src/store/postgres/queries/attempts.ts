/**
 * PostgreSQL queries workers use: claims, leases, fenced writes and the lease reaper.
 * Same invariant as sqlite/queries/attempts.ts: a write on behalf of an attempt succeeds only while (a) the
 * attempt is `active`, (b) its token equals the job's current token, (c) its lease has not expired at
 * the write's time, and (d) the job's status allows the write (../../policy.ts).
 * Concurrency (several replicas, READ COMMITTED):
 * - claims take the oldest REGISTERED job with FOR UPDATE SKIP LOCKED: claimers never wait on each
 *   other and a job is locked, hence claimed, by one of them only;
 * - a fenced write locks the job row, then the attempt row (always in that order, as the reaper and
 *   transitions do, so they cannot deadlock), and re-checks the fence on the locked, latest versions;
 * - the reaper locks jobs in uuid order and re-checks each attempt under the lock, so two reapers (or
 *   a reaper and a late heartbeat) never settle the same attempt twice.
 */
import type { JobAction, JobStatus } from '../../../domain/status.js';
import type { Attempt, Checkpoint, Job, JobProgress } from '../../../domain/types.js';
import { CLAIMABLE, EVENTS, newAttempt, planWrite, settleLost, workerMayWrite } from '../../policy.js';
import { attemptFromRow, checkpointFromRow, jobFromRow } from '../../rows.js';
import type { ClaimResult, Fence, LostAttempt, NewEvent, TransitionPatch } from '../../store.js';
import { one, type PgDb, type Q, type Row } from '../pg-db.js';
import { casStatus, inList, insertEvent, loadJob, notifyStatus } from './steps.js';

/** The locked row of the job whose current attempt is `f`, when the fence holds at `now`. */
async function fencedJob(c: Q, f: Fence, now: number): Promise<Row | null> {
  const j = one(await c.query('SELECT * FROM jobs WHERE uuid = (SELECT job_uuid FROM attempts WHERE id = $1) FOR UPDATE', [f.attempt_id]));
  if (!j || j.current_attempt_id !== f.attempt_id || Number(j.lease_token) !== f.lease_token) return null;
  const a = one(await c.query(
    "SELECT id FROM attempts WHERE id = $1 AND lease_token = $2 AND state = 'active' AND lease_expires_at > $3 FOR UPDATE",
    [f.attempt_id, f.lease_token, now],
  ));
  return a ? j : null;
}

/** The fenced job, when the fence holds at `now` and its status still takes a worker's writes. */
async function writableJob(c: Q, f: Fence, now: number): Promise<Row | null> {
  const j = await fencedJob(c, f, now);
  return j && workerMayWrite(j.status as JobStatus) ? j : null;
}

export async function fenceHolds(db: PgDb, f: Fence, now: number): Promise<boolean> {
  const rows = await db.read(
    `SELECT 1 FROM attempts a JOIN jobs j ON j.uuid = a.job_uuid
     WHERE a.id = $1 AND a.lease_token = $2 AND a.state = 'active' AND a.lease_expires_at > $3
     AND j.current_attempt_id = a.id AND j.lease_token = a.lease_token`,
    [f.attempt_id, f.lease_token, now],
  );
  return rows.length > 0;
}

export async function claimJob(db: PgDb, worker_id: string, now: number, lease_ms: number): Promise<ClaimResult | null> {
  return db.tx(async (c): Promise<ClaimResult | null> => {
    const qp: unknown[] = [];
    const r = one(await c.query(`SELECT * FROM jobs WHERE ${inList('status', CLAIMABLE, qp)} ORDER BY created_at ASC, uuid ASC LIMIT 1 FOR UPDATE SKIP LOCKED`, qp));
    if (!r) return null;
    const job = jobFromRow(r);
    const w = planWrite('claim', job.status)!;
    const attempt = newAttempt(job, worker_id, Number(r.lease_token), now, lease_ms);
    const token = attempt.lease_token;
    const params: unknown[] = [w.to, now, token, attempt.id, job.uuid, w.from];
    const claimed = one(await c.query(
      `UPDATE jobs SET status = $1, updated_at = $2, attempts = attempts + 1, lease_token = $3, current_attempt_id = $4, error = NULL
       WHERE uuid = $5 AND status = $6 AND ${inList('status', w.guard, params)} RETURNING *`,
      params,
    ));
    if (!claimed) return null;
    await c.query(
      'INSERT INTO attempts (id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [attempt.id, job.uuid, attempt.number, worker_id, token, attempt.lease_expires_at, attempt.state, now],
    );
    await insertEvent(c, job.uuid, now, EVENTS.attemptStarted(attempt));
    const latest = one(await c.query('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step DESC, created_at DESC LIMIT 1', [job.uuid]));
    const out = jobFromRow(claimed);
    await notifyStatus(c, db, out);
    return { job: out, attempt, resume: latest ? checkpointFromRow(latest) : null };
  });
}

export async function heartbeat(db: PgDb, f: Fence, now: number, lease_ms: number): Promise<JobStatus | null> {
  return db.tx(async (c) => {
    const j = await fencedJob(c, f, now);
    if (!j) return null;
    await c.query('UPDATE attempts SET lease_expires_at = $1 WHERE id = $2', [now + lease_ms, f.attempt_id]);
    return j.status as JobStatus;
  });
}

export async function fencedTransition(db: PgDb, f: Fence, action: JobAction, now: number, event: NewEvent, patch: TransitionPatch = {}): Promise<Job | null> {
  return db.tx(async (c) => {
    const j = await fencedJob(c, f, now);
    if (!j) return null;
    const w = planWrite(action, j.status as JobStatus);
    if (!w) return null;
    const done = await casStatus(c, String(j.uuid), w, now, patch, f.lease_token);
    if (!done) return null;
    if (done.fx.endsAttempts) await c.query("UPDATE attempts SET state = 'finished', ended_at = $1 WHERE id = $2", [now, f.attempt_id]);
    await insertEvent(c, String(j.uuid), now, event);
    const job = jobFromRow(done.row);
    await notifyStatus(c, db, job);
    return job;
  });
}

export async function updateProgress(db: PgDb, f: Fence, now: number, progress: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean> {
  return db.tx(async (c) => {
    const j = await writableJob(c, f, now);
    if (!j) return false;
    const hp = hyperparameters ? JSON.stringify(hyperparameters) : null;
    await c.query('UPDATE jobs SET progress = $1, hyperparameters = COALESCE($2::json, hyperparameters) WHERE uuid = $3', [JSON.stringify(progress), hp, j.uuid]);
    return true;
  });
}

export async function commitCheckpoint(db: PgDb, f: Fence, k: Checkpoint): Promise<boolean> {
  return db.tx(async (c) => {
    const j = await writableJob(c, f, k.created_at);
    if (!j || j.uuid !== k.job_uuid) return false;
    await c.query(
      'INSERT INTO checkpoints (id, job_uuid, attempt_id, step, name, blob_key, num_bytes, sha256, metrics, meta, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
      [k.id, k.job_uuid, k.attempt_id, k.step, k.name, k.blob_key, k.num_bytes, k.sha256, JSON.stringify(k.metrics), JSON.stringify(k.meta), k.created_at],
    );
    await insertEvent(c, k.job_uuid, k.created_at, EVENTS.checkpointCommitted(k));
    return true;
  });
}

/** The event only while the fence holds and the job may still be written by its worker (a batch output's commit record). */
export async function appendFencedEvent(db: PgDb, f: Fence, now: number, e: NewEvent): Promise<boolean> {
  return db.tx(async (c) => {
    const j = await writableJob(c, f, now);
    if (!j) return false;
    await insertEvent(c, String(j.uuid), now, e);
    return true;
  });
}

export async function appendMetrics(db: PgDb, f: Fence, job_uuid: string, step: number, values: Record<string, number>, now: number): Promise<boolean> {
  return db.tx(async (c) => {
    const j = await writableJob(c, f, now);
    if (!j || j.uuid !== job_uuid) return false;
    await c.query('INSERT INTO metrics (job_uuid, step, vals, created_at) VALUES ($1, $2, $3, $4)', [job_uuid, step, JSON.stringify(values), now]);
    return true;
  });
}

export async function endAttempt(db: PgDb, f: Fence, now: number): Promise<void> {
  await db.tx((c) => c.query("UPDATE attempts SET state = 'finished', ended_at = $1 WHERE id = $2 AND lease_token = $3 AND state = 'active'", [now, f.attempt_id, f.lease_token]));
}

export async function getAttempt(db: PgDb, id: string): Promise<Attempt | null> {
  const [r] = await db.read('SELECT * FROM attempts WHERE id = $1', [id]);
  return r ? attemptFromRow(r) : null;
}

export async function reapLostAttempts(db: PgDb, now: number, max_attempts: number, dead?: { prefix: string; except: string }): Promise<LostAttempt[]> {
  // Lost: lease expired, or held by a worker of a dead boot (prefix) other than the live one (except).
  const lost = `state = 'active' AND (lease_expires_at <= $1
    OR ($2::text IS NOT NULL AND starts_with(worker_id, $2::text) AND NOT starts_with(worker_id, $3::text)))`;
  const params = [now, dead?.prefix ?? null, dead?.except ?? null];
  return db.tx(async (c) => {
    const candidates = (await c.query(`SELECT id, job_uuid FROM attempts WHERE ${lost} ORDER BY job_uuid, id`, params)).rows as Row[];
    const out: LostAttempt[] = [];
    for (const cand of candidates) {
      const jr = one(await c.query('SELECT * FROM jobs WHERE uuid = $1 FOR UPDATE', [cand.job_uuid]));
      // Re-checked under the job lock: a heartbeat or another reaper may have got there first.
      const ar = one(await c.query(`UPDATE attempts SET state = 'lost', ended_at = $4 WHERE id = $5 AND ${lost} RETURNING *`, [...params, now, cand.id]));
      if (!ar || !jr) continue;
      const j = jobFromRow(jr);
      const attempt = attemptFromRow(ar);
      const d = settleLost(j, attempt, max_attempts);
      let job: Job;
      if (d.action === 'released') {
        if (d.clearCurrent) await c.query('UPDATE jobs SET current_attempt_id = NULL WHERE uuid = $1', [j.uuid]);
        if (d.event) await insertEvent(c, j.uuid, now, d.event);
        job = (await loadJob(c, j.uuid))!;
      } else {
        job = jobFromRow((await casStatus(c, j.uuid, d.write, now, d.patch))!.row);
        await insertEvent(c, j.uuid, now, d.event);
        await notifyStatus(c, db, job);
      }
      out.push({ attempt, job, action: d.action });
    }
    return out;
  });
}
