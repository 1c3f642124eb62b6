// The MiniRocket-style transform with shared sums (Dempster et al. 2021): per window the padded
// signal X and G = 3·X are built once per channel; per dilation d, A = −Σ₉ X(t + (j−4)·d) once per
// channel; a (kernel, dilation, channel subset) group is then C(t) = Σ_c A_c(t) + G_c(t+o0) +
// G_c(t+o1) + G_c(t+o2) — 4 loads + 4 adds per channel and 4 time steps instead of 9 multiply-adds
// per step. PPV pooling counts C > bias with f32x4 compares (a true lane is −1, so subtracting the
// mask adds 1), four biases per pass over C. No allocation: all buffers live in `work` (host-owned).
import { hsumI } from "./simd";

// Group record: 10 i32 per (kernel, dilation) group, sorted by dilation by the host.
// [dilation, t0, t1 (output centres [t0, t1)), o0, o1, o2 (byte offsets (idx−4)·d·4 of the three
//  weight-2 taps), chanStart, chanCount (into chans), featStart, featCount (into biases / out row)]
const GROUP_BYTES: usize = 40;

/**
 * windows [n, nCh, L] → out [n, nFeat]. pmax = 4·(largest dilation). `biases` must have 3 readable
 * floats after nFeat (four biases are loaded per pass). work (workBytes in wasm-rocket.ts):
 * 4·(2·nCh·rowG + nCh·L4 + L4 + 4) bytes with L4 = L rounded up to 4, rowG = L4 + 2·pmax.
 */
export function rocketTransform(
  win: usize, n: i32, nCh: i32, L: i32, groups: usize, nGroups: i32, chans: usize,
  biases: usize, out: usize, nFeat: i32, work: usize, pmax: i32,
): void {
  const L4 = (L + 3) & ~3;
  const rowG = L4 + 2 * pmax;
  const rowGB = <usize>rowG << 2;
  const L4B = <usize>L4 << 2;
  const X = work;
  const G = X + <usize>nCh * rowGB;
  const A = G + <usize>nCh * rowGB;
  const conv = A + <usize>nCh * L4B;
  // The pads of X and G stay zero for every window: only [pmax, pmax + L) is rewritten.
  memory.fill(X, 0, <usize>nCh * rowGB * 2);
  const three = f32x4.splat(3);
  const padB = <usize>pmax << 2;
  for (let w = 0; w < n; w++) {
    const xw = win + <usize>w * <usize>nCh * (<usize>L << 2);
    for (let c = 0; c < nCh; c++) {
      const src = xw + <usize>c * (<usize>L << 2);
      const xr = X + <usize>c * rowGB + padB;
      const gr = G + <usize>c * rowGB + padB;
      memory.copy(xr, src, <usize>L << 2);
      let t = 0;
      for (; t + 4 <= L; t += 4) v128.store(gr + (<usize>t << 2), f32x4.mul(three, v128.load(src + (<usize>t << 2))));
      for (; t < L; t++) store<f32>(gr + (<usize>t << 2), 3 * load<f32>(src + (<usize>t << 2)));
    }
    const o = out + <usize>w * (<usize>nFeat << 2);
    let curD = -1;
    for (let g = 0; g < nGroups; g++) {
      const gp = groups + <usize>g * GROUP_BYTES;
      const d = load<i32>(gp);
      if (d != curD) {
        sharedAlpha(X, A, nCh, rowGB, L4, padB, d);
        curD = d;
      }
      const len = convolve(gp, A, G, L4B, rowGB, padB, chans, conv);
      ppv(conv, len, biases + (<usize>load<i32>(gp, 32) << 2), load<i32>(gp, 36), o + (<usize>load<i32>(gp, 32) << 2));
    }
  }
}

/** A_c(t) = −Σ_{j=−4..4} X_c(t + j·d) for every channel and t ∈ [0, L4). */
function sharedAlpha(X: usize, A: usize, nCh: i32, rowGB: usize, L4: i32, padB: usize, d: i32): void {
  const dd = <usize>d << 2;
  const zero = f32x4.splat(0);
  for (let c = 0; c < nCh; c++) {
    const xr = X + <usize>c * rowGB + padB;
    const ar = A + <usize>c * (<usize>L4 << 2);
    for (let t = 0; t < L4; t += 4) {
      const p = xr + (<usize>t << 2);
      const s0 = f32x4.add(v128.load(p - 4 * dd), v128.load(p - 3 * dd));
      const s1 = f32x4.add(v128.load(p - 2 * dd), v128.load(p - dd));
      const s2 = f32x4.add(v128.load(p), v128.load(p + dd));
      const s3 = f32x4.add(v128.load(p + 2 * dd), v128.load(p + 3 * dd));
      const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), v128.load(p + 4 * dd));
      v128.store(ar + (<usize>t << 2), f32x4.sub(zero, s));
    }
  }
}

/** C(t) for t ∈ [t0, t1) into conv[0, len), padded with −∞ up to a multiple of 4; returns len. */
function convolve(gp: usize, A: usize, G: usize, L4B: usize, rowGB: usize, padB: usize, chans: usize, conv: usize): i32 {
  const t0 = load<i32>(gp, 4), t1 = load<i32>(gp, 8);
  const cs = load<i32>(gp, 24), cc = load<i32>(gp, 28);
  const len = t1 - t0;
  const lenB = <usize>((len + 3) & ~3) << 2;
  // Row bases of channel q: A row at aBase + c·L4B, G row (centre t0, before the tap offset) at
  // gBase + c·rowGB. Channels go three at a time (12 loads in flight, conv written once per three)
  // instead of one at a time (conv read and written per channel: 11 instead of ~9 ops per vector).
  const aBase = A + (<usize>t0 << 2), gBase = G + padB + (<usize>t0 << 2);
  const o0 = <usize>load<i32>(gp, 12), o1 = <usize>load<i32>(gp, 16), o2 = <usize>load<i32>(gp, 20);
  const ch = chans + (<usize>cs << 2);
  let q = 0;
  while (q < cc) {
    const m = min(cc - q, 3);
    const c0 = <usize>load<i32>(ch + (<usize>q << 2));
    const a0 = aBase + c0 * L4B, g0 = gBase + c0 * rowGB;
    if (m == 1) {
      if (q == 0) {
        for (let p: usize = 0; p < lenB; p += 16) v128.store(conv + p, chan(a0, g0, o0, o1, o2, p));
      } else {
        for (let p: usize = 0; p < lenB; p += 16) v128.store(conv + p, f32x4.add(v128.load(conv + p), chan(a0, g0, o0, o1, o2, p)));
      }
    } else {
      const c1 = <usize>load<i32>(ch + (<usize>(q + 1) << 2));
      const a1 = aBase + c1 * L4B, g1 = gBase + c1 * rowGB;
      if (m == 2) {
        if (q == 0) {
          for (let p: usize = 0; p < lenB; p += 16) {
            v128.store(conv + p, f32x4.add(chan(a0, g0, o0, o1, o2, p), chan(a1, g1, o0, o1, o2, p)));
          }
        } else {
          for (let p: usize = 0; p < lenB; p += 16) {
            const s = f32x4.add(chan(a0, g0, o0, o1, o2, p), chan(a1, g1, o0, o1, o2, p));
            v128.store(conv + p, f32x4.add(v128.load(conv + p), s));
          }
        }
      } else {
        const c2 = <usize>load<i32>(ch + (<usize>(q + 2) << 2));
        const a2 = aBase + c2 * L4B, g2 = gBase + c2 * rowGB;
        if (q == 0) {
          for (let p: usize = 0; p < lenB; p += 16) {
            const s = f32x4.add(chan(a0, g0, o0, o1, o2, p), chan(a1, g1, o0, o1, o2, p));
            v128.store(conv + p, f32x4.add(s, chan(a2, g2, o0, o1, o2, p)));
          }
        } else {
          for (let p: usize = 0; p < lenB; p += 16) {
            const s = f32x4.add(chan(a0, g0, o0, o1, o2, p), chan(a1, g1, o0, o1, o2, p));
            v128.store(conv + p, f32x4.add(v128.load(conv + p), f32x4.add(s, chan(a2, g2, o0, o1, o2, p))));
          }
        }
      }
    }
    q += m;
  }
  for (let t = len; t < ((len + 3) & ~3); t++) store<f32>(conv + (<usize>t << 2), -Infinity);
  return len;
}

/** One channel's share of 4 outputs: A(t) + G(t+o0) + G(t+o1) + G(t+o2). */
// @ts-ignore: decorator
@inline function chan(a: usize, g: usize, o0: usize, o1: usize, o2: usize, p: usize): v128 {
  const gp = g + p;
  return f32x4.add(f32x4.add(v128.load(a + p), v128.load(gp + o0)), f32x4.add(v128.load(gp + o1), v128.load(gp + o2)));
}

/** out[f] = #{t : conv[t] > bias[f]} / len for f < nf; four biases per pass over conv. */
function ppv(conv: usize, len: i32, bias: usize, nf: i32, out: usize): void {
  const lenB = <usize>((len + 3) & ~3) << 2;
  // count / len (not count · (1/len)) so equal counts give the reference's value bit for bit.
  const fl = <f32>len;
  for (let f = 0; f < nf; f += 4) {
    const fb = bias + (<usize>f << 2);
    const b0 = f32x4.splat(load<f32>(fb)), b1 = f32x4.splat(load<f32>(fb, 4));
    const b2 = f32x4.splat(load<f32>(fb, 8)), b3 = f32x4.splat(load<f32>(fb, 12));
    let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
    for (let p: usize = 0; p < lenB; p += 16) {
      const v = v128.load(conv + p);
      c0 = i32x4.sub(c0, f32x4.gt(v, b0));
      c1 = i32x4.sub(c1, f32x4.gt(v, b1));
      c2 = i32x4.sub(c2, f32x4.gt(v, b2));
      c3 = i32x4.sub(c3, f32x4.gt(v, b3));
    }
    const ob = out + (<usize>f << 2);
    store<f32>(ob, <f32>hsumI(c0) / fl);
    if (f + 1 < nf) store<f32>(ob, <f32>hsumI(c1) / fl, 4);
    if (f + 2 < nf) store<f32>(ob, <f32>hsumI(c2) / fl, 8);
    if (f + 3 < nf) store<f32>(ob, <f32>hsumI(c3) / fl, 12);
  }
}
