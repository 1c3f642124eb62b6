/**
 * Seeded randomness for the time-series trainer: every random choice (rocket sample, weight init,
 * mini-batch order) comes from a stream of `spec.seed` here, so a run is reproducible. The generator
 * is src/lib/prng.ts's Rng (mulberry32 on mixSeed(seed, stream)); this file names the streams.
 */
import { Rng } from '../../lib/prng.js';

export { Rng };

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
