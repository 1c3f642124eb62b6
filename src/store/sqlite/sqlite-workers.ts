/**
 * SQLite half of the worker-token store (docs/scaling.md): remote workers' `wk_` tokens, kept as
 * sha256 hashes only (migration 4), in their own table so a worker token never authenticates as a
 * user API key. Composed into SqliteStore through the class chain, like sqlite-uploads.ts.
 */
import type { WorkerTokenRecord } from '../store.js';
import { SqliteUploads } from './sqlite-uploads.js';

type Row = Record<string, unknown>;

export function workerTokenFromRow(r: Row): WorkerTokenRecord {
  return {
    id: String(r.id), name: String(r.name), prefix: String(r.prefix), created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  };
}

export abstract class SqliteWorkers extends SqliteUploads {
  async insertWorkerToken(t: WorkerTokenRecord, hash: string): Promise<void> {
    this.db
      .prepare('INSERT INTO worker_tokens (id, name, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(t.id, t.name, t.prefix, hash, t.created_at, t.revoked_at);
  }

  async findWorkerTokenByHash(hash: string): Promise<(WorkerTokenRecord & { hash: string }) | null> {
    const r = this.db.prepare('SELECT * FROM worker_tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
    return r ? { ...workerTokenFromRow(r), hash: String(r.hash) } : null;
  }

  async listWorkerTokens(): Promise<WorkerTokenRecord[]> {
    return (this.db.prepare('SELECT * FROM worker_tokens ORDER BY created_at, id').all() as Row[]).map(workerTokenFromRow);
  }

  async revokeWorkerToken(id: string, now: number): Promise<boolean> {
    return this.db.prepare('UPDATE worker_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes === 1;
  }
}
