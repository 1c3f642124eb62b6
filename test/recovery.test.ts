/**
 * Lease expiry and control-plane recovery, driven by a manual clock (no sleeping for a lease):
 * a lost worker's job is re-queued and resumes from its last committed checkpoint; past the attempt
 * budget it FAILS worker_lost; a STOPPING job whose worker vanished, or that overran the stop grace
 * budget, is finalized STOPPED by the control plane.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ManualClock } from '../src/lib/clock.js';
import { jobBody, processAlive, startTestApp, waitFor, type TestApp } from './helpers/harness.js';

const LEASE_MS = 30_000;
let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function setup(maxAttempts = 3, leaseMs = LEASE_MS): Promise<{ t: TestApp; clock: ManualClock }> {
  const clock = new ManualClock(Date.now());
  t = await startTestApp({
    plans: {
      resumable: { steps: 6, evalEvery: 2, gates: ['step_5'], gateAttempts: [1] },
      stopping: { steps: 8, evalEvery: 2, gates: ['eval_4'] },
      hung: { steps: 8, evalEvery: 2, gates: ['step_3'] },
    },
    overrides: { leaseMs, heartbeatMs: 50, maxAttempts, stopGraceMs: 120_000 },
    app: { clock, reaperTimer: false },
  });
  await t.client.upload('data.jsonl', '{"x":1}\n');
  return { t, clock };
}

async function createJob(t: TestApp, model: string): Promise<string> {
  const r = await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody(`fixture-${model}`, 'data.jsonl'));
  assert.equal(r.status, 201);
  return r.body.id;
}

const checkpointSteps = async (t: TestApp, id: string): Promise<number[]> =>
  (await t.client.get(`/v0.5/fine-tune/jobs/${id}/checkpoints`)).body.data.map((c: { step: number }) => c.step);

const eventTypes = async (t: TestApp, id: string): Promise<Array<{ type: string; message: string }>> =>
  (await t.client.get(`/v0.5/fine-tune/jobs/${id}/events?order=asc&limit=-1`)).body.data;

test('a lost worker: lease expires → REGISTERED → resumed on another worker from the last committed checkpoint', async () => {
  const { t, clock } = await setup();
  const id = await createJob(t, 'resumable');
  const pid = await t.gates.reached(id, 'step_5');
  await waitFor('two checkpoints', async () => (await checkpointSteps(t, id)).length === 2);
  await t.app.pool!.stop(); // the worker vanishes: its trainer dies, its attempt stays active
  await waitFor('trainer gone', () => !processAlive(pid));
  assert.equal((await t.app.recovery.tick()).requeued, 0, 'nothing is lost before the lease expires');
  clock.advance(LEASE_MS + 1);
  assert.equal((await t.app.recovery.tick()).requeued, 1);
  assert.equal((await t.client.job(id)).status, 'REGISTERED');
  t.app.pool!.start();
  const done = await t.client.waitStatus(id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED');
  assert.deepEqual(await checkpointSteps(t, id), [2, 4, 6]);
  const events = await eventTypes(t, id);
  assert.ok(events.some((e) => e.type === 'attempt_lost' && /re-queued/.test(e.message)));
  assert.ok(events.some((e) => /resumed from checkpoint at step 4/.test(e.message)), 'attempt 2 started from step 4');
  assert.ok(events.some((e) => e.type === 'training_started' && /attempt 2, resuming from ckp_/.test(e.message)));
});

test('past the attempt budget the job FAILS with worker_lost, and says so', async () => {
  const { t, clock } = await setup(1);
  const id = await createJob(t, 'resumable');
  await t.gates.reached(id, 'step_5');
  await t.app.pool!.stop();
  clock.advance(LEASE_MS + 1);
  assert.equal((await t.app.recovery.tick()).failed, 1);
  const job = await t.client.job(id);
  assert.equal(job.status, 'FAILED');
  assert.equal(job.error.code, 'worker_lost');
  assert.match(job.error.message, /1 of 1 attempts/);
});

test('STOPPING whose worker vanished → STOPPED, finalized by the control plane from the last checkpoint', async () => {
  const { t, clock } = await setup();
  const id = await createJob(t, 'stopping');
  await t.gates.reached(id, 'eval_4');
  await waitFor('checkpoint 2', async () => (await checkpointSteps(t, id)).includes(2));
  assert.equal((await t.client.call('PUT', `/v0.5/fine-tune/jobs/${id}/stop`)).body.status, 'STOPPING');
  await t.app.pool!.stop();
  clock.advance(LEASE_MS + 1);
  assert.equal((await t.app.recovery.tick()).stopped, 1);
  const job = await t.client.job(id);
  assert.equal(job.status, 'STOPPED');
  assert.ok(job.inference_config_path);
  const yaml = (await t.client.get(`/v0.5/fine-tune/jobs/${id}/inference-config`)).body as string;
  assert.match(yaml, /step: 2/);
  assert.ok((await eventTypes(t, id)).some((e) => /lost while stopping/.test(e.message)));
});

test('a trainer that overruns the stop grace budget is killed and the job finalized STOPPED', async () => {
  const { t, clock } = await setup(3, 600_000); // a lease longer than the grace budget: only the budget can fire
  const id = await createJob(t, 'hung');
  const pid = await t.gates.reached(id, 'step_3');
  await waitFor('checkpoint 2', async () => (await checkpointSteps(t, id)).includes(2));
  await t.client.call('PUT', `/v0.5/fine-tune/jobs/${id}/stop`);
  assert.equal((await t.app.recovery.tick()).stopped, 0, 'within the grace budget nothing happens');
  clock.advance(120_001);
  assert.equal((await t.app.recovery.tick()).stopped, 1);
  await waitFor('hung trainer killed', () => !processAlive(pid), 1_000);
  const job = await t.client.job(id);
  assert.equal(job.status, 'STOPPED');
  assert.ok(job.inference_config_path);
  assert.ok((await eventTypes(t, id)).some((e) => /grace budget of 120 s exceeded/.test(e.message)));
});

test('stop on a job re-queued after a lost worker keeps its last checkpoint: STOPPED with an inference config', async () => {
  const { t, clock } = await setup();
  const id = await createJob(t, 'resumable');
  await t.gates.reached(id, 'step_5');
  await waitFor('two checkpoints', async () => (await checkpointSteps(t, id)).length === 2);
  await t.app.pool!.stop();
  clock.advance(LEASE_MS + 1);
  assert.equal((await t.app.recovery.tick()).requeued, 1);
  const r = await t.client.call('PUT', `/v0.5/fine-tune/jobs/${id}/stop`);
  assert.equal(r.body.status, 'STOPPED');
  assert.ok(r.body.inference_config_path, 'finalized from the checkpoint at step 4');
  assert.match((await t.client.get(`/v0.5/fine-tune/jobs/${id}/inference-config`)).body as string, /step: 4/);
});
