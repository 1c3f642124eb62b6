/**
 * Exact two-stage int8 knn search, the host half (the wasm half is assembly/knn-pruned.ts):
 * the same neighbours and distances as knnTopKInt8 (knn-int8.ts), with far fewer multiply-adds.
 *  - The references and each query are projected on P orthonormal rows (a PCA basis fitted at
 *    training time, P = 256 of 1,008 features on SWaT). For any orthonormal B and x = Bᵀ(Bx) + x⊥:
 *      q·r = Bq·Br + q⊥·r⊥ ≤ Bq·Br + ‖q⊥‖·‖r⊥‖   (Cauchy–Schwarz on the rest),
 *    an upper bound U on the dot product the int8 kernel computes (q and r dequantised: codes·scale),
 *    hence a lower bound on its distance: cosine 1 − s ≥ 1 − U, euclidean ‖q‖² + ‖r‖² − 2s ≥ … − 2U.
 *    Summing the first 16, then 64, then P components gives three bounds, each tighter (still
 *    Cauchy–Schwarz on what is left).
 *  - A reference is skipped when its bound, less a margin, exceeds the current k-th distance; else the
 *    next bound is tried and last the exact int8 dot product (the int8 kernel's float32 steps).
 *    Skipping only what is strictly farther keeps the result exact; ties resolve by index whatever
 *    the visiting order (insertion orders by (distance, index)), as in the full scan.
 *  - Margin: 2e-3 · ‖q‖ · max‖r‖. What it absorbs: the wasm kernel's int16 codes of the projections
 *    (≤ 2.5e-4 + 4.4e-4 relative, wasm.ts), float32 rounding of the projections (summed over 1,008
 *    features: ≤ 1,008 · 2⁻²⁴ ≈ 6e-5 in the worst case), the f32 basis orthonormal to ~1e-7, and the
 *    kernel's three f32 products (≈ 2e-7): together under 1e-3.
 *  - Seeds: the previous query's neighbours (consecutive windows overlap 127/128, so they are close to
 *    the next query's) and their successors are measured first, so the k-th distance is tight from
 *    the start; the first query of a call takes the k references of largest 16-component dot instead.
 * On SWaT (38,984 × 1,008, tune queries) 0.5 % of the references reach the exact dot product.
 */
import type { Int16Queries, Int8Refs, TopK } from './knn-int8.js';

/** Bound levels: 16 components, then min(64, P), then P. */
export const LEVEL1 = 16;
export const levelsOf = (P: number): [number, number, number] => [LEVEL1, Math.min(64, P), P];
/** Relative margin (see above). */
export const PRUNE_MARGIN = 2e-3;

export interface ProjectedRefs {
  refs: Int8Refs;
  /** Number of basis rows (a multiple of 16, ≥ 16). */
  P: number;
  /** [n, P] projections of the dequantised reference rows. */
  proj: Float32Array;
  /** [n, 3] norms of what is left of each row after each level's components. */
  res: Float32Array;
  /** max ‖r‖ (dequantised). */
  maxNorm: number;
}

export interface ProjectedQueries {
  q: Int16Queries;
  /** [n, P] projections of the dequantised query rows (codes · scale). */
  proj: Float32Array;
  /** [n, 3] as ProjectedRefs.res. */
  res: Float32Array;
  /** [n] the margin of each query. */
  margin: Float32Array;
}

export interface PrunedTopK extends TopK {
  /** How many exact int8 dot products were computed (all queries together). */
  exact: number;
}

/** Residual norms [n, 3] of rows from their squared norms and projections (float64, never negative). */
export function residuals(norm2: ArrayLike<number>, proj: Float32Array, n: number, P: number): Float32Array {
  const lv = levelsOf(P);
  const res = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    let s = 0, e = 0;
    for (let l = 0; l < 3; l++) {
      for (; e < lv[l]!; e++) s += proj[i * P + e]! ** 2;
      // Rounded up by 1e-6 of the norm: an f32 that is a little too small would tighten the bound.
      res[i * 3 + l] = Math.sqrt(Math.max(0, norm2[i]! - s)) + 1e-6 * Math.sqrt(norm2[i]!);
    }
  }
  return res;
}

/** The dequantised rows [n, d] of int8 references, rows i0 ≤ i < i1. */
export function dequantizeRefs(refs: Int8Refs, i0: number, i1: number): Float32Array {
  const { d, dPad } = refs;
  const out = new Float32Array((i1 - i0) * d);
  for (let i = i0; i < i1; i++) for (let c = 0; c < d; c++) out[(i - i0) * d + c] = refs.codes[i * dPad + c]! * refs.scale[i]!;
  return out;
}

type Dots = (a: Float32Array, na: number, b: Float32Array, nb: number, d: number) => Float32Array;

/** Projects the references on basis [P, d] (4,096 rows at a time: never the whole float matrix). */
export function projectRefs(refs: Int8Refs, basis: Float32Array, P: number, dots: Dots): ProjectedRefs {
  const { n, d } = refs;
  const proj = new Float32Array(n * P);
  for (let i0 = 0; i0 < n; i0 += 4096) {
    const i1 = Math.min(n, i0 + 4096);
    proj.set(dots(dequantizeRefs(refs, i0, i1), i1 - i0, basis, P, d), i0 * P);
  }
  let maxNorm = 0;
  for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, Math.sqrt(refs.norm2[i]!));
  return { refs, P, proj, res: residuals(refs.norm2, proj, n, P), maxNorm };
}

export function projectQueries(q: Int16Queries, pr: ProjectedRefs, basis: Float32Array, dots: Dots): ProjectedQueries {
  const { d, dPad } = pr.refs;
  const x = new Float32Array(q.n * d);
  const n2 = new Float64Array(q.n);
  for (let i = 0; i < q.n; i++) {
    for (let c = 0; c < d; c++) {
      const v = q.codes[i * dPad + c]! * q.scale[i]!;
      x[i * d + c] = v;
      n2[i]! += v * v;
    }
  }
  const proj = dots(x, q.n, basis, pr.P, d);
  const margin = new Float32Array(q.n);
  for (let i = 0; i < q.n; i++) margin[i] = PRUNE_MARGIN * Math.sqrt(n2[i]!) * pr.maxNorm;
  return { q, proj, res: residuals(n2, proj, q.n, pr.P), margin };
}

const f = Math.fround;

/**
 * The oracle of the wasm kernel: the same bounds in float64 (any safe bound gives the same answer)
 * and the same exact steps as knnTopKInt8Reference. seeds: k indices to measure first for query 0
 * (the previous call's last neighbours; −1 = none).
 */
export function knnTopKInt8PrunedReference(pr: ProjectedRefs, pq: ProjectedQueries, k: number, euclidean: boolean, seeds?: Int32Array): PrunedTopK {
  const { refs, P, proj, res } = pr;
  const { dPad, n } = refs;
  const q = pq.q;
  const lv = levelsOf(P);
  const idx = new Int32Array(q.n * k).fill(-1);
  const dist = new Float32Array(q.n * k).fill(Infinity);
  const mark = new Int32Array(n).fill(-1);
  let exact = 0;
  for (let a = 0; a < q.n; a++) {
    const bd = dist.subarray(a * k, (a + 1) * k), bi = idx.subarray(a * k, (a + 1) * k);
    const qs = q.scale[a]!, qn = q.norm2[a]!, M = pq.margin[a]!;
    const measure = (j: number): void => {
      mark[j] = a;
      exact++;
      let dot = 0;
      for (let c = 0; c < dPad; c++) dot += q.codes[a * dPad + c]! * refs.codes[j * dPad + c]!;
      const s = f(f(f(dot) * qs) * refs.scale[j]!);
      let v = euclidean ? f(f(qn + refs.norm2[j]!) - f(2 * s)) : f(1 - s);
      if (euclidean && v < 0) v = 0;
      if (v > bd[k - 1]! || (v === bd[k - 1]! && j > bi[k - 1]!)) return;
      let p = k - 1;
      while (p > 0 && (bd[p - 1]! > v || (bd[p - 1]! === v && bi[p - 1]! > j))) {
        bd[p] = bd[p - 1]!;
        bi[p] = bi[p - 1]!;
        p--;
      }
      bd[p] = v;
      bi[p] = j;
    };
    // Skipped when even the bound U on its dot product leaves it strictly beyond the k-th distance.
    const far = (U: number, j: number): boolean => {
      const t = bd[k - 1]!;
      return euclidean ? 2 * (U + M) + t < qn + refs.norm2[j]! : U + M < 1 - t;
    };
    const partial = (j: number, e0: number, e1: number): number => {
      let s = 0;
      for (let e = e0; e < e1; e++) s += pq.proj[a * P + e]! * proj[j * P + e]!;
      return s;
    };
    const prev = a > 0 ? idx.subarray((a - 1) * k, a * k) : seeds;
    if (prev && prev.some((j) => j >= 0)) {
      for (const j of prev) if (j >= 0 && mark[j] !== a) measure(j);
      for (const j of prev) if (j >= 0 && j + 1 < n && mark[j + 1] !== a) measure(j + 1);
    } else {
      const top = new Int32Array(k).fill(-1), topV = new Float64Array(k).fill(-Infinity);
      for (let j = 0; j < n; j++) {
        const v = partial(j, 0, LEVEL1);
        if (v <= topV[k - 1]!) continue;
        let p = k - 1;
        while (p > 0 && topV[p - 1]! < v) { topV[p] = topV[p - 1]!; top[p] = top[p - 1]!; p--; }
        topV[p] = v; top[p] = j;
      }
      for (const j of top) if (j >= 0 && mark[j] !== a) measure(j);
    }
    for (let j = 0; j < n; j++) {
      if (mark[j] === a) continue;
      let D = 0, e = 0, pruned = false;
      for (let l = 0; l < 3 && !pruned; l++) {
        D += partial(j, e, lv[l]!);
        e = lv[l]!;
        pruned = far(D + pq.res[a * 3 + l]! * res[j * 3 + l]!, j);
      }
      if (!pruned) measure(j);
    }
  }
  return { idx, dist, exact };
}
