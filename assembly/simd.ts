// Small SIMD helpers shared by the kernels (inlined by the compiler).

/** Sum of the four lanes of an f32x4. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)
    + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Sum of the four lanes of an i32x4. */
// @ts-ignore: decorator
@inline export function hsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1)
    + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** Dot product of two f32 rows of length len (two accumulators to hide the add latency). */
export function dot(a: usize, b: usize, len: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= len; k += 8) {
    const off = <usize>k << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + off), v128.load(b + off)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + off, 16), v128.load(b + off, 16)));
  }
  for (; k + 4 <= len; k += 4) {
    const off = <usize>k << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; k < len; k++) {
    const off = <usize>k << 2;
    s += load<f32>(a + off) * load<f32>(b + off);
  }
  return s;
}
