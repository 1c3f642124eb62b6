/**
 * Two replicas of the app on one PostgreSQL schema and one artifacts folder (skipped without
 * FTNODE_TEST_PG_URL): a job created on replica A is claimed by replica B's in-process worker (A has
 * none), woken by NOTIFY, not by a poll; a cancel sent to A reaches the trainer running under B within
 * a second; a stream of events on A follows the job B runs; and `ftnode keys` writes into the same
 * database when FTNODE_DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { randomHex } from '../src/lib/ids.js';
import { Client, jobBody, processAlive, startTestApp, waitFor, type FixturePlan, type TestApp } from './helpers/harness.js';
import { CLI } from './helpers/server-process.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const PLANS: Record<string, FixturePlan> = { plain: { steps: 4, evalEvery: 2 }, stepgate: { steps: 6, evalEvery: 2, gates: ['step_3'] } };

describe('two replicas on one PostgreSQL', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set' }, () => {
  const schema = `rep_${randomHex(12)}`;
  const shared = mkdtempSync(join(tmpdir(), 'ftnode-replicas-'));
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    const common = { databaseUrl: PG_URL!, databaseSchema: schema, artifactsDir: join(shared, 'artifacts'), uploadSigningKeyFile: join(shared, 'signing.key') };
    a = await startTestApp({ plans: PLANS, overrides: { ...common, builtinWorkers: 0 } });
    b = await startTestApp({ plans: PLANS, overrides: { ...common, builtinWorkers: 1 } });
    assert.equal((await a.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    rmSync(shared, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
  });

  test('a job created on A is claimed and completed by a worker of B', async () => {
    const r = await a.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id: 'rep-plain' }));
    assert.equal(r.status, 201);
    const done = await a.client.waitStatus('rep-plain', ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'COMPLETED');
    const events = (await a.client.get('/v0.5/fine-tune/jobs/rep-plain/events?order=asc&limit=-1')).body.data as Array<{ type: string; data: any }>;
    const started = events.find((e) => e.type === 'attempt_started')!;
    assert.ok(started.data.worker_id.startsWith(b.app.pool!.deadPrefixes.except), `claimed by ${started.data.worker_id}, not by B's pool`);
    assert.equal((await b.client.get('/v0.5/fine-tune/jobs/rep-plain/checkpoints')).body.data.length, 2, 'B sees the same checkpoints');
  });

  test("a cancel on A kills the trainer running under B within a second; A's event stream follows", async () => {
    const r = await a.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-stepgate', 'data.jsonl', { id: 'rep-cancel' }));
    assert.equal(r.status, 201);
    const sse = await fetch(`${a.app.url}/v0.5/fine-tune/jobs/rep-cancel/events`, { headers: { authorization: `Bearer ${a.client.key}`, accept: 'text/event-stream' } });
    const pid = await b.gates.reached('rep-cancel', 'step_3');
    assert.equal((await a.client.call('PUT', '/v0.5/fine-tune/jobs/rep-cancel/cancel')).body.status, 'CANCELLED');
    await waitFor('the trainer under B killed', () => !processAlive(pid), 1_000);
    b.gates.open('rep-cancel', 'step_3');
    const text = await sse.text(); // the stream ends at the terminal status
    assert.match(text, /event: training_started/, 'A streamed what B recorded');
    assert.match(text, /"status":"CANCELLED"/);
    assert.equal((await new Client(b.app.url).job('rep-cancel')).status, 'CANCELLED');
  });

  test('ftnode keys uses the configured store: a key created with FTNODE_DATABASE_URL works on both replicas', async () => {
    const env = { ...process.env, FTNODE_DATABASE_URL: PG_URL!, FTNODE_DATABASE_SCHEMA: schema, FTNODE_HOME: mkdtempSync(join(tmpdir(), 'ftnode-keys-')) };
    const key = JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'create', '--org', 'replica-org', '--json'], { env, encoding: 'utf8' })).key as string;
    for (const replica of [a, b]) assert.equal((await new Client(replica.app.url, key).get('/v0.5/fine-tune/jobs')).status, 200);
    const token = JSON.parse(execFileSync(process.execPath, [CLI, 'workers', 'token', 'create', '--name', 'gpu', '--json'], { env, encoding: 'utf8' }));
    assert.match(token.token, /^wk_/);
    assert.ok((await a.app.workerTokens.list()).some((t) => t.id === token.id), 'worker tokens too');
    rmSync(env.FTNODE_HOME, { recursive: true, force: true });
  });
});
