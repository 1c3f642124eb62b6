/**
 * The few-shot classifier a batch job builds from its `worker.n_shots` files when it has no
 * checkpoint (one labelled reference file per class, ~2,000 rows each). Not MiniRocket + knn: on
 * SWaT that scored macro-F1 0.24 at best on the next split, because the attacks met later (a plant
 * shut-down: flat windows, levels 1.4 z away) look like neither reference file, and instance-normalised
 * MiniRocket features of a flat window are all alike. What replaced it (docs/benchmarks-swat.md,
 * "Few-shot"):
 *  - window statistics per channel: mean, log(std + 0.01), log(mean |Δx| + 0.01) (3·C features;
 *    0.01 is ~1 % of a z-scored channel's spread, so a flat window's log does not run to −∞);
 *  - standardised with the mean and std of the REFERENCE windows only (std floored at 0.5: a channel
 *    constant in both reference files must not turn a 0.01 change into a 100-z distance);
 *  - class-scaled nearest neighbours: for class c, d_c(x) = distance from x to its n_neighbors-th
 *    nearest reference window of class c (cosine or euclidean), divided by class c's own scale: the
 *    median, over c's reference windows, of the same distance to the other windows of c. The class
 *    with the smallest d_c / scale_c wins; probabilities ∝ 1 / ratio. A window unlike every
 *    reference goes to the class whose references are the more varied, which on SWaT is the attack
 *    file — plain knn sent it to the other class (attack recall 0).
 * Fitted on the reference files only; nothing is fitted on the files being classified.
 */
import type { Tensor } from './checkpoint.js';
import type { KnnSettings } from './config.js';
import type { WindowSet } from './windows.js';

/** Inside the logs: ~1 % of a z-scored channel's spread. */
const LOG_EPS = 0.01;
/** Std floor of the feature standardisation (SWaT tune median over the grid: 0.05 → 0.69, 0.3 → 0.72, 0.5 → 0.76, 0.7 → 0.69). */
const MIN_FEATURE_STD = 0.5;
/** Query windows per distance pass: 256 × 1,000 references × 8 bytes = 2 MB. */
const QUERY_CHUNK = 256;

export interface FewShotModel {
  settings: KnnSettings;
  nChannels: number;
  windowLen: number;
  nClasses: number;
  /** Per-feature standardisation from the reference windows, [3·C] each. */
  featMean: Float32Array;
  featStd: Float32Array;
  /** Standardised reference features [n, 3·C] (L2-normalised for cosine) and their classes. */
  refs: Float32Array;
  labels: Int32Array;
  n: number;
  /** Per class: the median k-th-neighbour distance among its own references. */
  scale: Float32Array;
}

/** Window statistics [n, 3·C] of a [n, C, L] buffer: means, then log stds, then log mean |Δ|. */
export function windowStats(buf: Float32Array, n: number, C: number, L: number): Float32Array {
  const out = new Float32Array(n * 3 * C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const base = (i * C + c) * L;
      let s = 0;
      for (let t = 0; t < L; t++) s += buf[base + t]!;
      const m = s / L;
      let v = 0;
      let d = 0;
      for (let t = 0; t < L; t++) v += (buf[base + t]! - m) ** 2;
      for (let t = 1; t < L; t++) d += Math.abs(buf[base + t]! - buf[base + t - 1]!);
      const row = i * 3 * C;
      out[row + c] = m;
      out[row + C + c] = Math.log(Math.sqrt(v / L) + LOG_EPS);
      out[row + 2 * C + c] = Math.log(d / (L - 1) + LOG_EPS);
    }
  }
  return out;
}

function featuresOf(ws: WindowSet, idx: ArrayLike<number>, from: number, to: number): Float32Array {
  return windowStats(ws.fill(idx, from, to), to - from, ws.channels, ws.windowLen);
}

function standardizeRows(x: Float32Array, n: number, mean: Float32Array, std: Float32Array, cosine: boolean): void {
  const d = mean.length;
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let f = 0; f < d; f++) {
      const v = (x[i * d + f]! - mean[f]!) / std[f]!;
      x[i * d + f] = v;
      ss += v * v;
    }
    if (cosine && ss > 0) for (let f = 0, inv = 1 / Math.sqrt(ss); f < d; f++) x[i * d + f] *= inv;
  }
}

/** Distance of query row q of Q to reference row j (rows already normalised for cosine). */
function distance(Q: Float32Array, q: number, R: Float32Array, j: number, d: number, cosine: boolean): number {
  let acc = 0;
  if (cosine) {
    for (let f = 0; f < d; f++) acc += Q[q * d + f]! * R[j * d + f]!;
    return Math.max(0, 1 - acc);
  }
  for (let f = 0; f < d; f++) acc += (Q[q * d + f]! - R[j * d + f]!) ** 2;
  return Math.sqrt(acc);
}

/**
 * Per class, the k-th smallest distance from query q to that class's references (skipping reference
 * `skip`, the query itself when scoring the references); Infinity when the class has fewer than k.
 */
function kthPerClass(m: Pick<FewShotModel, 'refs' | 'labels' | 'n' | 'nClasses' | 'settings'>, d: number, Q: Float32Array, q: number, skip: number, best: Float64Array[]): Float64Array {
  const k = m.settings.nNeighbors;
  const cosine = m.settings.metric === 'cosine';
  for (const b of best) b.fill(Infinity);
  for (let j = 0; j < m.n; j++) {
    if (j === skip) continue;
    const b = best[m.labels[j]!]!;
    const dist = distance(Q, q, m.refs, j, d, cosine);
    if (dist >= b[k - 1]!) continue;
    let p = k - 1;
    while (p > 0 && b[p - 1]! > dist) (b[p] = b[p - 1]!), p--;
    b[p] = dist;
  }
  return Float64Array.from(best, (b) => b[k - 1]!);
}

/** Fits the few-shot model on the reference windows ws (labels y, class ids 0..nClasses−1). */
export function fitFewShot(ws: WindowSet, y: Int32Array, nClasses: number, settings: KnnSettings): FewShotModel {
  const n = ws.count;
  const C = ws.channels;
  const d = 3 * C;
  const all = new Int32Array(n).map((_, i) => i);
  const refs = new Float32Array(n * d);
  for (let from = 0; from < n; from += QUERY_CHUNK) refs.set(featuresOf(ws, all, from, Math.min(n, from + QUERY_CHUNK)), from * d);
  const featMean = new Float32Array(d);
  const featStd = new Float32Array(d);
  for (let f = 0; f < d; f++) {
    let s = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) (s += refs[i * d + f]!), (sq += refs[i * d + f]! ** 2);
    const mean = s / n;
    featMean[f] = mean;
    featStd[f] = Math.max(MIN_FEATURE_STD, Math.sqrt(Math.max(0, sq / n - mean * mean)));
  }
  const cosine = settings.metric === 'cosine';
  standardizeRows(refs, n, featMean, featStd, cosine);
  const base = { refs, labels: y, n, nClasses, settings };
  const best = Array.from({ length: nClasses }, () => new Float64Array(settings.nNeighbors));
  const own: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const v = kthPerClass(base, d, refs, i, i, best)[y[i]!]!;
    if (Number.isFinite(v)) own[y[i]!]!.push(v);
  }
  const scale = Float32Array.from(own, (v) => Math.max(1e-12, median(v)));
  return { ...base, nChannels: C, windowLen: ws.windowLen, featMean, featStd, scale };
}

function median(v: number[]): number {
  if (v.length === 0) return 1;
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Class probabilities [n, K] of windows idx of ws (channel-normalised with the model's stats). */
export function fewShotProba(m: FewShotModel, ws: WindowSet, idx: ArrayLike<number>): Float32Array {
  const K = m.nClasses;
  const d = 3 * m.nChannels;
  const n = idx.length;
  const out = new Float32Array(n * K);
  const best = Array.from({ length: K }, () => new Float64Array(m.settings.nNeighbors));
  for (let from = 0; from < n; from += QUERY_CHUNK) {
    const to = Math.min(n, from + QUERY_CHUNK);
    const q = featuresOf(ws, idx, from, to);
    standardizeRows(q, to - from, m.featMean, m.featStd, m.settings.metric === 'cosine');
    for (let i = 0; i < to - from; i++) {
      const kth = kthPerClass(m, d, q, i, -1, best);
      const row = out.subarray((from + i) * K, (from + i + 1) * K);
      let total = 0;
      for (let c = 0; c < K; c++) {
        // 1 / ratio; a class without k references gets no vote; an exact match takes it all.
        const r = kth[c]! / m.scale[c]!;
        row[c] = Number.isFinite(r) ? 1 / Math.max(r, 1e-12) : 0;
        total += row[c]!;
      }
      for (let c = 0; c < K; c++) row[c] = total > 0 ? row[c]! / total : 1 / K;
    }
  }
  return out;
}

/** Header entry of a serialized model (model.ts); the arrays go into tensors as few_shot_*. */
export function fewShotMeta(m: FewShotModel, tensors: Record<string, Tensor>): Record<string, unknown> {
  Object.assign(tensors, { few_shot_feat_mean: m.featMean, few_shot_feat_std: m.featStd, few_shot_refs: m.refs, few_shot_labels: m.labels, few_shot_scale: m.scale });
  return { settings: m.settings, n_channels: m.nChannels, window_len: m.windowLen, n_classes: m.nClasses, n: m.n };
}

export function fewShotFromMeta(meta: Record<string, unknown>, tensors: Record<string, Tensor>): FewShotModel {
  const f32 = (name: string): Float32Array => {
    const v = tensors[name];
    if (!(v instanceof Float32Array)) throw new Error(`serialized few-shot model lacks f32 tensor ${name}`);
    return v;
  };
  const labels = tensors.few_shot_labels;
  if (!(labels instanceof Int32Array)) throw new Error('serialized few-shot model lacks i32 tensor few_shot_labels');
  return {
    settings: meta.settings as KnnSettings, nChannels: meta.n_channels as number, windowLen: meta.window_len as number, nClasses: meta.n_classes as number, n: meta.n as number,
    featMean: f32('few_shot_feat_mean'), featStd: f32('few_shot_feat_std'), refs: f32('few_shot_refs'), labels, scale: f32('few_shot_scale'),
  };
}
