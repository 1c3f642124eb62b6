/**
 * The wasm kernels agree with the reference on random inputs. Tolerances (float32 sums in another
 * order, ε = 2⁻²³ ≈ 1.2e-7): dot-like results within 1e-5·Σ|aᵢ·bᵢ|; squared distances within
 * 1e-5·(‖a‖² + ‖b‖²) (cancellation in ‖a‖² + ‖b‖² − 2a·b); AdamW state within 2e-5·|x| + 1e-6·max|x|;
 * PPV features within one count step 1/L' (a conv output equal to a bias up to rounding can flip)
 * on at most 1% of the features.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kernels, RocketParams } from './api.js';
import { referenceKernels as R } from './reference.js';
import { fitRocket } from './rocket-fit.js';
import { outputRange } from './rocket-spec.js';
import { absDots, assertClose, lcg, randomArray, wasmBuilt, wasmSkip } from './testing.js';
import { createWasmKernels } from './wasm.js';

const W: Kernels | undefined = wasmBuilt ? createWasmKernels() : undefined;
// 4 KiB of streaming scratch: every GEMM and transform call is cut into many chunks.
const Wsmall: Kernels | undefined = wasmBuilt ? createWasmKernels({ streamBytes: 4096 }) : undefined;

const maxAbs = (a: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
const onWasm = (K: Kernels, a: Float32Array): Float32Array => { const r = K.alloc(a.length); r.set(a); return r; };

describe('wasm kernels agree with the reference', { skip: wasmSkip }, () => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [33, 65, 2000], [32, 64, 257], [7, 3, 16]];

  it('linearForward, dots (copied, resident and streamed inputs)', () => {
    const rnd = lcg(11);
    for (const [n, k, d] of shapes) {
      const x = randomArray(n * d, rnd), w = randomArray(k * d, rnd), b = randomArray(k, rnd);
      const scale = absDots(x, n, w, k, d);
      const want = R.linearForward(x, n, d, w, b, k);
      const bound = (i: number): number => 1e-5 * (scale[i]! + Math.abs(b[i % k]!)) + 1e-7;
      assertClose(`linearForward ${n}×${k}×${d}`, W!.linearForward(x, n, d, w, b, k), want, bound);
      const out = W!.alloc(n * k);
      W!.linearForward(onWasm(W!, x), n, d, onWasm(W!, w), onWasm(W!, b), k, out);
      assertClose(`linearForward resident ${n}×${k}×${d}`, out, want, bound);
      assertClose(`linearForward streamed ${n}×${k}×${d}`, Wsmall!.linearForward(x, n, d, w, b, k, new Float32Array(n * k)), want, bound);
      const dotsWant = R.dots(x, n, w, k, d);
      assertClose(`dots ${n}×${k}×${d}`, W!.dots(x, n, w, k, d), dotsWant, (i) => 1e-5 * scale[i]! + 1e-7);
      assertClose(`dots streamed ${n}×${k}×${d}`, Wsmall!.dots(x, n, w, k, d), dotsWant, (i) => 1e-5 * scale[i]! + 1e-7);
    }
  });

  it('sqDistances', () => {
    const rnd = lcg(12);
    for (const [na, nb, d] of shapes) {
      const a = randomArray(na * d, rnd), b = randomArray(nb * d, rnd);
      const norm = (m: Float32Array, r: number): number => { let s = 0; for (let c = 0; c < d; c++) s += m[r * d + c]! ** 2; return s; };
      const bound = (i: number): number => 1e-5 * (norm(a, Math.floor(i / nb)) + norm(b, i % nb)) + 1e-7;
      const want = R.sqDistances(a, na, b, nb, d);
      assertClose(`sqDistances ${na}×${nb}×${d}`, W!.sqDistances(a, na, b, nb, d), want, bound);
      assertClose(`sqDistances streamed ${na}×${nb}×${d}`, Wsmall!.sqDistances(a, na, b, nb, d), want, bound);
    }
    const same = randomArray(4 * 9, rnd);
    const self = W!.sqDistances(same, 4, same, 4, 9);
    for (let i = 0; i < 4; i++) assert.ok(self[i * 4 + i]! >= 0 && self[i * 4 + i]! < 1e-5, 'distance to itself ≈ 0, never negative');
  });

  it('linearBackwardAdamW with and without dx, sparse dy, resident and copied', () => {
    const rnd = lcg(13);
    const cases: Array<[number, number, number, boolean]> = [[3, 7, 5, false], [32, 2000, 64, true], [5, 37, 3, true], [32, 64, 2, true]];
    for (const [n, d, k, withDx] of cases) {
      for (const resident of [false, true]) {
        const x = randomArray(n * d, rnd), dy = randomArray(n * k, rnd);
        for (let i = 0; i < dy.length; i++) if (rnd() < 0.5) dy[i] = 0; // ReLU-like sparsity
        const w = randomArray(k * d, rnd), b = randomArray(k, rnd);
        const mk = (len: number): [Float32Array, Float32Array] => [randomArray(len, rnd, 0.01), randomArray(len, rnd, 0.01).map(Math.abs)];
        const [mW, vW] = mk(k * d), [mb, vb] = mk(k);
        const opt = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
        const ref = { w: w.slice(), b: b.slice(), s: { mW: mW.slice(), vW: vW.slice(), mb: mb.slice(), vb: vb.slice(), t: 3 }, dx: new Float32Array(n * d) };
        const put = (a: Float32Array): Float32Array => (resident ? onWasm(W!, a) : a.slice());
        const got = { w: put(w), b: put(b), s: { mW: put(mW), vW: put(vW), mb: put(mb), vb: put(vb), t: 3 }, dx: put(new Float32Array(n * d)) };
        R.linearBackwardAdamW(x, dy, n, d, k, ref.w, ref.b, ref.s, opt, withDx ? ref.dx : undefined);
        W!.linearBackwardAdamW(put(x), put(dy), n, d, k, got.w, got.b, got.s, opt, withDx ? got.dx : undefined);
        const tag = `${n}×${d}×${k}${resident ? ' resident' : ''}`;
        for (const [name, g, r] of [['w', got.w, ref.w], ['b', got.b, ref.b], ['mW', got.s.mW, ref.s.mW], ['vW', got.s.vW, ref.s.vW],
          ['mb', got.s.mb, ref.s.mb], ['vb', got.s.vb, ref.s.vb]] as const) {
          const m = maxAbs(r);
          assertClose(`${name} ${tag}`, g, r, (i) => 2e-5 * Math.abs(r[i]!) + 1e-6 * m);
        }
        if (withDx) {
          // dx[i, c] = Σ_j dy[i,j]·W[j,c]: scale Σ_j |dy[i,j]·W[j,c]| (W before the update)
          const wT = new Float32Array(d * k);
          for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) wT[c * k + j] = w[j * d + c]!;
          const scale = absDots(dy, n, wT, d, k);
          assertClose(`dx ${tag}`, got.dx, ref.dx, (i) => 1e-5 * scale[i]! + 1e-7);
        }
      }
    }
  });

  it('rocketTransform within one count step on ≤ 1% of the features', () => {
    const cases: Array<[number, number, number, number, number | undefined]> = [[6, 64, 12, 840, undefined], [1, 20, 5, 168, undefined], [3, 7, 4, 84, undefined], [40, 128, 2, 9996, undefined], [4, 129, 6, 1680, 4]];
    for (const [C, L, n, numFeatures, maxDil] of cases) {
      const rnd = lcg(C * 1000 + L);
      const train = randomArray(n * C * L, rnd);
      const params = fitRocket(train, n, C, L, { seed: 5, numFeatures, ...(maxDil ? { maxDilationsPerKernel: maxDil } : {}) });
      // Transform the training windows themselves (biases are quantiles of their outputs: the
      // hardest case for ties) and fresh windows.
      const windows = new Float32Array(2 * n * C * L);
      windows.set(train);
      windows.set(randomArray(n * C * L, rnd), n * C * L);
      const want = R.rocketTransform(params, windows, 2 * n);
      for (const [label, got] of [['copied', W!.rocketTransform(params, windows, 2 * n)],
        ['resident', W!.rocketTransform(params, onWasm(W!, windows), 2 * n)],
        ['streamed', Wsmall!.rocketTransform(params, windows, 2 * n)]] as const) {
        checkPpv(`${C}×${L} ${label}`, params, got, want, 2 * n);
      }
    }
  });

  it('rocketTransform is exact, ties included, when every sum is exact (small integers)', () => {
    const C = 5, L = 40, n = 6, rnd = lcg(21);
    const windows = Float32Array.from({ length: n * C * L }, () => Math.floor(rnd() * 7) - 3);
    const fitted = fitRocket(windows, n, C, L, { seed: 2, numFeatures: 840 });
    // Integer biases: many conv outputs equal a bias exactly, so > versus ≥ shows.
    const params = { ...fitted, biases: fitted.biases.map(Math.round) };
    assert.deepEqual(W!.rocketTransform(params, windows, n), R.rocketTransform(params, windows, n));
  });
});

function checkPpv(name: string, p: RocketParams, got: Float32Array, want: Float32Array, n: number): void {
  const step = new Float64Array(p.nFeatures);
  for (let g = 0; g < p.kernelIndex.length; g++) {
    const [t0, t1] = outputRange(p.windowLen, p.dilation[g]!, p.padding[g]!);
    for (let f = p.biasOffsets[g]!; f < p.biasOffsets[g + 1]!; f++) step[f] = 1 / (t1 - t0);
  }
  assertClose(name, got, want, (i) => step[i % p.nFeatures]! + 1e-6);
  let differing = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differing++;
  assert.ok(differing <= 0.01 * n * p.nFeatures, `${name}: ${differing} of ${want.length} features differ`);
}

describe('wasm memory', { skip: wasmSkip }, () => {
  it('alloc gives zeroed arrays that stay valid when the memory grows', () => {
    const K = createWasmKernels();
    const a = K.alloc(16);
    assert.ok(a.every((v) => v === 0));
    a.set(randomArray(16, lcg(1)));
    const before = a.slice();
    const big = K.alloc(24 << 20); // 96 MiB: grows the 16 MiB memory
    big[big.length - 1] = 1;
    assert.equal(a.length, 16);
    assert.deepEqual(a, before);
    const y = K.linearForward(a, 4, 4, a, new Float32Array(4), 4);
    assertClose('forward on a pre-growth view', y, R.linearForward(before, 4, 4, before, new Float32Array(4), 4), () => 1e-6);
  });

  it('handles empty batches', () => {
    const p = fitRocket(randomArray(2 * 16, lcg(2)), 2, 1, 16, { seed: 1, numFeatures: 84 });
    assert.equal(W!.rocketTransform(p, new Float32Array(0), 0).length, 0);
    assert.equal(W!.dots(new Float32Array(0), 0, new Float32Array(3), 1, 3).length, 0);
  });

  it('rejects negative or fractional shapes and short arrays before touching memory', () => {
    for (const K of [W!, R]) {
      assert.throws(() => K.dots(new Float32Array(4), -1, new Float32Array(4), 1, 4), RangeError);
      assert.throws(() => K.linearForward(new Float32Array(4), 1.5, 2, new Float32Array(4), new Float32Array(2), 2), RangeError);
      assert.throws(() => K.sqDistances(new Float32Array(3), 1, new Float32Array(4), 1, 4), RangeError);
    }
  });
});
