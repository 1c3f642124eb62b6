/**
 * A zombie remote worker: `ftnode worker` frozen with SIGSTOP past its lease (1.5 s here; leases
 * cannot be moved by a manual clock across processes), so the control plane requeues its job and
 * another worker completes it from the last committed checkpoint. Then the zombie is resumed with
 * SIGCONT while its trainer's later messages (steps 5–6, the final checkpoint, done) wait in its pipe:
 * it reaches the control plane and is refused — nothing it sends after losing its lease is written.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jobBody, startTestApp, waitFor, type TestApp } from './helpers/harness.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

let t: TestApp;
const workers: WorkerProcess[] = [];
after(async () => {
  for (const w of workers) {
    w.child.kill('SIGCONT');
    await w.kill();
  }
  await t?.close();
});

test('SIGSTOP past the lease: the job completes elsewhere; after SIGCONT the zombie writes nothing', async () => {
  t = await startTestApp({
    plans: { zombie: { steps: 6, evalEvery: 2, gates: ['step_5', 'done'], gateAttempts: [1] } },
    overrides: { builtinWorkers: 0, leaseMs: 1_500, reaperIntervalMs: 100, maxAttempts: 3 },
  });
  await t.client.upload('data.jsonl', '{"x":1}\n');
  const token = (await t.app.workerTokens.create('zombie-test')).token;
  const zombie = await startWorkerProcess(t.app.url, token, { env: { FTNODE_LOG_LEVEL: 'info' } });
  workers.push(zombie);
  const job = (await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-zombie', 'data.jsonl', { id: 'zombie-job' }))).body;
  await t.gates.reached('zombie-job', 'step_5');
  await waitFor('checkpoints 2 and 4', async () => (await t.app.store.listCheckpoints(job.uuid)).length === 2);
  const [first] = await t.app.store.listCheckpoints(job.uuid);
  const attempt1 = (await t.app.store.getAttempt(first!.attempt_id))!;

  zombie.child.kill('SIGSTOP');
  await waitFor('the lease to expire and the job to be requeued', async () => (await t.app.store.getAttempt(attempt1.id))?.state === 'lost', 20_000);
  // The zombie's trainer runs on (its own process group): steps 5 and 6, the final checkpoint, then it waits before `done`.
  t.gates.open('zombie-job', 'step_5');
  await t.gates.reached('zombie-job', 'done');
  t.gates.open('zombie-job', 'done');

  const healthy = await startWorkerProcess(t.app.url, token);
  workers.push(healthy);
  const done = await t.client.waitStatus('zombie-job', ['COMPLETED', 'FAILED', 'STOPPED', 'CANCELLED']);
  assert.equal(done.status, 'COMPLETED');

  const refusedBefore = t.app.metrics.fencedRefusals.get({ op: 'heartbeat' });
  zombie.child.kill('SIGCONT');
  await waitFor('the zombie to be refused by the control plane', () => t.app.metrics.fencedRefusals.get({ op: 'heartbeat' }) > refusedBefore, 20_000);
  await waitFor('the zombie to give the attempt up', () => !existsSync(join(zombie.cacheDir, 'work', job.uuid, 'attempt-1')), 20_000);

  const ckpts = await t.app.store.listCheckpoints(job.uuid);
  assert.deepEqual(ckpts.map((c) => c.step), [2, 4, 6]);
  const lost = (await t.app.store.getAttempt(attempt1.id))!;
  assert.equal(lost.state, 'lost');
  for (const c of ckpts.filter((c) => c.attempt_id === attempt1.id)) assert.ok(c.created_at <= lost.ended_at!, `checkpoint ${c.step} of the zombie committed after its lease was lost`);
  const final = ckpts.find((c) => c.step === 6)!;
  assert.notEqual(final.attempt_id, attempt1.id, 'the final checkpoint is the healthy worker\'s');
  const after = await t.app.store.getJobByUuid(job.uuid);
  assert.equal(after!.status, 'COMPLETED');
  assert.notEqual(after!.current_attempt_id, attempt1.id, 'the job was completed by the second attempt');
  const events = (await t.client.get('/v0.5/fine-tune/jobs/zombie-job/events?order=asc&limit=-1')).body.data as Array<{ type: string; message: string }>;
  assert.equal(events.filter((e) => e.type === 'checkpoint_committed').length, 3);
  assert.equal(events.filter((e) => e.type === 'job_completed').length, 1);
  assert.ok(events.some((e) => /resumed from checkpoint at step 4/.test(e.message)), 'the second attempt resumed from step 4');
  assert.match(zombie.output(), /lease lost/, 'the zombie learnt it had lost its lease');
  assert.ok(zombie.child.exitCode === null, 'the zombie itself lives on and may claim other work');
});
