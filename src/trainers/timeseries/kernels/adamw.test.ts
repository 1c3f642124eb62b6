/** linearForward + linearBackwardAdamW train: a least-squares and a logistic problem, on each implementation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdamState, Kernels } from './api.js';
import { referenceKernels } from './reference.js';
import { lcg, randomArray, wasmBuilt } from './testing.js';
import { createWasmKernels } from './wasm.js';

const implementations: Kernels[] = [referenceKernels, ...(wasmBuilt ? [createWasmKernels()] : [])];

function adamState(k: Kernels, rows: number, cols: number): AdamState {
  return { mW: k.alloc(rows * cols), vW: k.alloc(rows * cols), mb: k.alloc(rows), vb: k.alloc(rows), t: 0 };
}

for (const K of implementations) {
  describe(`AdamW training with the ${K.name} kernels`, () => {
    it('fits a linear least-squares problem (loss falls below 1% of its start)', () => {
      const n = 64, d = 20, k = 3, rnd = lcg(5);
      const x = randomArray(n * d, rnd), wTrue = randomArray(k * d, rnd), bTrue = randomArray(k, rnd);
      const y = referenceKernels.linearForward(x, n, d, wTrue, bTrue, k);
      const w = K.alloc(k * d), b = K.alloc(k), state = adamState(K, k, d), dy = new Float32Array(n * k);
      const opt = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
      const loss = (): number => {
        const p = K.linearForward(x, n, d, w, b, k);
        let s = 0;
        for (let i = 0; i < n * k; i++) { dy[i] = (p[i]! - y[i]!) / n; s += 0.5 * (p[i]! - y[i]!) ** 2 / n; }
        return s;
      };
      const first = loss();
      let last = first;
      for (let step = 0; step < 400; step++) {
        state.t++;
        K.linearBackwardAdamW(x, dy, n, d, k, w, b, state, opt);
        last = loss();
      }
      assert.ok(last < 0.01 * first, `loss ${first} → ${last}`);
    });

    it('fits a logistic regression on separable data (loss falls below 30% of ln 2)', () => {
      const n = 128, d = 10, rnd = lcg(9);
      const x = randomArray(n * d, rnd), dir = randomArray(d, rnd);
      const label = Array.from({ length: n }, (_, i) => (x.subarray(i * d, (i + 1) * d).reduce((s, v, c) => s + v * dir[c]!, 0) > 0 ? 1 : 0));
      const w = K.alloc(d), b = K.alloc(1), state = adamState(K, 1, d), dy = new Float32Array(n);
      const opt = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 };
      const loss = (): number => {
        const z = K.linearForward(x, n, d, w, b, 1);
        let s = 0;
        for (let i = 0; i < n; i++) {
          const p = 1 / (1 + Math.exp(-z[i]!));
          dy[i] = (p - label[i]!) / n;
          s -= (label[i] ? Math.log(p) : Math.log(1 - p)) / n;
        }
        return s;
      };
      const first = loss();
      let last = first;
      for (let step = 0; step < 200; step++) {
        state.t++;
        K.linearBackwardAdamW(x, dy, n, d, 1, w, b, state, opt);
        last = loss();
      }
      assert.ok(Math.abs(first - Math.LN2) < 1e-6, `starts at ln 2, got ${first}`);
      assert.ok(last < 0.3 * Math.LN2, `loss ${first} → ${last}`);
    });

    it('applies decoupled weight decay w·(1 − lr·wd) when the gradient is zero, not to biases', () => {
      const n = 2, d = 5, k = 2;
      const w = K.alloc(k * d), b = K.alloc(k);
      w.set(randomArray(k * d, lcg(1)));
      b.set([0.5, -0.5]);
      const w0 = Float32Array.from(w), state = adamState(K, k, d);
      state.t = 1;
      K.linearBackwardAdamW(new Float32Array(n * d), new Float32Array(n * k), n, d, k, w, b, state, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 });
      for (let i = 0; i < k * d; i++) assert.ok(Math.abs(w[i]! - w0[i]! * 0.95) <= 1e-7, `w[${i}]`);
      assert.deepEqual([...b], [0.5, -0.5]);
    });

    it('rejects an Adam step t < 1', () => {
      const s = adamState(K, 1, 1);
      assert.throws(() => K.linearBackwardAdamW(new Float32Array(1), new Float32Array(1), 1, 1, 1, new Float32Array(1), new Float32Array(1), s,
        { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }), RangeError);
    });
  });
}
