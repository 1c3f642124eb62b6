/**
 * PostgreSQL queries of remote workers' `wk_` tokens (docs/scaling.md): sha256 hashes only, in their
 * own table (migration 4). Each query is one statement (no transaction needed).
 */
import type { WorkerTokenRecord } from '../../store.js';
import type { PgDb, Row } from '../pg-db.js';

function workerTokenFromRow(r: Row): WorkerTokenRecord {
  return {
    id: String(r.id), name: String(r.name), prefix: String(r.prefix), created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  };
}

export async function insertWorkerToken(db: PgDb, t: WorkerTokenRecord, hash: string): Promise<void> {
  await db.tx((c) => c.query(
    'INSERT INTO worker_tokens (id, name, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [t.id, t.name, t.prefix, hash, t.created_at, t.revoked_at],
  ));
}

export async function findWorkerTokenByHash(db: PgDb, hash: string): Promise<(WorkerTokenRecord & { hash: string }) | null> {
  const [r] = await db.read('SELECT * FROM worker_tokens WHERE hash = $1 AND revoked_at IS NULL', [hash]);
  return r ? { ...workerTokenFromRow(r), hash: String(r.hash) } : null;
}

export async function listWorkerTokens(db: PgDb): Promise<WorkerTokenRecord[]> {
  return (await db.read('SELECT * FROM worker_tokens ORDER BY created_at, id')).map(workerTokenFromRow);
}

export async function revokeWorkerToken(db: PgDb, id: string, now: number): Promise<boolean> {
  const r = await db.tx((c) => c.query('UPDATE worker_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id]));
  return r.rowCount === 1;
}
