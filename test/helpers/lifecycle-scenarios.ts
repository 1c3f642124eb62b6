/**
 * The lifecycle scenarios (docs/spec.md#lifecycle) at the HTTP level, with real trainer processes held at gates so
 * every race is deterministic: happy path, stop and cancel from every status, repeated and concurrent
 * calls, failures. Shared by the in-process worker (test/lifecycle.test.ts), remote `ftnode worker`
 * processes (test/lifecycle-remote.test.ts) and the multi-host topology of replicas, PostgreSQL and a
 * bucket (test/lifecycle-s3.test.ts): the same scenarios must pass on all three.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobBody, processAlive, waitFor, type Client, type FixturePlan, type Gates } from './harness.js';

/** The fixture models the scenarios use (`fixture-<name>`); the target's catalog must have them. */
export const LIFECYCLE_PLANS: Record<string, FixturePlan> = {
  plain: { steps: 4, evalEvery: 2 },
  evalgate: { steps: 6, evalEvery: 2, gates: ['eval_2'] },
  hellogate: { steps: 4, evalEvery: 2, gates: ['hello'] },
  ckptgate: { steps: 6, evalEvery: 2, gates: ['ckpt_4'] },
  finalgate: { steps: 4, evalEvery: 2, gates: ['final_eval'] },
  stepgate: { steps: 6, evalEvery: 2, gates: ['step_3'] },
  baddata: { steps: 4, failAtStep: 1, exitCode: 2, errorMessage: 'train.jsonl line 3: not JSON' },
  crash: { steps: 4, failAtStep: 2, exitCode: 1 },
};

/** A running service with `data.jsonl` uploaded, and a way to take its workers away and back. */
export interface LifecycleTarget {
  client: Client;
  gates: Gates;
  /** No worker claims anything until resumeWorkers (idle workers only). */
  pauseWorkers(): Promise<void>;
  resumeWorkers(): Promise<void>;
}

export function lifecycleScenarios(target: () => LifecycleTarget): void {
  let seq = 0;

  async function create(model: string): Promise<any> {
    const r = await target().client.call('POST', '/v0.5/fine-tune/jobs', jobBody(`fixture-${model}`, 'data.jsonl', { id: `job-${model}-${++seq}` }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }
  const put = (id: string, action: 'stop' | 'cancel') => target().client.call('PUT', `/v0.5/fine-tune/jobs/${id}/${action}`);

  describe('happy path', () => {
    test('REGISTERED → STARTING → RUNNING → FINALIZING → COMPLETED with an inference config', async () => {
      const job = await create('plain');
      assert.equal(job.status, 'REGISTERED');
      assert.equal(job.inference_config_path, null);
      const done = await target().client.waitStatus(job.id, ['COMPLETED', 'FAILED']);
      assert.equal(done.status, 'COMPLETED');
      assert.match(done.inference_config_path, /^(file|s3):\/\/.*inference-configs\/job-plain-\d+\.yaml$/);
      const events = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/events?order=asc&limit=-1`)).body.data.map((e: any) => e.type);
      for (const type of ['job_registered', 'attempt_started', 'training_started', 'finalizing', 'job_completed']) assert.ok(events.includes(type), `missing ${type} in ${events}`);
      const ckpts = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/checkpoints`)).body.data;
      assert.deepEqual(ckpts.map((c: any) => c.step), [2, 4]);
      const yaml = await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/inference-config`);
      assert.equal(yaml.status, 200);
      assert.match(yaml.body, new RegExp(`id: ${ckpts[1].id}`));
      const metrics = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/metrics`)).body;
      assert.equal(metrics.last_checkpoint_step, 4);
      assert.ok(metrics.metrics.some((m: any) => m.step === 2 && m.loss === 0.5 && typeof m.eval_loss === 'number'));
    });
  });

  describe('stop', () => {
    test('before start: REGISTERED → STOPPED at once, no inference config', async () => {
      await target().pauseWorkers(); // no worker: the job stays queued
      try {
        const job = await create('plain');
        const r = await put(job.id, 'stop');
        assert.equal(r.status, 200);
        assert.equal(r.body.status, 'STOPPED');
        assert.equal(r.body.inference_config_path, null);
        assert.equal((await put(job.id, 'stop')).body.status, 'STOPPED', 'stop on STOPPED is 200 unchanged');
        assert.equal((await put(job.id, 'cancel')).status, 409, 'cancel on STOPPED is 409');
      } finally {
        await target().resumeWorkers();
      }
    });

    test('while an evaluation runs: the evaluation completes, its metrics and checkpoint are kept, STOPPED', async () => {
      const job = await create('evalgate');
      const pid = await target().gates.reached(job.id, 'eval_2');
      const r = await put(job.id, 'stop');
      assert.equal(r.body.status, 'STOPPING');
      assert.equal((await put(job.id, 'stop')).body.status, 'STOPPING', 'repeated stop: 200 unchanged');
      const stopping = await target().client.waitStatus(job.id, ['STOPPING']);
      assert.equal(stopping.status, 'STOPPING');
      target().gates.open(job.id, 'eval_2');
      const done = await target().client.waitStatus(job.id, ['STOPPED', 'FAILED', 'COMPLETED']);
      assert.equal(done.status, 'STOPPED');
      assert.ok(done.inference_config_path, 'a checkpoint existed, so the inference config is written');
      const metrics = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/metrics`)).body;
      assert.ok(metrics.metrics.some((m: any) => m.step === 2 && typeof m.eval_loss === 'number'), 'the finished evaluation is recorded');
      const ckpts = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/checkpoints`)).body.data;
      assert.deepEqual(ckpts.map((c: any) => c.step), [2], 'no training step started after the stop');
      await waitFor('trainer exit', () => !processAlive(pid));
    });

    test('during STARTING: STOPPING, then STOPPED with no checkpoint and no inference config', async () => {
      const job = await create('hellogate');
      await target().gates.reached(job.id, 'hello');
      assert.equal((await target().client.job(job.id)).status, 'STARTING');
      assert.equal((await put(job.id, 'stop')).body.status, 'STOPPING');
      // Remote workers learn of the stop by a push or their next heartbeat: open the gate only once
      // the trainer has it, or it could train to its first checkpoint first (a race, not the rule).
      await target().gates.reached(job.id, 'stop_received');
      target().gates.open(job.id, 'hello');
      const done = await target().client.waitStatus(job.id, ['STOPPED', 'FAILED', 'COMPLETED']);
      assert.equal(done.status, 'STOPPED');
      assert.equal(done.inference_config_path, null);
    });

    test('during FINALIZING: 200 unchanged and the job completes', async () => {
      const job = await create('finalgate');
      await target().gates.reached(job.id, 'final_eval');
      await target().client.waitStatus(job.id, ['FINALIZING']);
      const r = await put(job.id, 'stop');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'FINALIZING');
      target().gates.open(job.id, 'final_eval');
      assert.equal((await target().client.waitStatus(job.id, ['COMPLETED', 'STOPPED', 'FAILED'])).status, 'COMPLETED');
      assert.equal((await put(job.id, 'stop')).status, 409, 'stop on COMPLETED is 409');
      assert.equal((await put(job.id, 'cancel')).status, 409, 'cancel on COMPLETED is 409');
    });
  });

  describe('cancel', () => {
    test('REGISTERED → CANCELLED; repeated cancel 200; stop 409', async () => {
      await target().pauseWorkers();
      try {
        const job = await create('plain');
        const r = await put(job.id, 'cancel');
        assert.equal(r.body.status, 'CANCELLED');
        assert.equal((await put(job.id, 'cancel')).body.status, 'CANCELLED');
        const s = await put(job.id, 'stop');
        assert.equal(s.status, 409);
        assert.equal(s.body.errors[0].code, 'invalid_state_transition');
      } finally {
        await target().resumeWorkers();
      }
    });

    test('while a checkpoint is being written: CANCELLED at once, process killed, the checkpoint never appears', async () => {
      const job = await create('ckptgate');
      const pid = await target().gates.reached(job.id, 'ckpt_4');
      await waitFor('checkpoint 2 committed', async () => (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/checkpoints`)).body.data.length === 1);
      const r = await put(job.id, 'cancel');
      assert.equal(r.body.status, 'CANCELLED');
      await waitFor('trainer killed', () => !processAlive(pid), 1_000);
      target().gates.open(job.id, 'ckpt_4');
      const ckpts = (await target().client.get(`/v0.5/fine-tune/jobs/${job.id}/checkpoints`)).body.data;
      assert.deepEqual(ckpts.map((c: any) => c.step), [2], 'only the checkpoint committed before the cancel');
      const j = await target().client.job(job.id);
      assert.equal(j.status, 'CANCELLED');
      assert.equal(j.inference_config_path, null);
    });

    test('during STOPPING (escalation): CANCELLED and the trainer is killed', async () => {
      const job = await create('evalgate');
      const pid = await target().gates.reached(job.id, 'eval_2');
      assert.equal((await put(job.id, 'stop')).body.status, 'STOPPING');
      assert.equal((await put(job.id, 'cancel')).body.status, 'CANCELLED');
      await waitFor('trainer killed', () => !processAlive(pid), 1_000);
      target().gates.open(job.id, 'eval_2');
      assert.equal((await target().client.job(job.id)).status, 'CANCELLED');
    });

    test('during FINALIZING: CANCELLED, no inference config', async () => {
      const job = await create('finalgate');
      const pid = await target().gates.reached(job.id, 'final_eval');
      await target().client.waitStatus(job.id, ['FINALIZING']);
      assert.equal((await put(job.id, 'cancel')).body.status, 'CANCELLED');
      await waitFor('trainer killed', () => !processAlive(pid), 1_000);
      target().gates.open(job.id, 'final_eval');
      assert.equal((await target().client.job(job.id)).inference_config_path, null);
    });

    test('50 concurrent stop and cancel calls end in one legal terminal state', async () => {
      const job = await create('stepgate');
      const pid = await target().gates.reached(job.id, 'step_3');
      const calls = Array.from({ length: 50 }, (_, i) => put(job.id, i % 2 === 0 ? 'stop' : 'cancel'));
      const results = await Promise.all(calls);
      for (const r of results) assert.ok(r.status === 200 || r.status === 409, `unexpected ${r.status}`);
      for (const r of results.filter((x) => x.status === 200)) assert.ok(['STOPPING', 'CANCELLED', 'STOPPED'].includes(r.body.status));
      target().gates.open(job.id, 'step_3');
      const end = await target().client.waitStatus(job.id, ['CANCELLED', 'STOPPED']);
      assert.ok(['CANCELLED', 'STOPPED'].includes(end.status));
      await waitFor('trainer gone', () => !processAlive(pid));
      // After a cancel was accepted, the answer to every later call is consistent with CANCELLED.
      if (end.status === 'CANCELLED') assert.equal((await put(job.id, 'cancel')).body.status, 'CANCELLED');
    });
  });

  describe('failures', () => {
    test('a trainer exiting with code 2 → FAILED invalid_dataset with its message; stop and cancel 409', async () => {
      const job = await create('baddata');
      const done = await target().client.waitStatus(job.id, ['FAILED', 'COMPLETED']);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.error.code, 'invalid_dataset');
      assert.match(done.error.message, /line 3/);
      assert.equal((await put(job.id, 'stop')).status, 409);
      assert.equal((await put(job.id, 'cancel')).status, 409);
    });

    test('a crashing trainer → FAILED trainer_failed', async () => {
      const job = await create('crash');
      const done = await target().client.waitStatus(job.id, ['FAILED', 'COMPLETED']);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.error.code, 'trainer_failed');
    });
  });
}
