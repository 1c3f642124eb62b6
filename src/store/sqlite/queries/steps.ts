/**
 * SQL steps the SQLite query modules share, each run inside the caller's transaction: the guarded
 * status write, event numbering, loading a job, a new file version. The decisions (target status,
 * guard, what a status clears) come from ../../policy.ts; this file only renders them as SQL.
 */
import type { FileRecord, Job, JobEvent } from '../../../domain/types.js';
import { typeId } from '../../../lib/ids.js';
import { writeEffects, type StatusWrite, type WriteEffects } from '../../policy.js';
import { jobFromRow } from '../../rows.js';
import type { NewEvent, TransitionPatch } from '../../store.js';
import type { Db } from '../db.js';

export type Row = Record<string, unknown>;

/** `col IN (?, ?, …)` with its parameters: the transition table's guards always travel as parameters. */
export function inList(col: string, values: readonly string[]): { sql: string; params: string[] } {
  return { sql: `${col} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

/**
 * `col IN ('a', 'b')` with the values written into the SQL: only for a fixed list of ../../policy.ts
 * that a partial index's WHERE repeats (LIVE_UPLOAD_STATES, uploads_live_name). SQLite uses a partial
 * index only when the query's WHERE implies the index's, which it cannot prove through a bound `?`.
 */
export function inLiterals(col: string, values: readonly string[]): string {
  for (const v of values) if (!/^[A-Za-z_]+$/.test(v)) throw new Error(`store: '${v}' is not a status word`);
  return `${col} IN (${values.map((v) => `'${v}'`).join(', ')})`;
}

/**
 * The compare-and-set every status write goes through: `status = from` (what the caller read) and
 * `status IN (guard)` (the table's allowedFrom), plus `extra` conditions (the fence's lease token).
 * Returns the effects it applied (the caller ends the attempts when they say so), or null: no row matched.
 */
export function casStatus(db: Db, job_uuid: string, w: StatusWrite, now: number, patch: TransitionPatch, extra?: { sql: string; params: unknown[] }): WriteEffects | null {
  const fx = writeEffects(w.to, patch);
  const sets = ['status = ?', 'updated_at = ?', ...fx.set.map(([c]) => `${c} = ?`), ...fx.clear.map((c) => `${c} = NULL`)];
  const guard = inList('status', w.guard);
  const r = db
    .prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE uuid = ? AND status = ? AND ${guard.sql}${extra ? ` AND ${extra.sql}` : ''}`)
    .run(w.to, now, ...fx.set.map(([, v]) => v), job_uuid, w.from, ...guard.params, ...(extra?.params ?? []));
  return r.changes === 1 ? fx : null;
}

export function endActiveAttempts(db: Db, job_uuid: string, now: number): void {
  db.prepare("UPDATE attempts SET state = 'finished', ended_at = ? WHERE job_uuid = ? AND state = 'active'").run(now, job_uuid);
}

/** The next event of the job: seq = MAX + 1 (the single writer keeps it gapless). */
export function insertEvent(db: Db, job_uuid: string, now: number, e: NewEvent): JobEvent {
  const seq = Number((db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM events WHERE job_uuid = ?').get(job_uuid) as Row).n);
  const ev: JobEvent = { id: typeId('evt'), job_uuid, seq, level: e.level, type: e.type, message: e.message, data: e.data ?? null, created_at: now };
  db.prepare('INSERT INTO events (job_uuid, seq, id, level, type, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(job_uuid, seq, ev.id, ev.level, ev.type, ev.message, ev.data ? JSON.stringify(ev.data) : null, now);
  return ev;
}

export function loadJob(db: Db, uuid: string): Job {
  return jobFromRow(db.prepare('SELECT * FROM jobs WHERE uuid = ?').get(uuid) as Row);
}

/** A new current version of (org, file_id); the previous one stops being current and lends its file_index. */
export function insertFileVersionRow(db: Db, f: Omit<FileRecord, 'file_index' | 'is_current'>): FileRecord {
  const prev = db.prepare('SELECT file_index FROM files WHERE org_uuid = ? AND file_id = ? AND is_current = 1').get(f.org_uuid, f.file_id) as Row | undefined;
  db.prepare('UPDATE files SET is_current = 0 WHERE org_uuid = ? AND file_id = ? AND is_current = 1').run(f.org_uuid, f.file_id);
  const next = prev
    ? Number(prev.file_index)
    : Number((db.prepare('SELECT COALESCE(MAX(file_index), -1) + 1 AS n FROM files WHERE org_uuid = ?').get(f.org_uuid) as Row).n);
  const rec: FileRecord = { ...f, is_current: true, file_index: next };
  db.prepare(`INSERT INTO files (file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current,
              file_index, attributes, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`)
    .run(rec.file_uid, rec.org_uuid, rec.file_id, rec.file_type, rec.num_bytes, rec.sha256, rec.blob_key, rec.status,
      rec.file_index, JSON.stringify(rec.attributes), rec.created_at, rec.deleted_at);
  return rec;
}
