/**
 * PostgreSQL half of the Store that workers use: claims, leases, fenced writes and the lease reaper.
 * Same invariant as sqlite-attempts.ts: a write on behalf of an attempt succeeds only while (a) the
 * attempt is `active`, (b) its token equals the job's current token, (c) its lease has not expired at
 * the write's time, and (d) the job's status allows the write.
 * Concurrency (several replicas, READ COMMITTED):
 * - claims take the oldest REGISTERED job with FOR UPDATE SKIP LOCKED: claimers never wait on each
 *   other and a job is locked, hence claimed, by one of them only;
 * - a fenced write locks the job row, then the attempt row (always in that order, as the reaper and
 *   transitions do, so they cannot deadlock), and re-checks the fence on the locked, latest versions;
 * - the reaper locks jobs in uuid order and re-checks each attempt under the lock, so two reapers (or
 *   a reaper and a late heartbeat) never settle the same attempt twice.
 */
import { allowedFrom, isTerminal, targetOf, type JobAction, type JobStatus } from '../../domain/status.js';
import type { Attempt, Checkpoint, Job, JobEvent, JobProgress } from '../../domain/types.js';
import { uuid as newUuid } from '../../lib/ids.js';
import { attemptFromRow, checkpointFromRow, jobFromRow } from '../rows.js';
import type { ClaimResult, Fence, LostAttempt, NewEvent, TransitionPatch } from '../store.js';
import { one, type PgDb, type Q, type Row } from './pg-db.js';
import { casStatus, insertEvent, loadJob, notifyStatus } from './pg-sql.js';

/** Statuses in which an attempt may still commit checkpoints and metrics. */
const WRITABLE: readonly JobStatus[] = ['STARTING', 'RUNNING', 'FINALIZING', 'STOPPING'];

export abstract class PgAttempts {
  constructor(protected readonly db: PgDb) {}

  protected abstract newEventId(): string;

  protected event(c: Q, job_uuid: string, now: number, e: NewEvent): Promise<JobEvent> {
    return insertEvent(c, job_uuid, now, e, this.newEventId());
  }

  /** The locked row of the job whose current attempt is `f`, when the fence holds at `now`. */
  private async fencedJob(c: Q, f: Fence, now: number): Promise<Row | null> {
    const j = one(await c.query('SELECT * FROM jobs WHERE uuid = (SELECT job_uuid FROM attempts WHERE id = $1) FOR UPDATE', [f.attempt_id]));
    if (!j || j.current_attempt_id !== f.attempt_id || Number(j.lease_token) !== f.lease_token) return null;
    const a = one(await c.query(
      "SELECT id FROM attempts WHERE id = $1 AND lease_token = $2 AND state = 'active' AND lease_expires_at > $3 FOR UPDATE",
      [f.attempt_id, f.lease_token, now],
    ));
    return a ? j : null;
  }

  async fenceHolds(f: Fence, now: number): Promise<boolean> {
    const rows = await this.db.read(
      `SELECT 1 FROM attempts a JOIN jobs j ON j.uuid = a.job_uuid
       WHERE a.id = $1 AND a.lease_token = $2 AND a.state = 'active' AND a.lease_expires_at > $3
       AND j.current_attempt_id = a.id AND j.lease_token = a.lease_token`,
      [f.attempt_id, f.lease_token, now],
    );
    return rows.length > 0;
  }

  async claimJob(worker_id: string, now: number, lease_ms: number): Promise<ClaimResult | null> {
    return this.db.tx(async (c): Promise<ClaimResult | null> => {
      const r = one(await c.query("SELECT * FROM jobs WHERE status = 'REGISTERED' ORDER BY created_at ASC, uuid ASC LIMIT 1 FOR UPDATE SKIP LOCKED"));
      if (!r) return null;
      const job = jobFromRow(r);
      const token = Number(r.lease_token) + 1;
      const attempt: Attempt = {
        id: newUuid(), job_uuid: job.uuid, number: job.attempts + 1, worker_id, lease_token: token,
        lease_expires_at: now + lease_ms, state: 'active', started_at: now, ended_at: null,
      };
      const to = targetOf('claim', job.status)!;
      const claimed = one(await c.query(
        "UPDATE jobs SET status = $1, updated_at = $2, attempts = attempts + 1, lease_token = $3, current_attempt_id = $4, error = NULL WHERE uuid = $5 AND status = 'REGISTERED' RETURNING *",
        [to, now, token, attempt.id, job.uuid],
      ));
      if (!claimed) return null;
      await c.query(
        'INSERT INTO attempts (id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [attempt.id, job.uuid, attempt.number, worker_id, token, attempt.lease_expires_at, 'active', now],
      );
      await this.event(c, job.uuid, now, { level: 'info', type: 'attempt_started', message: `Attempt ${attempt.number} claimed by worker ${worker_id}`, data: { attempt: attempt.number, worker_id } });
      const latest = one(await c.query('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step DESC, created_at DESC LIMIT 1', [job.uuid]));
      const out = jobFromRow(claimed);
      await notifyStatus(c, this.db, out);
      return { job: out, attempt, resume: latest ? checkpointFromRow(latest) : null };
    });
  }

  async heartbeat(f: Fence, now: number, lease_ms: number): Promise<JobStatus | null> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, now);
      if (!j) return null;
      await c.query('UPDATE attempts SET lease_expires_at = $1 WHERE id = $2', [now + lease_ms, f.attempt_id]);
      return j.status as JobStatus;
    });
  }

  async fencedTransition(f: Fence, action: JobAction, now: number, event: NewEvent, patch: TransitionPatch = {}): Promise<Job | null> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, now);
      if (!j) return null;
      const from = j.status as JobStatus;
      const to = targetOf(action, from);
      if (!to || !allowedFrom(action).includes(from)) return null;
      const row = await casStatus(c, String(j.uuid), from, to, now, patch, f.lease_token);
      if (!row) return null;
      if (isTerminal(to)) await c.query("UPDATE attempts SET state = 'finished', ended_at = $1 WHERE id = $2", [now, f.attempt_id]);
      await this.event(c, String(j.uuid), now, event);
      const job = jobFromRow(row);
      await notifyStatus(c, this.db, job);
      return job;
    });
  }

  async updateProgress(f: Fence, now: number, progress: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, now);
      if (!j || !WRITABLE.includes(j.status as JobStatus)) return false;
      const hp = hyperparameters ? JSON.stringify(hyperparameters) : null;
      await c.query('UPDATE jobs SET progress = $1, hyperparameters = COALESCE($2::json, hyperparameters) WHERE uuid = $3', [JSON.stringify(progress), hp, j.uuid]);
      return true;
    });
  }

  async commitCheckpoint(f: Fence, k: Checkpoint): Promise<boolean> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, k.created_at);
      if (!j || !WRITABLE.includes(j.status as JobStatus) || j.uuid !== k.job_uuid) return false;
      await c.query(
        'INSERT INTO checkpoints (id, job_uuid, attempt_id, step, name, blob_key, num_bytes, sha256, metrics, meta, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        [k.id, k.job_uuid, k.attempt_id, k.step, k.name, k.blob_key, k.num_bytes, k.sha256, JSON.stringify(k.metrics), JSON.stringify(k.meta), k.created_at],
      );
      await this.event(c, k.job_uuid, k.created_at, { level: 'info', type: 'checkpoint_committed', message: `Checkpoint ${k.name} committed at step ${k.step}`, data: { checkpoint_id: k.id, step: k.step, metrics: k.metrics } });
      return true;
    });
  }

  async appendFencedEvent(f: Fence, now: number, e: NewEvent): Promise<boolean> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, now);
      if (!j || !WRITABLE.includes(j.status as JobStatus)) return false;
      await this.event(c, String(j.uuid), now, e);
      return true;
    });
  }

  async appendMetrics(f: Fence, job_uuid: string, step: number, values: Record<string, number>, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      const j = await this.fencedJob(c, f, now);
      if (!j || j.uuid !== job_uuid || !WRITABLE.includes(j.status as JobStatus)) return false;
      await c.query('INSERT INTO metrics (job_uuid, step, vals, created_at) VALUES ($1, $2, $3, $4)', [job_uuid, step, JSON.stringify(values), now]);
      return true;
    });
  }

  async endAttempt(f: Fence, now: number): Promise<void> {
    await this.db.tx((c) => c.query("UPDATE attempts SET state = 'finished', ended_at = $1 WHERE id = $2 AND lease_token = $3 AND state = 'active'", [now, f.attempt_id, f.lease_token]));
  }

  async getAttempt(id: string): Promise<Attempt | null> {
    const [r] = await this.db.read('SELECT * FROM attempts WHERE id = $1', [id]);
    return r ? attemptFromRow(r) : null;
  }

  async reapLostAttempts(now: number, max_attempts: number, dead?: { prefix: string; except: string }): Promise<LostAttempt[]> {
    // Lost: lease expired, or held by a worker of a dead boot (prefix) other than the live one (except).
    const lost = `state = 'active' AND (lease_expires_at <= $1
      OR ($2::text IS NOT NULL AND starts_with(worker_id, $2::text) AND NOT starts_with(worker_id, $3::text)))`;
    const params = [now, dead?.prefix ?? null, dead?.except ?? null];
    return this.db.tx(async (c) => {
      const candidates = (await c.query(`SELECT id, job_uuid FROM attempts WHERE ${lost} ORDER BY job_uuid, id`, params)).rows as Row[];
      const out: LostAttempt[] = [];
      for (const cand of candidates) {
        const jr = one(await c.query('SELECT * FROM jobs WHERE uuid = $1 FOR UPDATE', [cand.job_uuid]));
        // Re-checked under the job lock: a heartbeat or another reaper may have got there first.
        const ar = one(await c.query(`UPDATE attempts SET state = 'lost', ended_at = $4 WHERE id = $5 AND ${lost} RETURNING *`, [...params, now, cand.id]));
        if (!ar || !jr) continue;
        out.push(await this.settleLostJob(c, jobFromRow(jr), attemptFromRow(ar), now, max_attempts));
      }
      return out;
    });
  }

  private async settleLostJob(c: Q, j: Job, attempt: Attempt, now: number, max_attempts: number): Promise<LostAttempt> {
    const current = j.current_attempt_id === attempt.id;
    const lostMsg = `Attempt ${attempt.number} lost: worker ${attempt.worker_id} stopped heartbeating`;
    if (current && allowedFrom('lost_retry').includes(j.status)) {
      if (j.attempts >= max_attempts) {
        const error = { code: 'worker_lost', message: `${lostMsg}; ${j.attempts} of ${max_attempts} attempts used` };
        const job = jobFromRow((await casStatus(c, j.uuid, j.status, 'FAILED', now, { error }))!);
        await this.event(c, j.uuid, now, { level: 'error', type: 'job_failed', message: error.message, data: { attempt: attempt.number } });
        await notifyStatus(c, this.db, job);
        return { attempt, job, action: 'failed' };
      }
      const job = jobFromRow((await casStatus(c, j.uuid, j.status, 'REGISTERED', now, {}))!);
      await this.event(c, j.uuid, now, { level: 'warn', type: 'attempt_lost', message: `${lostMsg}; job re-queued to resume from its last committed checkpoint`, data: { attempt: attempt.number } });
      await notifyStatus(c, this.db, job);
      return { attempt, job, action: 'requeued' };
    }
    if (current) {
      await c.query('UPDATE jobs SET current_attempt_id = NULL WHERE uuid = $1', [j.uuid]);
      await this.event(c, j.uuid, now, { level: 'warn', type: 'attempt_lost', message: lostMsg, data: { attempt: attempt.number } });
    }
    return { attempt, job: (await loadJob(c, j.uuid))!, action: 'released' };
  }

  async listOverdueStopping(cutoff: number): Promise<Job[]> {
    return (await this.db.read("SELECT * FROM jobs WHERE status = 'STOPPING' AND stop_requested_at <= $1", [cutoff])).map(jobFromRow);
  }
}
