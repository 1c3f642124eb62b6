/**
 * Every seeded pseudo-random generator of the project, in one place. Not for anything cryptographic.
 * - mulberry32 (32-bit state, period 2^32): shuffles, samples and weight inits of both built-in
 *   trainers and the benches; `Rng` is mulberry32 seeded by `mixSeed(seed, stream)` so that nearby
 *   seeds and different streams (rocket sample, init, each epoch's shuffle) give unrelated sequences.
 * - sfc32 (128-bit state, passes PractRand to 2^40+ bytes), seeded through splitmix32: the transform
 *   fit of the time-series kernels, where a checkpoint's features depend on every draw.
 * Outputs are fixed: a changed sequence changes every trained model and checkpoint, so
 * src/lib/prng.test.ts pins the first values of each generator for known seeds. Only 32-bit integer
 * arithmetic (Math.imul, >>> 0): the same seed gives the same sequence on every platform.
 */

/** Uniform floats in [0, 1) from mulberry32 with this 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed with a stream number (epoch, purpose) into a well-spread 32-bit seed (murmur3 fmix32). */
export function mixSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32 on stream `stream` of `seed`, with the draws the trainers use. */
export class Rng {
  private readonly draw: () => number;

  constructor(seed: number, stream = 0) {
    this.draw = mulberry32(mixSeed(Math.trunc(seed), stream));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.draw() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.draw();
    const v = this.draw();
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

/** The draws of an sfc32 stream. */
export interface Sfc32 {
  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** k distinct integers drawn from [0, n), in draw order (partial Fisher–Yates). */
  sample(n: number, k: number): number[];
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) seeded from any safe integer. */
export function sfc32(seed: number): Sfc32 {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // Fold both 32-bit halves of the seed (negative seeds included) into the splitmix state.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const sm = { s: (lo ^ Math.imul(hi, 0x27d4eb2d)) >>> 0 };
  let a = splitmix32(sm), b = splitmix32(sm), c = splitmix32(sm), d = splitmix32(sm);
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // discard the first outputs, as the sfc32 reference does
  const float = (): number => next() / 4294967296;
  const int = (n: number): number => Math.floor(float() * n);
  const sample = (n: number, k: number): number[] => {
    if (k > n) throw new RangeError(`cannot draw ${k} distinct values from ${n}`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + int(n - i);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  };
  return { float, int, sample };
}
