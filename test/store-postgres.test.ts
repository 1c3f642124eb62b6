/**
 * What only PostgreSQL has to prove (the shared behaviour, direct uploads included, is in
 * store-conformance.test.ts): migrations racing from two replicas, many concurrent claimers, retries
 * of retryable failures (a backend killed mid-transaction, a real deadlock), and LISTEN/NOTIFY
 * wake-ups including after the listener's connection is killed. Needs FTNODE_TEST_PG_URL (except the
 * retry-classification and backoff unit tests); every test uses fresh random schemas, dropped after.
 * No sleeps: every wait is on an event (a notification, a barrier, a promise).
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import pg from 'pg';
import type { Job } from '../src/domain/types.js';
import { randomHex, uuid } from '../src/lib/ids.js';
import { deferred } from '../src/lib/signal.js';
import { backoffDelay, retry } from '../src/lib/backoff.js';
import { CommitOutcomeUnknownError, isRetryable } from '../src/store/postgres/errors.js';
import { migratePg, PG_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { PgDb } from '../src/store/postgres/pg-db.js';
import { PostgresStore } from '../src/store/postgres/pg-store.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const ev = { level: 'info' as const, type: 'test', message: 'test' };

function newJob(id: string, created: number): Job {
  return {
    uuid: uuid(), org_uuid: 'o', id, name: id, api_version: 'v0.5', model: 'm', status: 'REGISTERED', config: {},
    datasets: [], request_hash: 'h', idempotency_key: null, created_at: created, updated_at: created,
    inference_config_path: null, error: null, progress: null, attempts: 0, current_attempt_id: null,
    stop_requested_at: null, hyperparameters: null,
  };
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('retry classification and backoff (no database needed)', () => {
  const err = (code: string): Error => Object.assign(new Error(code), { code });

  test('SQLSTATE classes: rolled back or connection lost → retryable; anything else → not', () => {
    for (const code of ['40001', '40P01', '08000', '08006', '57P01', '57P03', 'ECONNRESET', 'ECONNREFUSED']) assert.equal(isRetryable(err(code)), true, code);
    for (const code of ['23505', '42P01', '22P05', '57014', '25P02']) assert.equal(isRetryable(err(code)), false, code);
    assert.equal(isRetryable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isRetryable(new CommitOutcomeUnknownError(err('08006'))), false, 'a lost COMMIT may have committed');
    assert.equal(isRetryable(new TypeError('bug')), false);
  });

  test('retry: bounded tries, full-jitter exponential waits, the last error propagates', async () => {
    const waits: number[] = [];
    let calls = 0;
    const always = retry(async () => {
      calls++;
      throw err('40001');
    }, { attempts: 4, baseMs: 10, maxMs: 25, random: () => 0.999, sleep: async (ms) => void waits.push(ms), retryable: isRetryable });
    await assert.rejects(always, (e: { code?: string }) => e.code === '40001');
    assert.equal(calls, 4);
    assert.deepEqual(waits, [9, 19, 24], 'just under 10, 20, then the 25 cap');
    assert.equal(backoffDelay(30, { baseMs: 10, maxMs: 1_000, random: () => 0.5 }), 500, 'no overflow far out');
    let n = 0;
    assert.equal(await retry(async () => (++n < 3 ? Promise.reject(err('40P01')) : 'ok'), { retryable: isRetryable, sleep: async () => undefined }), 'ok');
    n = 0;
    await assert.rejects(retry(async () => (++n, Promise.reject(err('23505'))), { retryable: isRetryable, sleep: async () => undefined }));
    assert.equal(n, 1, 'not retryable: one call');
  });
});

describe('PostgresStore (PostgreSQL only)', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' }, () => {
  const url = PG_URL!;
  const schemas: string[] = [];
  const toClose: Array<{ close(): Promise<void> }> = [];
  const schema = (): string => (schemas.push(`pgt_${randomHex(12)}`), schemas.at(-1)!);
  const open = (s: string, opts: Parameters<typeof PostgresStore.open>[1] = {}): PostgresStore => {
    const store = PostgresStore.open(url, { schema: s, ...opts });
    toClose.push(store);
    return store;
  };

  // Each test's pools and listeners close when it ends: parallel runs stay far below max_connections.
  afterEach(async () => {
    for (const c of toClose.splice(0)) await c.close();
  });
  after(async () => {
    await admin(async (c) => {
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    });
  });

  test('two replicas migrating a fresh schema at once: no error, each migration applied exactly once', async () => {
    const s = schema();
    const a = new PgDb(url, { schema: s });
    const b = new PgDb(url, { schema: s });
    toClose.push(a, b);
    const [ra, rb] = await Promise.all([migratePg(a, T0), migratePg(b, T0)]);
    assert.deepEqual([...ra, ...rb].sort((x, y) => x - y), PG_MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migratePg(a, T0), [], 'nothing left to apply');
    const rows = await a.read('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
  });

  test('16 concurrent claimers on two replicas share 50 jobs: each job is claimed exactly once', async () => {
    const s = schema();
    const replicas = [open(s, { poolSize: 8 }), open(s, { poolSize: 8 })];
    await replicas[0]!.migrate();
    for (let i = 0; i < 50; i++) await replicas[0]!.createJob(newJob(`j${i}`, T0 + i), ev);
    const claimed: string[] = [];
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      const store = replicas[w % 2]!;
      for (let c = await store.claimJob(`w${w}`, T0 + 100, 60_000); c; c = await store.claimJob(`w${w}`, T0 + 100, 60_000)) claimed.push(c.job.id);
    }));
    assert.equal(claimed.length, 50);
    assert.equal(new Set(claimed).size, 50);
    assert.deepEqual(await replicas[1]!.countJobsByStatus(), { STARTING: 50 });
    const perJob = await admin(async (c) => (await c.query(`SELECT COUNT(*)::int AS n FROM "${s}".attempts GROUP BY job_uuid`)).rows);
    assert.deepEqual(perJob.map((r) => r.n), Array(50).fill(1), 'one attempt per job');
  });

  test('a transaction whose backend is terminated mid-use is retried on a fresh connection', async () => {
    const retries: unknown[] = [];
    const db = new PgDb(url, { schema: schema(), poolSize: 1, retry: { onRetry: (err) => retries.push(err) } });
    toClose.push(db);
    await migratePg(db, T0);
    const result = await db.tx(async (c) => {
      // First try: the server kills this very backend (57P01 admin_shutdown) while the transaction is open.
      if (retries.length === 0) await c.query('SELECT pg_terminate_backend(pg_backend_pid())');
      await c.query("INSERT INTO orgs (uuid, name, created_at) VALUES ('u1', 'acme', 0)");
      return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    });
    assert.equal(retries.length, 1);
    assert.ok(isRetryable(retries[0]), String(retries[0]));
    assert.ok(result > 0);
    assert.deepEqual((await db.read('SELECT name FROM orgs')).map((r) => r.name), ['acme'], 'committed once');
  });

  test('a store whose pooled connections are all terminated keeps working', async () => {
    const app = `ftnode-kill-${randomHex(6)}`;
    const store = open(schema(), { poolSize: 3, applicationName: app });
    await store.migrate();
    await Promise.all([store.ensureOrg('a', T0), store.ensureOrg('b', T0), store.countApiKeys()]); // warm the pool
    const killed = await admin(async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app])).rowCount);
    assert.ok((killed ?? 0) >= 1);
    const { job } = await store.createJob(newJob('after-kill', T0), ev);
    assert.equal((await store.getJobByUuid(job.uuid))?.id, 'after-kill');
  });

  test('a deadlock (40P01) is retried: both transactions end up committed', async () => {
    const s = schema();
    const retries: unknown[] = [];
    const mk = (): PgDb => new PgDb(url, { schema: s, poolSize: 1, retry: { onRetry: (err) => retries.push(err) } });
    const [a, b] = [mk(), mk()];
    toClose.push(a, b);
    await migratePg(a, T0);
    await a.tx((c) => c.query("CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0)"));
    const first = { a: deferred<void>(), b: deferred<void>() };
    const crossing = (db: PgDb, mine: number, theirs: number, me: 'a' | 'b', other: 'a' | 'b'): Promise<void> =>
      db.tx(async (c) => {
        // Detect it in 20 ms instead of the default 1 s (a superuser-only setting: skipped otherwise).
        await c.query("SELECT set_config('deadlock_timeout', '20ms', true) WHERE current_setting('is_superuser') = 'on'");
        await c.query('UPDATE t SET n = n + 1 WHERE id = $1', [mine]);
        first[me].resolve();
        await first[other].promise; // both hold one row: now each takes the other's
        await c.query('UPDATE t SET n = n + 1 WHERE id = $1', [theirs]);
      });
    await Promise.all([crossing(a, 1, 2, 'a', 'b'), crossing(b, 2, 1, 'b', 'a')]);
    // Usually one retry; the victim's retry may win the lock race and deadlock again, then retries again.
    assert.ok(retries.length >= 1);
    assert.deepEqual(new Set(retries.map((e) => (e as { code?: string }).code)), new Set(['40P01']));
    assert.deepEqual((await a.read('SELECT n FROM t ORDER BY id')).map((r) => r.n), [2, 2]);
  });

  test('a non-retryable error propagates at once', async () => {
    const retries: unknown[] = [];
    const store = open(schema(), { retry: { onRetry: (err) => retries.push(err) } });
    await store.migrate();
    const org = await store.ensureOrg('acme', T0);
    const key = { id: 'k1', org_uuid: org.uuid, name: 'n', prefix: 'sk_', created_at: T0, revoked_at: null };
    await store.insertApiKey(key, 'h1');
    await assert.rejects(store.insertApiKey({ ...key, id: 'k2' }, 'h1'), (err: { code?: string }) => err.code === '23505');
    assert.deepEqual(retries, []);
  });

  test('LISTEN/NOTIFY wakes another replica when a job is queued and when its status changes', async () => {
    const s = schema();
    const [a, b] = [open(s), open(s)];
    await a.migrate();
    const work = deferred<string>();
    const claimed = deferred<string>();
    const offWork = await b.subscribe('ftnode_work', (p) => work.resolve(p));
    const { job } = await a.createJob(newJob('n1', T0), ev);
    assert.equal(await work.promise, job.uuid, 'queued');
    offWork();
    const offJob = await b.subscribe('ftnode_job', (p) => p === job.uuid && claimed.resolve(p));
    assert.equal((await a.claimJob('w', T0, 1_000))?.job.status, 'STARTING');
    assert.equal(await claimed.promise, job.uuid, 'status changed');
    offJob();
  });

  test('the listener reconnects after its connection is killed, says so with an empty payload, and wakes again', async () => {
    const app = `ftnode-listen-${randomHex(6)}`;
    const s = schema();
    const store = open(s, { applicationName: app });
    await store.migrate();
    const resync = deferred<void>();
    let woken = deferred<string>();
    await store.subscribe('ftnode_work', (p) => (p === '' ? resync.resolve() : woken.resolve(p)));
    const killed = await admin(async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`${app}:listen`])).rowCount);
    assert.equal(killed, 1);
    await resync.promise;
    woken = deferred<string>();
    const { job } = await store.createJob(newJob('after-reconnect', T0), ev);
    assert.equal(await woken.promise, job.uuid);
  });
});
