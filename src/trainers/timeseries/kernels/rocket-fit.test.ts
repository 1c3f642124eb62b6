/** fitRocket and the reference transform: MiniRocket's dilation schedule, determinism, structure, oracle values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels } from './reference.js';
import { fitDilations, fitRocket } from './rocket-fit.js';
import { KERNEL_TAPS, convolveGroup } from './rocket-spec.js';
import { lcg, randomArray } from './testing.js';

describe('fitDilations', () => {
  it('matches MiniRocket _fit_dilations (values from the numpy reference implementation)', () => {
    const cases: Array<[number, number, number, number[], number[]]> = [
      [128, 119, 32, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [30, 19, 12, 12, 8, 4, 8, 4, 4, 3, 3, 3, 3, 3, 3]],
      [128, 119, 4, [1, 2, 6, 15], [30, 30, 30, 29]],
      [64, 11, 32, [1, 2, 3, 4, 5, 6, 7], [4, 2, 1, 1, 1, 1, 1]],
      [300, 119, 32, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 16, 18, 20, 23, 26, 29, 33, 37],
        [23, 15, 8, 8, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3]],
      [9, 1, 32, [1], [1]],
    ];
    for (const [L, perKernel, maxDil, dilations, counts] of cases) {
      assert.deepEqual(fitDilations(L, perKernel, maxDil), { dilations, counts }, `L=${L}`);
    }
  });
});

describe('fitRocket', () => {
  const C = 6, L = 64, n = 10;
  const windows = randomArray(n * C * L, lcg(1));

  it('is deterministic for a seed and differs across seeds', () => {
    const a = fitRocket(windows, n, C, L, { seed: 42, numFeatures: 840 });
    const b = fitRocket(windows, n, C, L, { seed: 42, numFeatures: 840 });
    const c = fitRocket(windows, n, C, L, { seed: 43, numFeatures: 840 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.biases, c.biases);
    assert.notDeepEqual(a.channelIndices, c.channelIndices);
  });

  it('builds 84 kernels × dilations with alternating padding and channel subsets of 1…min(C, 9)', () => {
    const p = fitRocket(windows, n, C, L, { seed: 7 });
    assert.equal(p.nFeatures, 9996);
    const dilations = [...new Set(p.dilation)];
    assert.deepEqual(dilations, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(p.kernelIndex.length, 84 * dilations.length);
    for (let g = 0; g < p.kernelIndex.length; g++) {
      const di = dilations.indexOf(p.dilation[g]!);
      assert.equal(p.kernelIndex[g], g % 84);
      assert.equal(p.padding[g], (di + (g % 84)) % 2 === 0 ? 4 * p.dilation[g]! : 0);
      const ch = [...p.channelIndices.subarray(p.channelOffsets[g]!, p.channelOffsets[g + 1]!)];
      assert.ok(ch.length >= 1 && ch.length <= Math.min(C, 9), `group ${g} has ${ch.length} channels`);
      assert.deepEqual(ch, [...new Set(ch)].sort((x, y) => x - y));
      assert.ok(ch.every((c) => c >= 0 && c < C));
    }
    assert.ok(p.biases.every(Number.isFinite));
    assert.equal(p.biasOffsets[p.kernelIndex.length], p.nFeatures);
  });

  it('handles one channel and windows shorter than 9 (dilation 1, every group padded)', () => {
    const p1 = fitRocket(randomArray(3 * 20, lcg(2)), 3, 1, 20, { seed: 1, numFeatures: 168 });
    assert.ok(p1.channelIndices.every((c) => c === 0));
    const short = randomArray(4 * 2 * 5, lcg(3));
    const p = fitRocket(short, 4, 2, 5, { seed: 1, numFeatures: 84 });
    assert.deepEqual([...new Set(p.dilation)], [1]);
    assert.ok(p.padding.every((v) => v === 4));
    const f = referenceKernels.rocketTransform(p, short, 4);
    assert.ok(f.every((v) => v >= 0 && v <= 1));
  });

  it('rejects bad shapes and too few features', () => {
    assert.throws(() => fitRocket(windows, n, C, L + 1, { seed: 1 }), RangeError);
    assert.throws(() => fitRocket(windows, n, C, L, { seed: 1, numFeatures: 83 }), RangeError);
  });
});

describe('reference transform', () => {
  it('convolves an impulse into the reversed kernel weights', () => {
    // x = δ(t − 4) on L = 9: C(t) = w[8 − t]; kernel 0 has weight 2 at taps 0, 1, 2.
    const x = new Float32Array(9);
    x[4] = 1;
    const out = new Float64Array(9);
    assert.deepEqual(KERNEL_TAPS[0], [0, 1, 2]);
    assert.equal(convolveGroup(x, 9, [0], 0, 1, 4, out), 9);
    assert.deepEqual([...out], [-1, -1, -1, -1, -1, -1, 2, 2, 2]);
    // Unpadded (p = 0): only the centre t = 4 is valid.
    assert.equal(convolveGroup(x, 9, [0], 0, 1, 0, out), 1);
    assert.equal(out[0], -1);
  });

  it('pools with PPV: the proportion of outputs above each bias', () => {
    const x = new Float32Array(9);
    x[4] = 1;
    const params = {
      nChannels: 1, windowLen: 9, kernelIndex: Int32Array.of(0), dilation: Int32Array.of(1), padding: Int32Array.of(4),
      channelOffsets: Int32Array.of(0, 1), channelIndices: Int32Array.of(0), biasOffsets: Int32Array.of(0, 3),
      biases: Float32Array.of(-2, 0, 2), nFeatures: 3,
    };
    assert.deepEqual([...referenceKernels.rocketTransform(params, x, 1)], [1, 3 / 9, 0].map(Math.fround));
  });
});
