/** SQLite queries of the worker registry (fleet status): one row per worker, its heartbeat and load. */
import type { WorkerRecord } from '../../../domain/types.js';
import { workerFromRow } from '../../rows.js';
import type { Db } from '../db.js';
import type { Row } from './steps.js';

export function upsertWorker(db: Db, w: WorkerRecord): void {
  db.prepare(`INSERT INTO workers (id, node, kind, concurrency, active_jobs, last_seen_at, started_at)
              VALUES (@id, @node, @kind, @concurrency, @active_jobs, @last_seen_at, @started_at)
              ON CONFLICT(id) DO UPDATE SET active_jobs = excluded.active_jobs, last_seen_at = excluded.last_seen_at,
              concurrency = excluded.concurrency`)
    .run(w);
}

export function listWorkers(db: Db): WorkerRecord[] {
  return (db.prepare('SELECT * FROM workers ORDER BY started_at').all() as Row[]).map(workerFromRow);
}

export function removeWorker(db: Db, id: string): void {
  db.prepare('DELETE FROM workers WHERE id = ?').run(id);
}
