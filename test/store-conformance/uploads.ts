/**
 * Conformance cases: direct (multipart) uploads — initiate, resume and supersede, parts and their
 * tokens, the fenced completion, abort, expiry, and what startup reconciliation keeps.
 */
import assert from 'node:assert/strict';
import { T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const uploadCases: Case[] = [
  {
    name: 'initiate creates, resumes the same size, supersedes otherwise, and refuses a name that exists or is completing',
    async run({ s, f }) {
      const u1 = f.uploadRecord({ upload_id: 'u1', file_id: 'a.bin' });
      assert.deepEqual(await s.beginUpload(u1, false), { kind: 'created', upload: u1, superseded: null });
      assert.deepEqual(await s.getUpload('u1'), u1);
      assert.deepEqual(await s.getLiveUpload('o', 'a.bin'), u1);
      assert.equal(await s.getUpload('nope'), null);
      assert.equal(await s.getLiveUpload('o', 'other.bin'), null);
      assert.equal(await s.getLiveUpload('p', 'a.bin'), null, 'per org');
      const p0 = await f.putPart('u1', 0, 't0', T0 + 2);
      const resumed = await s.beginUpload(f.uploadRecord({ upload_id: 'u1b', file_id: 'a.bin', created_at: T0 + 3, updated_at: T0 + 3 }), true);
      assert.deepEqual(resumed, { kind: 'resumed', upload: { ...u1, updated_at: T0 + 3 }, parts: [p0] }, 'the open upload with its parts');
      assert.equal(await s.getUpload('u1b'), null, 'nothing new inserted');
      const u1c = f.uploadRecord({ upload_id: 'u1c', file_id: 'a.bin', num_parts: 2, created_at: T0 + 4, updated_at: T0 + 4 });
      assert.deepEqual(await s.beginUpload(u1c, true), { kind: 'created', upload: u1c, superseded: { ...u1, updated_at: T0 + 3 } }, 'another size: a new upload');
      assert.deepEqual(await s.getUpload('u1'), { ...u1, state: 'aborted', updated_at: T0 + 4 });
      assert.deepEqual(await s.listUploadParts('u1'), [], 'an ended upload loses its parts');
      const u1d = f.uploadRecord({ upload_id: 'u1d', file_id: 'a.bin', num_parts: 1, created_at: T0 + 5, updated_at: T0 + 5 });
      assert.deepEqual(await s.beginUpload(u1d, false), { kind: 'created', upload: u1d, superseded: u1c }, 'no resume: superseded');
      await f.putPart('u1d', 0, 't', T0 + 6);
      const begun = await s.beginCompleteUpload('u1d', [{ part_number: 0, token: 't' }], T0 + 7);
      assert.ok(begun.ok);
      const busy = { kind: 'busy', upload: { ...u1d, state: 'completing', updated_at: T0 + 7 } };
      assert.deepEqual(await s.beginUpload(f.uploadRecord({ upload_id: 'u1e', file_id: 'a.bin', created_at: T0 + 8 }), false), busy);
      assert.deepEqual(await s.beginUpload(f.uploadRecord({ upload_id: 'u1e', file_id: 'a.bin', num_parts: 1, created_at: T0 + 8 }), true), busy, 'not even resumed');
      await s.finishUpload('u1d', begun.complete_token, f.uploadedFile(u1d, T0 + 9), T0 + 9);
      assert.deepEqual(await s.beginUpload(f.uploadRecord({ upload_id: 'u1f', file_id: 'a.bin', created_at: T0 + 10 }), false), { kind: 'file_exists' });
      assert.deepEqual(await s.beginUpload(f.uploadRecord({ upload_id: 'u1f', file_id: 'a.bin', created_at: T0 + 10 }), true), { kind: 'file_exists' });
      assert.equal(await s.getLiveUpload('o', 'a.bin'), null);
      assert.equal((await s.beginUpload(f.uploadRecord({ upload_id: 'u2', org_uuid: 'p', file_id: 'a.bin' }), false)).kind, 'created', 'names are per org');
    },
  },
  {
    name: 'parts are recorded while open, replaced with a new token, checkpointed all or nothing; completion needs every part',
    async run({ s, f }) {
      await f.upload({ upload_id: 'u', num_parts: 3 });
      const p0 = f.part('u', 0, 't0', T0 + 2);
      assert.deepEqual(await s.recordUploadPart(p0, T0 + 2), { recorded: true, replaced: null });
      assert.equal((await s.getUpload('u'))?.updated_at, T0 + 2, 'a part is activity');
      const p1 = await f.putPart('u', 1, 't1', T0 + 3);
      const p1b = f.part('u', 1, 't1b', T0 + 4, { crc32c: null, num_bytes: 7 });
      assert.deepEqual(await s.recordUploadPart(p1b, T0 + 4), { recorded: true, replaced: p1.staged_name }, 'the superseded part file is named');
      assert.deepEqual(await s.listUploadParts('u'), [p0, p1b]);
      assert.deepEqual(await s.checkpointUploadParts('u', [{ part_number: 0, token: 't0' }, { part_number: 1, token: 't1' }], T0 + 5),
        { ok: false, state: 'open', bad: [1], missing: [] }, 'a stale token');
      assert.deepEqual((await s.listUploadParts('u')).map((p) => p.checkpointed), [false, false], 'all or nothing');
      const cp = await s.checkpointUploadParts('u', [{ part_number: 0, token: 't0' }, { part_number: 1, token: 't1b' }], T0 + 5);
      assert.deepEqual(cp, { ok: true, parts: [{ ...p0, checkpointed: true }, { ...p1b, checkpointed: true }] });
      assert.deepEqual(await s.beginCompleteUpload('u', [], T0 + 6), { ok: false, state: 'open', bad: [], missing: [2] });
      const p2 = await f.putPart('u', 2, 't2', T0 + 7);
      assert.deepEqual(await s.beginCompleteUpload('u', [{ part_number: 2, token: 'wrong' }], T0 + 8), { ok: false, state: 'open', bad: [2], missing: [] });
      assert.deepEqual(await s.beginCompleteUpload('u', [{ part_number: 2, token: 't2' }], T0 + 8), {
        ok: true, complete_token: 1, parts: [{ ...p0, checkpointed: true }, { ...p1b, checkpointed: true }, { ...p2, checkpointed: true }],
      });
      assert.deepEqual(await s.getUpload('u'), { ...f.uploadRecord({ upload_id: 'u' }), state: 'completing', updated_at: T0 + 8 });
      // completing: no part, checkpoint, second completion or abort gets in
      assert.deepEqual(await s.recordUploadPart(f.part('u', 0, 'late', T0 + 9), T0 + 9), { recorded: false, replaced: null });
      assert.deepEqual(await s.checkpointUploadParts('u', [{ part_number: 0, token: 't0' }], T0 + 9), { ok: false, state: 'completing', bad: [], missing: [] });
      assert.deepEqual(await s.beginCompleteUpload('u', [], T0 + 9), { ok: false, state: 'completing', bad: [], missing: [] });
      assert.equal(await s.abortUpload('u', T0 + 9), 'completing');
      assert.equal((await s.getUpload('u'))?.state, 'completing', 'not aborted');
      assert.equal((await s.listUploadParts('u'))[0]?.token, 't0');
      assert.deepEqual(await s.recordUploadPart(f.part('nope', 0, 't'), T0), { recorded: false, replaced: null });
      assert.deepEqual(await s.checkpointUploadParts('nope', [], T0), { ok: false, state: null, bad: [], missing: [] });
    },
  },
  {
    name: 'a completion is fenced by its token: heartbeat, reopen and finish only under the current one; only stale completions are reopened',
    async run({ s, f }) {
      const u = await f.upload({ upload_id: 'up1', file_id: 'big.bin', num_parts: 1 });
      await f.putPart('up1', 0, 't', T0);
      const first = await s.beginCompleteUpload('up1', [{ part_number: 0, token: 't' }], T0 + 1);
      assert.ok(first.ok);
      assert.equal(await s.touchCompletingUpload('up1', first.complete_token, T0 + 10_000), true, 'the heartbeat of the live assembler');
      assert.equal((await s.getUpload('up1'))?.updated_at, T0 + 10_000);
      assert.equal(await s.touchCompletingUpload('up1', first.complete_token + 1, T0 + 10_001), false, 'not its token');
      assert.equal(await s.reopenInterruptedUploads(T0 + 20_000, T0 + 10_000), 0, 'reported at T0+10 s: not stale at a T0+10 s cutoff');
      assert.equal(await s.reopenInterruptedUploads(T0 + 80_000, T0 + 20_000), 1, 'silent since: reopened');
      assert.deepEqual(await s.getUpload('up1'), { ...u, state: 'open', updated_at: T0 + 80_000 });
      assert.equal((await s.listUploadParts('up1'))[0]?.checkpointed, true, 'the parts stay');
      const second = await s.beginCompleteUpload('up1', [], T0 + 80_001);
      assert.ok(second.ok);
      assert.ok(second.complete_token > first.complete_token, 'each completion takes a new token');
      const file = f.uploadedFile(u, T0 + 80_002);
      // the first assembler wakes up: it can neither heartbeat, finish nor reopen
      assert.equal(await s.touchCompletingUpload('up1', first.complete_token, T0 + 80_002), false);
      assert.equal(await s.finishUpload('up1', first.complete_token, file, T0 + 80_002), null);
      await s.reopenUpload('up1', first.complete_token, T0 + 80_002);
      assert.equal((await s.getUpload('up1'))?.state, 'completing');
      assert.equal(await s.getCurrentFile('o', 'big.bin'), null, 'no file from a refused finish');
      // the live one fails its checksum and reopens; the client completes again
      await s.reopenUpload('up1', second.complete_token, T0 + 80_003);
      assert.deepEqual(await s.getUpload('up1'), { ...u, state: 'open', updated_at: T0 + 80_003 });
      const third = await s.beginCompleteUpload('up1', [], T0 + 80_004);
      assert.ok(third.ok && third.complete_token > second.complete_token);
      const done = await s.finishUpload('up1', third.complete_token, file, T0 + 80_005);
      assert.deepEqual(done, { ...file, is_current: true, file_index: 0 });
      assert.deepEqual(await s.getCurrentFile('o', 'big.bin'), done, 'the file version in the same write');
      assert.deepEqual(await s.getUpload('up1'), { ...u, state: 'completed', updated_at: T0 + 80_005 });
      assert.equal(await s.finishUpload('up1', third.complete_token, file, T0 + 80_006), null, 'finished once');
      assert.equal(await s.touchCompletingUpload('up1', third.complete_token, T0 + 80_006), false);
      assert.deepEqual(await s.listUploadParts('up1'), []);
      assert.equal(await s.reopenInterruptedUploads(T0 + 90_000), 0, 'a completed upload is never reopened');
      assert.deepEqual(await s.fileStats('o'), { num_files: 1, num_bytes: u.num_bytes, last_updated: T0 + 80_002 });
    },
  },
  {
    name: 'a reopen forgets the parts it names (number and token) in the same write, and only under its token; a re-sent part is kept',
    async run({ s, f }) {
      await f.upload({ upload_id: 'upd', file_id: 'drop.bin', num_parts: 3 });
      for (const n of [0, 1, 2]) await f.putPart('upd', n, `t${n}`, T0);
      const c = await s.beginCompleteUpload('upd', [0, 1, 2].map((n) => ({ part_number: n, token: `t${n}` })), T0 + 1);
      assert.ok(c.ok);
      await s.reopenUpload('upd', c.complete_token + 1, T0 + 2, [{ part_number: 0, token: 't0' }]);
      assert.equal((await s.listUploadParts('upd')).length, 3, 'not its token: nothing forgotten');
      assert.equal((await s.getUpload('upd'))?.state, 'completing');
      await s.reopenUpload('upd', c.complete_token, T0 + 3, [{ part_number: 1, token: 't1' }, { part_number: 2, token: 'an older token' }]);
      assert.equal((await s.getUpload('upd'))?.state, 'open');
      assert.deepEqual((await s.listUploadParts('upd')).map((p) => p.part_number), [0, 2], 'part 1 forgotten; part 2 was not that token');
      const again = await s.beginCompleteUpload('upd', [], T0 + 4);
      assert.ok(!again.ok && again.missing.includes(1), 'complete now names it missing');
    },
  },
  {
    name: 'abort ends an open upload once; expiry takes open uploads idle before the cutoff; reconciliation lists the live uploads\' part files',
    async run({ s, f }) {
      await f.upload({ upload_id: 'u2', file_id: 'b.bin' });
      await f.putPart('u2', 0, 'x', T0 + 1);
      assert.equal(await s.abortUpload('u2', T0 + 15), 'open');
      assert.deepEqual([(await s.getUpload('u2'))?.state, (await s.getUpload('u2'))?.updated_at], ['aborted', T0 + 15]);
      assert.deepEqual(await s.listUploadParts('u2'), []);
      assert.equal(await s.abortUpload('u2', T0 + 16), 'aborted', 'the state before: already aborted');
      assert.equal(await s.abortUpload('nope', T0), null);

      const u3 = await f.upload({ upload_id: 'u3', file_id: 'c.bin', created_at: T0 + 17, updated_at: T0 + 17 });
      const u4 = await f.upload({ upload_id: 'u4', file_id: 'd.bin', created_at: T0 + 18, updated_at: T0 + 18 });
      const u5 = await f.upload({ upload_id: 'u5', file_id: 'e.bin', num_parts: 1, created_at: T0 + 1, updated_at: T0 + 1 });
      await f.putPart('u4', 0, 'a', T0 + 18);
      await f.putPart('u4', 2, 'b', T0 + 18);
      await f.putPart('u5', 0, 'c', T0 + 2);
      assert.ok((await s.beginCompleteUpload('u5', [{ part_number: 0, token: 'c' }], T0 + 3)).ok);
      const live = await s.listLiveUploadParts();
      assert.deepEqual([...live.keys()].sort(), ['u3', 'u4', 'u5'], 'open and completing uploads; aborted ones are gone');
      assert.deepEqual(live.get('u3'), [], 'an open upload without parts is listed');
      assert.deepEqual(live.get('u4')?.sort(), ['u4.0.a', 'u4.2.b']);
      assert.deepEqual(live.get('u5'), ['u5.0.c']);

      assert.deepEqual(await s.expireUploads(T0 + 18, T0 + 19), [u3], 'idle since T0+17 < T0+18; a completing upload never expires');
      assert.deepEqual(await s.getUpload('u3'), { ...u3, state: 'expired', updated_at: T0 + 19 });
      assert.deepEqual(await s.expireUploads(T0 + 19, T0 + 20), [u4]);
      assert.deepEqual(await s.listUploadParts('u4'), [], 'expired: its parts go');
      assert.deepEqual([...(await s.listLiveUploadParts()).keys()], ['u5']);
      assert.equal(await s.reopenInterruptedUploads(T0 + 24), 1, 'no cutoff: every completing upload (a restart alone on its data)');
      assert.deepEqual(await s.getUpload('u5'), { ...u5, state: 'open', updated_at: T0 + 24 });
      assert.deepEqual(await s.expireUploads(T0 + 24, T0 + 25), [], 'reopened at T0+24: not idle before it');
      assert.deepEqual((await s.expireUploads(T0 + 25, T0 + 26)).map((u) => u.upload_id), ['u5']);
    },
  },
];
