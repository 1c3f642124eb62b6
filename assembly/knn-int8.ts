// knn search over int8 reference vectors: the dot products as an integer GEMM (queries quantised to
// int16 by the host, references int8), fused with a top-k per query, so the [queries × references]
// distance matrix never leaves the module. `i32x4.dot_i16x8_s` does 8 multiply-adds per instruction
// (f32: 4 per mul+add pair); the int8 rows are sign-extended to int16 in registers, so 1 byte per
// reference value is read (a 39k × 1,008 reference set is 39 MB instead of 157 MB).
// No overflow: the host scales each query so that ‖q‖·max‖r‖ ≤ 2³⁰, and every partial lane sum is a
// dot product over a subset of the indices, bounded by Cauchy–Schwarz by the same product.
// Float steps are f32 and one at a time, so the host reference (Math.fround per step) is bit-equal:
//   s = f32(f32(f32(dot) · qScale[i]) · rScale[j]);  cosine: dist = 1 − s;
//   euclidean: dist = max(0, (qNorm2[i] + rNorm2[j]) − 2·s)  (squared; the host takes the root).
// Top-k: insertion into a sorted list of k, rejecting anything ≥ the current k-th; references are
// scanned in index order and ties keep the earlier one (the f32 path's rule).
import { hsumI } from "./simd";

/** References per block: 128 × 1,008 bytes ≈ 126 KiB stay in L2 while every query passes over them. */
const RB: i32 = 128;

/**
 * q: int16 [nq, dPad]; r: int8 [nr, dPad] (dPad a multiple of 16, zero padded); qScale, qNorm2 f32
 * [nq]; rScale, rNorm2 f32 [nr]; outIdx i32 / outDist f32 [nq, k]; work: 4·nq·RB bytes.
 */
export function knnTopKInt8(q: usize, nq: i32, qScale: usize, qNorm2: usize, r: usize, nr: i32, rScale: usize, rNorm2: usize,
  dPad: i32, k: i32, euclid: i32, outIdx: usize, outDist: usize, work: usize): void {
  for (let t = 0; t < nq * k; t++) {
    store<f32>(outDist + (<usize>t << 2), <f32>Infinity);
    store<i32>(outIdx + (<usize>t << 2), -1);
  }
  const qRow = <usize>dPad << 1;
  const rRow = <usize>dPad;
  const ldw = <usize>RB << 2;
  for (let j0 = 0; j0 < nr; j0 += RB) {
    const nb = min(RB, nr - j0);
    const rb = r + <usize>j0 * rRow;
    let i = 0;
    for (; i + 4 <= nq; i += 4) {
      const q0 = q + <usize>i * qRow;
      const w0 = work + <usize>i * ldw;
      let j = 0;
      for (; j + 2 <= nb; j += 2) micro4x2(q0, qRow, rb + <usize>j * rRow, rRow, dPad, w0 + (<usize>j << 2), ldw);
      for (; j < nb; j++) for (let a = 0; a < 4; a++) store<i32>(w0 + <usize>a * ldw + (<usize>j << 2), dot1(q0 + <usize>a * qRow, rb + <usize>j * rRow, dPad));
    }
    for (; i < nq; i++) {
      const qi = q + <usize>i * qRow;
      for (let j = 0; j < nb; j++) store<i32>(work + <usize>i * ldw + (<usize>j << 2), dot1(qi, rb + <usize>j * rRow, dPad));
    }
    for (let a = 0; a < nq; a++) merge(a, j0, nb, work + <usize>a * ldw, qScale, qNorm2, rScale, rNorm2, k, euclid, outIdx, outDist);
  }
}

/** Folds one block of dot products of query a into its top-k. */
// @ts-ignore: decorator
@inline function merge(a: i32, j0: i32, nb: i32, w: usize, qScale: usize, qNorm2: usize, rScale: usize, rNorm2: usize,
  k: i32, euclid: i32, outIdx: usize, outDist: usize): void {
  const qs = load<f32>(qScale + (<usize>a << 2));
  const qn = load<f32>(qNorm2 + (<usize>a << 2));
  const bd = outDist + ((<usize>a * <usize>k) << 2);
  const bi = outIdx + ((<usize>a * <usize>k) << 2);
  const last = <usize>(k - 1) << 2;
  for (let j = 0; j < nb; j++) {
    const jj = j0 + j;
    const s: f32 = (<f32>load<i32>(w + (<usize>j << 2)) * qs) * load<f32>(rScale + (<usize>jj << 2));
    let dist: f32;
    if (euclid) {
      dist = (qn + load<f32>(rNorm2 + (<usize>jj << 2))) - <f32>2 * s;
      if (dist < 0) dist = 0;
    } else dist = <f32>1 - s;
    if (dist >= load<f32>(bd + last)) continue;
    let p = <usize>(k - 1) << 2;
    while (p > 0 && load<f32>(bd + p - 4) > dist) {
      store<f32>(bd + p, load<f32>(bd + p - 4));
      store<i32>(bi + p, load<i32>(bi + p - 4));
      p -= 4;
    }
    store<f32>(bd + p, dist);
    store<i32>(bi + p, jj);
  }
}

/** One int16 query row · one int8 reference row. */
function dot1(q: usize, r: usize, dPad: i32): i32 {
  let c = i32x4.splat(0);
  for (let k = 0; k < dPad; k += 16) {
    const b = v128.load(r + <usize>k);
    const qo = <usize>k << 1;
    c = i32x4.add(c, i32x4.add(i32x4.dot_i16x8_s(v128.load(q + qo), i16x8.extend_low_i8x16_s(b)),
      i32x4.dot_i16x8_s(v128.load(q + qo, 16), i16x8.extend_high_i8x16_s(b))));
  }
  return hsumI(c);
}

/** 4 query rows × 2 reference rows: 8 accumulators + 4 extended reference halves + 2 query loads. */
// @ts-ignore: decorator
@inline function micro4x2(q0: usize, qRow: usize, r0: usize, rRow: usize, dPad: i32, w0: usize, ldw: usize): void {
  const q1 = q0 + qRow, q2 = q1 + qRow, q3 = q2 + qRow, r1 = r0 + rRow;
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  for (let k = 0; k < dPad; k += 16) {
    const b0 = v128.load(r0 + <usize>k), b1 = v128.load(r1 + <usize>k);
    const b0l = i16x8.extend_low_i8x16_s(b0), b0h = i16x8.extend_high_i8x16_s(b0);
    const b1l = i16x8.extend_low_i8x16_s(b1), b1h = i16x8.extend_high_i8x16_s(b1);
    const o = <usize>k << 1;
    let x = v128.load(q0 + o), y = v128.load(q0 + o, 16);
    c00 = i32x4.add(c00, i32x4.add(i32x4.dot_i16x8_s(x, b0l), i32x4.dot_i16x8_s(y, b0h)));
    c01 = i32x4.add(c01, i32x4.add(i32x4.dot_i16x8_s(x, b1l), i32x4.dot_i16x8_s(y, b1h)));
    x = v128.load(q1 + o); y = v128.load(q1 + o, 16);
    c10 = i32x4.add(c10, i32x4.add(i32x4.dot_i16x8_s(x, b0l), i32x4.dot_i16x8_s(y, b0h)));
    c11 = i32x4.add(c11, i32x4.add(i32x4.dot_i16x8_s(x, b1l), i32x4.dot_i16x8_s(y, b1h)));
    x = v128.load(q2 + o); y = v128.load(q2 + o, 16);
    c20 = i32x4.add(c20, i32x4.add(i32x4.dot_i16x8_s(x, b0l), i32x4.dot_i16x8_s(y, b0h)));
    c21 = i32x4.add(c21, i32x4.add(i32x4.dot_i16x8_s(x, b1l), i32x4.dot_i16x8_s(y, b1h)));
    x = v128.load(q3 + o); y = v128.load(q3 + o, 16);
    c30 = i32x4.add(c30, i32x4.add(i32x4.dot_i16x8_s(x, b0l), i32x4.dot_i16x8_s(y, b0h)));
    c31 = i32x4.add(c31, i32x4.add(i32x4.dot_i16x8_s(x, b1l), i32x4.dot_i16x8_s(y, b1h)));
  }
  store<i32>(w0, hsumI(c00)); store<i32>(w0 + 4, hsumI(c01));
  store<i32>(w0 + ldw, hsumI(c10)); store<i32>(w0 + ldw + 4, hsumI(c11));
  store<i32>(w0 + 2 * ldw, hsumI(c20)); store<i32>(w0 + 2 * ldw + 4, hsumI(c21));
  store<i32>(w0 + 3 * ldw, hsumI(c30)); store<i32>(w0 + 3 * ldw + 4, hsumI(c31));
}
