/**
 * Quantised knn search, the host half (the wasm half is assembly/knn-int8.ts):
 *  - quantizeRefs: reference rows → int8 codes with one scale per row (symmetric, max |x| ↦ 127),
 *    rows zero-padded to a multiple of 16 values (one v128 of int8). 1 byte per value: 39k × 1,008
 *    features is 39 MB (float32: 157 MB).
 *  - quantizeQueries: query rows → int16 with one scale per row, as large as allowed by both 32,767
 *    and ‖q‖·max‖r‖ ≤ 2³⁰ (so no int32 partial sum of the kernel can overflow: Cauchy–Schwarz).
 *  - knnTopKInt8Reference: the plain TypeScript oracle of the kernel: exact integer dot products
 *    (every partial sum < 2³¹, so exact in a double) and the same float32 steps via Math.fround,
 *    hence bit-equal to the wasm kernel (tested), and the top-k by insertion (no sort of the n
 *    distances: each is compared with the k-th best, and only a closer one is inserted).
 * The dequantised reference row is codes·scale; norm2 is its squared norm (for euclidean).
 */

export interface Int8Refs {
  /** [n, dPad] int8, rows zero-padded. */
  codes: Int8Array;
  n: number;
  d: number;
  dPad: number;
  /** [n] dequantisation factor: row ≈ codes · scale. */
  scale: Float32Array;
  /** [n] squared norm of the dequantised row. */
  norm2: Float32Array;
  /** max over rows of ‖codes‖ (in code units): bounds the query scale. */
  maxCodeNorm: number;
}

export interface Int16Queries {
  codes: Int16Array;
  n: number;
  scale: Float32Array;
  norm2: Float32Array;
}

export interface TopK {
  /** [nq, k] reference indices, nearest first (−1 when fewer than k references). */
  idx: Int32Array;
  /** [nq, k] 1 − cosine similarity, or the squared euclidean distance. */
  dist: Float32Array;
}

export const padDim = (d: number): number => Math.ceil(d / 16) * 16;

/** Refs from codes [n, d] (as stored in a checkpoint) and their scales; pads rows when d % 16 ≠ 0. */
export function int8RefsFromCodes(codes: Int8Array, n: number, d: number, scale: Float32Array): Int8Refs {
  const dPad = padDim(d);
  let padded = codes;
  if (dPad !== d) {
    padded = new Int8Array(n * dPad);
    for (let i = 0; i < n; i++) padded.set(codes.subarray(i * d, (i + 1) * d), i * dPad);
  }
  const norm2 = new Float32Array(n);
  let maxCodeNorm = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += padded[i * dPad + c]! ** 2;
    maxCodeNorm = Math.max(maxCodeNorm, Math.sqrt(s));
    norm2[i] = s * scale[i]! * scale[i]!;
  }
  return { codes: padded, n, d, dPad, scale, norm2, maxCodeNorm };
}

/** int8 codes [n, d] (unpadded, the checkpoint layout) and per-row scales of float rows x [n, d]. */
export function quantizeRows(x: Float32Array, n: number, d: number): { codes: Int8Array; scale: Float32Array } {
  const codes = new Int8Array(n * d);
  const scale = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < d; c++) m = Math.max(m, Math.abs(x[i * d + c]!));
    if (m === 0) continue;
    scale[i] = m / 127;
    const inv = 127 / m;
    for (let c = 0; c < d; c++) codes[i * d + c] = Math.max(-127, Math.min(127, Math.round(x[i * d + c]! * inv)));
  }
  return { codes, scale };
}

export function quantizeQueries(x: Float32Array, n: number, d: number, refs: Int8Refs): Int16Queries {
  if (d !== refs.d) throw new RangeError(`queries have ${d} features, the references ${refs.d}`);
  const dPad = refs.dPad;
  const codes = new Int16Array(n * dPad);
  const scale = new Float32Array(n);
  const norm2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0, s = 0;
    for (let c = 0; c < d; c++) {
      const v = x[i * d + c]!;
      m = Math.max(m, Math.abs(v));
      s += v * v;
    }
    norm2[i] = s;
    if (m === 0) continue;
    // ‖codes‖ ≤ f·‖x‖ + √d/2 (rounding); keep f·‖x‖·maxCodeNorm ≤ 2³⁰, far from 2³¹ even with the rounding.
    const f = Math.min(32767 / m, refs.maxCodeNorm > 0 ? 2 ** 30 / (Math.sqrt(s) * refs.maxCodeNorm) : 32767 / m);
    scale[i] = 1 / f;
    for (let c = 0; c < d; c++) codes[i * dPad + c] = Math.max(-32767, Math.min(32767, Math.round(x[i * d + c]! * f)));
  }
  return { codes, n, scale, norm2 };
}

const f = Math.fround;

/** The oracle: same arithmetic as the kernel, float32 step by step. */
export function knnTopKInt8Reference(refs: Int8Refs, q: Int16Queries, k: number, euclidean: boolean): TopK {
  const { dPad, n } = refs;
  const idx = new Int32Array(q.n * k).fill(-1);
  const dist = new Float32Array(q.n * k).fill(Infinity);
  for (let a = 0; a < q.n; a++) {
    const bd = dist.subarray(a * k, (a + 1) * k), bi = idx.subarray(a * k, (a + 1) * k);
    const qs = q.scale[a]!, qn = q.norm2[a]!;
    const qo = a * dPad;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const ro = j * dPad;
      for (let c = 0; c < dPad; c++) dot += q.codes[qo + c]! * refs.codes[ro + c]!;
      const s = f(f(f(dot) * qs) * refs.scale[j]!);
      let v = euclidean ? f(f(qn + refs.norm2[j]!) - f(2 * s)) : f(1 - s);
      if (euclidean && v < 0) v = 0;
      if (v >= bd[k - 1]!) continue;
      let p = k - 1;
      while (p > 0 && bd[p - 1]! > v) {
        bd[p] = bd[p - 1]!;
        bi[p] = bi[p - 1]!;
        p--;
      }
      bd[p] = v;
      bi[p] = j;
    }
  }
  return { idx, dist };
}
