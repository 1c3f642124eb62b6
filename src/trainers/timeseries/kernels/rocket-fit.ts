/**
 * Fits the MiniRocket-style transform (Dempster, Schmidt & Webb 2021, "MiniRocket", multivariate
 * variant) on training windows: dilations, features per dilation, channel subsets, padding and the
 * biases. Deterministic for a seed (sfc32, prng.ts). Follows the reference implementation:
 * - features per kernel = ⌊numFeatures / 84⌋; up to maxDilationsPerKernel dilations
 *   ⌊2^e⌋, e evenly spaced in [0, log2((L−1)/8)], duplicates merged, features split in proportion
 *   to the multiplicity and the remainder dealt round-robin from the smallest dilation;
 * - groups ordered dilation-major then kernel; padding alternates: 'same' (4d) when
 *   (dilationIndex + kernel) is even, none otherwise;
 * - channels per group ⌊2^U(0, log2(min(C, 9) + 1))⌋, drawn without replacement;
 * - biases: quantiles of the group's padded convolution of one random training window, at the
 *   low-discrepancy levels frac(i·φ), i = 1…nFeatures (φ the golden ratio), linear interpolation
 *   like numpy.quantile.
 */
import type { RocketParams } from './api.js';
import { createRng, type Rng } from './prng.js';
import { NUM_KERNELS, convolveGroup } from './rocket-spec.js';

export interface FitRocketOptions {
  seed: number;
  /** Rounded down to a multiple of 84; default 9996 (= 84 · 119). */
  numFeatures?: number;
  /** Default 32, as in MiniRocket. */
  maxDilationsPerKernel?: number;
}

const GOLDEN = (Math.sqrt(5) + 1) / 2;

/** Distinct dilations and the features each gets (per kernel). */
export function fitDilations(windowLen: number, featuresPerKernel: number, maxDilations: number): { dilations: number[]; counts: number[] } {
  const trueMax = Math.min(featuresPerKernel, maxDilations);
  const multiplier = featuresPerKernel / trueMax;
  // Windows shorter than 9 have only dilation 1 (and every group padded, see fitRocket).
  const maxExponent = Math.log2(Math.max(windowLen - 1, 8) / 8);
  const dilations: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < trueMax; i++) {
    const e = trueMax === 1 ? 0 : (maxExponent * i) / (trueMax - 1);
    const d = Math.floor(2 ** e);
    if (dilations[dilations.length - 1] === d) counts[counts.length - 1]!++;
    else { dilations.push(d); counts.push(1); }
  }
  const perDilation = counts.map((c) => Math.floor(c * multiplier));
  let remainder = featuresPerKernel - perDilation.reduce((s, v) => s + v, 0);
  for (let i = 0; remainder > 0; i = (i + 1) % perDilation.length, remainder--) perDilation[i]!++;
  return { dilations, counts: perDilation };
}

/** windows: [n, nChannels, windowLen] training windows. */
export function fitRocket(
  windows: Float32Array, n: number, nChannels: number, windowLen: number, opts: FitRocketOptions,
): RocketParams {
  if (!(n >= 1 && nChannels >= 1 && windowLen >= 1)) throw new RangeError(`bad shape n=${n} C=${nChannels} L=${windowLen}`);
  if (windows.length !== n * nChannels * windowLen) throw new RangeError(`windows has ${windows.length} values, expected ${n * nChannels * windowLen}`);
  const featuresPerKernel = Math.floor((opts.numFeatures ?? 9996) / NUM_KERNELS);
  if (featuresPerKernel < 1) throw new RangeError(`numFeatures must be at least ${NUM_KERNELS}`);
  const maxDilations = Math.max(1, Math.floor(opts.maxDilationsPerKernel ?? 32));
  const { dilations, counts } = fitDilations(windowLen, featuresPerKernel, maxDilations);
  const rng = createRng(opts.seed);

  const nGroups = dilations.length * NUM_KERNELS;
  const kernelIndex = new Int32Array(nGroups), dilation = new Int32Array(nGroups), padding = new Int32Array(nGroups);
  const biasOffsets = new Int32Array(nGroups + 1);
  for (let di = 0, g = 0; di < dilations.length; di++) {
    for (let k = 0; k < NUM_KERNELS; k++, g++) {
      const d = dilations[di]!;
      kernelIndex[g] = k;
      dilation[g] = d;
      // Unpadded groups need at least one valid centre (L − 8d ≥ 1); shorter windows pad all.
      padding[g] = (di + k) % 2 === 0 || windowLen - 8 * d < 1 ? 4 * d : 0;
      biasOffsets[g + 1] = biasOffsets[g]! + counts[di]!;
    }
  }
  const { channelOffsets, channelIndices } = drawChannels(rng, nGroups, nChannels);
  const nFeatures = biasOffsets[nGroups]!;
  const biases = fitBiases(rng, windows, n, nChannels, windowLen,
    { kernelIndex, dilation, channelOffsets, channelIndices, biasOffsets }, nFeatures);
  return { nChannels, windowLen, kernelIndex, dilation, padding, channelOffsets, channelIndices, biasOffsets, biases, nFeatures };
}

function drawChannels(rng: Rng, nGroups: number, nChannels: number): { channelOffsets: Int32Array; channelIndices: Int32Array } {
  const maxExponent = Math.log2(Math.min(nChannels, 9) + 1);
  const sizes: number[] = [];
  for (let g = 0; g < nGroups; g++) sizes.push(Math.min(nChannels, Math.floor(2 ** (rng.float() * maxExponent))));
  const channelOffsets = new Int32Array(nGroups + 1);
  for (let g = 0; g < nGroups; g++) channelOffsets[g + 1] = channelOffsets[g]! + sizes[g]!;
  const channelIndices = new Int32Array(channelOffsets[nGroups]!);
  for (let g = 0; g < nGroups; g++) {
    // Sorted within a group: the sum is order-free, and ascending rows read memory forward.
    const chosen = rng.sample(nChannels, sizes[g]!).sort((a, b) => a - b);
    channelIndices.set(chosen, channelOffsets[g]!);
  }
  return { channelOffsets, channelIndices };
}

function fitBiases(
  rng: Rng, windows: Float32Array, n: number, nChannels: number, L: number,
  g: Pick<RocketParams, 'kernelIndex' | 'dilation' | 'channelOffsets' | 'channelIndices' | 'biasOffsets'>,
  nFeatures: number,
): Float32Array {
  const biases = new Float32Array(nFeatures);
  const conv = new Float64Array(L);
  const stride = nChannels * L;
  for (let gi = 0; gi < g.kernelIndex.length; gi++) {
    const w = rng.int(n);
    const d = g.dilation[gi]!;
    const channels = g.channelIndices.subarray(g.channelOffsets[gi]!, g.channelOffsets[gi + 1]!);
    const window = windows.subarray(w * stride, (w + 1) * stride);
    // Biases come from the padded ('same') output whatever the group's padding, as in MiniRocket.
    const len = convolveGroup(window, L, channels, g.kernelIndex[gi]!, d, 4 * d, conv);
    const sorted = conv.slice(0, len).sort();
    for (let f = g.biasOffsets[gi]!; f < g.biasOffsets[gi + 1]!; f++) {
      biases[f] = quantile(sorted, ((f + 1) * GOLDEN) % 1);
    }
  }
  return biases;
}

/** numpy.quantile(method='linear') of ascending values at level q ∈ [0, 1). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
