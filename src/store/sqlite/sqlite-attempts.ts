/**
 * SQLite half of the Store that workers use: claims, leases, fenced writes and the lease reaper.
 * Invariant: a write on behalf of an attempt succeeds only while (a) the attempt is `active`,
 * (b) its token equals the job's current token, (c) its lease has not expired at the write's time,
 * and (d) the job's status allows the write. A cancelled, reaped or superseded attempt writes nothing.
 */
import { allowedFrom, isTerminal, targetOf, type JobAction, type JobStatus } from '../../domain/status.js';
import type { Attempt, Checkpoint, Job, JobEvent, JobProgress } from '../../domain/types.js';
import { uuid as newUuid } from '../../lib/ids.js';
import { attemptFromRow, checkpointFromRow, eventFromRow, jobFromRow } from '../rows.js';
import type { ClaimResult, Fence, LostAttempt, NewEvent, TransitionPatch } from '../store.js';
import type { Db } from './db.js';

type Row = Record<string, unknown>;

/** Statuses in which an attempt may still commit checkpoints and metrics. */
const WRITABLE: readonly JobStatus[] = ['STARTING', 'RUNNING', 'FINALIZING', 'STOPPING'];

export abstract class SqliteAttempts {
  constructor(protected readonly db: Db) {}

  protected abstract newEventId(): string;

  protected insertEvent(job_uuid: string, now: number, e: NewEvent): JobEvent {
    const seq = Number((this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM events WHERE job_uuid = ?').get(job_uuid) as Row).n);
    const ev: JobEvent = { id: this.newEventId(), job_uuid, seq, level: e.level, type: e.type, message: e.message, data: e.data ?? null, created_at: now };
    this.db
      .prepare('INSERT INTO events (job_uuid, seq, id, level, type, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(job_uuid, seq, ev.id, ev.level, ev.type, ev.message, ev.data ? JSON.stringify(ev.data) : null, now);
    return ev;
  }

  /** The compare-and-set every status write goes through. */
  protected casStatus(job_uuid: string, from: JobStatus, to: JobStatus, now: number, patch: TransitionPatch, extraWhere = '', extra: unknown[] = []): boolean {
    const sets = ['status = ?', 'updated_at = ?'];
    const params: unknown[] = [to, now];
    if (patch.inference_config_path !== undefined) sets.push('inference_config_path = ?'), params.push(patch.inference_config_path);
    if (patch.error !== undefined) sets.push('error = ?'), params.push(patch.error ? JSON.stringify(patch.error) : null);
    if (patch.progress !== undefined) sets.push('progress = ?'), params.push(patch.progress ? JSON.stringify(patch.progress) : null);
    if (patch.stop_requested_at !== undefined) sets.push('stop_requested_at = ?'), params.push(patch.stop_requested_at);
    if (isTerminal(to) && patch.progress === undefined) sets.push('progress = NULL');
    if (to === 'REGISTERED') sets.push('current_attempt_id = NULL', 'progress = NULL');
    const r = this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE uuid = ? AND status = ? ${extraWhere}`).run(...params, job_uuid, from, ...extra);
    return r.changes === 1;
  }

  protected endActiveAttempts(job_uuid: string, now: number): void {
    this.db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE job_uuid = ? AND state = 'active'").run(now, job_uuid);
  }

  /** Row of the job whose current attempt is `fence`, when the fence holds at `now`. */
  private fencedJob(f: Fence, now: number): Row | undefined {
    return this.db
      .prepare(`SELECT j.* FROM attempts a JOIN jobs j ON j.uuid = a.job_uuid
                WHERE a.id = ? AND a.lease_token = ? AND a.state = 'active' AND a.lease_expires_at > ?
                AND j.current_attempt_id = a.id AND j.lease_token = a.lease_token`)
      .get(f.attempt_id, f.lease_token, now) as Row | undefined;
  }

  async fenceHolds(f: Fence, now: number): Promise<boolean> {
    return this.fencedJob(f, now) !== undefined;
  }

  async claimJob(worker_id: string, now: number, lease_ms: number): Promise<ClaimResult | null> {
    return this.db.transaction((): ClaimResult | null => {
      const r = this.db.prepare("SELECT * FROM jobs WHERE status = 'REGISTERED' ORDER BY created_at ASC, uuid ASC LIMIT 1").get() as Row | undefined;
      if (!r) return null;
      const job = jobFromRow(r);
      const token = Number(r.lease_token) + 1;
      const attempt: Attempt = {
        id: newUuid(), job_uuid: job.uuid, number: job.attempts + 1, worker_id, lease_token: token,
        lease_expires_at: now + lease_ms, state: 'active', started_at: now, ended_at: null,
      };
      const to = targetOf('claim', job.status)!;
      const ok = this.db
        .prepare("UPDATE jobs SET status = ?, updated_at = ?, attempts = attempts + 1, lease_token = ?, current_attempt_id = ?, error = NULL WHERE uuid = ? AND status = 'REGISTERED'")
        .run(to, now, token, attempt.id, job.uuid);
      if (ok.changes !== 1) return null;
      this.db
        .prepare('INSERT INTO attempts (id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(attempt.id, job.uuid, attempt.number, worker_id, token, attempt.lease_expires_at, 'active', now);
      this.insertEvent(job.uuid, now, { level: 'info', type: 'attempt_started', message: `Attempt ${attempt.number} claimed by worker ${worker_id}`, data: { attempt: attempt.number, worker_id } });
      const latest = this.db.prepare('SELECT * FROM checkpoints WHERE job_uuid = ? ORDER BY step DESC, created_at DESC LIMIT 1').get(job.uuid) as Row | undefined;
      const claimed = jobFromRow(this.db.prepare('SELECT * FROM jobs WHERE uuid = ?').get(job.uuid) as Row);
      return { job: claimed, attempt, resume: latest ? checkpointFromRow(latest) : null };
    }).immediate();
  }

  async heartbeat(f: Fence, now: number, lease_ms: number): Promise<JobStatus | null> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, now);
      if (!j) return null;
      this.db.prepare('UPDATE attempts SET lease_expires_at = ? WHERE id = ?').run(now + lease_ms, f.attempt_id);
      return j.status as JobStatus;
    }).immediate();
  }

  async fencedTransition(f: Fence, action: JobAction, now: number, event: NewEvent, patch: TransitionPatch = {}): Promise<Job | null> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, now);
      if (!j) return null;
      const from = j.status as JobStatus;
      const to = targetOf(action, from);
      if (!to || !allowedFrom(action).includes(from)) return null;
      if (!this.casStatus(String(j.uuid), from, to, now, patch, 'AND lease_token = ?', [f.lease_token])) return null;
      if (isTerminal(to)) this.db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE id = ?").run(now, f.attempt_id);
      this.insertEvent(String(j.uuid), now, event);
      return jobFromRow(this.db.prepare('SELECT * FROM jobs WHERE uuid = ?').get(j.uuid) as Row);
    }).immediate();
  }

  async updateProgress(f: Fence, now: number, progress: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, now);
      if (!j || !WRITABLE.includes(j.status as JobStatus)) return false;
      const hp = hyperparameters ? JSON.stringify(hyperparameters) : null;
      this.db.prepare('UPDATE jobs SET progress = ?, hyperparameters = COALESCE(?, hyperparameters) WHERE uuid = ?').run(JSON.stringify(progress), hp, j.uuid);
      return true;
    }).immediate();
  }

  async commitCheckpoint(f: Fence, c: Checkpoint): Promise<boolean> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, c.created_at);
      if (!j || !WRITABLE.includes(j.status as JobStatus) || j.uuid !== c.job_uuid) return false;
      this.db
        .prepare('INSERT INTO checkpoints (id, job_uuid, attempt_id, step, name, blob_key, num_bytes, sha256, metrics, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.id, c.job_uuid, c.attempt_id, c.step, c.name, c.blob_key, c.num_bytes, c.sha256, JSON.stringify(c.metrics), JSON.stringify(c.meta), c.created_at);
      this.insertEvent(c.job_uuid, c.created_at, { level: 'info', type: 'checkpoint_committed', message: `Checkpoint ${c.name} committed at step ${c.step}`, data: { checkpoint_id: c.id, step: c.step, metrics: c.metrics } });
      return true;
    }).immediate();
  }

  async appendFencedEvent(f: Fence, now: number, e: NewEvent): Promise<boolean> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, now);
      if (!j || !WRITABLE.includes(j.status as JobStatus)) return false;
      this.insertEvent(String(j.uuid), now, e);
      return true;
    }).immediate();
  }

  async appendMetrics(f: Fence, job_uuid: string, step: number, values: Record<string, number>, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const j = this.fencedJob(f, now);
      if (!j || j.uuid !== job_uuid || !WRITABLE.includes(j.status as JobStatus)) return false;
      this.db.prepare('INSERT INTO metrics (job_uuid, step, vals, created_at) VALUES (?, ?, ?, ?)').run(job_uuid, step, JSON.stringify(values), now);
      return true;
    }).immediate();
  }

  async endAttempt(f: Fence, now: number): Promise<void> {
    this.db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE id = ? AND lease_token = ? AND state = 'active'").run(now, f.attempt_id, f.lease_token);
  }

  async getAttempt(id: string): Promise<Attempt | null> {
    const r = this.db.prepare('SELECT * FROM attempts WHERE id = ?').get(id) as Row | undefined;
    return r ? attemptFromRow(r) : null;
  }

  async reapLostAttempts(now: number, max_attempts: number, dead?: { prefix: string; except: string }): Promise<LostAttempt[]> {
    return this.db.transaction(() => {
      const rows = (dead
        ? this.db.prepare("SELECT * FROM attempts WHERE state = 'active' AND (lease_expires_at <= ? OR (substr(worker_id, 1, ?) = ? AND substr(worker_id, 1, ?) <> ?))")
            .all(now, dead.prefix.length, dead.prefix, dead.except.length, dead.except)
        : this.db.prepare("SELECT * FROM attempts WHERE state = 'active' AND lease_expires_at <= ?").all(now)) as Row[];
      const out: LostAttempt[] = [];
      for (const row of rows) {
        const attempt = attemptFromRow(row);
        this.db.prepare("UPDATE attempts SET state = 'lost', ended_at = ? WHERE id = ?").run(now, attempt.id);
        const j = jobFromRow(this.db.prepare('SELECT * FROM jobs WHERE uuid = ?').get(attempt.job_uuid) as Row);
        out.push(this.settleLostJob(j, attempt, now, max_attempts));
      }
      return out;
    }).immediate();
  }

  private settleLostJob(j: Job, attempt: Attempt, now: number, max_attempts: number): LostAttempt {
    const current = j.current_attempt_id === attempt.id;
    const lostMsg = `Attempt ${attempt.number} lost: worker ${attempt.worker_id} stopped heartbeating`;
    if (current && allowedFrom('lost_retry').includes(j.status)) {
      if (j.attempts >= max_attempts) {
        const error = { code: 'worker_lost', message: `${lostMsg}; ${j.attempts} of ${max_attempts} attempts used` };
        this.casStatus(j.uuid, j.status, 'FAILED', now, { error });
        this.insertEvent(j.uuid, now, { level: 'error', type: 'job_failed', message: error.message, data: { attempt: attempt.number } });
        return { attempt, job: this.reload(j.uuid), action: 'failed' };
      }
      this.casStatus(j.uuid, j.status, 'REGISTERED', now, {});
      this.insertEvent(j.uuid, now, { level: 'warn', type: 'attempt_lost', message: `${lostMsg}; job re-queued to resume from its last committed checkpoint`, data: { attempt: attempt.number } });
      return { attempt, job: this.reload(j.uuid), action: 'requeued' };
    }
    if (current) {
      this.db.prepare('UPDATE jobs SET current_attempt_id = NULL WHERE uuid = ?').run(j.uuid);
      this.insertEvent(j.uuid, now, { level: 'warn', type: 'attempt_lost', message: lostMsg, data: { attempt: attempt.number } });
    }
    return { attempt, job: this.reload(j.uuid), action: 'released' };
  }

  private reload(uuid: string): Job {
    return jobFromRow(this.db.prepare('SELECT * FROM jobs WHERE uuid = ?').get(uuid) as Row);
  }

  async listOverdueStopping(cutoff: number): Promise<Job[]> {
    return (this.db.prepare(`SELECT * FROM jobs WHERE status = 'STOPPING' AND stop_requested_at <= ?`).all(cutoff) as Row[]).map(jobFromRow);
  }
}

