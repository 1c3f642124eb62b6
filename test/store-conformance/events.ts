/**
 * Conformance cases: a job's events, metrics and checkpoints.
 */
import assert from 'node:assert/strict';
import { T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const eventCases: Case[] = [
  {
    name: 'events are numbered per job and listed in either order, after a seq or with an offset',
    async run({ s, f }) {
      const job = await f.job({ id: 'a' }); // its first event is seq 1
      const other = await f.job({ id: 'b' });
      const e2 = await s.appendEvent(job.uuid, T0 + 1, { level: 'warn', type: 'x', message: 'second', data: { k: [1, 2] } });
      assert.deepEqual(e2, { id: e2.id, job_uuid: job.uuid, seq: 2, level: 'warn', type: 'x', message: 'second', data: { k: [1, 2] }, created_at: T0 + 1 });
      const e3 = await s.appendEvent(job.uuid, T0 + 2, { level: 'error', type: 'y', message: 'third' });
      assert.deepEqual([e3.seq, e3.data], [3, null]);
      assert.equal((await s.appendEvent(other.uuid, T0 + 3, { level: 'info', type: 'z', message: 'o' })).seq, 2, 'numbered per job');
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1 })).map((e) => e.seq), [1, 2, 3]);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1 }))[1], e2);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: 2, newestFirst: true })).map((e) => e.message), ['third', 'second']);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1, afterSeq: 1 })).map((e) => e.seq), [2, 3]);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: 1, offset: 1 })).map((e) => e.seq), [2]);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1, offset: 1, newestFirst: true })).map((e) => e.seq), [2, 1]);
      assert.deepEqual(await s.listEvents('no-such-job', { limit: -1 }), []);
      assert.equal((await s.listEvents(job.uuid, { limit: 2_147_483_647, offset: 2_147_483_647 })).length, 0);
    },
  },
  {
    name: 'metrics are fenced to the job of the attempt and listed by step with paging',
    async run({ s, f }) {
      const c = await f.running({ id: 'a' });
      const idle = await f.job({ id: 'b' });
      assert.equal(await s.appendMetrics(c.fence, c.job.uuid, 5, { loss: 0.5, acc: 0.25 }, T0 + 1), true);
      assert.equal(await s.appendMetrics(c.fence, c.job.uuid, 6, { loss: 0.4 }, T0 + 2), true);
      assert.equal(await s.appendMetrics(c.fence, c.job.uuid, 7, { loss: 0.3 }, T0 + 3), true);
      assert.equal(await s.appendMetrics(c.fence, idle.uuid, 1, { loss: 9 }, T0 + 3), false, "another job's metrics are refused");
      assert.deepEqual(await s.listMetrics(c.job.uuid, -1, 0), [
        { job_uuid: c.job.uuid, step: 5, values: { loss: 0.5, acc: 0.25 }, created_at: T0 + 1 },
        { job_uuid: c.job.uuid, step: 6, values: { loss: 0.4 }, created_at: T0 + 2 },
        { job_uuid: c.job.uuid, step: 7, values: { loss: 0.3 }, created_at: T0 + 3 },
      ]);
      assert.deepEqual((await s.listMetrics(c.job.uuid, 1, 1)).map((m) => m.step), [6]);
      assert.deepEqual(await s.listMetrics(idle.uuid, -1, 0), []);
      assert.equal(await s.appendMetrics(c.fence, c.job.uuid, 8, { loss: 0.2 }, T0 + 1_000_000), false, 'past the lease');
    },
  },
  {
    name: 'checkpoints: listed by step, found by id per job, the latest is the highest step',
    async run({ s, f }) {
      const c = await f.running({ id: 'a' });
      const other = await f.running({ id: 'b' });
      const k2 = f.checkpoint(c.job.uuid, c.fence, 2, T0 + 2);
      const k1 = f.checkpoint(c.job.uuid, c.fence, 1, T0 + 1, { metrics: { loss: 0.5 }, meta: { labels: ['x', 'y'] } });
      assert.equal(await s.latestCheckpoint(c.job.uuid), null);
      assert.equal(await s.commitCheckpoint(c.fence, k1), true);
      assert.equal(await s.commitCheckpoint(c.fence, k2), true);
      assert.equal(await s.commitCheckpoint(c.fence, f.checkpoint(other.job.uuid, c.fence, 9, T0 + 3)), false, "not the fence's job");
      assert.deepEqual(await s.listCheckpoints(c.job.uuid), [k1, k2]);
      assert.deepEqual(await s.getCheckpoint(c.job.uuid, k1.id), k1);
      assert.equal(await s.getCheckpoint(other.job.uuid, k1.id), null, 'per job');
      assert.equal(await s.getCheckpoint(c.job.uuid, 'ckp_none'), null);
      assert.deepEqual(await s.latestCheckpoint(c.job.uuid), k2);
      assert.equal(await s.latestCheckpoint(other.job.uuid), null);
    },
  },
];
