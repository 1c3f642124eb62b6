/**
 * The PCA basis of a knn model's int8 reference vectors (checkpoint version 3), which lets the
 * search skip references provably farther than the current k-th neighbour (kernels/knn-pruned.ts;
 * the result does not depend on the basis, only the speed does).
 *  - Fit (training): covariance of every ⌈n/4,000⌉-th dequantised reference row (centred), then 8
 *    rounds of subspace iteration with P + 16 seeded random vectors, orthonormalised in float64 each
 *    round; the first P rows are kept. On SWaT (38,984 × 1,008) 256 components hold 90 % of the
 *    variance and leave 0.5 % of the references for the exact distance; 16 components leave 20 %.
 *  - Storage: one int8 code per value with a scale per row (256 × 1,008 bytes = 258 KB; float32
 *    would be 1 MB and push the SWaT checkpoint past 40 MB).
 *  - Load: the int8 rows are orthonormalised again (modified Gram–Schmidt, twice, float64), so the
 *    basis the bounds rely on is orthonormal to float32 precision whatever the rounding of the codes.
 * P = min(256, 16·⌊d/32⌋); below 32 features there is no basis and the search is the full scan.
 */
import type { Int8Refs } from './numeric.js';
import { getKernels } from './numeric.js';
import { Rng } from './rng.js';

export const MAX_BASIS_ROWS = 256;
/** Stream of the subspace iteration's start vectors (rng.ts STREAM names the others). */
const BASIS_STREAM = 7;

export const basisRows = (d: number): number => Math.min(MAX_BASIS_ROWS, 16 * Math.floor(d / 32));

export interface KnnBasis {
  P: number;
  /** [P, d] int8, as stored. */
  codes: Int8Array;
  scale: Float32Array;
  /** [P, d] the orthonormal float32 rows the search uses. */
  rows: Float32Array;
}

/** Modified Gram–Schmidt on the rows of v [m, d] (float64, in place), twice for full precision. */
function orthonormalize(v: Float64Array, m: number, d: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < m; a++) {
      const ra = a * d;
      for (let b = 0; b < a; b++) {
        const rb = b * d;
        let s = 0;
        for (let c = 0; c < d; c++) s += v[ra + c]! * v[rb + c]!;
        for (let c = 0; c < d; c++) v[ra + c] -= s * v[rb + c]!;
      }
      let s = 0;
      for (let c = 0; c < d; c++) s += v[ra + c]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let c = 0; c < d; c++) v[ra + c] *= inv;
    }
  }
}

/** The search basis from stored codes: dequantised, then orthonormalised. */
export function basisFromCodes(codes: Int8Array, scale: Float32Array, P: number, d: number): KnnBasis {
  const v = new Float64Array(P * d);
  for (let a = 0; a < P; a++) for (let c = 0; c < d; c++) v[a * d + c] = codes[a * d + c]! * scale[a]!;
  orthonormalize(v, P, d);
  // In kernel memory: every query batch is projected on it, and the wasm GEMM then reads it in place.
  const rows = getKernels().alloc(P * d);
  rows.set(v);
  return { P, codes, scale, rows };
}

/** Fits the basis of refs (deterministic for a seed); null when d < 32. */
export function fitKnnBasis(refs: Int8Refs, seed: number): KnnBasis | null {
  const { n, d, dPad } = refs;
  const P = basisRows(d);
  if (P < 16 || n < 2) return null;
  const stride = Math.ceil(n / 4000);
  const rows: number[] = [];
  for (let i = 0; i < n; i += stride) rows.push(i);
  const ns = rows.length;
  const mean = new Float64Array(d);
  for (const i of rows) for (let c = 0; c < d; c++) mean[c] += refs.codes[i * dPad + c]! * refs.scale[i]! / ns;
  const xt = new Float32Array(d * ns); // transposed sample: one row per feature
  rows.forEach((i, s) => { for (let c = 0; c < d; c++) xt[c * ns + s] = refs.codes[i * dPad + c]! * refs.scale[i]! - mean[c]!; });
  const k = getKernels();
  const cov = k.dots(xt, d, xt, d, ns); // [d, d], symmetric
  const m = Math.min(d, P + 16);
  const rng = new Rng(seed, BASIS_STREAM);
  let v = new Float64Array(m * d);
  for (let i = 0; i < v.length; i++) v[i] = rng.next() - 0.5;
  orthonormalize(v, m, d);
  for (let it = 0; it < 8; it++) {
    v = Float64Array.from(k.dots(Float32Array.from(v), m, cov, d, d)); // V·C (C symmetric)
    orthonormalize(v, m, d);
  }
  const codes = new Int8Array(P * d);
  const scale = new Float32Array(P);
  for (let a = 0; a < P; a++) {
    let mx = 0;
    for (let c = 0; c < d; c++) mx = Math.max(mx, Math.abs(v[a * d + c]!));
    scale[a] = mx / 127;
    for (let c = 0; c < d; c++) codes[a * d + c] = mx > 0 ? Math.round(v[a * d + c]! * 127 / mx) : 0;
  }
  return basisFromCodes(codes, scale, P, d);
}
