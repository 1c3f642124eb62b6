// Exact two-stage int8 knn search (the host half and the proof of the bounds are in
// src/trainers/timeseries/kernels/knn-pruned.ts). Per query:
//  1. seeds (the previous query's neighbours and their successors) are measured exactly, so the k-th
//     distance t is close to final before the scan;
//  2. the scan goes over blocks of 4 consecutive references. The first L2 (64) projected components
//     are int16 in a layout where one v128 holds 2 components of 4 references, so i32x4.dot_i16x8_s
//     gives 4 partial dot products at once (8 multiply-adds per instruction, no horizontal sums):
//     the bound U after 16 components, then after L2, is compared with t for the 4 lanes together
//     and the block is left as soon as no lane can be nearer than t;
//  3. a surviving reference gets the bound after P components (int16 rows), then the exact
//     int8 dot product with knnTopKInt8's float32 steps:
//       s = f32(f32(f32(dot) · qScale) · rScale);  cosine 1 − s;  euclidean max(0, (qn + rn) − 2·s).
// Insertion orders by (distance, index), so the result does not depend on the visiting order.
import { hsumI } from "./simd";

/** Queries scanned together: each block of references is loaded once for G queries (memory-bound otherwise). */
const G: i32 = 4;
/** Blocks per tile: G queries pass over 128 blocks (512 references, 24 KiB of first-level data) in turn. */
const TILE: i32 = 128;

/**
 * q int16 [nq, dPad], qScale/qNorm2/qMargin f32 [nq]; qLo int16 [nq, L2] and qLoScale f32 [nq] (the
 * first L2 projected components, quantised), qHi int16 [nq, P − L2] (the other components),
 * qRes f32 [nq, 4] (res after 16, L2, P components; the qHi scale);
 * r int8 [nr, dPad], rScale/rNorm2 f32 [nr]; rLo int16 [⌈nr/4⌉][L2/2][4][2]; rMeta f32 [⌈nr/4⌉][4][4]
 * (per lane: res after 16, res after L2, ‖r‖², the rLo scale); rHi int16 [nr, P − L2];
 * rRes2 f32 [nr, 2] (res after P, the rHi scale);
 * seeds i32 [k] for query 0 (−1: none); mark i32 [2, nr], its first row never equal to stamp0 + a on entry;
 * work ≥ 16 bytes. Returns the number of exact dot products.
 */
export function knnPrunedInt8(q: usize, nq: i32, qScale: usize, qNorm2: usize, qMargin: usize,
  qLo: usize, qLoScale: usize, qHi: usize, qRes: usize,
  r: usize, nr: i32, rScale: usize, rNorm2: usize, rLo: usize, rMeta: usize, rHi: usize, rRes2: usize,
  dPad: i32, P: i32, L2: i32, k: i32, euclid: i32, seeds: usize, mark: usize, stamp0: i32,
  outIdx: usize, outDist: usize, work: usize): i32 {
  for (let t = 0; t < nq * k; t++) {
    store<f32>(outDist + (<usize>t << 2), <f32>Infinity);
    store<i32>(outIdx + (<usize>t << 2), -1);
  }
  const nb = (nr + 3) >> 2;
  const blk = <usize>L2 << 3; // bytes per block of rLo: L2 components × 4 references × 2 bytes
  const hi = P - L2;
  const hiRow = <usize>hi << 1;
  const pairs = L2 >> 1;
  const kB = <usize>k << 2;
  let exact = 0;
  for (let g = 0; g < nq; g += G) {
    const ng = min(G, nq - g);
    // Seeds: the neighbours of the query before this group, and the same shifted by the distance in
    // windows (consecutive windows of a file usually match consecutive references).
    const prev = g > 0 ? outIdx + <usize>(g - 1) * kB : seeds;
    const stamp = stamp0 + g;
    for (let t = 0; t < ng; t++) {
      const a = g + t;
      const qa = q + ((<usize>a * <usize>dPad) << 1);
      const qs = load<f32>(qScale + (<usize>a << 2)), qn = load<f32>(qNorm2 + (<usize>a << 2));
      const bd = outDist + <usize>a * kB, bi = outIdx + <usize>a * kB;
      for (let pass = 0; pass < 2; pass++) {
        const shift = pass * (t + 1);
        for (let s = 0; s < k; s++) {
          const j0 = load<i32>(prev + (<usize>s << 2));
          const j = j0 + shift;
          if (j0 < 0 || j >= nr || marked(mark, nr, j, stamp, t)) continue;
          setMark(mark, nr, j, stamp, t);
          measure(qa, r, dPad, j, qs, qn, rScale, rNorm2, euclid, k, bd, bi); exact++;
        }
      }
    }
    for (let b0 = 0; b0 < nb; b0 += TILE) {
      const b1 = min(nb, b0 + TILE);
      for (let t = 0; t < ng; t++) {
        const a = g + t;
        const ql = qLo + ((<usize>a * <usize>L2) << 1);
        const p0 = v128.load32_splat(ql), p1 = v128.load32_splat(ql, 4), p2 = v128.load32_splat(ql, 8), p3 = v128.load32_splat(ql, 12);
        const p4 = v128.load32_splat(ql, 16), p5 = v128.load32_splat(ql, 20), p6 = v128.load32_splat(ql, 24), p7 = v128.load32_splat(ql, 28);
        const qo = <usize>a << 2;
        const M = load<f32>(qMargin + qo), qn = load<f32>(qNorm2 + qo);
        const vqn = f32x4.splat(qn), qls = v128.load32_splat(qLoScale + qo);
        const qr = qRes + (<usize>a << 4);
        const vqr0 = v128.load32_splat(qr), vqr1 = v128.load32_splat(qr, 4);
        const bd = outDist + <usize>a * kB, bi = outIdx + <usize>a * kB;
        const lastD = bd + kB - 4;
        for (let b = b0; b < b1; b++) {
          const rb = rLo + <usize>b * blk;
          let acc = i32x4.dot_i16x8_s(v128.load(rb), p0);
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 16), p1));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 32), p2));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 48), p3));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 64), p4));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 80), p5));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 96), p6));
          acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb, 112), p7));
          const meta = rMeta + (<usize>b << 6);
          const sc = f32x4.mul(v128.load(meta, 48), qls);
          const rn = v128.load(meta, 32);
          let U = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), sc), f32x4.mul(vqr0, v128.load(meta)));
          let tk = load<f32>(lastD);
          if (!v128.any_true(near(U, M, tk, vqn, rn, euclid))) continue;
          for (let p = 8; p < pairs; p++) acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(rb + (<usize>p << 4)), v128.load32_splat(ql + (<usize>p << 2))));
          const D = f32x4.mul(f32x4.convert_i32x4_s(acc), sc);
          U = f32x4.add(D, f32x4.mul(vqr1, v128.load(meta, 16)));
          const keep = i32x4.bitmask(near(U, M, tk, vqn, rn, euclid));
          if (keep == 0) continue;
          v128.store(work, D);
          const qa = q + ((<usize>a * <usize>dPad) << 1);
          const qh = qHi + <usize>a * hiRow;
          const qs = load<f32>(qScale + qo), qr2 = load<f32>(qr, 8), qhs = load<f32>(qr, 12);
          for (let l = 0; l < 4; l++) {
            if (!(keep & (1 << l))) continue;
            const j = (b << 2) + l;
            if (j >= nr || marked(mark, nr, j, stamp, t)) continue;
            const rj = rRes2 + (<usize>j << 3);
            const U3 = load<f32>(work + (<usize>l << 2)) + (<f32>dotI16(qh, rHi + <usize>j * hiRow, hi) * qhs) * load<f32>(rj, 4) + qr2 * load<f32>(rj);
            tk = load<f32>(lastD);
            if (euclid ? <f32>2 * (U3 + M) + tk < qn + load<f32>(rNorm2 + (<usize>j << 2)) : U3 + M < <f32>1 - tk) continue;
            measure(qa, r, dPad, j, qs, qn, rScale, rNorm2, euclid, k, bd, bi); exact++;
          }
        }
      }
    }
  }
  return exact;
}

/** Dot product of two int16 rows of len values (a multiple of 8; |sum| < 2³¹, the host's scaling). */
function dotI16(a: usize, b: usize, len: i32): i32 {
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0);
  let e = 0;
  for (; e + 16 <= len; e += 16) {
    const o = <usize>e << 1;
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(a + o), v128.load(b + o)));
    c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  for (; e < len; e += 8) c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(a + (<usize>e << 1)), v128.load(b + (<usize>e << 1))));
  return hsumI(i32x4.add(c0, c1));
}

/** mark [2, nr]: the group stamp of reference j, then the bit of each query of that group that measured it. */
// @ts-ignore: decorator
@inline function marked(mark: usize, nr: i32, j: i32, stamp: i32, t: i32): bool {
  return load<i32>(mark + (<usize>j << 2)) == stamp && (load<i32>(mark + (<usize>(nr + j) << 2)) & (1 << t)) != 0;
}

// @ts-ignore: decorator
@inline function setMark(mark: usize, nr: i32, j: i32, stamp: i32, t: i32): void {
  const m = mark + (<usize>j << 2), bits = mark + (<usize>(nr + j) << 2);
  if (load<i32>(m) != stamp) { store<i32>(m, stamp); store<i32>(bits, 0); }
  store<i32>(bits, load<i32>(bits) | (1 << t));
}

/** Lanes whose bound U on the dot product may still put the reference within the k-th distance t. */
// @ts-ignore: decorator
@inline function near(U: v128, M: f32, t: f32, qn: v128, rn: v128, euclid: i32): v128 {
  return euclid
    ? f32x4.ge(f32x4.sub(f32x4.add(f32x4.add(U, U), f32x4.splat(<f32>2 * M + t)), rn), qn)
    : f32x4.ge(U, f32x4.splat(<f32>1 - t - M));
}

/** The exact int8 distance of reference j, inserted into the top-k by (distance, index). */
function measure(qa: usize, r: usize, dPad: i32, j: i32, qs: f32, qn: f32, rScale: usize, rNorm2: usize, euclid: i32,
  k: i32, bd: usize, bi: usize): void {
  let c = i32x4.splat(0);
  const rr = r + <usize>j * <usize>dPad;
  for (let e = 0; e < dPad; e += 16) {
    const b = v128.load(rr + <usize>e);
    const qo = qa + (<usize>e << 1);
    c = i32x4.add(c, i32x4.add(i32x4.dot_i16x8_s(v128.load(qo), i16x8.extend_low_i8x16_s(b)),
      i32x4.dot_i16x8_s(v128.load(qo, 16), i16x8.extend_high_i8x16_s(b))));
  }
  const s: f32 = (<f32>hsumI(c) * qs) * load<f32>(rScale + (<usize>j << 2));
  let v: f32;
  if (euclid) {
    v = (qn + load<f32>(rNorm2 + (<usize>j << 2))) - <f32>2 * s;
    if (v < 0) v = 0;
  } else v = <f32>1 - s;
  let p = <usize>(k - 1) << 2;
  const tv = load<f32>(bd + p);
  if (v > tv || (v == tv && j > load<i32>(bi + p))) return;
  while (p > 0) {
    const pv = load<f32>(bd + p - 4);
    if (!(pv > v || (pv == v && load<i32>(bi + p - 4) > j))) break;
    store<f32>(bd + p, pv);
    store<i32>(bi + p, load<i32>(bi + p - 4));
    p -= 4;
  }
  store<f32>(bd + p, v);
  store<i32>(bi + p, j);
}
