/**
 * A fresh, migrated store for a test on either database: SQLite in a temporary directory, or
 * PostgreSQL (FTNODE_TEST_PG_URL) in a schema of its own. `done()` closes it and removes the
 * directory or drops the schema; `done({ keep: true })` closes it and leaves the data where `where`
 * says, for a failed test to be inspected. `reopen()` opens a second store on the same data (a
 * restart, or a second replica).
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

export interface TestStore {
  store: Store;
  /** The SQLite file, or `schema "<name>"` on PostgreSQL. */
  where: string;
  /** Another store on the same data, not migrated (the caller closes it). */
  reopen(): Store;
  done(opts?: { keep?: boolean }): Promise<void>;
}

/** Drops a test's PostgreSQL schema (and everything in it). */
export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
}

/** `prefix` names the temp directory or schema (e.g. 'wt' → ftnode-wt-…, wt_…). */
export async function openTestStore(dialect: 'sqlite' | 'postgres', prefix: string): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `ftnode-${prefix}-`));
    const file = join(dir, 'db.sqlite');
    const store = SqliteStore.open(file);
    await store.migrate();
    return {
      store,
      where: file,
      reopen: () => SqliteStore.open(file),
      async done(opts) {
        await store.close();
        if (!opts?.keep) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!TEST_PG_URL) throw new Error('FTNODE_TEST_PG_URL is not set');
  const url = TEST_PG_URL;
  const schema = `${prefix}_${randomHex(12)}`;
  const store = PostgresStore.open(url, { schema, applicationName: 'ftnode-test' });
  await store.migrate();
  return {
    store,
    where: `schema "${schema}"`,
    reopen: () => PostgresStore.open(url, { schema, applicationName: 'ftnode-test' }),
    async done(opts) {
      await store.close();
      if (!opts?.keep) await dropPgSchema(url, schema);
    },
  };
}
