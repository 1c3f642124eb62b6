/**
 * The numeric kernel interface of the time-series trainer. Two implementations stand behind it:
 * `reference.ts` (plain TypeScript on Float32Array: the test oracle and the fallback) and
 * `wasm.ts` (AssemblyScript WebAssembly SIMD, built from assembly/ at install time).
 * Layouts are row-major Float32Array; shapes are given explicitly.
 */

/** MiniRocket-family transform parameters, fitted once on training windows (deterministic for a seed). */
export interface RocketParams {
  nChannels: number;
  windowLen: number;
  /** 84 kernels of length 9 (weights -1 and 2) × dilations; one entry per (kernel, dilation) feature group. */
  kernelIndex: Int32Array; // [nGroups]: which of the 84 kernels
  dilation: Int32Array; // [nGroups]
  padding: Int32Array; // [nGroups]: 0 or the 'same' padding for alternating groups
  channelOffsets: Int32Array; // [nGroups + 1]: ranges into channelIndices
  channelIndices: Int32Array; // channel subsets per group
  biasOffsets: Int32Array; // [nGroups + 1]: ranges into biases (one feature per bias)
  biases: Float32Array; // [nFeatures]
  nFeatures: number;
}

export interface Kernels {
  readonly name: 'reference' | 'wasm';
  /** windows: [n, nChannels, windowLen] → features [n, nFeatures] (proportion of positive values). */
  rocketTransform(params: RocketParams, windows: Float32Array, n: number): Float32Array;
  /** y = x·Wᵀ + b; x [n, d], W [k, d], b [k] → y [n, k]. */
  linearForward(x: Float32Array, n: number, d: number, w: Float32Array, b: Float32Array, k: number, out?: Float32Array): Float32Array;
  /**
   * One AdamW update for a dense layer from its input x [n, d] and output gradient dy [n, k]:
   * gW = dyᵀ·x / 1, gb = Σ dy; then m, v, w updated in place (bias-corrected with step t ≥ 1).
   * Optionally returns dx = dy·W [n, d] (computed from W before the update) when dxOut is given.
   */
  linearBackwardAdamW(
    x: Float32Array, dy: Float32Array, n: number, d: number, k: number,
    w: Float32Array, b: Float32Array, state: AdamState, opt: AdamOptions, dxOut?: Float32Array,
  ): void;
  /** Squared euclidean distances between rows of a [na, d] and b [nb, d] → [na, nb]. */
  sqDistances(a: Float32Array, na: number, b: Float32Array, nb: number, d: number): Float32Array;
  /** Dot products between rows → [na, nb] (cosine similarity when rows are unit length). */
  dots(a: Float32Array, na: number, b: Float32Array, nb: number, d: number): Float32Array;
  /**
   * The k nearest int8 references of each int16 query (knn-int8.ts): 1 − cosine similarity (rows
   * already unit length) or squared euclidean distances, nearest first, ties to the lower index.
   * Bit-equal across implementations (integer dot products, float32 steps in a fixed order).
   */
  knnTopKInt8(refs: Int8Refs, queries: Int16Queries, k: number, euclidean: boolean): TopK;
  /**
   * The same neighbours and distances as knnTopKInt8 (knn-pruned.ts): references whose PCA bound
   * proves them farther than the current k-th are never measured. seeds: k reference indices to
   * measure first for the first query (the previous call's last neighbours; −1 = none).
   */
  knnTopKInt8Pruned(refs: ProjectedRefs, queries: ProjectedQueries, k: number, euclidean: boolean, seeds?: Int32Array): PrunedTopK;
  /**
   * A zeroed Float32Array of `length` that the kernels read and write in place, without copying
   * (added with the wasm kernels). For the wasm kernels it lives in their WebAssembly memory (a
   * SharedArrayBuffer that never detaches); for the reference it is a plain array. Use it for
   * weights, Adam moments and reused batch buffers: with D=2000 a train step otherwise copies ~3.5 MB
   * in and out, about as long as the step itself. Never freed: allocate once per job, not per batch.
   */
  alloc(length: number): Float32Array;
}

export type { Int8Refs, Int16Queries, TopK } from './knn-int8.js';
import type { Int8Refs, Int16Queries, TopK } from './knn-int8.js';
export type { ProjectedQueries, ProjectedRefs, PrunedTopK } from './knn-pruned.js';
import type { ProjectedQueries, ProjectedRefs, PrunedTopK } from './knn-pruned.js';

export interface AdamState {
  mW: Float32Array;
  vW: Float32Array;
  mb: Float32Array;
  vb: Float32Array;
  t: number; // incremented by the caller before each update
}

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number; // decoupled (AdamW); not applied to biases
}
