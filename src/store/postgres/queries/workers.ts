/** PostgreSQL queries of the worker registry (fleet status): one row per worker, its heartbeat and load. */
import type { WorkerRecord } from '../../../domain/types.js';
import { workerFromRow } from '../../rows.js';
import type { PgDb } from '../pg-db.js';

export async function upsertWorker(db: PgDb, w: WorkerRecord): Promise<void> {
  await db.tx((c) => c.query(
    `INSERT INTO workers (id, node, kind, concurrency, active_jobs, last_seen_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET active_jobs = excluded.active_jobs, last_seen_at = excluded.last_seen_at, concurrency = excluded.concurrency`,
    [w.id, w.node, w.kind, w.concurrency, w.active_jobs, w.last_seen_at, w.started_at],
  ));
}

export async function listWorkers(db: PgDb): Promise<WorkerRecord[]> {
  return (await db.read('SELECT * FROM workers ORDER BY started_at')).map(workerFromRow);
}

export async function removeWorker(db: PgDb, id: string): Promise<void> {
  await db.tx((c) => c.query('DELETE FROM workers WHERE id = $1', [id]));
}
