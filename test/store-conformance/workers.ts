/**
 * Conformance cases: remote workers' tokens (stored as hashes, apart from API keys) and the fleet
 * status rows of running workers.
 */
import assert from 'node:assert/strict';
import { T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const workerCases: Case[] = [
  {
    name: 'worker tokens: found by hash while active, listed oldest first with revoked ones, revoked once; never an API key',
    async run({ s, f }) {
      assert.deepEqual(await s.listWorkerTokens(), []);
      const b = await f.workerToken({ id: 'wkt_b', name: 'gpu-2', created_at: T0 + 1 }, 'hash-b');
      const a = await f.workerToken({ id: 'wkt_a', name: 'gpu-1', created_at: T0 }, 'hash-a');
      assert.deepEqual(await s.findWorkerTokenByHash('hash-a'), { ...a.record, hash: 'hash-a' });
      assert.equal(await s.findWorkerTokenByHash('hash-none'), null);
      assert.deepEqual(await s.listWorkerTokens(), [a.record, b.record]);
      // separate tables: a worker token's hash finds no API key, and the other way round
      const org = await f.org('acme');
      await f.apiKey(org.uuid, {}, 'key-hash');
      assert.equal(await s.findApiKeyByHash('hash-a'), null);
      assert.equal(await s.findWorkerTokenByHash('key-hash'), null);
      assert.equal(await s.revokeWorkerToken('wkt_a', T0 + 5), true);
      assert.equal(await s.revokeWorkerToken('wkt_a', T0 + 6), false, 'already revoked');
      assert.equal(await s.revokeWorkerToken('wkt_none', T0 + 6), false);
      assert.equal(await s.findWorkerTokenByHash('hash-a'), null, 'revoked: refused at once');
      assert.deepEqual(await s.listWorkerTokens(), [{ ...a.record, revoked_at: T0 + 5 }, b.record]);
      assert.deepEqual(await s.findWorkerTokenByHash('hash-b'), { ...b.record, hash: 'hash-b' }, 'the others stay');
      await assert.rejects(f.workerToken({ id: 'wkt_c' }, 'hash-b'), 'a hash is unique');
    },
  },
  {
    name: 'workers: an upsert inserts, then updates load and last-seen only; listed by start time; removed by id',
    async run({ s, f }) {
      assert.deepEqual(await s.listWorkers(), []);
      const late = f.worker({ id: 'remote:gpu-1:x', node: 'gpu-1', kind: 'remote', concurrency: 2, started_at: T0 + 5, last_seen_at: T0 + 5 });
      const early = f.worker({ id: 'builtin:n:boot:0', started_at: T0, last_seen_at: T0 });
      await s.upsertWorker(late);
      await s.upsertWorker(early);
      assert.deepEqual(await s.listWorkers(), [early, late]);
      await s.upsertWorker({ ...late, node: 'renamed', kind: 'builtin', started_at: T0 - 1, concurrency: 4, active_jobs: 3, last_seen_at: T0 + 9 });
      assert.deepEqual(await s.listWorkers(), [early, { ...late, concurrency: 4, active_jobs: 3, last_seen_at: T0 + 9 }], 'node, kind and start are kept');
      await s.removeWorker(early.id);
      await s.removeWorker('nobody'); // tolerated
      assert.deepEqual((await s.listWorkers()).map((w) => w.id), [late.id]);
    },
  },
];
