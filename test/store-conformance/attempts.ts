/**
 * Conformance cases: the worker side — claims, leases and their fencing tokens, fenced writes, the
 * reaper and overdue stops.
 */
import assert from 'node:assert/strict';
import { ev, LEASE, T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const attemptCases: Case[] = [
  {
    name: 'claims are FIFO and exclusive; each claim gets a new, larger fencing token and the last checkpoint to resume from',
    async run({ s, f }) {
      await f.job({ id: 'a', created_at: T0 });
      await f.job({ id: 'b', created_at: T0 + 1 });
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => s.claimJob(`w${i}`, T0, LEASE)));
      const won = claims.filter((c) => c !== null);
      assert.equal(won.length, 2);
      assert.deepEqual(won.map((c) => c!.job.id).sort(), ['a', 'b']);
      assert.ok(won.every((c) => c!.job.status === 'STARTING' && c!.attempt.lease_token === 1 && c!.job.attempts === 1 && c!.resume === null));
      const a = won.find((c) => c!.job.id === 'a')!;
      assert.deepEqual(a.attempt, { id: a.attempt.id, job_uuid: a.job.uuid, number: 1, worker_id: a.attempt.worker_id, lease_token: 1, lease_expires_at: T0 + LEASE, state: 'active', started_at: T0, ended_at: null });
      assert.deepEqual(await s.getAttempt(a.attempt.id), a.attempt);
      assert.equal(a.job.current_attempt_id, a.attempt.id);
      assert.equal(await s.getAttempt('no-such-attempt'), null);
      assert.equal(await s.claimJob('late', T0, LEASE), null, 'nothing left');
      await f.job({ id: 'c', created_at: T0 - 5 });
      assert.equal((await f.claim('w', T0 + 1)).job.id, 'c', 'the oldest queued job first');
    },
  },
  {
    name: 'heartbeats extend the lease; an expired or superseded fence writes nothing (zombie worker)',
    async run({ s, f }) {
      await f.job({ id: 'a' });
      const c = await f.claim('w', T0);
      const fence = c.fence;
      assert.equal(await s.heartbeat(fence, T0 + 900, LEASE), 'STARTING');
      assert.equal(await s.heartbeat(fence, T0 + 1_800, LEASE), 'STARTING', 'extended to T0+2800');
      assert.equal(await s.fenceHolds(fence, T0 + 2_799), true);
      assert.equal(await s.fenceHolds(fence, T0 + 2_800), false, 'the lease ends at its expiry instant');
      assert.equal((await s.fencedTransition(fence, 'start_training', T0 + 1_850, ev))?.status, 'RUNNING');
      assert.equal(await s.commitCheckpoint(fence, f.checkpoint(c.job.uuid, fence, 1, T0 + 1_860)), true);
      assert.equal(await s.appendFencedEvent(fence, T0 + 1_870, { ...ev, type: 'output_committed' }), true);
      assert.equal(await s.heartbeat(fence, T0 + 3_000, LEASE), null, 'expired');
      assert.equal(await s.appendFencedEvent(fence, T0 + 3_000, { ...ev, type: 'output_committed' }), false, 'no fenced event after expiry');
      assert.equal(await s.commitCheckpoint(fence, f.checkpoint(c.job.uuid, fence, 2, T0 + 3_000)), false, 'no commit after expiry');
      const lost = await s.reapLostAttempts(T0 + 3_000, 3);
      assert.deepEqual(lost.map((l) => [l.action, l.job.status, l.attempt.id]), [['requeued', 'REGISTERED', c.attempt.id]]);
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'lost');
      assert.deepEqual(await s.reapLostAttempts(T0 + 3_000, 3), [], 'reaped once');
      const c2 = await f.claim('w2', T0 + 3_001);
      assert.equal(c2.attempt.lease_token, 2);
      assert.equal(c2.attempt.number, 2);
      assert.equal(c2.resume?.step, 1, 'resume from the last committed checkpoint');
      // The zombie wakes up inside what would have been its lease: still refused, its token is superseded.
      const zombie = { attempt_id: c.attempt.id, lease_token: 1 };
      assert.equal(await s.fenceHolds(zombie, T0 + 3_002), false);
      assert.equal(await s.heartbeat(zombie, T0 + 3_002, LEASE), null);
      assert.equal(await s.commitCheckpoint(zombie, f.checkpoint(c.job.uuid, zombie, 3, T0 + 3_002)), false);
      assert.equal(await s.fencedTransition(zombie, 'fail', T0 + 3_002, ev), null);
      assert.equal(await s.appendMetrics(zombie, c.job.uuid, 3, { loss: 1 }, T0 + 3_002), false);
      assert.equal(await s.updateProgress(zombie, T0 + 3_002, { step: 3, total_steps: null, epoch: null, phase: null, eta_seconds: null }), false);
      assert.equal(await s.appendFencedEvent(zombie, T0 + 3_002, { ...ev, type: 'output_committed' }), false);
      assert.deepEqual((await s.listCheckpoints(c.job.uuid)).map((k) => k.step), [1]);
      assert.equal((await s.listEvents(c.job.uuid, { limit: -1 })).filter((e) => e.type === 'output_committed').length, 1, "only the live attempt's fenced event");
      assert.equal((await s.getJobByUuid(c.job.uuid))?.status, 'STARTING', 'the live attempt owns the job');
    },
  },
  {
    name: 'fenced progress, hyperparameters and worker transitions; endAttempt ends the attempt and leaves the job as it is',
    async run({ s, f }) {
      const c = await f.running({ id: 'a' });
      const progress = { step: 1, total_steps: 4, epoch: 1, phase: 'training', eta_seconds: 30 };
      assert.equal(await s.updateProgress(c.fence, T0 + 1, progress, { lr: 0.01 }), true);
      assert.equal(await s.updateProgress(c.fence, T0 + 2, { ...progress, step: 2 }), true, 'hyperparameters left out: kept');
      let job = (await s.getJobByUuid(c.job.uuid))!;
      assert.deepEqual([job.progress?.step, job.hyperparameters], [2, { lr: 0.01 }]);
      assert.equal(await s.fencedTransition(c.fence, 'claim', T0 + 3, ev), null, 'not allowed from RUNNING');
      assert.equal((await s.fencedTransition(c.fence, 'finalize', T0 + 3, ev))?.status, 'FINALIZING');
      job = (await s.fencedTransition(c.fence, 'complete', T0 + 4, { level: 'info', type: 'done', message: 'd' }, { inference_config_path: 'cfg.json' }))!;
      assert.deepEqual([job.status, job.inference_config_path, job.updated_at], ['COMPLETED', 'cfg.json', T0 + 4]);
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'finished', 'a terminal status ends the attempt');
      assert.equal(await s.updateProgress(c.fence, T0 + 5, progress), false, 'terminal: no more writes');

      const d = await f.running({ id: 'b' }, T0 + 10);
      await s.endAttempt({ ...d.fence, lease_token: d.fence.lease_token + 1 }, T0 + 11); // a wrong token ends nothing
      assert.equal((await s.getAttempt(d.attempt.id))?.state, 'active');
      await s.endAttempt(d.fence, T0 + 12);
      assert.deepEqual(await s.getAttempt(d.attempt.id), { ...d.attempt, state: 'finished', ended_at: T0 + 12 });
      assert.equal((await s.getJobByUuid(d.job.uuid))?.status, 'RUNNING', 'the job status is untouched');
      assert.equal(await s.fenceHolds(d.fence, T0 + 12), false, 'an ended attempt holds no fence');
      assert.deepEqual(await s.reapLostAttempts(T0 + 60_000, 3), [], 'an ended attempt is never reaped');
    },
  },
  {
    name: 'every write to a job row bumps its row_version (list pages cache rendered records by it)',
    async run({ s, f }) {
      await f.job({ id: 'a' });
      const version = async () => (await s.listJobViewKeys({ org_uuid: 'o', limit: -1, offset: 0 }))[0]!.row_version;
      const seen = [await version()];
      const c = await f.claim('w', T0);
      seen.push(await version());
      await s.fencedTransition(c.fence, 'start_training', T0 + 1, ev);
      seen.push(await version());
      assert.equal(await s.updateProgress(c.fence, T0 + 2, { step: 1, total_steps: 4, epoch: 1, phase: 'training', eta_seconds: null }), true);
      seen.push(await version());
      const views = await s.getJobViews('o', [c.job.uuid]);
      assert.equal(views[0]!.row_version, seen.at(-1), 'getJobViews reads the same version');
      assert.match(views[0]!.progress_json ?? '', /"step":1/);
      await s.transition(c.job.uuid, 'cancel', 'RUNNING', T0 + 3, ev);
      seen.push(await version());
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `write ${i} bumped the version: ${seen.join(' → ')}`);
      assert.equal(await s.transition(c.job.uuid, 'stop', 'RUNNING', T0 + 4, ev), null);
      assert.equal(await version(), seen.at(-1), 'a refused compare-and-set writes nothing');
    },
  },
  {
    name: 'no checkpoint is committed after a cancel, even with a live lease',
    async run({ s, f }) {
      const c = await f.running({ id: 'a' });
      assert.equal((await s.transition(c.job.uuid, 'cancel', 'RUNNING', T0 + 2, ev))?.status, 'CANCELLED');
      assert.equal(await s.commitCheckpoint(c.fence, f.checkpoint(c.job.uuid, c.fence, 1, T0 + 3)), false);
      assert.equal(await s.fencedTransition(c.fence, 'finalize', T0 + 3, ev), null);
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'finished');
    },
  },
  {
    name: 'the reaper fails a job past its attempt budget, releases STOPPING, and recovers dead-boot attempts at once',
    async run({ s, f }) {
      await f.job({ id: 'a', created_at: T0 });
      await f.job({ id: 'b', created_at: T0 + 1 });
      await f.job({ id: 'c', created_at: T0 + 2 });
      const a = await f.claim('builtin:n:old:0', T0);
      const b = await f.claim('builtin:n:old:1', T0);
      const c = await f.claim('builtin:n:new:0', T0);
      await s.transition(b.job.uuid, 'stop', 'STARTING', T0, ev, { stop_requested_at: T0 });
      assert.deepEqual(await s.reapLostAttempts(T0 + 1, 1), [], 'no lease has expired and no worker is named dead');
      const lost = await s.reapLostAttempts(T0 + 1, 1, { prefix: 'builtin:n:', except: 'builtin:n:new:' });
      const by = Object.fromEntries(lost.map((l) => [l.job.id, l]));
      assert.equal(by.a?.action, 'failed');
      assert.equal(by.a?.job.status, 'FAILED');
      assert.equal(by.a?.job.error?.code, 'worker_lost');
      assert.equal(by.b?.action, 'released');
      assert.equal(by.b?.job.status, 'STOPPING');
      assert.equal(by.c, undefined, 'the live boot keeps its attempt');
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'active');
      assert.equal(a.attempt.number, 1);
      assert.deepEqual((await s.listOverdueStopping(T0)).map((j) => j.id), ['b'], 'stop requested at T0: overdue at a T0 cutoff');
      assert.deepEqual(await s.listOverdueStopping(T0 - 1), [], 'not before');
      await s.transition(b.job.uuid, 'finish_stop', 'STOPPING', T0 + 2, ev);
      assert.deepEqual(await s.listOverdueStopping(T0 + 10), [], 'a finished stop is not overdue');
    },
  },
];
