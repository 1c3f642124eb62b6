/** RetryingWorkSource: retries only what its predicate allows, within its budget; claims and heartbeats pass through. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../domain/types.js';
import type { Fence } from '../domain/work.js';
import { RetryingWorkSource } from './retrying-source.js';
import type { WorkSource } from './work-source.js';

class Down extends Error {}

/** A source whose writes fail `failures` times with Down, then succeed; counts the calls. */
function flaky(failures: number): WorkSource & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const write = <T>(op: string, value: T) => async (): Promise<T> => {
    calls[op] = (calls[op] ?? 0) + 1;
    if (calls[op]! <= failures) throw new Down(op);
    return value;
  };
  return {
    calls,
    leaseMs: 20_000,
    claim: write('claim', null),
    heartbeat: write('heartbeat', 'RUNNING' as const),
    scratchDir: async () => '/tmp',
    progress: write('progress', true),
    metrics: write('metrics', true),
    event: write('event', true),
    advance: write('advance', null),
    commitCheckpoint: write('commitCheckpoint', null),
    commitOutput: write('commitOutput', true),
    finish: write('finish', null),
    fail: write('fail', null),
  };
}

const fence: Fence = { attempt_id: 'att_1', lease_token: 1 };
const job = { uuid: 'j' } as Job;

test('writes are retried while the error is retryable, up to the budget; others propagate at once', async () => {
  let clock = 0;
  const waits: number[] = [];
  const opts = {
    retryable: (e: unknown) => e instanceof Down, budgetMs: 5_000, now: () => clock,
    sleep: async (ms: number) => { waits.push(ms); clock += ms; },
  };
  const inner = flaky(3);
  const src = new RetryingWorkSource(inner, opts);
  assert.equal(await src.metrics(fence, job, 1, { loss: 1 }), true);
  assert.equal(inner.calls.metrics, 4, 'three failures, then the write landed');
  assert.equal(waits.length, 3);
  assert.ok(waits.every((w) => w >= 10 && w <= 1_000), `capped backoff: ${waits.join(', ')}`);
  await assert.rejects(src.heartbeat(fence), Down, 'heartbeats are not retried');
  await assert.rejects(src.claim('w'), Down, 'claims are not retried');

  const never = new RetryingWorkSource(flaky(1_000), opts);
  clock = 0;
  await assert.rejects(never.finish(fence, 'j'), Down, 'past the budget the error propagates');
  assert.ok(clock >= 5_000);

  const other = new RetryingWorkSource(flaky(1), { ...opts, retryable: () => false });
  await assert.rejects(other.progress(fence, job, { step: 1, total_steps: 2, epoch: 1, phase: 'training', eta_seconds: null }), Down);
});
