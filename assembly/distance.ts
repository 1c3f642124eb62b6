// Squared euclidean distances through ‖a‖² + ‖b‖² − 2·a·b: the a·b part is the blocked GEMM of
// dense.ts (≈ 2·na·nb·d flops) instead of na·nb·d subtract-square-add passes. Cancellation makes the
// absolute error about 1e-7·(‖a‖² + ‖b‖²); results are clamped at 0.
import { gemmNT } from "./dense";
import { dot } from "./simd";

/** out[i*ldo + j] = max(0, ‖a_i‖² + ‖b_j‖² − 2·a_i·b_j). work: 4·(na + nb) bytes for the norms. */
export function sqDistances(a: usize, na: i32, b: usize, nb: i32, d: i32, out: usize, ldo: i32, work: usize): void {
  const rowBytes = <usize>d << 2;
  const nbase = work + (<usize>na << 2);
  for (let i = 0; i < na; i++) {
    const r = a + <usize>i * rowBytes;
    store<f32>(work + (<usize>i << 2), dot(r, r, d));
  }
  for (let j = 0; j < nb; j++) {
    const r = b + <usize>j * rowBytes;
    store<f32>(nbase + (<usize>j << 2), dot(r, r, d));
  }
  gemmNT(a, na, b, nb, d, 0, out, ldo);
  const zero = f32x4.splat(0), two = f32x4.splat(2);
  for (let i = 0; i < na; i++) {
    const o = out + ((<usize>i * <usize>ldo) << 2);
    const ni = load<f32>(work + (<usize>i << 2));
    const vi = f32x4.splat(ni);
    let j = 0;
    for (; j + 4 <= nb; j += 4) {
      const p = o + (<usize>j << 2);
      const s = f32x4.sub(f32x4.add(vi, v128.load(nbase + (<usize>j << 2))), f32x4.mul(two, v128.load(p)));
      v128.store(p, f32x4.max(s, zero));
    }
    for (; j < nb; j++) {
      const p = o + (<usize>j << 2);
      store<f32>(p, max<f32>(0, ni + load<f32>(nbase + (<usize>j << 2)) - 2 * load<f32>(p)));
    }
  }
}
