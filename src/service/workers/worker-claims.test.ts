/**
 * ClaimWaiters: one wake-up per queued job goes to one waiter, oldest first; a job queued while a
 * waiter was claiming is not missed; an unused wake-up is passed on; close() releases everyone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bus } from '../bus.js';
import { ClaimWaiters } from './worker-claims.js';

const FAR = (): number => performance.now() + 60_000;

/** A queue of jobs the waiters' tryClaim pops from, counting the tries. */
function queue(): { jobs: string[]; tries: number; claim: () => Promise<string | null> } {
  const q = { jobs: [] as string[], tries: 0, claim: async () => (q.tries++, q.jobs.shift() ?? null) };
  return q;
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('one queued job wakes one of three waiters: one claim try, not three', async () => {
  const bus = new Bus();
  const w = new ClaimWaiters(bus);
  const q = queue();
  const ac = new AbortController();
  const results = [w.run(q.claim, FAR(), ac.signal), w.run(q.claim, FAR(), ac.signal), w.run(q.claim, FAR(), ac.signal)];
  await settle();
  assert.equal(q.tries, 3, 'each tried once on arrival');
  assert.equal(w.waiting, 3);
  q.jobs.push('job-1');
  bus.emit('work-queued');
  assert.equal(await results[0], 'job-1', 'the oldest waiter got it');
  assert.equal(q.tries, 4, 'exactly one more try');
  assert.equal(w.waiting, 2);
  ac.abort();
  assert.deepEqual(await Promise.all(results.slice(1)), [null, null]);
});

test('a job queued while the waiter was claiming is claimed at once (no lost wake-up)', async () => {
  const bus = new Bus();
  const w = new ClaimWaiters(bus);
  let tries = 0;
  const claim = async (): Promise<string | null> => {
    tries++;
    if (tries === 1) {
      bus.emit('work-queued'); // the job commits after our read saw an empty queue
      return null;
    }
    return 'job-late';
  };
  assert.equal(await w.run(claim, FAR(), new AbortController().signal), 'job-late');
  assert.equal(tries, 2);
});

test('a woken waiter that leaves without claiming passes the wake-up on', async () => {
  const bus = new Bus();
  const w = new ClaimWaiters(bus);
  const q = queue();
  const first = new AbortController();
  const a = w.run(q.claim, FAR(), first.signal);
  const b = w.run(q.claim, FAR(), new AbortController().signal);
  await settle();
  q.jobs.push('job-1');
  bus.emit('work-queued'); // wakes the oldest waiter, a…
  first.abort(); // …which goes away before its claim runs
  assert.equal(await a, null);
  assert.equal(await b, 'job-1', 'the second waiter got the wake-up and the job');
});

test('a waiter aborted while claiming returns at once', async () => {
  const w = new ClaimWaiters(new Bus());
  const ac = new AbortController();
  const r = await w.run(async () => (ac.abort(), null), FAR(), ac.signal);
  assert.equal(r, null);
  assert.equal(w.waiting, 0);
});

test('deadline and close(): waiters return null', async () => {
  const bus = new Bus();
  const w = new ClaimWaiters(bus);
  const q = queue();
  assert.equal(await w.run(q.claim, performance.now(), new AbortController().signal), null, 'a deadline already past: one try, then null');
  const pending = w.run(q.claim, FAR(), new AbortController().signal);
  await settle();
  w.close();
  assert.equal(await pending, null);
});
