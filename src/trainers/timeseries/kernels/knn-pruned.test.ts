/**
 * The pruned int8 knn search returns exactly what the full int8 search returns (indices and float32
 * distances, bit for bit), in wasm and in the TypeScript reference, on a fixture shaped like the
 * SWaT references: sliding windows of a random walk (consecutive rows overlap 255/256), queries from
 * a later stretch of the walk, exact copies of references (distance 0, ties broken by index) and a
 * duplicated reference row; with a DCT basis (orthonormal, close to the principal components of such
 * windows) and with a random orthonormal basis (valid, just loose). Pruning must actually skip most
 * references with the DCT basis; shapes cover n and nq not multiples of 4, k above a chunk, seeds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int8RefsFromCodes, knnTopKInt8Reference, quantizeQueries, quantizeRows } from './knn-int8.js';
import { knnTopKInt8PrunedReference, projectQueries, projectRefs } from './knn-pruned.js';
import { referenceKernels } from './reference.js';
import { lcg, wasmBuilt, wasmSkip } from './testing.js';
import { createWasmKernels } from './wasm.js';

const W = wasmBuilt ? createWasmKernels() : undefined;
const dots = referenceKernels.dots.bind(referenceKernels);

/** Sliding windows of length d over a random walk, from start, n rows; L2-normalised when unit. */
function windows(walk: Float32Array, start: number, n: number, d: number, unit: boolean): Float32Array {
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < d; c++) m += walk[start + i + c]! / d;
    let s = 0;
    for (let c = 0; c < d; c++) s += (x[i * d + c] = walk[start + i + c]! - m) ** 2;
    if (unit) for (let c = 0; c < d; c++) x[i * d + c] /= Math.sqrt(s);
  }
  return x;
}

function dct(P: number, d: number): Float32Array {
  const b = new Float32Array(P * d);
  for (let e = 0; e < P; e++) for (let c = 0; c < d; c++) b[e * d + c] = Math.cos((Math.PI * (c + 0.5) * e) / d) * Math.sqrt((e === 0 ? 1 : 2) / d);
  return b;
}

function randomOrthonormal(P: number, d: number, rnd: () => number): Float32Array {
  const v = new Float64Array(P * d).map(() => rnd() - 0.5);
  for (let a = 0; a < P; a++) {
    for (let b = 0; b < a; b++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += v[a * d + c]! * v[b * d + c]!;
      for (let c = 0; c < d; c++) v[a * d + c] -= s * v[b * d + c]!;
    }
    let s = 0;
    for (let c = 0; c < d; c++) s += v[a * d + c]! ** 2;
    for (let c = 0; c < d; c++) v[a * d + c] /= Math.sqrt(s);
  }
  return Float32Array.from(v);
}

function fixture(n: number, nq: number, d: number, unit: boolean) {
  const rnd = lcg(n * 31 + nq);
  const walk = new Float32Array(n + nq + 2 * d + 400);
  for (let t = 1; t < walk.length; t++) walk[t] = walk[t - 1]! + (rnd() - 0.5);
  const x = windows(walk, 0, n, d, unit);
  x.copyWithin(7 * d, 3 * d, 4 * d); // reference 7 duplicates reference 3: equal distances, the lower index first
  const qx = windows(walk, n + 200, nq, d, unit);
  qx.set(x.subarray(5 * d, 6 * d), 0); // query 0 is reference 5 (distance 0)
  qx.set(x.subarray(3 * d, 4 * d), 2 * d); // query 2 is reference 3 = reference 7
  const { codes, scale } = quantizeRows(x, n, d);
  const refs = int8RefsFromCodes(codes, n, d, scale);
  return { refs, q: quantizeQueries(qx, nq, d, refs), rnd };
}

describe('pruned int8 knn search', () => {
  for (const [n, nq, d, P, k] of [[601, 37, 256, 64, 5], [130, 9, 64, 32, 3], [1203, 263, 128, 64, 9], [50, 5, 64, 16, 60]] as const) {
    for (const euclid of [false, true]) {
      it(`equals the full search: ${n} refs × ${nq} queries × ${d}, P ${P}, k ${k}, ${euclid ? 'euclidean' : 'cosine'}`, () => {
        const { refs, q, rnd } = fixture(n, nq, d, !euclid);
        const want = knnTopKInt8Reference(refs, q, k, euclid);
        for (const [name, basis] of [['dct', dct(P, d)], ['random', randomOrthonormal(P, d, rnd)]] as const) {
          const pr = projectRefs(refs, basis, P, dots);
          const pq = projectQueries(q, pr, basis, dots);
          const ref = knnTopKInt8PrunedReference(pr, pq, k, euclid);
          assert.deepEqual(ref.idx, want.idx, `reference idx (${name})`);
          assert.deepEqual(ref.dist, want.dist, `reference dist (${name})`);
          if (W) {
            const seeds = want.idx.slice((nq - 1) * k, nq * k); // any seeds: only the speed may change
            for (const s of [undefined, seeds]) {
              const got = W.knnTopKInt8Pruned(pr, pq, k, euclid, s);
              assert.deepEqual(got.idx, want.idx, `wasm idx (${name}, seeds ${!!s})`);
              assert.deepEqual(got.dist, want.dist, `wasm dist (${name}, seeds ${!!s})`);
            }
          }
          if (name === 'dct' && n > 500) assert.ok(ref.exact < 0.5 * n * nq, `the DCT bound skips most references (${ref.exact} of ${n * nq} measured)`);
        }
      });
    }
  }

  it('agrees across chunks of 256 queries and with wasm on a 1,008-feature shape', { skip: wasmSkip }, () => {
    const { refs, q } = fixture(700, 300, 1008, true);
    const basis = dct(256, 1008);
    const pr = projectRefs(refs, basis, 256, W!.dots.bind(W));
    const pq = projectQueries(q, pr, basis, W!.dots.bind(W));
    const want = knnTopKInt8Reference(refs, q, 5, false);
    const got = W!.knnTopKInt8Pruned(pr, pq, 5, false);
    assert.deepEqual(got.idx, want.idx);
    assert.deepEqual(got.dist, want.dist);
    assert.ok(got.exact < 700 * 300, 'some references were skipped');
  });
});
