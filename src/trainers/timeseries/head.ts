/**
 * The trainable head on top of the frozen encoder: multinomial logistic regression (hidden = 0) or
 * one hidden ReLU layer (hidden > 0), softmax cross-entropy, AdamW through the kernels'
 * linearForward / linearBackwardAdamW (backward passes derived by hand below).
 * Initialisation as PyTorch's nn.Linear: U(−1/√in, 1/√in) for weights and biases, seeded.
 * Weights, Adam moments and the per-step buffers live in kernel memory (Kernels.alloc): the wasm
 * kernels then work in place instead of copying ~3.5 MB in and out per step (D = 2,000).
 */
import { getKernels, type AdamOptions, type AdamState } from './numeric.js';
import { Rng, STREAM } from './rng.js';
import { softmaxRows } from './metrics.js';

export interface Layer {
  inDim: number;
  outDim: number;
  w: Float32Array; // [out, in]
  b: Float32Array; // [out]
  adam: AdamState;
}

export interface HeadModel {
  inDim: number;
  hidden: number;
  nClasses: number;
  layers: Layer[];
}

/** β and ε as PyTorch's AdamW defaults. */
export const ADAM_BETAS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** A copy of `src` in kernel memory (allocate once per job: kernel memory is never freed). */
export function inKernelMemory(src: Float32Array): Float32Array {
  const a = getKernels().alloc(src.length);
  a.set(src);
  return a;
}

/** Moves a head's weights and Adam moments into kernel memory (after init or checkpoint load). */
export function headToKernelMemory(m: HeadModel): HeadModel {
  for (const L of m.layers) {
    L.w = inKernelMemory(L.w);
    L.b = inKernelMemory(L.b);
    const a = L.adam;
    L.adam = { mW: inKernelMemory(a.mW), vW: inKernelMemory(a.vW), mb: inKernelMemory(a.mb), vb: inKernelMemory(a.vb), t: a.t };
  }
  return m;
}

function newLayer(inDim: number, outDim: number, rng: Rng): Layer {
  const bound = 1 / Math.sqrt(inDim);
  const w = new Float32Array(outDim * inDim);
  const b = new Float32Array(outDim);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * bound;
  for (let i = 0; i < b.length; i++) b[i] = (rng.next() * 2 - 1) * bound;
  const adam = { mW: new Float32Array(w.length), vW: new Float32Array(w.length), mb: new Float32Array(outDim), vb: new Float32Array(outDim), t: 0 };
  return { inDim, outDim, w, b, adam };
}

export function initHead(inDim: number, hidden: number, nClasses: number, seed: number): HeadModel {
  const rng = new Rng(seed, STREAM.init);
  const layers = hidden > 0 ? [newLayer(inDim, hidden, rng), newLayer(hidden, nClasses, rng)] : [newLayer(inDim, nClasses, rng)];
  return { inDim, hidden, nClasses, layers };
}

function reluInPlace(h: Float32Array): void {
  for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = 0;
}

/**
 * The first layer of a hidden-layer head computed elsewhere (head-pool.ts: its units split over
 * threads); it must return exactly what linearForward / linearBackwardAdamW on m.layers[0] would.
 */
export interface FirstLayer {
  /** Pre-activations [n, hidden] of x [n, inDim] into out. */
  forward(x: Float32Array, n: number, out: Float32Array): Promise<void>;
  /** The AdamW update of layer 0 from its output gradient dz [n, hidden] (no input gradient). */
  backward(x: Float32Array, dz: Float32Array, n: number): void;
}

/** Class probabilities [n, K] for standardized embeddings x [n, D]. */
export function headProba(m: HeadModel, x: Float32Array, n: number, first0?: Float32Array): Float32Array {
  const k = getKernels();
  let a = x;
  let d = m.inDim;
  m.layers.forEach((L, i) => {
    a = i === 0 && first0 ? first0 : k.linearForward(a, n, d, L.w, L.b, L.outDim);
    if (i < m.layers.length - 1) reluInPlace(a);
    d = L.outDim;
  });
  return softmaxRows(a, n, m.nClasses);
}

/** Rows per chunk of headProbaBatched: intermediate buffers stay small. */
const PROBA_CHUNK = 1024;

/** Probabilities for many rows, in chunks of 1,024 so intermediate buffers stay small. */
export function headProbaBatched(m: HeadModel, x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * m.nClasses);
  for (let from = 0; from < n; from += PROBA_CHUNK) {
    const to = Math.min(n, from + PROBA_CHUNK);
    out.set(headProba(m, x.subarray(from * m.inDim, to * m.inDim), to - from), from * m.nClasses);
  }
  return out;
}

/** headProbaBatched with the first layer computed by `first` (the same numbers). */
export async function headProbaBatchedWith(m: HeadModel, x: Float32Array, n: number, first: FirstLayer): Promise<Float32Array> {
  const out = new Float32Array(n * m.nClasses);
  for (let from = 0; from < n; from += PROBA_CHUNK) {
    const to = Math.min(n, from + PROBA_CHUNK);
    const a0 = new Float32Array((to - from) * m.hidden);
    await first.forward(x.subarray(from * m.inDim, to * m.inDim), to - from, a0);
    out.set(headProba(m, x.subarray(from * m.inDim, to * m.inDim), to - from, a0), from * m.nClasses);
  }
  return out;
}

/** Reused per-step buffers in kernel memory: the batch input, each layer's output, dz, dx. */
export interface HeadWorkspace {
  maxBatch: number;
  x: Float32Array;
  acts: Float32Array[];
  grads: Float32Array[]; // grads[i]: gradient w.r.t. layer i's output
}

export function headWorkspace(m: HeadModel, maxBatch: number): HeadWorkspace {
  const k = getKernels();
  return {
    maxBatch,
    x: k.alloc(maxBatch * m.inDim),
    acts: m.layers.map((L) => k.alloc(maxBatch * L.outDim)),
    grads: m.layers.map((L) => k.alloc(maxBatch * L.outDim)),
  };
}

/** One AdamW step on the first n rows of ws.x; returns the batch's mean cross-entropy. */
export function headTrainStep(m: HeadModel, ws: HeadWorkspace, y: ArrayLike<number>, n: number, opt: Omit<AdamOptions, keyof typeof ADAM_BETAS>): number {
  const k = getKernels();
  const L0 = m.layers[0]!;
  k.linearForward(ws.x.subarray(0, n * m.inDim), n, L0.inDim, L0.w, L0.b, L0.outDim, ws.acts[0]!);
  return headTrainRest(m, ws, y, n, opt);
}

/**
 * One AdamW step given layer 0's pre-activations in ws.acts[0] (computed by the caller: here or by
 * head-pool.ts's threads); `first` updates layer 0 when given, else the kernels do it here.
 */
export function headTrainRest(m: HeadModel, ws: HeadWorkspace, y: ArrayLike<number>, n: number, opt: Omit<AdamOptions, keyof typeof ADAM_BETAS>, first?: FirstLayer): number {
  const k = getKernels();
  const full: AdamOptions = { ...ADAM_BETAS, ...opt };
  const K = m.nClasses;
  const last = m.layers.length - 1;
  const inputs: Float32Array[] = [];
  let a = ws.x.subarray(0, n * m.inDim);
  m.layers.forEach((L, i) => {
    inputs.push(a);
    if (i > 0) k.linearForward(a, n, L.inDim, L.w, L.b, L.outDim, ws.acts[i]!);
    a = ws.acts[i]!.subarray(0, n * L.outDim);
    if (i < last) reluInPlace(a);
  });
  const p = softmaxRows(a, n, K); // in place: acts[last] now holds probabilities
  // d(mean CE)/d logits = (softmax − onehot) / n; the kernel's gradients are plain sums over rows.
  let loss = 0;
  const dz = ws.grads[last]!;
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    loss -= Math.log(Math.max(1e-7, p[i * K + yi]!));
    for (let c = 0; c < K; c++) dz[i * K + c] = (p[i * K + c]! - (c === yi ? 1 : 0)) / n;
  }
  for (let li = last; li >= 0; li--) {
    const L = m.layers[li]!;
    const input = inputs[li]!;
    const dx = li > 0 ? ws.grads[li - 1]!.subarray(0, n * L.inDim) : undefined;
    L.adam.t++;
    if (li === 0 && first) first.backward(input, ws.grads[0]!.subarray(0, n * L.outDim), n);
    else k.linearBackwardAdamW(input, ws.grads[li]!.subarray(0, n * L.outDim), n, L.inDim, L.outDim, L.w, L.b, L.adam, full, dx);
    // ReLU backward: the gradient flows only where the hidden activation was positive.
    if (dx) for (let i = 0; i < dx.length; i++) if (input[i]! <= 0) dx[i] = 0;
  }
  return loss / n;
}
