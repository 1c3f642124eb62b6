// The forward GEMM out = a·bᵀ (+ bias): the dense layer x·Wᵀ + b, dot products and (through
// distance.ts) squared distances. Row-major f32; pointers are byte offsets into the shared memory.
import { dot, hsum } from "./simd";

// k-blocking: a 64-row panel of W over 512 columns is 128 KiB (stays in L2), a 2-row panel of x
// 4 KiB (L1). Without it, D=10k re-streams the 2.5 MiB W from L3 for every row pair.
const KC: i32 = 512;

/** out[i*ldo + j] = bias[j] (0 when bias == 0) + Σ_k a[i*d + k]·b[j*d + k]. */
export function gemmNT(a: usize, na: i32, b: usize, nb: i32, d: i32, bias: usize, out: usize, ldo: i32): void {
  for (let i = 0; i < na; i++) {
    const o = out + ((<usize>i * <usize>ldo) << 2);
    for (let j = 0; j < nb; j++) store<f32>(o + (<usize>j << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
  }
  const rowBytes = <usize>d << 2;
  const outRow = <usize>ldo << 2;
  for (let k0 = 0; k0 < d; k0 += KC) {
    const len = min(KC, d - k0);
    const kOff = <usize>k0 << 2;
    let i = 0;
    for (; i + 2 <= na; i += 2) {
      const a0 = a + <usize>i * rowBytes + kOff;
      const o0 = out + <usize>i * outRow;
      let j = 0;
      for (; j + 4 <= nb; j += 4) micro2x4(a0, rowBytes, b + <usize>j * rowBytes + kOff, len, o0 + (<usize>j << 2), outRow);
      for (; j < nb; j++) {
        const bj = b + <usize>j * rowBytes + kOff;
        const oj = o0 + (<usize>j << 2);
        store<f32>(oj, load<f32>(oj) + dot(a0, bj, len));
        store<f32>(oj + outRow, load<f32>(oj + outRow) + dot(a0 + rowBytes, bj, len));
      }
    }
    for (; i < na; i++) {
      const a0 = a + <usize>i * rowBytes + kOff;
      const o0 = out + <usize>i * outRow;
      for (let j = 0; j < nb; j++) {
        const oj = o0 + (<usize>j << 2);
        store<f32>(oj, load<f32>(oj) + dot(a0, b + <usize>j * rowBytes + kOff, len));
      }
    }
  }
}

/** 2 rows of a × 4 rows of b over len columns, added into out (8 accumulators + 6 loads = 14 of 16 xmm). */
// @ts-ignore: decorator
@inline function micro2x4(a0: usize, stride: usize, b0: usize, len: i32, o0: usize, outRow: usize): void {
  const a1 = a0 + stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const len4 = len & ~3;
  for (let k = 0; k < len4; k += 4) {
    const off = <usize>k << 2;
    const x0 = v128.load(a0 + off), x1 = v128.load(a1 + off);
    const w0 = v128.load(b0 + off), w1 = v128.load(b1 + off);
    const w2 = v128.load(b2 + off), w3 = v128.load(b3 + off);
    c00 = f32x4.add(c00, f32x4.mul(x0, w0)); c01 = f32x4.add(c01, f32x4.mul(x0, w1));
    c02 = f32x4.add(c02, f32x4.mul(x0, w2)); c03 = f32x4.add(c03, f32x4.mul(x0, w3));
    c10 = f32x4.add(c10, f32x4.mul(x1, w0)); c11 = f32x4.add(c11, f32x4.mul(x1, w1));
    c12 = f32x4.add(c12, f32x4.mul(x1, w2)); c13 = f32x4.add(c13, f32x4.mul(x1, w3));
  }
  let s00 = hsum(c00), s01 = hsum(c01), s02 = hsum(c02), s03 = hsum(c03);
  let s10 = hsum(c10), s11 = hsum(c11), s12 = hsum(c12), s13 = hsum(c13);
  for (let k = len4; k < len; k++) {
    const off = <usize>k << 2;
    const x0 = load<f32>(a0 + off), x1 = load<f32>(a1 + off);
    const w0 = load<f32>(b0 + off), w1 = load<f32>(b1 + off);
    const w2 = load<f32>(b2 + off), w3 = load<f32>(b3 + off);
    s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
    s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
  }
  const o1 = o0 + outRow;
  store<f32>(o0, load<f32>(o0) + s00); store<f32>(o0 + 4, load<f32>(o0 + 4) + s01);
  store<f32>(o0 + 8, load<f32>(o0 + 8) + s02); store<f32>(o0 + 12, load<f32>(o0 + 12) + s03);
  store<f32>(o1, load<f32>(o1) + s10); store<f32>(o1 + 4, load<f32>(o1 + 4) + s11);
  store<f32>(o1 + 8, load<f32>(o1 + 8) + s12); store<f32>(o1 + 12, load<f32>(o1 + 12) + s13);
}
