/**
 * The Store conformance suite: every implementation must pass it. Runs on SQLite always and on
 * PostgreSQL when FTNODE_TEST_PG_URL is set (each test in its own schema, dropped afterwards).
 * Covers the compare-and-set guards, claims, leases and fencing that the lifecycle rests on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { Checkpoint, Job } from '../src/domain/types.js';
import { randomHex, typeId, uuid } from '../src/lib/ids.js';
import { PostgresStore } from '../src/store/postgres/pg-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Fence, Store } from '../src/store/store.js';

interface Factory {
  name: string;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const PG_URL = process.env.FTNODE_TEST_PG_URL;

const factories: Factory[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ftnode-store-'));
      const store = SqliteStore.open(join(dir, 'db.sqlite'));
      await store.migrate();
      return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
  // PostgreSQL when FTNODE_TEST_PG_URL is set (.ci/run sets it): each test in a fresh random schema, dropped after.
  ...(PG_URL
    ? [{
        name: 'postgres',
        async open() {
          const schema = `conf_${randomHex(12)}`;
          const store = PostgresStore.open(PG_URL, { schema, applicationName: 'ftnode-test' });
          await store.migrate();
          const cleanup = async (): Promise<void> => {
            await store.close();
            const admin = new pg.Client({ connectionString: PG_URL });
            await admin.connect();
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
          };
          return { store, cleanup };
        },
      }]
    : []),
];

const T0 = Date.parse('2026-01-01T00:00:00Z');
const LEASE = 1_000;
const ev = { level: 'info' as const, type: 'test', message: 'test' };

function newJob(org: string, id: string, created: number, file_uid = 'fil_x'): Job {
  return {
    uuid: uuid(), org_uuid: org, id, name: id, api_version: 'v0.5', model: 'm', status: 'REGISTERED', config: { a: 1 },
    datasets: [{ name: 'd', split: 'train', files: [{ file_id: 'f', file_uid }] }], request_hash: 'h', idempotency_key: null,
    created_at: created, updated_at: created, inference_config_path: null, error: null, progress: null, attempts: 0,
    current_attempt_id: null, stop_requested_at: null, hyperparameters: null,
  };
}

function ckpt(job: Job, fence: Fence, step: number, at: number): Checkpoint {
  return { id: typeId('ckp'), job_uuid: job.uuid, attempt_id: fence.attempt_id, step, name: `step_${step}`, blob_key: `k/${step}`, num_bytes: 1, sha256: 'x', metrics: {}, meta: {}, created_at: at };
}

for (const f of factories) {
  describe(`Store conformance: ${f.name}`, () => {
    const withStore = (name: string, fn: (s: Store) => Promise<void>): void => {
      test(name, async () => {
        const { store, cleanup } = await f.open();
        try {
          await fn(store);
        } finally {
          await cleanup();
        }
      });
    };

    withStore('orgs are unique by name; keys are found by hash until revoked', async (s) => {
      const a = await s.ensureOrg('acme', T0);
      assert.equal((await s.ensureOrg('acme', T0 + 1)).uuid, a.uuid);
      await s.insertApiKey({ id: 'k1', org_uuid: a.uuid, name: 'n', prefix: 'sk_abcd', created_at: T0, revoked_at: null }, 'hash1');
      assert.equal((await s.findApiKeyByHash('hash1'))?.org.uuid, a.uuid);
      assert.equal(await s.revokeApiKey(a.uuid, 'k1', T0), true);
      assert.equal(await s.findApiKeyByHash('hash1'), null);
    });

    withStore('a new file version replaces the current one; old versions are collectable unless an active job uses them', async (s) => {
      const base = { org_uuid: 'o', file_id: 'a.csv', file_type: 'text/csv', num_bytes: 1, sha256: 'x', status: 'ready' as const, attributes: {}, created_at: T0, deleted_at: null };
      await s.insertFileVersion({ ...base, file_uid: 'fil_1', blob_key: 'b1' });
      await s.insertFileVersion({ ...base, file_uid: 'fil_2', blob_key: 'b2' });
      assert.equal((await s.getCurrentFile('o', 'a.csv'))?.file_uid, 'fil_2');
      assert.equal((await s.listCurrentFiles('o')).length, 1);
      await s.createJob(newJob('o', 'j', T0, 'fil_1'), ev);
      assert.deepEqual((await s.listCollectableFileVersions(10)).map((v) => v.file_uid), [], 'fil_1 is used by a queued job');
      assert.equal(await s.markFileVersionPurged('fil_1'), false, 'a version a queued job uses cannot be claimed');
      const j = (await s.getJob('o', 'j'))!;
      await s.transition(j.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual((await s.listCollectableFileVersions(10)).map((v) => v.file_uid), ['fil_1']);
      assert.equal(await s.markFileVersionPurged('fil_2'), false, 'the current version is never purged');
      assert.deepEqual([...(await s.fileBlobKeysInUse(['fil_1', 'fil_2', 'fil_none']))].sort(), ['b1', 'b2'], 'both versions still name their bytes');
      assert.equal(await s.markFileVersionPurged('fil_1'), true);
      assert.equal(await s.markFileVersionPurged('fil_1'), false, 'claimed once');
      assert.deepEqual([...(await s.fileBlobKeysInUse(['fil_1', 'fil_2']))], ['b2'], 'a purged version no longer holds its bytes');
      assert.equal((await s.fileBlobKeysInUse([])).size, 0);
      await assert.rejects(s.createJob(newJob('o', 'late', T0, 'fil_1'), ev), /replaced and removed/, 'a purged version cannot be snapshotted');
      assert.equal(await s.getJob('o', 'late'), null);
      assert.equal((await s.deleteCurrentFile('o', 'a.csv', T0))?.file_uid, 'fil_2');
      assert.equal(await s.getCurrentFile('o', 'a.csv'), null);
    });

    withStore('countJobsByStatus counts one organization, or all without one; paging values at the clamp bound', async (s) => {
      for (let i = 0; i < 3; i++) await s.createJob(newJob('o1', `a${i}`, T0 + i), ev);
      await s.createJob(newJob('o2', 'b0', T0), ev);
      const a0 = (await s.getJob('o1', 'a0'))!;
      await s.transition(a0.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual(await s.countJobsByStatus('o1'), { REGISTERED: 2, CANCELLED: 1 });
      assert.deepEqual(await s.countJobsByStatus('o2'), { REGISTERED: 1 });
      assert.deepEqual(await s.countJobsByStatus('nobody'), {});
      assert.deepEqual(await s.countJobsByStatus(), { REGISTERED: 3, CANCELLED: 1 });
      // the HTTP edge clamps paging integers to 2^31 - 1 (docs/errors.md): both databases take it
      assert.equal((await s.listJobs({ org_uuid: 'o1', limit: 2_147_483_647, offset: 0 })).length, 3);
      assert.deepEqual(await s.listJobs({ org_uuid: 'o1', limit: 1, offset: 2_147_483_647 }), []);
      assert.equal((await s.listEvents(a0.uuid, { limit: 2_147_483_647, offset: 2_147_483_647 })).length, 0);
    });

    withStore('createJob returns the existing job for a repeated id; list is newest first with filters and paging', async (s) => {
      for (let i = 0; i < 5; i++) assert.equal((await s.createJob(newJob('o', `j${i}`, T0 + i), ev)).created, true);
      const again = await s.createJob(newJob('o', 'j1', T0 + 9), ev);
      assert.equal(again.created, false);
      assert.equal(again.job.created_at, T0 + 1);
      assert.deepEqual((await s.listJobs({ org_uuid: 'o', limit: -1, offset: 0 })).map((j) => j.id), ['j4', 'j3', 'j2', 'j1', 'j0']);
      assert.deepEqual((await s.listJobs({ org_uuid: 'o', limit: 2, offset: 1 })).map((j) => j.id), ['j3', 'j2']);
      const keys = await s.listJobViewKeys({ org_uuid: 'o', limit: 2, offset: 1 });
      const page = await s.listJobs({ org_uuid: 'o', limit: 2, offset: 1 });
      assert.deepEqual(keys.map((k) => k.uuid), page.map((j) => j.uuid), 'keys name the same page in the same order');
      assert.deepEqual(keys.map((k) => k.row_version), [0, 0]);
      const views = await s.getJobViews('o', [keys[1]!.uuid, keys[0]!.uuid, 'no-such-uuid']);
      assert.deepEqual(views.map((v) => v.id).sort(), ['j2', 'j3']);
      assert.equal(views[0]!.config_json, JSON.stringify({ a: 1 }), 'JSON columns come back as the stored text');
      assert.equal(views[0]!.error_json, null);
      assert.deepEqual(await s.getJobViews('other', [keys[0]!.uuid]), [], 'another org sees none');
      assert.deepEqual(await s.getJobViews('o', []), []);
      // keyset cursor: after j3 (created T0+3) come j2, j1, j0; ties on created_at go by id, descending
      assert.deepEqual((await s.listJobs({ org_uuid: 'o', limit: 2, offset: 0, after: { created_at: T0 + 3, id: 'j3' } })).map((j) => j.id), ['j2', 'j1']);
      await s.createJob(newJob('o', 'tie-a', T0 + 2), ev);
      await s.createJob(newJob('o', 'tie-b', T0 + 2), ev);
      assert.deepEqual((await s.listJobs({ org_uuid: 'o', limit: -1, offset: 0, after: { created_at: T0 + 3, id: 'j3' } })).map((j) => j.id), ['tie-b', 'tie-a', 'j2', 'j1', 'j0']);
      assert.deepEqual((await s.listJobViewKeys({ org_uuid: 'o', limit: 2, offset: 1, after: { created_at: T0 + 2, id: 'tie-b' } })).map((k) => k.uuid),
        [(await s.getJob('o', 'j2'))!.uuid, (await s.getJob('o', 'j1'))!.uuid], 'after tie-b, skip tie-a: j2, j1');
      await s.transition((await s.getJob('o', 'j2'))!.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual((await s.listJobs({ org_uuid: 'o', statuses: ['CANCELLED'], limit: -1, offset: 0 })).map((j) => j.id), ['j2']);
      assert.deepEqual(await s.listJobs({ org_uuid: 'other', limit: -1, offset: 0 }), []);
    });

    withStore('transition is a compare-and-set from the table: a stale expectation or an illegal action writes nothing', async (s) => {
      const { job } = await s.createJob(newJob('o', 'j', T0), ev);
      assert.equal(await s.transition(job.uuid, 'cancel', 'RUNNING', T0, ev), null, 'stale expected status');
      assert.equal(await s.transition(job.uuid, 'complete', 'REGISTERED', T0, ev), null, 'not in the table');
      assert.equal((await s.transition(job.uuid, 'stop', 'REGISTERED', T0 + 5, ev))?.status, 'STOPPED');
      assert.equal(await s.transition(job.uuid, 'cancel', 'REGISTERED', T0, ev), null);
      assert.equal((await s.getJobByUuid(job.uuid))?.updated_at, T0 + 5);
    });

    withStore('claims are FIFO and exclusive; each claim gets a new, larger fencing token', async (s) => {
      await s.createJob(newJob('o', 'a', T0), ev);
      await s.createJob(newJob('o', 'b', T0 + 1), ev);
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => s.claimJob(`w${i}`, T0, LEASE)));
      const won = claims.filter((c) => c !== null);
      assert.equal(won.length, 2);
      assert.deepEqual(won.map((c) => c!.job.id).sort(), ['a', 'b']);
      assert.ok(won.every((c) => c!.job.status === 'STARTING' && c!.attempt.lease_token === 1 && c!.job.attempts === 1));
    });

    withStore('heartbeats extend the lease; an expired or superseded fence writes nothing (zombie worker)', async (s) => {
      await s.createJob(newJob('o', 'a', T0), ev);
      const c = (await s.claimJob('w', T0, LEASE))!;
      const fence = { attempt_id: c.attempt.id, lease_token: c.attempt.lease_token };
      assert.equal(await s.heartbeat(fence, T0 + 900, LEASE), 'STARTING');
      assert.equal(await s.heartbeat(fence, T0 + 1_800, LEASE), 'STARTING', 'extended to T0+1900');
      assert.equal((await s.fencedTransition(fence, 'start_training', T0 + 1_850, ev))?.status, 'RUNNING');
      assert.equal(await s.commitCheckpoint(fence, ckpt(c.job, fence, 1, T0 + 1_860)), true);
      assert.equal(await s.appendFencedEvent(fence, T0 + 1_870, { ...ev, type: 'output_committed' }), true);
      assert.equal(await s.heartbeat(fence, T0 + 3_000, LEASE), null, 'expired');
      assert.equal(await s.appendFencedEvent(fence, T0 + 3_000, { ...ev, type: 'output_committed' }), false, 'no fenced event after expiry');
      assert.equal(await s.commitCheckpoint(fence, ckpt(c.job, fence, 2, T0 + 3_000)), false, 'no commit after expiry');
      const lost = await s.reapLostAttempts(T0 + 3_000, 3);
      assert.equal(lost[0]?.action, 'requeued');
      const c2 = (await s.claimJob('w2', T0 + 3_001, LEASE))!;
      assert.equal(c2.attempt.lease_token, 2);
      assert.equal(c2.resume?.step, 1, 'resume from the last committed checkpoint');
      // The zombie wakes up inside what would have been its lease: still refused, its token is superseded.
      const zombie = { attempt_id: c.attempt.id, lease_token: 1 };
      assert.equal(await s.commitCheckpoint(zombie, ckpt(c.job, zombie, 3, T0 + 3_002)), false);
      assert.equal(await s.fencedTransition(zombie, 'fail', T0 + 3_002, ev), null);
      assert.equal(await s.appendMetrics(zombie, c.job.uuid, 3, { loss: 1 }, T0 + 3_002), false);
      assert.equal(await s.appendFencedEvent(zombie, T0 + 3_002, { ...ev, type: 'output_committed' }), false);
      assert.deepEqual((await s.listCheckpoints(c.job.uuid)).map((k) => k.step), [1]);
      assert.equal((await s.listEvents(c.job.uuid, { limit: -1 })).filter((e) => e.type === 'output_committed').length, 1, "only the live attempt's fenced event");
    });

    withStore('every write to a job row bumps its row_version (list pages cache rendered records by it)', async (s) => {
      await s.createJob(newJob('o', 'a', T0), ev);
      const version = async () => (await s.listJobViewKeys({ org_uuid: 'o', limit: -1, offset: 0 }))[0]!.row_version;
      const seen = [await version()];
      const c = (await s.claimJob('w', T0, LEASE))!;
      seen.push(await version());
      const fence = { attempt_id: c.attempt.id, lease_token: c.attempt.lease_token };
      await s.fencedTransition(fence, 'start_training', T0 + 1, ev);
      seen.push(await version());
      assert.equal(await s.updateProgress(fence, T0 + 2, { step: 1, total_steps: 4, epoch: 1, phase: 'training', eta_seconds: null }), true);
      seen.push(await version());
      const views = await s.getJobViews('o', [c.job.uuid]);
      assert.equal(views[0]!.row_version, seen.at(-1), 'getJobViews reads the same version');
      assert.match(views[0]!.progress_json ?? '', /"step":1/);
      await s.transition(c.job.uuid, 'cancel', 'RUNNING', T0 + 3, ev);
      seen.push(await version());
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `write ${i} bumped the version: ${seen.join(' → ')}`);
      const failed = await s.transition(c.job.uuid, 'stop', 'RUNNING', T0 + 4, ev);
      assert.equal(failed, null);
      assert.equal(await version(), seen.at(-1), 'a refused compare-and-set writes nothing');
    });

    withStore('no checkpoint is committed after a cancel, even with a live lease', async (s) => {
      await s.createJob(newJob('o', 'a', T0), ev);
      const c = (await s.claimJob('w', T0, LEASE))!;
      const fence = { attempt_id: c.attempt.id, lease_token: 1 };
      await s.fencedTransition(fence, 'start_training', T0 + 1, ev);
      assert.equal((await s.transition(c.job.uuid, 'cancel', 'RUNNING', T0 + 2, ev))?.status, 'CANCELLED');
      assert.equal(await s.commitCheckpoint(fence, ckpt(c.job, fence, 1, T0 + 3)), false);
      assert.equal(await s.appendFencedEvent(fence, T0 + 3, ev), false, 'no fenced event after a cancel');
      assert.equal(await s.fencedTransition(fence, 'finalize', T0 + 3, ev), null);
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'finished');
    });

    withStore('the reaper fails a job past its attempt budget, releases STOPPING, and recovers dead-boot attempts at once', async (s) => {
      await s.createJob(newJob('o', 'a', T0), ev);
      await s.createJob(newJob('o', 'b', T0 + 1), ev);
      await s.createJob(newJob('o', 'c', T0 + 2), ev);
      const a = (await s.claimJob('builtin:n:old:0', T0, LEASE))!;
      const b = (await s.claimJob('builtin:n:old:1', T0, LEASE))!;
      const c = (await s.claimJob('builtin:n:new:0', T0, LEASE))!;
      await s.transition(b.job.uuid, 'stop', 'STARTING', T0, ev, { stop_requested_at: T0 });
      const lost = await s.reapLostAttempts(T0 + 1, 1, { prefix: 'builtin:n:', except: 'builtin:n:new:' });
      const by = Object.fromEntries(lost.map((l) => [l.job.id, l]));
      assert.equal(by.a?.action, 'failed');
      assert.equal(by.a?.job.error?.code, 'worker_lost');
      assert.equal(by.b?.action, 'released');
      assert.equal(by.b?.job.status, 'STOPPING');
      assert.equal(by.c, undefined, 'the live boot keeps its attempt');
      assert.equal((await s.getAttempt(c.attempt.id))?.state, 'active');
      assert.equal((await s.listOverdueStopping(T0)).length, 1);
      assert.equal(a.attempt.number, 1);
    });

    withStore('a direct upload completion is fenced by its token; only stale completions are reopened', async (s) => {
      const u = {
        upload_id: 'up1', org_uuid: 'o', file_id: 'big.bin', file_uid: 'fil_up1', file_type: 'application/octet-stream',
        num_bytes: 10, part_size: 10, num_parts: 1, state: 'open' as const, created_at: T0, updated_at: T0,
      };
      assert.equal((await s.beginUpload(u, false)).kind, 'created');
      await s.recordUploadPart({ upload_id: 'up1', part_number: 0, token: 't', num_bytes: 10, staged_name: 'p0', crc32c: null, checkpointed: false, created_at: T0 }, T0);
      const first = await s.beginCompleteUpload('up1', [{ part_number: 0, token: 't' }], T0 + 1);
      assert.ok(first.ok);
      assert.equal(await s.touchCompletingUpload('up1', first.complete_token, T0 + 10_000), true, 'the heartbeat of the live assembler');
      assert.equal(await s.reopenInterruptedUploads(T0 + 20_000, T0 + 10_000), 0, 'reported at T0+10 s: not stale at a T0+10 s cutoff');
      assert.equal(await s.reopenInterruptedUploads(T0 + 80_000, T0 + 20_000), 1, 'silent since: reopened');
      const second = await s.beginCompleteUpload('up1', [], T0 + 80_001);
      assert.ok(second.ok);
      assert.ok(second.complete_token > first.complete_token, 'each completion takes a new token');
      const file = {
        file_uid: 'fil_up1', org_uuid: 'o', file_id: 'big.bin', file_type: 'application/octet-stream', num_bytes: 10, sha256: 'x',
        blob_key: 'k', status: 'ready' as const, attributes: {}, created_at: T0 + 80_002, deleted_at: null,
      };
      // the first assembler wakes up: it can neither heartbeat, record nor reopen
      assert.equal(await s.touchCompletingUpload('up1', first.complete_token, T0 + 80_002), false);
      assert.equal(await s.finishUpload('up1', first.complete_token, file, T0 + 80_002), null);
      await s.reopenUpload('up1', first.complete_token, T0 + 80_002);
      assert.equal((await s.getUpload('up1'))?.state, 'completing');
      assert.equal((await s.finishUpload('up1', second.complete_token, file, T0 + 80_003))?.file_uid, 'fil_up1');
      assert.equal((await s.getUpload('up1'))?.state, 'completed');
      assert.equal(await s.reopenInterruptedUploads(T0 + 90_000), 0, 'a completed upload is never reopened');
    });

    withStore('events are numbered per job and listed in either order; metrics are fenced', async (s) => {
      const { job } = await s.createJob(newJob('o', 'a', T0), ev);
      await s.appendEvent(job.uuid, T0 + 1, { level: 'warn', type: 'x', message: 'second' });
      const asc = await s.listEvents(job.uuid, { limit: -1 });
      assert.deepEqual(asc.map((e) => e.seq), [1, 2]);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: 1, newestFirst: true })).map((e) => e.message), ['second']);
      assert.deepEqual((await s.listEvents(job.uuid, { limit: -1, afterSeq: 1 })).map((e) => e.seq), [2]);
      const c = (await s.claimJob('w', T0, LEASE))!;
      assert.equal(await s.appendMetrics({ attempt_id: c.attempt.id, lease_token: 1 }, job.uuid, 5, { loss: 0.5 }, T0 + 1), true);
      assert.deepEqual((await s.listMetrics(job.uuid, -1, 0)).map((m) => m.values.loss), [0.5]);
    });

    withStore('only terminal jobs can be deleted, with everything recorded for them', async (s) => {
      const { job } = await s.createJob(newJob('o', 'a', T0), ev);
      assert.equal(await s.deleteJob(job.uuid), false);
      await s.transition(job.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.equal(await s.deleteJob(job.uuid), true);
      assert.equal(await s.getJob('o', 'a'), null);
      assert.deepEqual(await s.listEvents(job.uuid, { limit: -1 }), []);
    });
  });
}

if (!PG_URL) test('Store conformance: postgres', { skip: 'FTNODE_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' }, () => undefined);
