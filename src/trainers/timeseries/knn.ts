/**
 * The knn method: the training embeddings and their labels are the model (no gradient training).
 * Rows are L2-normalised when normalize_embeddings is set or the metric is cosine (cosine similarity
 * is then a dot product). Distances: cosine → 1 − a·b (kernels.dots); euclidean → √‖a−b‖²
 * (kernels.sqDistances). Votes: uniform, or 1/distance as scikit-learn ("distance"; an exact match
 * takes the whole vote). Probabilities are the normalised votes.
 */
import type { KnnSettings } from './config.js';
import { getKernels } from './numeric.js';

export interface KnnModel {
  settings: KnnSettings;
  dim: number;
  n: number;
  nClasses: number;
  /** [n, dim], already normalised when the settings say so. */
  embeddings: Float32Array;
  labels: Int32Array;
}

/** 256 queries × 40k references × 4 bytes = 40 MB of distances per chunk. */
const QUERY_CHUNK = 256;

export function l2NormalizeRows(x: Float32Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let q = 0; q < d; q++) s += x[i * d + q]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let q = 0; q < d; q++) x[i * d + q] *= inv;
  }
}

export function normalizes(s: KnnSettings): boolean {
  return s.normalizeEmbeddings || s.metric === 'cosine';
}

export function buildKnn(settings: KnnSettings, embeddings: Float32Array, n: number, dim: number, labels: Int32Array, nClasses: number): KnnModel {
  if (normalizes(settings)) l2NormalizeRows(embeddings, n, dim);
  return { settings, dim, n, nClasses, embeddings, labels };
}

/** Class probabilities [nq, K] for standardized query embeddings (normalised here when needed). */
export function knnProba(m: KnnModel, queries: Float32Array, nq: number): Float32Array {
  const d = m.dim;
  const q = queries.slice(0, nq * d);
  if (normalizes(m.settings)) l2NormalizeRows(q, nq, d);
  const k = getKernels();
  const K = m.nClasses;
  const kk = Math.min(m.settings.nNeighbors, m.n);
  const out = new Float32Array(nq * K);
  const bestD = new Float64Array(kk);
  const bestI = new Int32Array(kk);
  for (let from = 0; from < nq; from += QUERY_CHUNK) {
    const to = Math.min(nq, from + QUERY_CHUNK);
    const chunk = q.subarray(from * d, to * d);
    const cos = m.settings.metric === 'cosine';
    const raw = cos ? k.dots(chunk, to - from, m.embeddings, m.n, d) : k.sqDistances(chunk, to - from, m.embeddings, m.n, d);
    for (let i = 0; i < to - from; i++) {
      bestD.fill(Infinity);
      bestI.fill(-1);
      const row = i * m.n;
      for (let j = 0; j < m.n; j++) {
        const dist = cos ? 1 - raw[row + j]! : Math.sqrt(Math.max(0, raw[row + j]!));
        if (dist >= bestD[kk - 1]!) continue;
        let p = kk - 1; // insertion into the sorted top-k; ties keep the earlier reference (stable)
        while (p > 0 && bestD[p - 1]! > dist) {
          bestD[p] = bestD[p - 1]!;
          bestI[p] = bestI[p - 1]!;
          p--;
        }
        bestD[p] = dist;
        bestI[p] = j;
      }
      vote(m, bestD, bestI, out.subarray((from + i) * K, (from + i + 1) * K));
    }
  }
  return out;
}

function vote(m: KnnModel, dist: Float64Array, idx: Int32Array, out: Float32Array): void {
  const exact = m.settings.weights === 'distance' && dist[0]! <= 1e-12;
  let total = 0;
  for (let r = 0; r < idx.length; r++) {
    if (idx[r]! < 0) continue;
    let w = 1;
    if (m.settings.weights === 'distance') w = exact ? (dist[r]! <= 1e-12 ? 1 : 0) : 1 / dist[r]!;
    out[m.labels[idx[r]!]!] += w;
    total += w;
  }
  if (total > 0) for (let c = 0; c < out.length; c++) out[c] /= total;
}
