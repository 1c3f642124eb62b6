/**
 * Conformance cases: job records (create, read, list pages and views, the compare-and-set
 * transitions, delete, counts).
 */
import assert from 'node:assert/strict';
import type { Job } from '../../src/domain/types.js';
import { ev, T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const jobCases: Case[] = [
  {
    name: 'createJob stores the job with its first event; a repeated id or idempotency key finds the first job',
    async run({ s, f }) {
      const rec = f.jobRecord({ id: 'j', idempotency_key: 'idem-1', hyperparameters: { lr: 0.1 } });
      const first = await s.createJob(rec, { level: 'info', type: 'created', message: 'queued', data: { n: 1 } });
      assert.deepEqual(first, { created: true, job: rec });
      assert.deepEqual(await s.getJob('o', 'j'), rec);
      assert.deepEqual(await s.getJobByUuid(rec.uuid), rec);
      assert.deepEqual((await s.listEvents(rec.uuid, { limit: -1 })).map((e) => [e.seq, e.type, e.message, e.data, e.created_at]), [[1, 'created', 'queued', { n: 1 }, T0]]);
      const again = await s.createJob(f.jobRecord({ id: 'j', created_at: T0 + 9 }), ev);
      assert.deepEqual(again, { created: false, job: rec }, 'same id: the existing job, nothing written');
      assert.equal((await s.listEvents(rec.uuid, { limit: -1 })).length, 1);
      assert.deepEqual(await s.findJobByIdempotencyKey('o', 'idem-1'), rec);
      assert.equal(await s.findJobByIdempotencyKey('o', 'idem-2'), null);
      assert.equal(await s.findJobByIdempotencyKey('other', 'idem-1'), null, 'keys are per org');
      assert.equal(await s.getJob('other', 'j'), null, 'ids are per org');
      assert.equal(await s.getJobByUuid('no-such-uuid'), null);
      const same = await s.createJob(f.jobRecord({ org_uuid: 'other', id: 'j' }), ev);
      assert.equal(same.created, true, 'another org may use the same id');
    },
  },
  {
    name: 'concurrent getJob calls each answer their own job: 130 ids, repeats, missing ids and another org in one turn',
    async run({ s, f }) {
      const mine: Job[] = [];
      // 130: more than one statement's worth (100 keys) when a store batches point reads.
      for (let i = 0; i < 130; i++) mine.push(await f.job({ id: `g${i}`, created_at: T0 + i }));
      const theirs = await f.job({ org_uuid: 'other', id: 'g0', name: 'theirs' });
      // Issued together, so a store that batches point reads (PostgreSQL) answers them from one statement.
      const asks: Array<[string, string]> = [
        ...mine.map((j): [string, string] => ['o', j.id]), ['o', 'g3'], ['o', 'missing'], ['other', 'g0'], ['other', 'g1'], ['nobody', 'g0'],
      ];
      const got = await Promise.all(asks.map(([org, id]) => s.getJob(org, id)));
      assert.deepEqual(got, [...mine, mine[3], null, theirs, null, null]);
      const many = await Promise.all(Array.from({ length: 300 }, (_, i) => s.getJob('o', `g${i % 140}`)));
      many.forEach((j, i) => assert.deepEqual(j, mine[i % 140] ?? null, `ask ${i}`));
    },
  },
  {
    name: 'list is newest first with status and API filters, offset paging and a keyset cursor; keys and views name the same page',
    async run({ s, f }) {
      for (let i = 0; i < 5; i++) await f.job({ id: `j${i}`, created_at: T0 + i });
      const ids = async (q: Partial<Parameters<typeof s.listJobs>[0]>) => (await s.listJobs({ org_uuid: 'o', limit: -1, offset: 0, ...q })).map((j) => j.id);
      assert.deepEqual(await ids({}), ['j4', 'j3', 'j2', 'j1', 'j0']);
      assert.deepEqual(await ids({ limit: 2, offset: 1 }), ['j3', 'j2']);
      const keys = await s.listJobViewKeys({ org_uuid: 'o', limit: 2, offset: 1 });
      const page = await s.listJobs({ org_uuid: 'o', limit: 2, offset: 1 });
      assert.deepEqual(keys.map((k) => k.uuid), page.map((j) => j.uuid), 'keys name the same page in the same order');
      assert.deepEqual(keys.map((k) => k.row_version), [0, 0]);
      const views = await s.getJobViews('o', [keys[1]!.uuid, keys[0]!.uuid, 'no-such-uuid']);
      assert.deepEqual(views.map((v) => v.id).sort(), ['j2', 'j3']);
      const j3 = views.find((v) => v.id === 'j3')!;
      assert.deepEqual(j3, {
        name: 'j3', id: 'j3', uuid: keys[0]!.uuid, org_uuid: 'o', status: 'REGISTERED', created_at: T0 + 3, updated_at: T0 + 3,
        inference_config_path: null, config_json: JSON.stringify({ a: 1 }), error_json: null, progress_json: null, row_version: 0,
      }, 'JSON columns come back as the stored text');
      assert.deepEqual(await s.getJobViews('other', [keys[0]!.uuid]), [], 'another org sees none');
      assert.deepEqual(await s.getJobViews('o', []), []);
      // keyset cursor: after j3 (created T0+3) come j2, j1, j0; ties on created_at go by id, descending
      assert.deepEqual(await ids({ limit: 2, after: { created_at: T0 + 3, id: 'j3' } }), ['j2', 'j1']);
      await f.job({ id: 'tie-a', created_at: T0 + 2 });
      await f.job({ id: 'tie-b', created_at: T0 + 2 });
      assert.deepEqual(await ids({ after: { created_at: T0 + 3, id: 'j3' } }), ['tie-b', 'tie-a', 'j2', 'j1', 'j0']);
      assert.deepEqual((await s.listJobViewKeys({ org_uuid: 'o', limit: 2, offset: 1, after: { created_at: T0 + 2, id: 'tie-b' } })).map((k) => k.uuid),
        [(await s.getJob('o', 'j2'))!.uuid, (await s.getJob('o', 'j1'))!.uuid], 'after tie-b, skip tie-a: j2, j1');
      await s.transition((await s.getJob('o', 'j2'))!.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual(await ids({ statuses: ['CANCELLED'] }), ['j2']);
      assert.deepEqual(await ids({ statuses: ['CANCELLED', 'REGISTERED'], limit: 2 }), ['j4', 'j3']);
      await f.job({ id: 'b0', api_version: 'batch', created_at: T0 + 10 });
      await f.job({ id: 'n0', api_version: 'v0.6', created_at: T0 + 11 });
      assert.deepEqual(await ids({ api_versions: ['v0.5', 'v0.6'], limit: 2 }), ['n0', 'j4'], 'batch jobs left out');
      assert.deepEqual(await ids({ api_versions: ['batch'] }), ['b0']);
      assert.deepEqual(await s.listJobs({ org_uuid: 'other', limit: -1, offset: 0 }), []);
      // the HTTP edge clamps paging integers to 2^31 - 1 (docs/errors.md): both databases take it
      assert.equal((await s.listJobs({ org_uuid: 'o', limit: 2_147_483_647, offset: 0 })).length, 9);
      assert.deepEqual(await s.listJobs({ org_uuid: 'o', limit: 1, offset: 2_147_483_647 }), []);
      assert.deepEqual(await s.listJobViewKeys({ org_uuid: 'o', limit: 2_147_483_647, offset: 2_147_483_647 }), []);
    },
  },
  {
    name: 'transition is a compare-and-set from the table: a stale expectation or an illegal action writes nothing; a patch lands with it',
    async run({ s, f }) {
      const job = await f.job({ id: 'j' });
      assert.equal(await s.transition(job.uuid, 'cancel', 'RUNNING', T0, ev), null, 'stale expected status');
      assert.equal(await s.transition(job.uuid, 'complete', 'REGISTERED', T0, ev), null, 'not in the table');
      assert.equal(await s.transition('no-such-uuid', 'cancel', 'REGISTERED', T0, ev), null);
      const patch = { error: { code: 'stopped_by_user', message: 'm' }, inference_config_path: 'cfg/x.json', progress: { step: 2, total_steps: 4, epoch: 1, phase: 'training', eta_seconds: null }, stop_requested_at: T0 + 4 };
      const stopped = await s.transition(job.uuid, 'stop', 'REGISTERED', T0 + 5, { level: 'warn', type: 'stop', message: 'stopped' }, patch);
      assert.deepEqual(stopped, { ...job, status: 'STOPPED', updated_at: T0 + 5, ...patch });
      assert.deepEqual(await s.getJobByUuid(job.uuid), stopped);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1 })).map((e) => e.type), ['test', 'stop'], 'the event in the same write');
      assert.equal(await s.transition(job.uuid, 'cancel', 'REGISTERED', T0 + 6, ev), null);
      assert.equal((await s.getJobByUuid(job.uuid))?.updated_at, T0 + 5);
      assert.equal((await s.listEvents(job.uuid, { limit: -1 })).length, 2, 'a refused transition adds no event');
    },
  },
  {
    name: 'countJobsByStatus counts one organization, or all without one',
    async run({ s, f }) {
      assert.deepEqual(await s.countJobsByStatus(), {});
      for (let i = 0; i < 3; i++) await f.job({ org_uuid: 'o1', id: `a${i}`, created_at: T0 + i });
      await f.job({ org_uuid: 'o2', id: 'b0' });
      const a0 = (await s.getJob('o1', 'a0'))!;
      await s.transition(a0.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual(await s.countJobsByStatus('o1'), { REGISTERED: 2, CANCELLED: 1 });
      assert.deepEqual(await s.countJobsByStatus('o2'), { REGISTERED: 1 });
      assert.deepEqual(await s.countJobsByStatus('nobody'), {});
      assert.deepEqual(await s.countJobsByStatus(), { REGISTERED: 3, CANCELLED: 1 });
    },
  },
  {
    name: 'only terminal jobs can be deleted, with everything recorded for them',
    async run({ s, f }) {
      const c = await f.running({ id: 'a' });
      await s.appendMetrics(c.fence, c.job.uuid, 1, { loss: 1 }, T0);
      assert.equal(await s.commitCheckpoint(c.fence, f.checkpoint(c.job.uuid, c.fence, 1, T0)), true);
      assert.equal(await s.deleteJob(c.job.uuid), false, 'RUNNING');
      await s.transition(c.job.uuid, 'cancel', 'RUNNING', T0, ev);
      assert.equal(await s.deleteJob(c.job.uuid), true);
      assert.equal(await s.deleteJob(c.job.uuid), false, 'gone');
      assert.equal(await s.getJob('o', 'a'), null);
      assert.deepEqual(await s.listEvents(c.job.uuid, { limit: -1 }), []);
      assert.deepEqual(await s.listMetrics(c.job.uuid, -1, 0), []);
      assert.deepEqual(await s.listCheckpoints(c.job.uuid), []);
      assert.equal(await s.getAttempt(c.attempt.id), null, 'its attempts too');
      assert.deepEqual(await s.countJobsByStatus(), {});
      assert.equal((await f.job({ id: 'a' })).id, 'a', 'the id is free again');
    },
  },
];
