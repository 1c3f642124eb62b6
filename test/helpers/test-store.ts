/**
 * A fresh, migrated store for a test on either database: SQLite in a temporary directory, or
 * PostgreSQL (FTNODE_TEST_PG_URL) in a schema of its own. `done()` closes it and removes the
 * directory or drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomHex } from '../../src/lib/ids.js';
import { PostgresStore } from '../../src/store/postgres/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

export const TEST_PG_URL = process.env.FTNODE_TEST_PG_URL;

/** Drops a test's PostgreSQL schema (and everything in it). */
export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
}

/** `prefix` names the temp directory or schema (e.g. 'wt' → ftnode-wt-…, wt_…). */
export async function openTestStore(dialect: 'sqlite' | 'postgres', prefix: string): Promise<{ store: Store; done(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `ftnode-${prefix}-`));
    const store = SqliteStore.open(join(dir, 'db.sqlite'));
    await store.migrate();
    return { store, done: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  if (!TEST_PG_URL) throw new Error('FTNODE_TEST_PG_URL is not set');
  const schema = `${prefix}_${randomHex(12)}`;
  const store = PostgresStore.open(TEST_PG_URL, { schema });
  await store.migrate();
  return {
    store,
    async done() {
      await store.close();
      await dropPgSchema(TEST_PG_URL, schema);
    },
  };
}
