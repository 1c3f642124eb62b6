/**
 * SQLite queries of remote workers' `wk_` tokens (docs/scaling.md): sha256 hashes only, in their own
 * table (migration 4) so a worker token never authenticates as a user API key.
 */
import type { WorkerTokenRecord } from '../../store.js';
import type { Db } from '../db.js';
import type { Row } from './steps.js';

function workerTokenFromRow(r: Row): WorkerTokenRecord {
  return {
    id: String(r.id), name: String(r.name), prefix: String(r.prefix), created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  };
}

export function insertWorkerToken(db: Db, t: WorkerTokenRecord, hash: string): void {
  db.prepare('INSERT INTO worker_tokens (id, name, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(t.id, t.name, t.prefix, hash, t.created_at, t.revoked_at);
}

export function findWorkerTokenByHash(db: Db, hash: string): (WorkerTokenRecord & { hash: string }) | null {
  const r = db.prepare('SELECT * FROM worker_tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
  return r ? { ...workerTokenFromRow(r), hash: String(r.hash) } : null;
}

export function listWorkerTokens(db: Db): WorkerTokenRecord[] {
  return (db.prepare('SELECT * FROM worker_tokens ORDER BY created_at, id').all() as Row[]).map(workerTokenFromRow);
}

export function revokeWorkerToken(db: Db, id: string, now: number): boolean {
  return db.prepare('UPDATE worker_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes === 1;
}
