/**
 * PostgreSQL half of the worker-token store (docs/scaling.md): remote workers' `wk_` tokens, kept as
 * sha256 hashes only (migration 4). Same semantics as sqlite-workers.ts; composed into PostgresStore
 * through the class chain, like pg-uploads.ts. Each method is one statement (no transaction needed).
 */
import type { WorkerTokenRecord } from '../store.js';
import type { Row } from './pg-db.js';
import { PgUploads } from './pg-uploads.js';

function workerTokenFromRow(r: Row): WorkerTokenRecord {
  return {
    id: String(r.id), name: String(r.name), prefix: String(r.prefix), created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  };
}

export abstract class PgWorkers extends PgUploads {
  async insertWorkerToken(t: WorkerTokenRecord, hash: string): Promise<void> {
    await this.db.tx((c) => c.query(
      'INSERT INTO worker_tokens (id, name, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [t.id, t.name, t.prefix, hash, t.created_at, t.revoked_at],
    ));
  }

  async findWorkerTokenByHash(hash: string): Promise<(WorkerTokenRecord & { hash: string }) | null> {
    const [r] = await this.db.read('SELECT * FROM worker_tokens WHERE hash = $1 AND revoked_at IS NULL', [hash]);
    return r ? { ...workerTokenFromRow(r), hash: String(r.hash) } : null;
  }

  async listWorkerTokens(): Promise<WorkerTokenRecord[]> {
    return (await this.db.read('SELECT * FROM worker_tokens ORDER BY created_at, id')).map(workerTokenFromRow);
  }

  async revokeWorkerToken(id: string, now: number): Promise<boolean> {
    const r = await this.db.tx((c) => c.query('UPDATE worker_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id]));
    return r.rowCount === 1;
  }
}
