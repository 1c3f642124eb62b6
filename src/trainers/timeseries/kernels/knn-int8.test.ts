/**
 * Quantised knn search: the wasm kernel equals the TypeScript oracle bit for bit (indices and
 * distances) on shapes that exercise every edge (queries not a multiple of 4, references not a
 * multiple of the 2-row block or the 128-row block, features not a multiple of 16, k above n), for
 * cosine and euclidean; the search finds what an exact float64 brute force finds on well separated
 * data; extreme rows (every value at the maximum) do not overflow the int32 sums.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int8RefsFromCodes, knnTopKInt8Reference, quantizeQueries, quantizeRows } from './knn-int8.js';
import { lcg, randomArray, wasmBuilt, wasmSkip } from './testing.js';
import { createWasmKernels } from './wasm.js';

const W = wasmBuilt ? createWasmKernels() : undefined;

function unitRows(x: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[i * d + c]! ** 2;
    for (let c = 0; c < d; c++) x[i * d + c] /= Math.sqrt(s);
  }
  return x;
}

function setup(seed: number, nr: number, nq: number, d: number) {
  const rnd = lcg(seed);
  const x = randomArray(nr * d, rnd), qx = randomArray(nq * d, rnd);
  const { codes, scale } = quantizeRows(x, nr, d);
  const refs = int8RefsFromCodes(codes, nr, d, scale);
  return { x, qx, refs, q: quantizeQueries(qx, nq, d, refs) };
}

describe('int8 knn search', () => {
  it('wasm equals the reference bit for bit', { skip: wasmSkip }, () => {
    for (const [nr, nq, d, k] of [[1, 1, 1, 1], [5, 3, 7, 9], [257, 9, 33, 5], [300, 261, 64, 7], [131, 4, 1008, 3]] as const) {
      for (const euclid of [false, true]) {
        const { refs, q } = setup(nr * 7 + d, nr, nq, d);
        const want = knnTopKInt8Reference(refs, q, k, euclid);
        const got = W!.knnTopKInt8(refs, q, k, euclid);
        assert.deepEqual(got.idx, want.idx, `idx ${nr}×${nq}×${d} k ${k} ${euclid}`);
        assert.deepEqual(got.dist, want.dist, `dist ${nr}×${nq}×${d} k ${k} ${euclid}`);
        if (k > nr) assert.equal(want.idx[k - 1], -1, 'fewer references than k: the tail stays empty');
      }
    }
  });

  it('finds the float64 nearest neighbours on separated data', () => {
    const nr = 200, nq = 20, d = 50;
    const { x, qx, refs, q } = setup(3, nr, nq, d);
    unitRows(x, nr, d);
    // Each query is a small perturbation of reference 7·i: its nearest neighbour by a wide margin.
    for (let i = 0; i < nq; i++) for (let c = 0; c < d; c++) qx[i * d + c] = x[7 * i * d + c]! + 0.01 * qx[i * d + c]!;
    const r2 = quantizeRows(x, nr, d);
    const refs2 = int8RefsFromCodes(r2.codes, nr, d, r2.scale);
    for (const euclid of [false, true]) {
      const got = knnTopKInt8Reference(refs2, quantizeQueries(qx, nq, d, refs2), 1, euclid);
      for (let i = 0; i < nq; i++) assert.equal(got.idx[i], 7 * i, `query ${i}`);
      if (W) assert.deepEqual(W.knnTopKInt8(refs2, quantizeQueries(qx, nq, d, refs2), 1, euclid).idx, got.idx);
    }
    assert.ok(refs.maxCodeNorm > 0 && q.n === nq);
  });

  it('rows at the extremes do not overflow the int32 sums', () => {
    const n = 3, d = 4096;
    // Unit rows with every value equal: 32,767 · 127 · 4,096 would be 1.7e10 without the query bound.
    const x = new Float32Array(n * d).fill(1 / 64);
    const qx = new Float32Array(2 * d).fill(-1 / 64);
    const { codes, scale } = quantizeRows(x, n, d);
    const refs = int8RefsFromCodes(codes, n, d, scale);
    const q = quantizeQueries(qx, 2, d, refs);
    const want = knnTopKInt8Reference(refs, q, 2, false);
    // cos = −1 exactly in real arithmetic: 1 − s ≈ 2 (an overflowed sum would wrap to a positive s).
    for (const v of want.dist) assert.ok(Math.abs(v - 2) < 1e-3, `distance ${v}`);
    if (W) assert.deepEqual(W.knnTopKInt8(refs, q, 2, false).dist, want.dist);
  });
});
