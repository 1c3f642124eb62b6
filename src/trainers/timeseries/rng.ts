/**
 * Seeded pseudo-random numbers for the time-series trainer: every random choice (rocket sample,
 * weight init, mini-batch order) comes from here so a run is reproducible from `spec.seed`.
 * mulberry32: 32-bit state, period 2^32, good enough for shuffles and inits (not for crypto).
 */

export class Rng {
  private state: number;

  constructor(seed: number, stream = 0) {
    // Mix seed and stream through splitmix-style constants so nearby seeds give unrelated streams.
    let s = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}

/** Stream ids, so that e.g. the epoch-3 shuffle does not depend on how many inits came before. */
export const STREAM = { rocketSample: 1, rocketFit: 2, init: 3, shuffle: 100 } as const;

/** A permutation of 0..n-1 for one epoch; depends only on (seed, epoch), which makes resume exact. */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return new Rng(seed, STREAM.shuffle + epoch).shuffle(order);
}

/** k distinct indices from 0..n-1, sorted (k ≥ n returns all). */
export function sampleIndices(rng: Rng, n: number, k: number): Int32Array {
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.slice(0, k).sort();
}
