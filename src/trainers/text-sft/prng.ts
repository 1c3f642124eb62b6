/**
 * Seeded randomness for the text-sft trainer: mulberry32 (32-bit state, period 2^32, plenty for
 * shuffling a few thousand indices) and the per-epoch shuffles derived from it. Everything random in
 * training comes from here, so a (seed, epoch) pair always gives the same order; that is what lets
 * resume skip consumed batches deterministically.
 */

import { mulberry32 } from '../../lib/prng.js';

export { mulberry32 };

/** Mixes a seed with a stream number (epoch, purpose) into a well-spread 32-bit seed (murmur3 fmix32). */
export function mixSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A Fisher-Yates permutation of 0..n-1 drawn from `seed`. */
export function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** The order in which epoch `epoch` (0-based) visits the training examples. */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  return permutation(n, mixSeed(seed, 1000 + epoch));
}
