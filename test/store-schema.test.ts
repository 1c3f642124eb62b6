/**
 * The committed schema dumps (src/store/sqlite/schema.sql, src/store/postgres/schema.sql) are what
 * the migrations produce: a fresh database migrated from scratch, and one created by migrations 1-6
 * (the schema before the status CHECKs) holding rows, then migrated forward, both dump to exactly the
 * committed text; the forward migration keeps every row and the row_version trigger. Every status
 * column's CHECK lists exactly the values of src/store/policy.ts and refuses any other.
 * PostgreSQL parts run when FTNODE_TEST_PG_URL is set. Regenerate the dumps: npm run schema:dump.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Job } from '../src/domain/types.js';
import { randomHex, typeId, uuid } from '../src/lib/ids.js';
import type { Migration } from '../src/store/migration-files.js';
import { ATTEMPT_STATES, FILE_STATUSES, LIVE_UPLOAD_STATES, STORED_JOB_STATUSES, UPLOAD_STATES } from '../src/store/policy.js';
import { migratePg, PG_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { PgDb } from '../src/store/postgres/pg-db.js';
import { PostgresStore } from '../src/store/postgres/pg-store.js';
import { dumpPgSchema } from '../src/store/postgres/schema.js';
import { migrateSqlite, openSqlite } from '../src/store/sqlite/db.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { dumpSqliteSchema } from '../src/store/sqlite/schema.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { dropPgSchema, TEST_PG_URL } from './helpers/test-store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const root = new URL('../../', import.meta.url); // dist/test → repository root
const committed = (dialect: 'sqlite' | 'postgres'): string => readFileSync(new URL(`src/store/${dialect}/schema.sql`, root), 'utf8');
const before7 = (ms: readonly Migration[]): Migration[] => ms.filter((m) => m.version <= 6);

/** The status columns and the values policy.ts allows in each. */
const STATUS_COLUMNS: Array<{ table: string; column: string; values: readonly string[] }> = [
  { table: 'jobs', column: 'status', values: STORED_JOB_STATUSES },
  { table: 'attempts', column: 'state', values: ATTEMPT_STATES },
  { table: 'uploads', column: 'state', values: UPLOAD_STATES },
  { table: 'files', column: 'status', values: FILE_STATUSES },
];

/** Rows of every table that has a status column, written through the store on the older schema. */
async function seed(store: Store): Promise<{ job: Job; attempt_id: string; upload_id: string; file_uid: string }> {
  const org = await store.ensureOrg('acme', T0);
  const file_uid = typeId('fil');
  await store.insertFileVersion({
    file_uid, org_uuid: org.uuid, file_id: 'train.jsonl', file_type: 'application/jsonl', num_bytes: 3, sha256: 'x', blob_key: 'k',
    status: 'ready', attributes: {}, created_at: T0, deleted_at: null,
  });
  const job: Job = {
    uuid: uuid(), org_uuid: org.uuid, id: 'j1', name: 'j1', api_version: 'v0.5', model: 'm', status: 'REGISTERED', config: { a: 1 },
    datasets: [{ name: 'd', split: 'train', files: [{ file_id: 'train.jsonl', file_uid }] }], request_hash: 'h', idempotency_key: null,
    created_at: T0, updated_at: T0, inference_config_path: null, error: null, progress: null, attempts: 0,
    current_attempt_id: null, stop_requested_at: null, hyperparameters: null,
  };
  await store.createJob(job, { level: 'info', type: 'job_created', message: 'created' });
  const claim = (await store.claimJob('w1', T0 + 1, 1_000))!;
  const upload_id = typeId('upl');
  await store.beginUpload({
    upload_id, org_uuid: org.uuid, file_id: 'big.csv', file_uid: typeId('fil'), file_type: 'text/csv', num_bytes: 10, part_size: 5, num_parts: 2,
    state: 'open', created_at: T0, updated_at: T0,
  }, false);
  return { job: claim.job, attempt_id: claim.attempt.id, upload_id, file_uid };
}

/** After the forward migration: the rows are all there, unchanged, and the row_version trigger still bumps. */
async function checkKept(store: Store, s: Awaited<ReturnType<typeof seed>>): Promise<void> {
  const job = await store.getJobByUuid(s.job.uuid);
  assert.deepEqual(job, s.job);
  assert.equal((await store.getAttempt(s.attempt_id))?.state, 'active');
  assert.equal((await store.getUpload(s.upload_id))?.state, 'open');
  assert.equal((await store.getFileByUid(s.job.org_uuid, s.file_uid))?.status, 'ready');
  assert.equal((await store.listEvents(s.job.uuid, { limit: -1 })).length, 2);
  const [before] = await store.listJobViewKeys({ org_uuid: s.job.org_uuid, limit: 1, offset: 0 });
  assert.ok(await store.transition(s.job.uuid, 'cancel', 'STARTING', T0 + 2, { level: 'info', type: 'job_cancelled', message: 'cancelled' }));
  const [after] = await store.listJobViewKeys({ org_uuid: s.job.org_uuid, limit: 1, offset: 0 });
  assert.ok(after!.row_version > before!.row_version, 'row_version bumped by the trigger after the rebuild');
}

/** The values a dump's CHECK on table.column lists, in order (SQLite's source text or PostgreSQL's ANY (ARRAY[…])). */
function checkValues(dump: string, dialect: 'sqlite' | 'postgres', table: string, column: string): string[] | null {
  const m = dialect === 'sqlite'
    ? new RegExp(`^CREATE TABLE "?${table}"? \\(.*\\b${column} TEXT NOT NULL CHECK \\(${column} IN \\(([^)]*)\\)\\)`, 'm').exec(dump)
    : new RegExp(`^CONSTRAINT ${table}\\.\\w+ CHECK \\(\\(${column} = ANY \\(ARRAY\\[([^\\]]*)\\]\\)\\)\\)$`, 'm').exec(dump);
  return m ? [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!) : null;
}

describe('schema dumps list exactly the status values of src/store/policy.ts', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    test(dialect, () => {
      const dump = committed(dialect);
      for (const c of STATUS_COLUMNS) assert.deepEqual(checkValues(dump, dialect, c.table, c.column), [...c.values], `${dialect} ${c.table}.${c.column}`);
      // The queries repeat this partial index's predicate from LIVE_UPLOAD_STATES, so the two must agree.
      const live = dialect === 'sqlite'
        ? /^CREATE UNIQUE INDEX uploads_live_name .* WHERE state IN \(([^)]*)\);$/m.exec(dump)
        : /^INDEX uploads\.uploads_live_name .* WHERE \(state = ANY \(ARRAY\[([^\]]*)\]\)\)$/m.exec(dump);
      assert.deepEqual(live && [...live[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]), [...LIVE_UPLOAD_STATES], `${dialect} uploads_live_name`);
    });
  }
});

describe('SQLite schema', () => {
  const withDir = async (fn: (file: string) => Promise<void>): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'ftnode-schema-'));
    try {
      await fn(join(dir, 'db.sqlite'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('a fresh database migrates to the committed schema.sql', async () => {
    const db = openSqlite(':memory:');
    migrateSqlite(db, T0);
    assert.equal(dumpSqliteSchema(db), committed('sqlite'));
    assert.deepEqual((db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version), SQLITE_MIGRATIONS.map((m) => m.version));
    db.close();
  });

  test('a file created by migrations 1-6 with rows migrates forward to the same schema and keeps its rows', () => withDir(async (file) => {
    const old = openSqlite(file);
    migrateSqlite(old, T0, before7(SQLITE_MIGRATIONS));
    assert.notEqual(dumpSqliteSchema(old), committed('sqlite'), 'the old schema differs (no CHECKs yet)');
    const seeded = await seed(new SqliteStore(old));
    old.close();
    const store = SqliteStore.open(file);
    await store.migrate();
    assert.equal(dumpSqliteSchema(store.db), committed('sqlite'));
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    await checkKept(store, seeded);
    await store.close();
  }));

  test('every status column refuses a value outside its list', () => withDir(async (file) => {
    const store = SqliteStore.open(file);
    await store.migrate();
    const s = await seed(store);
    const bad: Array<[string, unknown[]]> = [
      ["UPDATE jobs SET status = 'UNKNOWN' WHERE uuid = ?", [s.job.uuid]],
      ["UPDATE attempts SET state = 'zombie' WHERE id = ?", [s.attempt_id]],
      ["UPDATE uploads SET state = 'paused' WHERE upload_id = ?", [s.upload_id]],
      ["UPDATE files SET status = 'gone' WHERE file_uid = ?", [s.file_uid]],
    ];
    for (const [sql, params] of bad) assert.throws(() => store.db.prepare(sql).run(...params), /CHECK constraint failed/, sql);
    await store.close();
  }));
});

describe('PostgreSQL schema', { skip: TEST_PG_URL ? false : 'FTNODE_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' }, () => {
  const url = TEST_PG_URL!;
  const withSchema = async (fn: (db: PgDb) => Promise<void>): Promise<void> => {
    const schema = `schema_${randomHex(12)}`;
    const db = new PgDb(url, { schema });
    try {
      await fn(db);
    } finally {
      await db.close();
      await dropPgSchema(url, schema);
    }
  };

  test('a fresh schema migrates to the committed schema.sql', () => withSchema(async (db) => {
    assert.deepEqual(await migratePg(db, T0), PG_MIGRATIONS.map((m) => m.version));
    assert.equal(await dumpPgSchema(db), committed('postgres'));
  }));

  test('a schema created by migrations 1-6 with rows migrates forward to the same schema and keeps its rows', () => withSchema(async (db) => {
    await migratePg(db, T0, before7(PG_MIGRATIONS));
    assert.notEqual(await dumpPgSchema(db), committed('postgres'), 'the old schema differs (no CHECKs yet)');
    const store = new PostgresStore(db);
    const seeded = await seed(store);
    assert.deepEqual(await migratePg(db, T0), [7]);
    assert.equal(await dumpPgSchema(db), committed('postgres'));
    await checkKept(store, seeded);
  }));

  test('every status column refuses a value outside its list', () => withSchema(async (db) => {
    await migratePg(db, T0);
    const s = await seed(new PostgresStore(db));
    const bad: Array<[string, unknown[]]> = [
      ["UPDATE jobs SET status = 'UNKNOWN' WHERE uuid = $1", [s.job.uuid]],
      ["UPDATE attempts SET state = 'zombie' WHERE id = $1", [s.attempt_id]],
      ["UPDATE uploads SET state = 'paused' WHERE upload_id = $1", [s.upload_id]],
      ["UPDATE files SET status = 'gone' WHERE file_uid = $1", [s.file_uid]],
    ];
    for (const [sql, params] of bad) await assert.rejects(db.tx((c) => c.query(sql, params)), (err: { code?: string }) => err.code === '23514', sql);
  }));
});
