/**
 * SQLite queries workers use: claims, leases, fenced writes and the lease reaper.
 * Invariant: a write on behalf of an attempt succeeds only while (a) the attempt is `active`,
 * (b) its token equals the job's current token, (c) its lease has not expired at the write's time,
 * and (d) the job's status allows the write (../../policy.ts). A cancelled, reaped or superseded
 * attempt writes nothing. Every method is one IMMEDIATE transaction (the single writer orders them).
 */
import type { JobAction, JobStatus } from '../../../domain/status.js';
import type { Attempt, Checkpoint, Job, JobProgress } from '../../../domain/types.js';
import { CLAIMABLE, EVENTS, newAttempt, planWrite, settleLost, workerMayWrite } from '../../policy.js';
import { attemptFromRow, checkpointFromRow, jobFromRow } from '../../rows.js';
import type { ClaimResult, Fence, LostAttempt, NewEvent, TransitionPatch } from '../../store.js';
import type { Db } from '../db.js';
import { casStatus, inList, insertEvent, loadJob, type Row } from './steps.js';

/** Row of the job whose current attempt is `fence`, when the fence holds at `now`. */
function fencedJob(db: Db, f: Fence, now: number): Row | undefined {
  return db
    .prepare(`SELECT j.* FROM attempts a JOIN jobs j ON j.uuid = a.job_uuid
              WHERE a.id = ? AND a.lease_token = ? AND a.state = 'active' AND a.lease_expires_at > ?
              AND j.current_attempt_id = a.id AND j.lease_token = a.lease_token`)
    .get(f.attempt_id, f.lease_token, now) as Row | undefined;
}

/** The fenced job, when the fence holds at `now` and its status still takes a worker's writes. */
function writableJob(db: Db, f: Fence, now: number): Row | undefined {
  const j = fencedJob(db, f, now);
  return j && workerMayWrite(j.status as JobStatus) ? j : undefined;
}

export function fenceHolds(db: Db, f: Fence, now: number): boolean {
  return fencedJob(db, f, now) !== undefined;
}

export function claimJob(db: Db, worker_id: string, now: number, lease_ms: number): ClaimResult | null {
  return db.transaction((): ClaimResult | null => {
    const queued = inList('status', CLAIMABLE);
    const r = db.prepare(`SELECT * FROM jobs WHERE ${queued.sql} ORDER BY created_at ASC, uuid ASC LIMIT 1`).get(...queued.params) as Row | undefined;
    if (!r) return null;
    const job = jobFromRow(r);
    const w = planWrite('claim', job.status)!;
    const attempt = newAttempt(job, worker_id, Number(r.lease_token), now, lease_ms);
    const token = attempt.lease_token;
    const guard = inList('status', w.guard);
    const ok = db
      .prepare(`UPDATE jobs SET status = ?, updated_at = ?, attempts = attempts + 1, lease_token = ?, current_attempt_id = ?, error = NULL
                WHERE uuid = ? AND status = ? AND ${guard.sql}`)
      .run(w.to, now, token, attempt.id, job.uuid, w.from, ...guard.params);
    if (ok.changes !== 1) return null;
    db.prepare('INSERT INTO attempts (id, job_uuid, number, worker_id, lease_token, lease_expires_at, state, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(attempt.id, job.uuid, attempt.number, worker_id, token, attempt.lease_expires_at, attempt.state, now);
    insertEvent(db, job.uuid, now, EVENTS.attemptStarted(attempt));
    const latest = db.prepare('SELECT * FROM checkpoints WHERE job_uuid = ? ORDER BY step DESC, created_at DESC LIMIT 1').get(job.uuid) as Row | undefined;
    return { job: loadJob(db, job.uuid), attempt, resume: latest ? checkpointFromRow(latest) : null };
  }).immediate();
}

export function heartbeat(db: Db, f: Fence, now: number, lease_ms: number): JobStatus | null {
  return db.transaction(() => {
    const j = fencedJob(db, f, now);
    if (!j) return null;
    db.prepare('UPDATE attempts SET lease_expires_at = ? WHERE id = ?').run(now + lease_ms, f.attempt_id);
    return j.status as JobStatus;
  }).immediate();
}

export function fencedTransition(db: Db, f: Fence, action: JobAction, now: number, event: NewEvent, patch: TransitionPatch = {}): Job | null {
  return db.transaction(() => {
    const j = fencedJob(db, f, now);
    if (!j) return null;
    const w = planWrite(action, j.status as JobStatus);
    if (!w) return null;
    const fx = casStatus(db, String(j.uuid), w, now, patch, { sql: 'lease_token = ?', params: [f.lease_token] });
    if (!fx) return null;
    if (fx.endsAttempts) db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE id = ?").run(now, f.attempt_id);
    insertEvent(db, String(j.uuid), now, event);
    return loadJob(db, String(j.uuid));
  }).immediate();
}

export function updateProgress(db: Db, f: Fence, now: number, progress: JobProgress, hyperparameters?: Record<string, unknown>): boolean {
  return db.transaction(() => {
    const j = writableJob(db, f, now);
    if (!j) return false;
    const hp = hyperparameters ? JSON.stringify(hyperparameters) : null;
    db.prepare('UPDATE jobs SET progress = ?, hyperparameters = COALESCE(?, hyperparameters) WHERE uuid = ?').run(JSON.stringify(progress), hp, j.uuid);
    return true;
  }).immediate();
}

export function commitCheckpoint(db: Db, f: Fence, c: Checkpoint): boolean {
  return db.transaction(() => {
    const j = writableJob(db, f, c.created_at);
    if (!j || j.uuid !== c.job_uuid) return false;
    db.prepare('INSERT INTO checkpoints (id, job_uuid, attempt_id, step, name, blob_key, num_bytes, sha256, metrics, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.job_uuid, c.attempt_id, c.step, c.name, c.blob_key, c.num_bytes, c.sha256, JSON.stringify(c.metrics), JSON.stringify(c.meta), c.created_at);
    insertEvent(db, c.job_uuid, c.created_at, EVENTS.checkpointCommitted(c));
    return true;
  }).immediate();
}

/** The event only while the fence holds and the job may still be written by its worker (a batch output's commit record). */
export function appendFencedEvent(db: Db, f: Fence, now: number, e: NewEvent): boolean {
  return db.transaction(() => {
    const j = writableJob(db, f, now);
    if (!j) return false;
    insertEvent(db, String(j.uuid), now, e);
    return true;
  }).immediate();
}

export function appendMetrics(db: Db, f: Fence, job_uuid: string, step: number, values: Record<string, number>, now: number): boolean {
  return db.transaction(() => {
    const j = writableJob(db, f, now);
    if (!j || j.uuid !== job_uuid) return false;
    db.prepare('INSERT INTO metrics (job_uuid, step, vals, created_at) VALUES (?, ?, ?, ?)').run(job_uuid, step, JSON.stringify(values), now);
    return true;
  }).immediate();
}

export function endAttempt(db: Db, f: Fence, now: number): void {
  db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE id = ? AND lease_token = ? AND state = 'active'").run(now, f.attempt_id, f.lease_token);
}

export function getAttempt(db: Db, id: string): Attempt | null {
  const r = db.prepare('SELECT * FROM attempts WHERE id = ?').get(id) as Row | undefined;
  return r ? attemptFromRow(r) : null;
}

export function reapLostAttempts(db: Db, now: number, max_attempts: number, dead?: { prefix: string; except: string }): LostAttempt[] {
  return db.transaction(() => {
    const rows = (dead
      ? db.prepare("SELECT * FROM attempts WHERE state = 'active' AND (lease_expires_at <= ? OR (substr(worker_id, 1, ?) = ? AND substr(worker_id, 1, ?) <> ?))")
          .all(now, dead.prefix.length, dead.prefix, dead.except.length, dead.except)
      : db.prepare("SELECT * FROM attempts WHERE state = 'active' AND lease_expires_at <= ?").all(now)) as Row[];
    const out: LostAttempt[] = [];
    for (const row of rows) {
      const attempt = attemptFromRow(row);
      db.prepare("UPDATE attempts SET state = 'lost', ended_at = ? WHERE id = ?").run(now, attempt.id);
      const j = loadJob(db, attempt.job_uuid);
      const d = settleLost(j, attempt, max_attempts);
      if (d.action === 'released') {
        if (d.clearCurrent) db.prepare('UPDATE jobs SET current_attempt_id = NULL WHERE uuid = ?').run(j.uuid);
      } else {
        casStatus(db, j.uuid, d.write, now, d.patch);
      }
      if (d.event) insertEvent(db, j.uuid, now, d.event);
      out.push({ attempt, job: loadJob(db, j.uuid), action: d.action });
    }
    return out;
  }).immediate();
}
