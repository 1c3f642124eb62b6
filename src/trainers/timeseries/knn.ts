/**
 * The knn method: the training embeddings and their labels are the model (no gradient training).
 * Rows are L2-normalised when normalize_embeddings is set or the metric is cosine (cosine similarity
 * is then a dot product). Distances: cosine → 1 − a·b; euclidean → √‖a−b‖². Votes: uniform, or
 * 1/distance as scikit-learn ("distance"; an exact match takes the whole vote). Probabilities are the
 * normalised votes.
 * Two representations of the reference vectors:
 *  - int8 (`q8`, what the trainer stores since checkpoint version 2): one byte per value and a scale
 *    per row (kernels/knn-int8.ts); queries are quantised to int16 and the kernel fuses the integer
 *    GEMM with the top-k (kernels.knnTopKInt8). 4× smaller than float32 and ~2× fewer instructions
 *    per multiply-add; SWaT macro-F1 moved by less than 0.005 (docs/benchmarks-swat.md). With a PCA
 *    basis (checkpoint version 3, knn-basis.ts) the search is kernels.knnTopKInt8Pruned: the same
 *    neighbours and distances bit for bit, with the int8 distance computed for ~1 % of the references.
 *  - float32 (`embeddings`: version-1 checkpoints and models built in memory, e.g. few-shot): dots /
 *    sqDistances as a GEMM, then the same top-k by insertion; predictions as before version 2.
 */
import type { KnnSettings } from './config.js';
import { fitKnnBasis, type KnnBasis } from './knn-basis.js';
import { getKernels, int8RefsFromCodes, projectQueries, projectRefs, quantizeQueries, quantizeRows, type Int8Refs, type ProjectedRefs } from './numeric.js';

export interface KnnModel {
  settings: KnnSettings;
  dim: number;
  n: number;
  nClasses: number;
  /** [n, dim] float32, already normalised when the settings say so; null when the model is int8. */
  embeddings: Float32Array | null;
  /** The int8 reference vectors (normalised before quantisation); null for a float32 model. */
  q8?: Int8Refs | null;
  /** The PCA basis of q8 (version 3): the search then skips provably far references (knn-basis.ts). */
  basis?: KnnBasis | null;
  /** q8 projected on the basis, computed on first use (not stored: 39k × 256 floats is 40 MB). */
  projected?: ProjectedRefs;
  /** The last query's neighbours: the next call's first query measures them first (speed only). */
  lastNeighbours?: Int32Array;
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

/**
 * The int8 form of a float32 model (its float rows are dropped: the int8 model is what is stored),
 * with the PCA basis of its codes (seeded) unless `basis` is false (a version-2 model).
 */
export function quantizeKnn(m: KnnModel, seed = 0, basis = true): KnnModel {
  if (!m.embeddings) return m;
  const { codes, scale } = quantizeRows(m.embeddings, m.n, m.dim);
  const q8 = int8RefsFromCodes(codes, m.n, m.dim, scale);
  return withProjection({ ...m, embeddings: null, q8, basis: basis ? fitKnnBasis(q8, seed) : null });
}

/**
 * Projects the int8 references on the model's basis (when it has one): 39k × 256 × 1,008
 * multiply-adds, done once when a model is built or loaded rather than in its first prediction.
 */
export function withProjection(m: KnnModel): KnnModel {
  if (m.q8 && m.basis && !m.projected) {
    const k = getKernels();
    m.projected = projectRefs(m.q8, m.basis.rows, m.basis.P, k.dots.bind(k));
  }
  return m;
}

/** Class probabilities [nq, K] for standardized query embeddings (normalised here when needed). */
export function knnProba(m: KnnModel, queries: Float32Array, nq: number): Float32Array {
  const d = m.dim;
  const q = queries.slice(0, nq * d);
  if (normalizes(m.settings)) l2NormalizeRows(q, nq, d);
  if (m.q8) return knnProbaInt8(m, m.q8, q, nq);
  const refs = m.embeddings;
  if (!refs) throw new Error('knn model has no reference vectors');
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
    const raw = cos ? k.dots(chunk, to - from, refs, m.n, d) : k.sqDistances(chunk, to - from, refs, m.n, d);
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

function knnProbaInt8(m: KnnModel, refs: Int8Refs, q: Float32Array, nq: number): Float32Array {
  const K = m.nClasses;
  const kk = Math.min(m.settings.nNeighbors, m.n);
  const euclid = m.settings.metric !== 'cosine';
  const out = new Float32Array(nq * K);
  const bestD = new Float64Array(kk);
  const kern = getKernels();
  const dots = kern.dots.bind(kern);
  withProjection(m);
  for (let from = 0; from < nq; from += QUERY_CHUNK) {
    const to = Math.min(nq, from + QUERY_CHUNK);
    const qq = quantizeQueries(q.subarray(from * m.dim, to * m.dim), to - from, m.dim, refs);
    let top;
    if (m.basis && m.projected) {
      top = kern.knnTopKInt8Pruned(m.projected, projectQueries(qq, m.projected, m.basis.rows, dots), kk, euclid, m.lastNeighbours?.length === kk ? m.lastNeighbours : undefined);
      m.lastNeighbours = top.idx.slice((to - from - 1) * kk, (to - from) * kk);
    } else top = kern.knnTopKInt8(refs, qq, kk, euclid);
    for (let i = 0; i < to - from; i++) {
      for (let r = 0; r < kk; r++) bestD[r] = euclid ? Math.sqrt(top.dist[i * kk + r]!) : top.dist[i * kk + r]!;
      vote(m, bestD, top.idx.subarray(i * kk, (i + 1) * kk), out.subarray((from + i) * K, (from + i + 1) * K));
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
