/**
 * Seeded randomness for the text-sft trainer: the per-epoch shuffles, drawn from src/lib/prng.ts's
 * mulberry32 (32-bit state, period 2^32, plenty for shuffling a few million indices). Everything random in
 * training comes from here, so a (seed, epoch) pair always gives the same order; that is what lets
 * resume skip consumed batches deterministically.
 */

import { mixSeed, mulberry32 } from '../../lib/prng.js';

export { mixSeed, mulberry32 };

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
