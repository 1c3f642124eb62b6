/**
 * The fixed parts of the MiniRocket-style transform shared by the fit, the reference and the wasm
 * driver: the 84 kernels (length 9, weight −1 everywhere and 2 at 3 of the 9 taps: C(9,3) = 84),
 * a group's output range, and the plain direct convolution (the oracle used by the reference and by
 * the bias fit). Convolution of a group: C(t) = Σ_c Σ_j w_j·x_c(t + (j−4)·d), x = 0 outside the
 * window; with padding p ∈ [0, 4d] the outputs are the centres t ∈ [4d − p, L − 4d + p).
 */
import type { RocketParams } from './api.js';

export const KERNEL_LENGTH = 9;
export const NUM_KERNELS = 84;

/** The three weight-2 taps of each kernel, lexicographic like itertools.combinations(range(9), 3). */
export const KERNEL_TAPS: ReadonlyArray<readonly [number, number, number]> = (() => {
  const out: Array<[number, number, number]> = [];
  for (let a = 0; a < 9; a++) for (let b = a + 1; b < 9; b++) for (let c = b + 1; c < 9; c++) out.push([a, b, c]);
  return out;
})();

/** Output centres [t0, t1) of a group with dilation d and padding p on a window of length L. */
export function outputRange(L: number, d: number, p: number): [number, number] {
  return [4 * d - p, L - 4 * d + p];
}

/**
 * Direct convolution of one window for one group into out[0, t1 − t0), in float64.
 * window: [nChannels, L] of one example (a subarray view is fine).
 */
export function convolveGroup(
  window: Float32Array, L: number, channels: ArrayLike<number>, kernel: number, d: number, p: number,
  out: Float64Array,
): number {
  const [t0, t1] = outputRange(L, d, p);
  const taps = KERNEL_TAPS[kernel]!;
  const weights = new Float64Array(KERNEL_LENGTH).fill(-1);
  for (const j of taps) weights[j] = 2;
  for (let t = t0; t < t1; t++) {
    let s = 0;
    for (let q = 0; q < channels.length; q++) {
      const base = channels[q]! * L;
      for (let j = 0; j < KERNEL_LENGTH; j++) {
        const u = t + (j - 4) * d;
        if (u >= 0 && u < L) s += weights[j]! * window[base + u]!;
      }
    }
    out[t - t0] = s;
  }
  return t1 - t0;
}

/** Throws when params are inconsistent (a corrupt checkpoint must not reach the wasm kernels). */
export function validateParams(p: RocketParams): void {
  const nGroups = p.kernelIndex.length;
  const fail = (why: string): never => { throw new RangeError(`invalid RocketParams: ${why}`); };
  if (p.dilation.length !== nGroups || p.padding.length !== nGroups) fail('group arrays differ in length');
  if (p.channelOffsets.length !== nGroups + 1 || p.biasOffsets.length !== nGroups + 1) fail('offset arrays');
  if (p.biases.length !== p.nFeatures || p.biasOffsets[nGroups] !== p.nFeatures) fail('nFeatures');
  if (p.channelOffsets[nGroups] !== p.channelIndices.length) fail('channelIndices length');
  for (let g = 0; g < nGroups; g++) {
    const k = p.kernelIndex[g]!, d = p.dilation[g]!, pad = p.padding[g]!;
    if (k < 0 || k >= NUM_KERNELS) fail(`kernelIndex[${g}] = ${k}`);
    if (d < 1 || pad < 0 || pad > 4 * d) fail(`dilation/padding of group ${g}`);
    const [t0, t1] = outputRange(p.windowLen, d, pad);
    if (t1 <= t0) fail(`group ${g} has no outputs for windowLen ${p.windowLen}`);
    if (p.channelOffsets[g + 1]! <= p.channelOffsets[g]!) fail(`group ${g} has no channels`);
    if (p.biasOffsets[g + 1]! < p.biasOffsets[g]!) fail(`biasOffsets not monotone at ${g}`);
  }
  for (const c of p.channelIndices) if (c < 0 || c >= p.nChannels) fail(`channel ${c} out of range`);
}
