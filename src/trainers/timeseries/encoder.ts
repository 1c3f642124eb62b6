/**
 * The frozen encoder (ftnode's stand-in for Archetype's Omega encoder): window → feature vector.
 *   1. instance normalisation (default on): subtract each window's per-channel mean, because sensor
 *      levels drift over days and the held-out data is later in time than the training data: the
 *      head must learn shapes and relations, not "this level was seen on Monday";
 *   2. MiniRocket transform: fitted (fitRocket) on a seeded sample of ≤ 2,000 training windows,
 *      applied with getKernels().rocketTransform in batches of 256 windows;
 *   3. feature standardisation: mean/std of each feature over the training embeddings.
 * Everything fitted is stored in the checkpoint (checkpoint.ts); the same seed gives the same encoder.
 */
import { windowStats } from './few-shot.js';
import { fitRocket, getKernels, type RocketParams } from './numeric.js';
import { Rng, sampleIndices, STREAM } from './rng.js';
import type { WindowSet } from './windows.js';

/** 2,000 windows are plenty to place the MiniRocket biases (quantiles of the conv outputs). */
export const ROCKET_FIT_SAMPLE = 2000;
/** fitRocket's default feature count: 84 kernels × 119 biases. */
export const DEFAULT_NUM_FEATURES = 9996;
/** 256 windows × 40 channels × 128 steps = 5 MB of input per transform call. */
export const ENCODE_BATCH = 256;
/**
 * PPV features move in steps of 1/L (≈ 0.008 at L = 128): a std floor of 0.01 keeps a feature that
 * was almost constant in training from turning a one-step change into a huge standardized value.
 */
const MIN_FEATURE_STD = 0.01;

export interface FeatureStats {
  mean: Float32Array;
  std: Float32Array;
}

export interface EncoderParams {
  instanceNorm: boolean;
  /**
   * Window statistics (few-shot.ts windowStats: 3 per channel) instead of MiniRocket; `rocket` is
   * then empty but for nFeatures = 3·C, so every feature count below reads the same field.
   */
  windowStats?: boolean;
  rocket: RocketParams;
  /** null until fitted on the training embeddings. */
  features: FeatureStats | null;
}

/** Subtracts each window's per-channel mean in place; buf is [n, C, L]. */
export function instanceNormalize(buf: Float32Array, n: number, C: number, L: number): void {
  for (let r = 0; r < n * C; r++) {
    const base = r * L;
    let s = 0;
    for (let t = 0; t < L; t++) s += buf[base + t]!;
    const m = s / L;
    for (let t = 0; t < L; t++) buf[base + t] -= m;
  }
}

export function fitEncoderRocket(ws: WindowSet, seed: number, instanceNorm: boolean, numFeatures: number | null): RocketParams {
  const idx = sampleIndices(new Rng(seed, STREAM.rocketSample), ws.count, ROCKET_FIT_SAMPLE);
  const buf = ws.fill(idx, 0, idx.length);
  if (instanceNorm) instanceNormalize(buf, idx.length, ws.channels, ws.windowLen);
  return fitRocket(buf, idx.length, ws.channels, ws.windowLen, numFeatures ? { seed, numFeatures } : { seed });
}

/** The `rocket` of a window-statistics encoder: no kernels, 3 features per channel. */
export function statsRocket(nChannels: number, windowLen: number): RocketParams {
  const none = new Int32Array(0);
  return { nChannels, windowLen, kernelIndex: none, dilation: none, padding: none, channelOffsets: none, channelIndices: none, biasOffsets: none, biases: new Float32Array(0), nFeatures: 3 * nChannels };
}

/** Called between batches; returning true aborts (a stop arrived). */
export type BatchHook = (done: number, total: number) => Promise<boolean>;

/**
 * Raw (unstandardized) features of windows idx of ws → [n, F]; null when the hook aborted.
 * Yields to the event loop between batches through the hook so stop messages get read.
 */
export async function transformWindows(ws: WindowSet, idx: ArrayLike<number>, enc: EncoderParams, hook?: BatchHook, batch = ENCODE_BATCH): Promise<Float32Array | null> {
  const k = getKernels();
  const F = enc.rocket.nFeatures;
  const n = idx.length;
  const out = new Float32Array(n * F);
  const buf = new Float32Array(batch * ws.channels * ws.windowLen);
  for (let from = 0; from < n; from += batch) {
    if (hook && (await hook(from, n))) return null;
    const to = Math.min(n, from + batch);
    const x = ws.fill(idx, from, to, buf);
    if (enc.windowStats) {
      out.set(windowStats(x, to - from, ws.channels, ws.windowLen), from * F);
      continue;
    }
    if (enc.instanceNorm) instanceNormalize(x, to - from, ws.channels, ws.windowLen);
    out.set(k.rocketTransform(enc.rocket, x, to - from), from * F);
  }
  return out;
}

export function fitFeatureStats(x: Float32Array, n: number, F: number): FeatureStats {
  const sum = new Float64Array(F);
  const sq = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    const row = i * F;
    for (let f = 0; f < F; f++) {
      const v = x[row + f]!;
      sum[f] += v;
      sq[f] += v * v;
    }
  }
  const mean = new Float32Array(F);
  const std = new Float32Array(F);
  for (let f = 0; f < F; f++) {
    const m = sum[f]! / Math.max(1, n);
    mean[f] = m;
    std[f] = Math.max(MIN_FEATURE_STD, Math.sqrt(Math.max(0, sq[f]! / Math.max(1, n) - m * m)));
  }
  return { mean, std };
}

/** In place: (x − mean) / std per feature. */
export function standardize(x: Float32Array, n: number, stats: FeatureStats): void {
  const F = stats.mean.length;
  for (let i = 0; i < n; i++) {
    const row = i * F;
    for (let f = 0; f < F; f++) x[row + f] = (x[row + f]! - stats.mean[f]!) / stats.std[f]!;
  }
}

/** Standardized embeddings of windows idx (features must be fitted); null when aborted. */
export async function embedWindows(ws: WindowSet, idx: ArrayLike<number>, enc: EncoderParams, hook?: BatchHook, batch = ENCODE_BATCH): Promise<Float32Array | null> {
  if (!enc.features) throw new Error('encoder feature statistics are not fitted');
  const x = await transformWindows(ws, idx, enc, hook, batch);
  if (x) standardize(x, idx.length, enc.features);
  return x;
}
