/**
 * Tests: the spill file and the training order read from it (spill.ts, stream.ts) on a dataset of
 * several windows (~20 MiB of text): every epoch visits every train example exactly once and never
 * a held-out one, epochs are shuffled differently, batches asked for out of order (a resumed run)
 * are the same as in order, the block index merges pairs when full, and records round-trip.
 */
import { after, test } from 'node:test';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';
import { forEachRecord, SpillWriter } from './spill.js';
import { TrainStream, WINDOW_BYTES } from './stream.js';

const N = 40_000;
const PAD = 'x'.repeat(500);

const dirs: string[] = [];
const dir = (): string => (dirs.push(tempDir()), dirs.at(-1)!);
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))); // ~45 MB of spill files

function build(held: (i: number) => boolean) {
  const w = new SpillWriter(join(dir(), 'train.spill'));
  for (let i = 0; i < N; i++) w.add(`example ${i} ${PAD} é`, `label ${i}`);
  const index = w.close();
  const trainPerBlock = new Uint32Array(index.offsets.length - 1);
  for (let b = 0; b < trainPerBlock.length; b++) {
    for (let i = index.firstRecord[b]!; i < index.firstRecord[b + 1]!; i++) if (!held(i)) trainPerBlock[b]!++;
  }
  // One class per record, so a batch's class ids say which records it holds.
  const classOf = new Map(Array.from({ length: N }, (_, i) => [`label ${i}`, i]));
  return { path: w.path, index, trainPerBlock, held, classOf, dim: 4096, seed: 3 };
}

const ys = (s: TrainStream, epoch: number, first: number, count: number) => s.batch(epoch, first, count).ys;

test('several windows: each epoch is a permutation of the train records; resumed batches equal sequential ones', () => {
  const held = (i: number) => i % 10 === 3;
  const src = build(held);
  assert.ok(src.index.offsets.at(-1)! > 2 * WINDOW_BYTES, 'the dataset spans several windows');
  const s = new TrainStream(src);
  assert.equal(s.singleWindow, false);
  assert.equal(s.n, N - N / 10);
  const epochs: number[][] = [];
  for (let e = 0; e < 2; e++) {
    const seq: number[] = [];
    for (let pos = 0; pos < s.n; pos += 1000) for (const y of ys(s, e, pos, 1000)) seq.push(y);
    assert.equal(seq.length, s.n);
    assert.equal(new Set(seq).size, s.n, 'no example twice');
    assert.ok(seq.every((i) => !held(i)), 'no held-out example');
    epochs.push(seq);
  }
  assert.notDeepEqual(epochs[0]!.slice(0, 100), epochs[1]!.slice(0, 100));
  // A fresh stream (a resumed attempt) asked for batches in any order gives the same examples.
  const fresh = new TrainStream(build(held));
  for (const [e, pos] of [[1, 31_234], [0, 17], [0, 35_000], [1, 0]] as const) {
    assert.deepEqual(ys(fresh, e, pos, 32), epochs[e]!.slice(pos, pos + 32), `epoch ${e} position ${pos}`);
  }
  // The last batch of an epoch is short.
  assert.equal(ys(fresh, 0, s.n - 5, 32).length, 5);
});

test('spill records round-trip; a full block index merges neighbours and doubles the block size', () => {
  const w = new SpillWriter(join(dir(), 'small.spill'), 8);
  const texts = Array.from({ length: 30_000 }, (_, i) => `t${i} ${'ü'.repeat(i % 50)}`);
  texts.push('z'.repeat(3 << 20)); // bigger than the write buffer
  texts.forEach((t, i) => w.add(t, i % 2 ? 'odd' : 'even'));
  const ix = w.close();
  assert.ok(ix.offsets.length - 1 <= 8, `${ix.offsets.length - 1} blocks`);
  assert.ok(ix.blockBytes > 64 * 1024);
  assert.equal(ix.firstRecord.at(-1), texts.length);
  const back: string[] = [];
  forEachRecord(w.path, ix, (r, i) => {
    assert.equal(r.label, i % 2 ? 'odd' : 'even');
    back.push(r.text);
  });
  assert.deepEqual(back, texts);
});
