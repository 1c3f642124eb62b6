/**
 * mulberry32: a seeded PRNG with 32-bit state (period 2^32), returning floats in [0, 1). Plenty for
 * shuffling and sampling a few million indices reproducibly; not for anything cryptographic.
 */
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
