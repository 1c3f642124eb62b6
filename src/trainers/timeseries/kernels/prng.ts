/**
 * Seeded deterministic PRNG for fitting the transform: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 128-bit state, passes PractRand to 2⁴⁰+ bytes) seeded through splitmix32, so
 * nearby seeds (0, 1, 2…) give unrelated streams. Same seed → same sequence on every platform:
 * only 32-bit integer arithmetic (Math.imul, >>> 0).
 */

export interface Rng {
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

export function createRng(seed: number): Rng {
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
