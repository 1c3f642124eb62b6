/**
 * The reference kernels: every method of `Kernels` written plainly on Float32Array, sums in float64.
 * They are the test oracle for the wasm kernels and the fallback when the .wasm is missing
 * (FTNODE_KERNELS=reference forces them). Clarity over speed: the transform is the direct 9-tap
 * convolution (≈ 4.9 M multiply-adds per 40×128 window at 9996 features), ~10× slower than wasm.
 */
import type { AdamOptions, AdamState, Kernels, RocketParams } from './api.js';
import { convolveGroup, validateParams } from './rocket-spec.js';
import { knnTopKInt8Reference } from './knn-int8.js';
import { knnTopKInt8PrunedReference } from './knn-pruned.js';

function rocketTransform(params: RocketParams, windows: Float32Array, n: number): Float32Array {
  validateParams(params);
  const { nChannels, windowLen: L, nFeatures } = params;
  checkDims({ n });
  const stride = nChannels * L;
  if (windows.length < n * stride) throw new RangeError(`windows has ${windows.length} values, expected ${n * stride}`);
  const out = new Float32Array(n * nFeatures);
  const conv = new Float64Array(L);
  for (let w = 0; w < n; w++) {
    const window = windows.subarray(w * stride, (w + 1) * stride);
    for (let g = 0; g < params.kernelIndex.length; g++) {
      const channels = params.channelIndices.subarray(params.channelOffsets[g]!, params.channelOffsets[g + 1]!);
      const len = convolveGroup(window, L, channels, params.kernelIndex[g]!, params.dilation[g]!, params.padding[g]!, conv);
      for (let f = params.biasOffsets[g]!; f < params.biasOffsets[g + 1]!; f++) {
        // PPV: the proportion of outputs above the bias; the bias is compared as float32, like wasm.
        const bias = params.biases[f]!;
        let count = 0;
        for (let t = 0; t < len; t++) if (Math.fround(conv[t]!) > bias) count++;
        out[w * nFeatures + f] = count / len;
      }
    }
  }
  return out;
}

function linearForward(
  x: Float32Array, n: number, d: number, w: Float32Array, b: Float32Array, k: number, out?: Float32Array,
): Float32Array {
  checkDims({ n, d, k });
  const y = out ?? new Float32Array(n * k);
  checkLen('x', x, n * d); checkLen('w', w, k * d); checkLen('b', b, k); checkLen('out', y, n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = b[j]!;
      for (let c = 0; c < d; c++) s += x[i * d + c]! * w[j * d + c]!;
      y[i * k + j] = s;
    }
  }
  return y;
}

function linearBackwardAdamW(
  x: Float32Array, dy: Float32Array, n: number, d: number, k: number,
  w: Float32Array, b: Float32Array, state: AdamState, opt: AdamOptions, dxOut?: Float32Array,
): void {
  checkDims({ n, d, k });
  checkLen('x', x, n * d); checkLen('dy', dy, n * k); checkLen('w', w, k * d); checkLen('b', b, k);
  checkAdam(state, k, d);
  if (dxOut) {
    checkLen('dxOut', dxOut, n * d);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += dy[i * k + j]! * w[j * d + c]!;
        dxOut[i * d + c] = s;
      }
    }
  }
  const bc1 = 1 - opt.beta1 ** state.t;
  const bc2 = 1 - opt.beta2 ** state.t;
  const adam = (p: Float32Array, m: Float32Array, v: Float32Array, i: number, g: number, decay: number): void => {
    m[i] = opt.beta1 * m[i]! + (1 - opt.beta1) * g;
    v[i] = opt.beta2 * v[i]! + (1 - opt.beta2) * g * g;
    const denom = Math.sqrt(v[i]! / bc2) + opt.eps;
    p[i] = p[i]! - opt.lr * decay * p[i]! - (opt.lr / bc1) * (m[i]! / denom);
  };
  for (let j = 0; j < k; j++) {
    for (let c = 0; c < d; c++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += dy[i * k + j]! * x[i * d + c]!;
      adam(w, state.mW, state.vW, j * d + c, g, opt.weightDecay);
    }
    let gb = 0;
    for (let i = 0; i < n; i++) gb += dy[i * k + j]!;
    adam(b, state.mb, state.vb, j, gb, 0);
  }
}

function sqDistances(a: Float32Array, na: number, b: Float32Array, nb: number, d: number): Float32Array {
  checkDims({ na, nb, d });
  checkLen('a', a, na * d); checkLen('b', b, nb * d);
  const out = new Float32Array(na * nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = a[i * d + c]! - b[j * d + c]!;
        s += diff * diff;
      }
      out[i * nb + j] = s;
    }
  }
  return out;
}

function dots(a: Float32Array, na: number, b: Float32Array, nb: number, d: number): Float32Array {
  checkDims({ na, nb, d });
  checkLen('a', a, na * d); checkLen('b', b, nb * d);
  const out = new Float32Array(na * nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += a[i * d + c]! * b[j * d + c]!;
      out[i * nb + j] = s;
    }
  }
  return out;
}

/** Shapes must be non-negative integers (a negative or fractional one would misaddress wasm memory). */
export function checkDims(dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  }
}

export function checkLen(name: string, a: Float32Array, atLeast: number): void {
  if (a.length < atLeast) throw new RangeError(`${name} has ${a.length} values, expected at least ${atLeast}`);
}

export function checkAdam(state: AdamState, k: number, d: number): void {
  if (!(Number.isInteger(state.t) && state.t >= 1)) throw new RangeError(`AdamState.t must be an integer ≥ 1 (incremented before each update), got ${state.t}`);
  checkLen('mW', state.mW, k * d); checkLen('vW', state.vW, k * d);
  checkLen('mb', state.mb, k); checkLen('vb', state.vb, k);
}

export const referenceKernels: Kernels = {
  name: 'reference',
  rocketTransform,
  linearForward,
  linearBackwardAdamW,
  sqDistances,
  dots,
  knnTopKInt8: knnTopKInt8Reference,
  knnTopKInt8Pruned: knnTopKInt8PrunedReference,
  alloc: (length: number) => new Float32Array(length),
};
