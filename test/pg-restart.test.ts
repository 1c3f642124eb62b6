/**
 * PostgreSQL restarted → replicas and workers reconnect and continue. Real processes, a real database
 * crash: the test starts its own throwaway PostgreSQL 15 (test/helpers/private-pg.ts; the shared test
 * server is never touched), two `ftnode serve` replicas on it and two `ftnode worker` processes, each
 * worker pinned to one replica. Fixture jobs are RUNNING (paced step by step, checkpoints every 4
 * steps) when the database is killed (`pg_ctl stop -m immediate`: every backend dies at once, crash
 * recovery on the next start). Then:
 * - while it is down, both replicas answer 503 `database_unavailable` in the error envelope, for reads
 *   and writes, and every process stays alive; the trainers go on, their writes wait;
 * - once it is back, both replicas serve reads and writes again, each replica's LISTEN connection is
 *   re-established (a job created on one replica is claimed at once by the idle worker long-polling
 *   the OTHER replica: only NOTIFY can wake it before its 25 s long-poll ends), and
 * - every job ends COMPLETED with its checkpoints (files present, sha256 as recorded); the jobs running
 *   at the crash finished on the attempt they had (the outage was shorter than the lease).
 * The timings (detection, back → serving, back → wake-ups) are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { CommitOutcomeUnknownError } from '../src/store/postgres/errors.js';
import { PgDb } from '../src/store/postgres/pg-db.js';
import { StoreUnavailableError } from '../src/domain/unavailable.js';
import { Cluster, freePort } from './helpers/cluster.js';
import { Client, jobBody, paceGates, waitFor } from './helpers/harness.js';
import { PrivatePg, privatePgUnavailable } from './helpers/private-pg.js';
import { writeServerConfig } from './helpers/server-process.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

const STEPS = 16;
const PACE_MS = 120; // each step of a paced job is held this long: ~2 s of training per job
const TERMINAL = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
const CLAIM_WAIT_MS = 25_000; // a worker's long-poll: without NOTIFY an idle worker would see new work only this late
const PROMPT_MS = 3_000;

const ENV = {
  FTNODE_LEASE_MS: '20000', // longer than the outage: running attempts should survive it
  FTNODE_HEARTBEAT_MS: '500',
  FTNODE_REAPER_INTERVAL_MS: '500',
  FTNODE_WORKER_CLAIM_WAIT_MS: String(CLAIM_WAIT_MS),
};

let db: PrivatePg | null = null;
let cluster: Cluster | null = null;
const workers: WorkerProcess[] = [];
const dirs: string[] = [];
let pacer: NodeJS.Timeout | undefined;
after(async () => {
  clearInterval(pacer);
  for (const w of workers) await w.kill();
  await cluster?.stop();
  await db?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const ms = (t: number): string => `${Math.round(performance.now() - t)} ms`;

test('a database that cannot be reached is StoreUnavailableError after the retries (the HTTP edge: 503); a lost COMMIT says its outcome is unknown', async () => {
  const port = await freePort(); // nothing listens there
  const tries: unknown[] = [];
  const pgdb = new PgDb(`postgres://postgres@127.0.0.1:${port}/none`, { retry: { attempts: 3, baseMs: 1, maxMs: 2, onRetry: (err) => tries.push(err) } });
  try {
    await assert.rejects(pgdb.read('SELECT 1'), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError && !err.outcomeUnknown, String(err));
      assert.equal((err.cause as { code?: string }).code, 'ECONNREFUSED');
      return true;
    });
    await assert.rejects(pgdb.tx(async () => 1), StoreUnavailableError);
    assert.equal(tries.length, 4, 'each call tried 3 times first');
  } finally {
    await pgdb.close();
  }
  const lost = new CommitOutcomeUnknownError(new Error('Connection terminated unexpectedly'));
  assert.ok(lost instanceof StoreUnavailableError && lost.outcomeUnknown);
});

test('PostgreSQL crashes and restarts: replicas answer 503 meanwhile, then serve again; listeners and workers reconnect; every job completes', { timeout: 120_000 }, async (t) => {
  const why = privatePgUnavailable();
  if (why) return t.skip(why);
  db = new PrivatePg();
  await db.start();
  const home = mkdtempSync(join(tmpdir(), 'ftnode-pgrestart-'));
  const gateDir = mkdtempSync(join(tmpdir(), 'ftnode-pgrestart-gates-'));
  dirs.push(home, gateDir);
  writeServerConfig(home, gateDir, {
    paced: { steps: STEPS, evalEvery: 4, gates: [...Array.from({ length: STEPS }, (_, i) => `step_${i + 1}`), 'done'] },
    hold: { steps: 2, evalEvery: 1, gates: ['step_2'] },
  });
  cluster = new Cluster({ pgUrl: db.url, schema: 'ftnode_restart', home, replicas: 2, workers: 0, env: ENV });
  await cluster.start();
  const logs = cluster.replicas.map((r) => {
    const out = { text: '' };
    r.child!.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
    r.child!.stderr!.on('data', (d: Buffer) => (out.text += d.toString()));
    return out;
  });
  // Worker i long-polls replica i only: who wakes it is that replica's LISTEN connection or nobody.
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess(cluster.urls[i]!, cluster.token, { env: { ...ENV, FTNODE_LOG_LEVEL: 'warn' } }));
  const [A, B] = cluster.urls.map((u) => new Client(u));
  const replicas = [A!, B!];
  const alive = (): void => {
    cluster!.replicas.forEach((r, i) => assert.ok(r.child && r.child.exitCode === null && r.child.signalCode === null, `replica ${i} died:\n${logs[i]!.text}`));
    workers.forEach((w, i) => assert.ok(w.child.exitCode === null && w.child.signalCode === null, `worker ${i} died:\n${w.output()}`));
  };
  pacer = paceGates(gateDir, PACE_MS, 'pace-');
  assert.equal((await A!.upload('data.jsonl', '{"x":1}\n')).status, 200);

  // Four paced jobs, two on each replica: two run (one per worker), two wait.
  const ids = ['pace-0', 'pace-1', 'pace-2', 'pace-3'];
  for (const [i, id] of ids.entries()) assert.equal((await replicas[i % 2]!.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-paced', 'data.jsonl', { id }))).status, 201);
  const running = await waitFor('two jobs RUNNING with a checkpoint', async () => {
    const out: string[] = [];
    for (const id of ids) {
      if ((await A!.job(id)).status !== 'RUNNING') continue;
      if ((await A!.get(`/v0.5/fine-tune/jobs/${id}/checkpoints`)).body.data.length > 0) out.push(id);
    }
    return out.length === 2 && out;
  }, 30_000);
  // A live event stream of each running job, both on replica 1 (one job runs under replica 0's worker):
  // each must outlive the outage and end with the terminal status.
  const opened = await Promise.all(running.map((id) => fetch(`${cluster!.urls[1]}/v0.5/fine-tune/jobs/${id}/events`, { headers: { authorization: `Bearer ${B!.key}`, accept: 'text/event-stream' } })));
  for (const res of opened) assert.equal(res.status, 200); // headers are sent once the stream is subscribed
  const streams = opened.map(async (res, k) => ({ id: running[k]!, text: await res.text().catch((e: Error) => `stream broke: ${e.message}`) })); // ends at the terminal status

  // ---- crash
  const crashedAt = Date.now();
  await db.crash();
  const down = performance.now();
  const timings: Record<string, string> = {};
  for (const [i, c] of replicas.entries()) {
    const t0 = performance.now();
    const r = await c.get('/v0.5/fine-tune/jobs');
    if (i === 0) timings['first request after the crash answered'] = ms(t0);
    assert.equal(r.status, 503, `replica ${i}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errors?.[0]?.code, 'database_unavailable', JSON.stringify(r.body));
    assert.ok(r.body.errors[0].message && r.body.errors[0].suggestion && r.body.errors[0].error_uid, JSON.stringify(r.body));
    assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After');
    const w = await c.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-paced', 'data.jsonl', { id: `down-${i}` }));
    assert.equal(w.status, 503, `a write on replica ${i} while the database is down: ${JSON.stringify(w.body)}`);
    assert.equal(w.body.errors?.[0]?.code, 'database_unavailable');
  }
  // Stay down until every running trainer has trained to its end (its `done` gate): its progress,
  // metrics, checkpoint uploads and finish are all pending across the outage, retried by its worker.
  for (const id of running) await waitFor(`${id} trained to the end while the database is down`, () => existsSync(join(gateDir, `${id}.done.reached`)), 15_000);
  alive();
  for (const c of replicas) assert.equal((await c.get('/v0.5/fine-tune/jobs')).status, 503, 'still down');
  timings['outage'] = ms(down);

  // ---- back
  await db.start();
  const up = performance.now();
  for (const [i, c] of replicas.entries()) {
    await waitFor(`replica ${i} serving reads`, async () => (await c.get('/v0.5/fine-tune/jobs')).status === 200, 20_000);
    timings[`back → replica ${i} serves reads`] = ms(up);
  }
  for (const [i, c] of replicas.entries()) {
    const r = await c.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-paced', 'data.jsonl', { id: `pace-after-${i}` }));
    assert.equal(r.status, 201, `a create on replica ${i} after the restart: ${JSON.stringify(r.body)}`);
    ids.push(`pace-after-${i}`);
  }
  timings['back → both replicas created a job'] = ms(up);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const listeners = await waitFor('both replicas LISTENing again', async () => {
      const n = Number((await admin.query("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'ftnode:listen'")).rows[0].n);
      return n === 2 && n;
    }, 15_000);
    assert.equal(listeners, 2);
    timings['back → both LISTEN connections re-established'] = ms(up);

    await waitFor('the jobs running at the crash terminal', async () => {
      for (const id of running) if (!TERMINAL.includes((await A!.job(id)).status)) return false;
      return true;
    }, 30_000);
    timings['back → the jobs running at the crash finished (writes held by their workers delivered)'] = ms(up);
    await waitFor('every paced job terminal', async () => {
      for (const id of ids) if (!TERMINAL.includes((await A!.job(id)).status)) return false;
      return true;
    }, 45_000);
    timings['back → every paced job terminal'] = ms(up);
    alive();

    // ---- wake-ups across replicas after the restart. hold-1 occupies one worker; hold-2 is created on
    // that busy worker's replica, so only the idle worker, long-polling the other replica, can take it,
    // and it learns of it only through NOTIFY. Then the same the other way round with hold-3.
    const nodeOf = async (id: string): Promise<number> => {
      const ev = (await A!.get(`/v0.5/fine-tune/jobs/${id}/events?order=asc&limit=-1`)).body.data as Array<{ type: string; data: any }>;
      const wid = String(ev.find((e) => e.type === 'attempt_started')!.data.worker_id);
      const i = workers.findIndex((w) => wid.includes(`:${w.node}:`));
      assert.ok(i >= 0, `claimed by an unknown worker ${wid}`);
      return i;
    };
    // The worker of replica `i` waits in a long-poll there (so a claim now can only come from a wake-up).
    const polling = (i: number): Promise<unknown> => waitFor(`worker ${i} long-polling replica ${i}`, async () => {
      const text = (await replicas[i]!.get('/metrics')).body as string;
      return Number(/^ftnode_worker_claims_waiting(?:\{\})? (\d+)/m.exec(text)?.[1] ?? 0) >= 1;
    }, 10_000);
    const claimedWithin = async (id: string, on: Client): Promise<number> => {
      const t0 = performance.now();
      assert.equal((await on.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-hold', 'data.jsonl', { id }))).status, 201);
      await waitFor(`${id} claimed`, async () => ['STARTING', 'RUNNING'].includes((await on.job(id)).status), CLAIM_WAIT_MS);
      return performance.now() - t0;
    };
    const gates = (id: string): void => writeFileSync(join(gateDir, `${id}.step_2.go`), '');
    await claimedWithin('hold-1', A!);
    const busy = await nodeOf('hold-1');
    const idle = 1 - busy;
    await polling(idle);
    const lat2 = await claimedWithin('hold-2', replicas[busy]!);
    assert.equal(await nodeOf('hold-2'), idle, 'hold-2 taken by the idle worker');
    assert.ok(lat2 < PROMPT_MS, `replica ${idle}'s listener: hold-2 claimed after ${Math.round(lat2)} ms (NOTIFY did not wake the other replica)`);
    gates('hold-1');
    await A!.waitStatus('hold-1', TERMINAL, 30_000);
    await polling(busy);
    const lat3 = await claimedWithin('hold-3', replicas[idle]!);
    assert.equal(await nodeOf('hold-3'), busy, 'hold-3 taken by the worker that finished hold-1');
    assert.ok(lat3 < PROMPT_MS, `replica ${busy}'s listener: hold-3 claimed after ${Math.round(lat3)} ms (NOTIFY did not wake the other replica)`);
    timings[`create on replica ${busy} → claimed by worker of replica ${idle} (NOTIFY)`] = `${Math.round(lat2)} ms`;
    timings[`create on replica ${idle} → claimed by worker of replica ${busy} (NOTIFY)`] = `${Math.round(lat3)} ms`;
    gates('hold-2');
    gates('hold-3');
    ids.push('hold-1', 'hold-2', 'hold-3');
    await waitFor('the hold jobs terminal', async () => {
      for (const id of ['hold-2', 'hold-3']) if (!TERMINAL.includes((await A!.job(id)).status)) return false;
      return true;
    }, 30_000);
    alive();

    // ---- every job: COMPLETED, checkpoints committed and intact; the ones running at the crash never lost their attempt.
    await admin.query('SET search_path TO ftnode_restart');
    const jobs = (await admin.query('SELECT * FROM jobs ORDER BY id')).rows;
    assert.deepEqual(jobs.map((j) => j.id).sort(), [...ids].sort(), 'no job from the 503 answers was created');
    const ckpts = (await admin.query('SELECT * FROM checkpoints')).rows;
    const attempts = (await admin.query('SELECT * FROM attempts')).rows;
    for (const j of jobs) {
      assert.equal(j.status, 'COMPLETED', `${j.id}: ${j.status} ${j.error ?? ''}`);
      assert.ok(j.inference_config_path, `${j.id} has no inference config`);
      const mine = ckpts.filter((c) => c.job_uuid === j.uuid);
      const expected = j.id.startsWith('hold-') ? 2 : STEPS / 4;
      assert.equal(new Set(mine.map((c) => Number(c.step))).size, expected, `${j.id}: checkpoints at steps ${mine.map((c) => c.step).join(',')}`);
      for (const c of mine) assert.equal(sha(join(home, 'artifacts', c.blob_key)), c.sha256, `checkpoint ${c.id} of ${j.id}`);
    }
    for (const id of running) {
      const j = jobs.find((x) => x.id === id)!;
      const mine = attempts.filter((a) => a.job_uuid === j.uuid);
      assert.deepEqual(mine.map((a) => a.state), ['finished'], `${id} ran across the outage on one attempt: ${JSON.stringify(mine.map((a) => a.state))}`);
    }
    for (const s of await Promise.all(streams)) {
      assert.match(s.text, /"status":"COMPLETED"/, `${s.id}: the event stream on replica 1 ended without the terminal status:\n${s.text.slice(-1500)}`);
      assert.match(s.text, /event: job_completed/, s.id);
    }
    alive();
    // When each replica noticed (its pool / LISTEN connection reported the broken connection).
    for (const [i, l] of logs.entries()) {
      const first = l.text.split('\n').map((x) => { try { return JSON.parse(x) as { time: number; msg: string }; } catch { return null; } })
        .find((x) => x && x.msg === 'postgres connection error' && x.time >= crashedAt);
      if (first) timings[`crash → replica ${i} logged the lost connection`] = `${first.time - crashedAt} ms`;
    }
    t.diagnostic(`timings: ${JSON.stringify(timings)}`);
    if (process.env.PGRESTART_DEBUG) for (const [i, l] of logs.entries()) t.diagnostic(`replica ${i} log:\n${l.text}`);
    if (process.env.PGRESTART_DEBUG) for (const [i, w] of workers.entries()) t.diagnostic(`worker ${i} log:\n${w.output()}`);
  } finally {
    await admin.end();
  }
});

test('a built-in worker (FTNODE_WORKERS=1 on a PostgreSQL replica) holds its writes across a database restart and finishes on the same attempt', async (t) => {
  const why = privatePgUnavailable();
  if (why) return t.skip(why);
  const own = new PrivatePg();
  await own.start();
  const home = mkdtempSync(join(tmpdir(), 'ftnode-pgrestart-builtin-'));
  const gateDir = mkdtempSync(join(tmpdir(), 'ftnode-pgrestart-builtin-gates-'));
  dirs.push(home, gateDir);
  writeServerConfig(home, gateDir, { paced: { steps: STEPS, evalEvery: 4, gates: [...Array.from({ length: STEPS }, (_, i) => `step_${i + 1}`), 'done'] } });
  const one = new Cluster({ pgUrl: own.url, schema: 'ftnode_restart_builtin', home, replicas: 1, workers: 0, env: { ...ENV, FTNODE_WORKERS: '1' } });
  const gatePacer = paceGates(gateDir, PACE_MS, 'pace-');
  try {
    await one.start();
    const c = new Client(one.urls[0]!);
    assert.equal((await c.upload('data.jsonl', '{"x":1}\n')).status, 200);
    assert.equal((await c.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-paced', 'data.jsonl', { id: 'pace-builtin' }))).status, 201);
    await waitFor('pace-builtin RUNNING with a checkpoint', async () =>
      (await c.job('pace-builtin')).status === 'RUNNING' && (await c.get('/v0.5/fine-tune/jobs/pace-builtin/checkpoints')).body.data.length > 0, 30_000);
    await own.crash();
    // down until the trainer has trained to its end: checkpoints of steps 8-16, metrics and finish all wait
    await waitFor('pace-builtin trained to the end while the database is down', () => existsSync(join(gateDir, 'pace-builtin.done.reached')), 15_000);
    assert.equal((await c.get('/v0.5/fine-tune/jobs')).status, 503);
    await own.start();
    await c.waitStatus('pace-builtin', TERMINAL, 30_000);
    const admin = new pg.Client({ connectionString: own.url });
    await admin.connect();
    try {
      await admin.query('SET search_path TO ftnode_restart_builtin');
      const job = (await admin.query("SELECT * FROM jobs WHERE id = 'pace-builtin'")).rows[0];
      assert.equal(job.status, 'COMPLETED', `${job.status} ${JSON.stringify(job.error)}`);
      const ckpts = (await admin.query('SELECT * FROM checkpoints WHERE job_uuid = $1', [job.uuid])).rows;
      assert.deepEqual(ckpts.map((k) => Number(k.step)).sort((a, b) => a - b), [4, 8, 12, 16], 'no checkpoint lost in the outage, none twice');
      for (const k of ckpts) assert.equal(sha(join(home, 'artifacts', k.blob_key)), k.sha256, `checkpoint ${k.id}`);
      const attempts = (await admin.query('SELECT state FROM attempts WHERE job_uuid = $1', [job.uuid])).rows;
      assert.deepEqual(attempts.map((a) => a.state), ['finished'], 'the same attempt, not a resume after its lease ran out');
    } finally {
      await admin.end();
    }
  } finally {
    clearInterval(gatePacer);
    await one.stop();
    await own.destroy();
  }
});
