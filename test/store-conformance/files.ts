/**
 * Conformance cases: file versions (current, replaced, deleted), their collection and the org's stats.
 */
import assert from 'node:assert/strict';
import { ev, T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const fileCases: Case[] = [
  {
    name: 'a new version replaces the current one and keeps its place; versions are found by uid, per org',
    async run({ s, f }) {
      const v1 = await f.file({ file_uid: 'fil_1', file_id: 'a.csv', blob_key: 'b1', attributes: { z: 1, a: 'NUL \u0000 kept', n: [1, { x: null }] } });
      assert.deepEqual([v1.is_current, v1.file_index], [true, 0]);
      const other = await f.file({ file_uid: 'fil_b', file_id: 'b.csv', created_at: T0 + 1 });
      assert.equal(other.file_index, 1);
      const v2 = await f.file({ file_uid: 'fil_2', file_id: 'a.csv', blob_key: 'b2', created_at: T0 + 2 });
      assert.deepEqual([v2.is_current, v2.file_index], [true, 0], 'same name, same place in the list');
      assert.deepEqual(await s.getCurrentFile('o', 'a.csv'), v2);
      assert.deepEqual(await s.getFileByUid('o', 'fil_1'), { ...v1, is_current: false }, 'the old version, with its attributes as written');
      assert.deepEqual(Object.keys((await s.getFileByUid('o', 'fil_1'))!.attributes), ['z', 'a', 'n'], 'key order kept');
      assert.equal(await s.getFileByUid('other-org', 'fil_1'), null);
      assert.equal(await s.getCurrentFile('other-org', 'a.csv'), null);
      assert.deepEqual((await s.listCurrentFiles('o')).map((x) => x.file_uid), ['fil_2', 'fil_b'], 'by file_index');
      assert.deepEqual(await s.listCurrentFiles('other-org'), []);
      const gone = await s.deleteCurrentFile('o', 'a.csv', T0 + 3);
      assert.deepEqual(gone, { ...v2, status: 'deleted', is_current: false, deleted_at: T0 + 3 });
      assert.equal(await s.deleteCurrentFile('o', 'a.csv', T0 + 4), null, 'nothing current left');
      assert.equal(await s.getCurrentFile('o', 'a.csv'), null);
      assert.deepEqual((await s.listCurrentFiles('o')).map((x) => x.file_uid), ['fil_b']);
      assert.equal((await s.getFileByUid('o', 'fil_2'))?.status, 'deleted');
      const v3 = await f.file({ file_uid: 'fil_3', file_id: 'a.csv', created_at: T0 + 5 });
      assert.equal(v3.file_index, 2, 'a name uploaded again after its delete goes to the end');
    },
  },
  {
    name: 'old versions are collectable unless a live job uses them; a purge is claimed once and then refused to new jobs',
    async run({ s, f }) {
      await f.file({ file_uid: 'fil_1', file_id: 'a.csv', blob_key: 'b1' });
      await f.file({ file_uid: 'fil_2', file_id: 'a.csv', blob_key: 'b2' });
      const job = await f.job({ id: 'j', datasets: [{ name: 'd', split: 'train', files: [{ file_id: 'a.csv', file_uid: 'fil_1' }] }] });
      assert.deepEqual(await s.listCollectableFileVersions(10), [], 'fil_1 is used by a queued job');
      assert.equal(await s.markFileVersionPurged('fil_1'), false, 'a version a queued job uses cannot be claimed');
      await s.transition(job.uuid, 'cancel', 'REGISTERED', T0, ev);
      assert.deepEqual((await s.listCollectableFileVersions(10)).map((v) => v.file_uid), ['fil_1']);
      assert.equal(await s.markFileVersionPurged('fil_2'), false, 'the current version is never purged');
      assert.deepEqual([...(await s.fileBlobKeysInUse(['fil_1', 'fil_2', 'fil_none']))].sort(), ['b1', 'b2'], 'both versions still name their bytes');
      assert.equal(await s.markFileVersionPurged('fil_1'), true);
      assert.equal(await s.markFileVersionPurged('fil_1'), false, 'claimed once');
      assert.deepEqual(await s.listCollectableFileVersions(10), [], 'a purged version is not offered again');
      assert.deepEqual([...(await s.fileBlobKeysInUse(['fil_1', 'fil_2']))], ['b2'], 'a purged version no longer holds its bytes');
      assert.equal((await s.fileBlobKeysInUse([])).size, 0);
      const late = f.jobRecord({ id: 'late', datasets: [{ name: 'd', split: 'train', files: [{ file_id: 'a.csv', file_uid: 'fil_1' }] }] });
      await assert.rejects(s.createJob(late, ev), /replaced and removed/, 'a purged version cannot be snapshotted');
      assert.equal(await s.getJob('o', 'late'), null, 'nothing written');
      await s.deleteCurrentFile('o', 'a.csv', T0 + 1);
      assert.deepEqual((await s.listCollectableFileVersions(10)).map((v) => v.file_uid), ['fil_2'], 'a deleted version is collectable');
      for (let i = 0; i < 3; i++) await f.file({ file_uid: `fil_c${i}`, file_id: `c${i}.csv` });
      for (let i = 0; i < 3; i++) await s.deleteCurrentFile('o', `c${i}.csv`, T0 + 2);
      assert.equal((await s.listCollectableFileVersions(2)).length, 2, 'limited');
    },
  },
  {
    name: 'file stats count the current files and bytes of one org and the time of its last upload or delete',
    async run({ s, f }) {
      assert.deepEqual(await s.fileStats('o'), { num_files: 0, num_bytes: 0, last_updated: null });
      await f.file({ file_id: 'a', num_bytes: 5, created_at: T0 + 1 });
      await f.file({ file_id: 'a', num_bytes: 7, created_at: T0 + 2 }); // replaces: only the current version counts
      await f.file({ file_id: 'b', num_bytes: 11, created_at: T0 + 3 });
      await f.file({ org_uuid: 'p', file_id: 'c', num_bytes: 1000, created_at: T0 + 9 });
      assert.deepEqual(await s.fileStats('o'), { num_files: 2, num_bytes: 18, last_updated: T0 + 3 });
      await s.deleteCurrentFile('o', 'b', T0 + 4);
      assert.deepEqual(await s.fileStats('o'), { num_files: 1, num_bytes: 7, last_updated: T0 + 4 }, 'a delete is an update');
    },
  },
];
