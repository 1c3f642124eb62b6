/**
 * UploadDigests on its own: parts in any order hash to the sha256 of the whole file; a second PUT
 * of a part, a failed PUT, a token other than the recorded one, a missing part or the buffer limit
 * each leave complete without a digest; a digest is used once; buffers are given back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { UploadPart, UploadRecord } from '../../store/store.js';
import { UploadDigests } from './upload-digest.js';

const PART = 1000;
const bytes = Buffer.from(Array.from({ length: 4 * PART + 321 }, (_, i) => (i * 7 + (i >> 8)) % 256));
const NUM_PARTS = Math.ceil(bytes.length / PART);
const upload = (id: string, file_id = 'f.bin'): UploadRecord => ({
  upload_id: id, org_uuid: 'o', file_id, file_uid: 'fil_1', file_type: 'application/octet-stream', num_bytes: bytes.length,
  part_size: PART, num_parts: NUM_PARTS, state: 'open', created_at: 0, updated_at: 0,
});
const slice = (n: number): Buffer => bytes.subarray(n * PART, Math.min(bytes.length, (n + 1) * PART));
const row = (n: number, token: string): UploadPart => ({ upload_id: 'x', part_number: n, token, num_bytes: slice(n).length, staged_name: 'staging', crc32c: 0, checkpointed: false, created_at: 0 });
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends parts in `order`, all streaming together in 3 chunks each, then records them in that order. */
function send(d: UploadDigests, u: UploadRecord, order: number[]): UploadPart[] {
  const feeds = order.map((n) => ({ n, feed: d.begin(u, n) })); // null once the digest is spoiled
  for (let k = 0; k < 3; k++) {
    for (const { n, feed } of feeds) {
      const s = slice(n);
      const step = Math.ceil(s.length / 3);
      feed?.chunk(s.subarray(k * step, Math.min(s.length, (k + 1) * step)));
    }
  }
  for (const { n, feed } of feeds) feed?.recorded(`t${n}`);
  return [...Array(NUM_PARTS).keys()].map((n) => row(n, `t${n}`));
}

test('parts in order, reversed, shuffled and streaming together: the sha256 of the whole file, buffers given back', () => {
  for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
    const d = new UploadDigests();
    const u = upload(`u-${order.join('')}`);
    const rows = send(d, u, order);
    assert.equal(d.bufferedBytes, 0, `order ${order}: everything hashed`);
    const r = d.take(u.upload_id, bytes.length, rows);
    assert.deepEqual(r && { size: r.size, sha256: r.sha256 }, { size: bytes.length, sha256: sha(bytes) }, `order ${order}`);
    assert.equal(d.take(u.upload_id, bytes.length, rows), null, 'a digest is used once');
  }
});

test('a part recorded while later ones stream: their held bytes are hashed, the rest streams straight in', () => {
  const d = new UploadDigests();
  const u = upload('u-stream');
  const f1 = d.begin(u, 1)!;
  f1.chunk(slice(1).subarray(0, 10)); // part 1 is ahead of its turn: held
  assert.equal(d.bufferedBytes, 10);
  const f0 = d.begin(u, 0)!;
  f0.chunk(slice(0));
  f0.recorded('t0');
  assert.equal(d.bufferedBytes, 0, 'part 1 is next now: its bytes went to the hash');
  f1.chunk(slice(1).subarray(10));
  f1.recorded('t1');
  for (const n of [2, 3, 4]) {
    const f = d.begin(u, n)!;
    f.chunk(slice(n));
    f.recorded(`t${n}`);
  }
  assert.equal(d.take(u.upload_id, bytes.length, [0, 1, 2, 3, 4].map((n) => row(n, `t${n}`)))?.sha256, sha(bytes));
});

test('no digest after a second PUT of a part, a failed PUT, another token, a missing part, or past the buffer limit', () => {
  const all = [0, 1, 2, 3, 4];
  const rows = all.map((n) => row(n, `t${n}`));
  const cases: Array<[string, (d: UploadDigests, u: UploadRecord) => UploadPart[]]> = [
    ['a second PUT of part 2', (d, u) => {
      const r = send(d, u, all);
      assert.equal(d.begin(u, 2), null);
      return r;
    }],
    ['a PUT that failed', (d, u) => {
      d.begin(u, 3)!.failed();
      return send(d, u, [0, 1, 2, 4]).map((p) => (p.part_number === 3 ? row(3, 't3') : p));
    }],
    ['a recorded token the digest did not see', (d, u) => send(d, u, all).map((p) => (p.part_number === 1 ? row(1, 'other') : p))],
    ['a part never sent', (d, u) => send(d, u, [0, 1, 2, 4])],
  ];
  for (const [what, run] of cases) {
    const d = new UploadDigests();
    const u = upload(`u-${what}`);
    const r = run(d, u);
    assert.equal(d.take(u.upload_id, bytes.length, r), null, what);
    assert.equal(d.bufferedBytes, 0, `${what}: buffers given back`);
  }
  const small = new UploadDigests(2 * PART);
  const u = upload('u-limit');
  send(small, u, [4, 3, 2, 1, 0]); // parts 4, 3, 2 held at once: over 2 parts' worth
  assert.equal(small.take(u.upload_id, bytes.length, rows), null, 'past the buffer limit');
  assert.equal(small.bufferedBytes, 0);
});

test('dataset checks ride along: a JSONL upload gets the attributes of its bytes', () => {
  const lines = Buffer.from(Array.from({ length: 500 }, (_, i) => `{"i":${i}}\n`).join(''));
  const d = new UploadDigests();
  const u = { ...upload('u-jsonl', 'data.jsonl'), num_bytes: lines.length, num_parts: Math.ceil(lines.length / PART) };
  const n = u.num_parts;
  const order = [...Array(n).keys()].reverse();
  const feeds = order.map((p) => ({ p, f: d.begin(u, p)! }));
  for (const { p, f } of feeds) f.chunk(lines.subarray(p * PART, (p + 1) * PART));
  for (const { p, f } of feeds) f.recorded(`t${p}`);
  const r = d.take(u.upload_id, lines.length, [...Array(n).keys()].map((p) => row(p, `t${p}`)));
  assert.equal(r?.sha256, sha(lines));
  assert.equal(r?.attributes.num_lines, 500, JSON.stringify(r?.attributes));
});

test('forget drops an upload and what it held', () => {
  const d = new UploadDigests();
  const u = upload('u-forget');
  d.begin(u, 3)!.chunk(slice(3));
  assert.equal(d.bufferedBytes, slice(3).length);
  d.forget(u.upload_id);
  assert.equal(d.bufferedBytes, 0);
  assert.equal(d.take(u.upload_id, bytes.length, []), null);
});
