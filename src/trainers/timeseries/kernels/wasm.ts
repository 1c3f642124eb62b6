/**
 * `Kernels` on the AssemblyScript WebAssembly SIMD module (assembly/, built to build/wasm/kernels.wasm).
 * Arrays from alloc() are used in place; any other array is copied into scratch and results copied
 * back (wasm-memory.ts). The GEMM family (linearForward, dots, sqDistances) streams blocks of rows
 * through 32 MiB of scratch (STREAM_BYTES); the backward pass stages a whole layer at once (it needs
 * all of x, dy and W; 64×10k weights + moments ≈ 7.7 MB).
 */
import type { AdamOptions, AdamState, Int16Queries, Int8Refs, Kernels, ProjectedQueries, ProjectedRefs, PrunedTopK, RocketParams, TopK } from './api.js';
import { LEVEL1, levelsOf } from './knn-pruned.js';
import { checkAdam, checkDims, checkLen } from './reference.js';
import { WasmMemory } from './wasm-memory.js';
import { wasmRocketTransform } from './wasm-rocket.js';

type GemmMode = { kind: 'dot'; bias: Float32Array | null } | { kind: 'sqdist' };

/** out [na, nb] = a·bᵀ (+ bias) or squared distances, streaming row blocks of a and b. */
function gemm(mem: WasmMemory, a: Float32Array, na: number, b: Float32Array, nb: number, d: number, mode: GemmMode, out: Float32Array): void {
  if (na === 0 || nb === 0) return;
  const aRes = mem.residentPtr(a) >= 0, bRes = mem.residentPtr(b) >= 0, outRes = mem.residentPtr(out) >= 0;
  const rowBytes = 4 * d;
  const half = mem.streamBytes / 2;
  const bRows = bRes || nb * rowBytes <= half ? nb : Math.max(1, Math.floor(half / rowBytes));
  const perARow = (aRes ? 0 : rowBytes) + (outRes && bRows === nb ? 0 : 4 * bRows);
  const aRows = Math.max(1, Math.min(na, Math.floor(half / Math.max(perARow, 4))));
  const s = mem.scratch();
  const bPtr = bRes ? -1 : s.reserve(bRows * rowBytes);
  const aPtr = aRes ? -1 : s.reserve(aRows * rowBytes);
  const directOut = outRes && bRows === nb;
  const oPtr = directOut ? -1 : s.reserve(aRows * bRows * 4);
  const biasPtr = mode.kind === 'dot' && mode.bias ? s.input(mode.bias, nb) : 0;
  const workPtr = mode.kind === 'sqdist' ? s.reserve(4 * (aRows + bRows)) : 0;
  const heap = mem.heapF32(); // everything reserved: stays valid for the call
  for (let j0 = 0; j0 < nb; j0 += bRows) {
    const bn = Math.min(bRows, nb - j0);
    let bp = mem.residentPtr(b);
    if (bp >= 0) bp += j0 * rowBytes;
    else { heap.set(b.subarray(j0 * d, (j0 + bn) * d), bPtr >> 2); bp = bPtr; }
    for (let i0 = 0; i0 < na; i0 += aRows) {
      const an = Math.min(aRows, na - i0);
      let ap = mem.residentPtr(a);
      if (ap >= 0) ap += i0 * rowBytes;
      else { heap.set(a.subarray(i0 * d, (i0 + an) * d), aPtr >> 2); ap = aPtr; }
      const op = directOut ? mem.residentPtr(out) + i0 * nb * 4 : oPtr;
      const ldo = directOut ? nb : bn;
      if (mode.kind === 'dot') mem.exports.gemmNT(ap, an, bp, bn, d, biasPtr ? biasPtr + j0 * 4 : 0, op, ldo);
      else mem.exports.sqDistances(ap, an, bp, bn, d, op, ldo, workPtr);
      if (directOut) continue;
      if (bn === nb) out.set(heap.subarray(op >> 2, (op >> 2) + an * nb), i0 * nb);
      else for (let i = 0; i < an; i++) out.set(heap.subarray((op >> 2) + i * bn, (op >> 2) + (i + 1) * bn), (i0 + i) * nb + j0);
    }
  }
}

function backward(
  mem: WasmMemory, x: Float32Array, dy: Float32Array, n: number, d: number, k: number,
  w: Float32Array, b: Float32Array, state: AdamState, opt: AdamOptions, dxOut?: Float32Array,
): void {
  checkDims({ n, d, k });
  checkLen('x', x, n * d); checkLen('dy', dy, n * k); checkLen('w', w, k * d); checkLen('b', b, k);
  checkAdam(state, k, d);
  if (dxOut) checkLen('dxOut', dxOut, n * d);
  const s = mem.scratch();
  const xp = s.input(x, n * d), dyp = s.input(dy, n * k);
  const wp = s.input(w, k * d), bp = s.input(b, k);
  const mWp = s.input(state.mW, k * d), vWp = s.input(state.vW, k * d);
  const mbp = s.input(state.mb, k), vbp = s.input(state.vb, k);
  const dxp = dxOut ? s.output(dxOut, n * d) : 0;
  const work = s.reserve(4 * (k + 2 * k * n + n + 2 * n * k));
  // Bias corrections in float64 (β2ᵗ underflows gracefully; 1 − β2ᵗ at t=1 is 1e-3, exact enough in f32).
  const bc1 = 1 - opt.beta1 ** state.t, bc2 = 1 - opt.beta2 ** state.t;
  mem.exports.denseBackwardAdamW(xp, dyp, n, d, k, wp, bp, mWp, vWp, mbp, vbp, dxp, work,
    opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay, bc1, bc2);
  s.readBack(w, wp, k * d); s.readBack(b, bp, k);
  s.readBack(state.mW, mWp, k * d); s.readBack(state.vW, vWp, k * d);
  s.readBack(state.mb, mbp, k); s.readBack(state.vb, vbp, k);
  if (dxOut) s.readBack(dxOut, dxp, n * d);
}

/** Where a reference set lives in this module's memory (copied once, kept: a model is long-lived). */
interface ResidentRefs { codes: number; scale: number; norm2: number }
const residentRefs = new WeakMap<WasmMemory, WeakMap<Int8Refs, ResidentRefs>>();
/** Queries per kernel call: 256 × 1,008 int16 = 504 KiB of queries and 128 KiB of dot products. */
const KNN_QUERY_CHUNK = 256;
/** Must match RB in assembly/knn-int8.ts. */
const KNN_REF_BLOCK = 128;

function resident(mem: WasmMemory, refs: Int8Refs): ResidentRefs {
  let map = residentRefs.get(mem);
  if (!map) residentRefs.set(mem, (map = new WeakMap()));
  let r = map.get(refs);
  if (!r) {
    r = { codes: mem.allocBytes(refs.n * refs.dPad), scale: mem.allocBytes(4 * refs.n), norm2: mem.allocBytes(4 * refs.n) };
    mem.view(Int8Array, r.codes, refs.n * refs.dPad).set(refs.codes.subarray(0, refs.n * refs.dPad));
    mem.view(Float32Array, r.scale, refs.n).set(refs.scale.subarray(0, refs.n));
    mem.view(Float32Array, r.norm2, refs.n).set(refs.norm2.subarray(0, refs.n));
    map.set(refs, r);
  }
  return r;
}

function knnTopK(mem: WasmMemory, refs: Int8Refs, q: Int16Queries, k: number, euclidean: boolean): TopK {
  checkDims({ n: refs.n, dPad: refs.dPad, nq: q.n, k });
  if (k < 1 || refs.dPad % 16 !== 0 || refs.codes.length < refs.n * refs.dPad || q.codes.length < q.n * refs.dPad) throw new RangeError('knnTopKInt8: bad shapes');
  const r = resident(mem, refs);
  const idx = new Int32Array(q.n * k), dist = new Float32Array(q.n * k);
  const chunk = Math.min(KNN_QUERY_CHUNK, q.n);
  const s = mem.scratch();
  const qp = s.reserve(2 * chunk * refs.dPad), qsp = s.reserve(4 * chunk), qnp = s.reserve(4 * chunk);
  const ip = s.reserve(4 * chunk * k), dp = s.reserve(4 * chunk * k), wp = s.reserve(4 * chunk * KNN_REF_BLOCK);
  for (let i0 = 0; i0 < q.n; i0 += chunk) {
    const n = Math.min(chunk, q.n - i0);
    mem.view(Int16Array, qp, n * refs.dPad).set(q.codes.subarray(i0 * refs.dPad, (i0 + n) * refs.dPad));
    mem.view(Float32Array, qsp, n).set(q.scale.subarray(i0, i0 + n));
    mem.view(Float32Array, qnp, n).set(q.norm2.subarray(i0, i0 + n));
    mem.exports.knnTopKInt8(qp, n, qsp, qnp, r.codes, refs.n, r.scale, r.norm2, refs.dPad, k, euclidean ? 1 : 0, ip, dp, wp);
    idx.set(mem.view(Int32Array, ip, n * k), i0 * k);
    dist.set(mem.view(Float32Array, dp, n * k), i0 * k);
  }
  return { idx, dist };
}

/** The projections of a reference set in this module's memory, in the kernel's layouts (assembly/knn-pruned.ts). */
interface ResidentProj { lo: number; meta: number; hi: number; res2: number; mark: number; stamp: number }
const residentProj = new WeakMap<WasmMemory, WeakMap<ProjectedRefs, ResidentProj>>();
/**
 * int16 codes of the projected components (the first L2, and the rest, each with its own scale):
 * ‖codes‖ ≤ 32,000, so q·r of two rows stays below 2³⁰. Rounding moves a dot product by at most
 * (√w/2)/32,000 · (2 + …) · ‖x‖‖y‖ over w components: 2.5e-4 for 64, 4.4e-4 for 192, both inside
 * the search margin (knn-pruned.ts PRUNE_MARGIN).
 */
const LO_NORM = 32000;

/** Rows x [n, P] → int16 codes of their components e0 ≤ e < e1 [n, e1 − e0] and one scale per row. */
function quantizeLo(x: Float32Array, n: number, P: number, e0: number, e1: number): { codes: Int16Array; scale: Float32Array } {
  const w = e1 - e0;
  const codes = new Int16Array(n * w), scale = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let e = e0; e < e1; e++) s += x[i * P + e]! ** 2;
    if (s === 0) continue;
    const f = LO_NORM / Math.sqrt(s);
    scale[i] = 1 / f;
    for (let e = e0; e < e1; e++) codes[i * w + e - e0] = Math.round(x[i * P + e]! * f);
  }
  return { codes, scale };
}

function residentProjection(mem: WasmMemory, pr: ProjectedRefs, L2: number): ResidentProj {
  let map = residentProj.get(mem);
  if (!map) residentProj.set(mem, (map = new WeakMap()));
  let rp = map.get(pr);
  if (rp) return rp;
  const n = pr.refs.n, P = pr.P, nb = Math.ceil(n / 4), hi = P - L2;
  rp = { lo: mem.allocBytes(nb * L2 * 8), meta: mem.allocBytes(nb * 64), hi: mem.allocBytes(Math.max(16, 2 * n * hi)), res2: mem.allocBytes(8 * n), mark: mem.allocBytes(8 * n), stamp: 0 };
  const { codes, scale } = quantizeLo(pr.proj, n, P, 0, L2);
  const lo = mem.view(Int16Array, rp.lo, nb * L2 * 4);
  lo.fill(0);
  // Block b, pair p: [r0 c2p, r0 c2p+1, r1 c2p, r1 c2p+1, …] for references 4b … 4b+3.
  for (let j = 0; j < n; j++) {
    const b = j >> 2, l = j & 3;
    for (let e = 0; e < L2; e++) lo[b * L2 * 4 + (e >> 1) * 8 + l * 2 + (e & 1)] = codes[j * L2 + e]!;
  }
  const meta = mem.view(Float32Array, rp.meta, nb * 16);
  meta.fill(0);
  for (let j = 0; j < n; j++) {
    const b = j >> 2, l = j & 3;
    meta[b * 16 + l] = pr.res[j * 3]!;
    meta[b * 16 + 4 + l] = pr.res[j * 3 + 1]!;
    meta[b * 16 + 8 + l] = pr.refs.norm2[j]!;
    meta[b * 16 + 12 + l] = scale[j]!;
  }
  const h = quantizeLo(pr.proj, n, P, L2, P);
  mem.view(Int16Array, rp.hi, n * hi).set(h.codes);
  const r2 = mem.view(Float32Array, rp.res2, 2 * n);
  for (let j = 0; j < n; j++) { r2[2 * j] = pr.res[j * 3 + 2]!; r2[2 * j + 1] = h.scale[j]!; }
  mem.view(Int32Array, rp.mark, 2 * n).fill(-1);
  map.set(pr, rp);
  return rp;
}

function knnPruned(mem: WasmMemory, pr: ProjectedRefs, pq: ProjectedQueries, k: number, euclidean: boolean, seeds?: Int32Array): PrunedTopK {
  const refs = pr.refs, q = pq.q, P = pr.P, n = refs.n;
  checkDims({ n, dPad: refs.dPad, nq: q.n, k, P });
  if (k < 1 || P % 16 !== 0 || P < LEVEL1 || pr.proj.length < n * P || pq.proj.length < q.n * P || q.codes.length < q.n * refs.dPad) throw new RangeError('knnTopKInt8Pruned: bad shapes');
  const L2 = levelsOf(P)[1], hi = P - L2;
  const r = resident(mem, refs);
  const rp = residentProjection(mem, pr, L2);
  const idx = new Int32Array(q.n * k), dist = new Float32Array(q.n * k);
  let exact = 0;
  const chunk = Math.min(KNN_QUERY_CHUNK, q.n);
  const s = mem.scratch();
  const qp = s.reserve(2 * chunk * refs.dPad), qsp = s.reserve(4 * chunk), qnp = s.reserve(4 * chunk), mp = s.reserve(4 * chunk);
  const lop = s.reserve(2 * chunk * L2), losp = s.reserve(4 * chunk), hip = s.reserve(Math.max(16, 2 * chunk * hi)), resp = s.reserve(16 * chunk), sp = s.reserve(4 * k);
  const ip = s.reserve(4 * chunk * k), dp = s.reserve(4 * chunk * k), wp = s.reserve(16);
  const seedView = (): Int32Array => mem.view(Int32Array, sp, k);
  seedView().fill(-1);
  if (seeds) seedView().set(seeds.subarray(0, k));
  for (let i0 = 0; i0 < q.n; i0 += chunk) {
    const m = Math.min(chunk, q.n - i0);
    if (rp.stamp + m >= 2 ** 30) { mem.view(Int32Array, rp.mark, 2 * n).fill(-1); rp.stamp = 0; }
    mem.view(Int16Array, qp, m * refs.dPad).set(q.codes.subarray(i0 * refs.dPad, (i0 + m) * refs.dPad));
    mem.view(Float32Array, qsp, m).set(q.scale.subarray(i0, i0 + m));
    mem.view(Float32Array, qnp, m).set(q.norm2.subarray(i0, i0 + m));
    mem.view(Float32Array, mp, m).set(pq.margin.subarray(i0, i0 + m));
    const part = pq.proj.subarray(i0 * P, (i0 + m) * P);
    const { codes, scale } = quantizeLo(part, m, P, 0, L2);
    mem.view(Int16Array, lop, m * L2).set(codes);
    mem.view(Float32Array, losp, m).set(scale);
    const h = quantizeLo(part, m, P, L2, P);
    mem.view(Int16Array, hip, m * hi).set(h.codes);
    const rv = mem.view(Float32Array, resp, 4 * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < 3; l++) rv[4 * i + l] = pq.res[3 * (i0 + i) + l]!;
      rv[4 * i + 3] = h.scale[i]!;
    }
    exact += mem.exports.knnPrunedInt8(qp, m, qsp, qnp, mp, lop, losp, hip, resp, r.codes, n, r.scale, r.norm2, rp.lo, rp.meta, rp.hi, rp.res2,
      refs.dPad, P, L2, k, euclidean ? 1 : 0, sp, rp.mark, rp.stamp, ip, dp, wp);
    rp.stamp += m;
    idx.set(mem.view(Int32Array, ip, m * k), i0 * k);
    dist.set(mem.view(Float32Array, dp, m * k), i0 * k);
    seedView().set(idx.subarray((i0 + m - 1) * k, (i0 + m) * k)); // the next chunk's query 0 starts from these
  }
  return { idx, dist, exact };
}

export interface WasmKernelOptions {
  /** Default: build/wasm/kernels.wasm under the package root. */
  wasmPath?: string;
  /** Scratch bytes a streaming call aims for (default 32 MiB); tests shrink it to exercise chunking. */
  streamBytes?: number;
}

/** Builds the wasm kernels; throws when the module is missing or cannot be instantiated. */
export function createWasmKernels(opts: WasmKernelOptions = {}): Kernels {
  const mem = new WasmMemory(opts.wasmPath, opts.streamBytes);
  return {
    name: 'wasm',
    rocketTransform: (params: RocketParams, windows: Float32Array, n: number) => wasmRocketTransform(mem, params, windows, n),
    linearForward(x, n, d, w, b, k, out) {
      checkDims({ n, d, k });
      const y = out ?? new Float32Array(n * k);
      checkLen('x', x, n * d); checkLen('w', w, k * d); checkLen('b', b, k); checkLen('out', y, n * k);
      gemm(mem, x, n, w, k, d, { kind: 'dot', bias: b }, y);
      return y;
    },
    linearBackwardAdamW: (x, dy, n, d, k, w, b, state, opt, dxOut) => backward(mem, x, dy, n, d, k, w, b, state, opt, dxOut),
    sqDistances(a, na, b, nb, d) {
      checkDims({ na, nb, d });
      checkLen('a', a, na * d); checkLen('b', b, nb * d);
      const out = new Float32Array(na * nb);
      gemm(mem, a, na, b, nb, d, { kind: 'sqdist' }, out);
      return out;
    },
    dots(a, na, b, nb, d) {
      checkDims({ na, nb, d });
      checkLen('a', a, na * d); checkLen('b', b, nb * d);
      const out = new Float32Array(na * nb);
      gemm(mem, a, na, b, nb, d, { kind: 'dot', bias: null }, out);
      return out;
    },
    knnTopKInt8: (refs, queries, k, euclidean) => knnTopK(mem, refs, queries, k, euclidean),
    knnTopKInt8Pruned: (refs, queries, k, euclidean, seeds) => knnPruned(mem, refs, queries, k, euclidean, seeds),
    alloc: (length: number) => mem.alloc(length),
  };
}
