/**
 * The few-shot classifier (few-shot.ts): window statistics, class-scaled neighbours (a window unlike
 * every reference goes to the more varied class, where plain knn sends it to the nearer one), and
 * the serialized form batch threads receive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeContainer, encodeContainer, type Tensor } from './checkpoint.js';
import type { KnnSettings } from './config.js';
import { fewShotFromMeta, fewShotMeta, fewShotProba, fitFewShot, windowStats } from './few-shot.js';
import type { Series } from './reader.js';
import { Rng } from './rng.js';
import { identity, WindowSet } from './windows.js';

const knn = (nNeighbors: number, metric: 'cosine' | 'euclidean'): KnnSettings => ({ batchSize: null, nNeighbors, metric, weights: 'uniform', normalizeEmbeddings: true });

test('windowStats: per channel mean, log(std + 0.01), log(mean |diff| + 0.01)', () => {
  // one window, 2 channels, L = 4: [1, 3, 1, 3] and a constant 5
  const x = windowStats(Float32Array.from([1, 3, 1, 3, 5, 5, 5, 5]), 1, 2, 4);
  assert.equal(x.length, 6);
  assert.ok(Math.abs(x[0]! - 2) < 1e-6 && Math.abs(x[1]! - 5) < 1e-6);
  assert.ok(Math.abs(x[2]! - Math.log(1.01)) < 1e-6, 'std 1');
  assert.ok(Math.abs(x[3]! - Math.log(0.01)) < 1e-6, 'a flat channel stays finite');
  assert.ok(Math.abs(x[4]! - Math.log(2.01)) < 1e-6, 'mean |diff| 2');
  assert.ok(Math.abs(x[5]! - Math.log(0.01)) < 1e-6);
});

/** A 2-channel series: level + amplitude × noise, one label. */
function series(label: string, rows: number, level: number, amp: number, seed: number): Series {
  const rng = new Rng(seed, 0);
  const data = new Float32Array(2 * rows);
  for (let i = 0; i < data.length; i++) data[i] = level + amp * (rng.next() * 2 - 1);
  return { fileId: label, columns: ['a', 'b'], data, length: rows, timestamps: [], label };
}

function fit(metric: 'cosine' | 'euclidean') {
  // class 0 ('calm'): small noise around 0; class 1 ('busy'): large noise around 0.5, more varied.
  const refs = [series('calm', 400, 0, 0.2, 1), series('busy', 400, 0.5, 1.5, 2)];
  const ws = new WindowSet(refs, 16, 4);
  const y = Int32Array.from(ws.seriesOf());
  return fitFewShot(ws, y, 2, knn(5, metric));
}

const predict = (m: ReturnType<typeof fit>, s: Series): number[] => {
  const ws = new WindowSet([s], 16, 4);
  const p = fewShotProba(m, ws, identity(ws.count));
  return Array.from({ length: ws.count }, (_, i) => (p[i * 2 + 1]! > p[i * 2]! ? 1 : 0));
};
const share = (v: number[], c: number): number => v.filter((x) => x === c).length / v.length;

for (const metric of ['euclidean', 'cosine'] as const) {
  test(`${metric}: windows like a reference file get its class; probabilities sum to 1`, () => {
    const m = fit(metric);
    assert.ok(m.scale[1]! > m.scale[0]!, `the busy class is the more varied: ${m.scale[0]} vs ${m.scale[1]}`);
    assert.ok(share(predict(m, series('calm', 200, 0, 0.2, 11)), 0) > 0.9);
    assert.ok(share(predict(m, series('busy', 200, 0.5, 1.5, 12)), 1) > 0.9);
    const ws = new WindowSet([series('x', 64, 0, 0.2, 13)], 16, 4);
    const p = fewShotProba(m, ws, identity(ws.count));
    for (let i = 0; i < ws.count; i++) assert.ok(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1) < 1e-6);
  });
}

test('a flat, level-shifted window unlike both references goes to the more varied class', () => {
  const m = fit('euclidean');
  // Flat at level −3: nearer the calm class in spread (both small), yet far from everything.
  assert.ok(share(predict(m, series('novel', 200, -3, 0.001, 14)), 1) > 0.9);
});

test('serialized and read back (what batch threads receive): the same probabilities', () => {
  const m = fit('cosine');
  const tensors: Record<string, Tensor> = {};
  const meta = fewShotMeta(m, tensors);
  const back = decodeContainer(encodeContainer({ few_shot: meta }, tensors));
  const m2 = fewShotFromMeta(back.meta.few_shot as Record<string, unknown>, back.tensors);
  const ws = new WindowSet([series('calm', 120, 0.1, 0.5, 21)], 16, 4);
  assert.deepEqual(fewShotProba(m2, ws, identity(ws.count)), fewShotProba(m, ws, identity(ws.count)));
});
