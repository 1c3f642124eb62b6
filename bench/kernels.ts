/**
 * Benchmark of the time-series numeric kernels, wasm against the reference in the same run:
 * - the transform: 40 channels × 128 steps, 9996 features (MiniRocket defaults → 15 dilations)
 *   and with maxDilationsPerKernel 4 (dilations 1, 2, 6, 15);
 * - MLP head training, D → 64 ReLU → 2, softmax cross-entropy, batch 32, forward + backward + AdamW
 *   through the Kernels interface with alloc()'d weights, for D = 2000 and D = 9996;
 * - knn squared distances, 32 queries against 1024 resident references, D = 2000.
 * Reports medians of alternating rounds, the ratio wasm/reference, and executed GFLOP/s (adds, multiplies and
 * compares counted as one flop; see docs/kernels.md) against a 28 GFLOP/s single-core peak
 * (128-bit WebAssembly SIMD without FMA). Run: npm run build && node dist/bench/kernels.js
 */
import type { Kernels, RocketParams } from '../src/trainers/timeseries/kernels/api.js';
import { fitRocket } from '../src/trainers/timeseries/kernels/rocket-fit.js';
import { referenceKernels } from '../src/trainers/timeseries/kernels/reference.js';
import { outputRange } from '../src/trainers/timeseries/kernels/rocket-spec.js';
import { createWasmKernels } from '../src/trainers/timeseries/kernels/wasm.js';

/** The notes' single-core peak for 128-bit WebAssembly SIMD without FMA. */
const PEAK_GFLOPS = 28;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * scale;
  return a;
}

/**
 * Median seconds per unit of two workloads whose rounds alternate (after one warm-up round each),
 * so that both see the same machine load and their ratio holds even on a busy machine.
 */
function timePair(rounds: number, a: { units: number; run: () => void }, b: { units: number; run: () => void }): [number, number, number] {
  a.run();
  b.run();
  const ta: number[] = [], tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [w, t] of [[a, ta], [b, tb]] as const) {
      const t0 = performance.now();
      w.run();
      t.push((performance.now() - t0) / 1000 / w.units);
    }
  }
  const median = (t: number[]): number => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]!;
  return [median(ta), median(tb), ta[0]!]; // ta is sorted by median(): [0] is a's best round
}

/** Flops of one window: G = 3x, shared sums A (9 per value per dilation), 4 per channel-output, PPV compare+count. */
function transformFlops(p: RocketParams): number {
  const L = p.windowLen;
  let f = p.nChannels * L + new Set(p.dilation).size * p.nChannels * L * 9;
  for (let g = 0; g < p.kernelIndex.length; g++) {
    const [t0, t1] = outputRange(L, p.dilation[g]!, p.padding[g]!);
    const cc = p.channelOffsets[g + 1]! - p.channelOffsets[g]!;
    const nf = p.biasOffsets[g + 1]! - p.biasOffsets[g]!;
    f += (t1 - t0) * (4 * cc - 1 + 2 * nf);
  }
  return f;
}

/** Throughputs in units/s; wasmBest from the fastest round (what an idle core would show). */
interface Row { name: string; unit: string; ref: number; wasm: number; wasmBest: number; gflops: number }

function benchTransform(wasm: Kernels, maxDil: number | undefined, label: string): Row {
  const C = 40, L = 128, nFit = 64, n = 256;
  const rnd = lcg(7);
  const train = randomArray(nFit * C * L, rnd);
  const params = fitRocket(train, nFit, C, L, { seed: 1, ...(maxDil ? { maxDilationsPerKernel: maxDil } : {}) });
  const windows = randomArray(n * C * L, rnd);
  const refN = 8;
  const [wasmS, refS, bestS] = timePair(7,
    { units: n, run: () => { wasm.rocketTransform(params, windows, n); } },
    { units: refN, run: () => { referenceKernels.rocketTransform(params, windows, refN); } });
  const dils = [...new Set(params.dilation)];
  return {
    name: `transform ${C}×${L}, ${params.nFeatures} features, ${dils.length} dilations${label}`,
    unit: 'windows/s', ref: 1 / refS, wasm: 1 / wasmS, wasmBest: 1 / bestS, gflops: transformFlops(params) / wasmS / 1e9,
  };
}

interface Mlp { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; s1: AdamLike; s2: AdamLike }
interface AdamLike { mW: Float32Array; vW: Float32Array; mb: Float32Array; vb: Float32Array; t: number }

function makeMlp(k: Kernels, D: number, H: number, rnd: () => number): Mlp {
  const init = (len: number, scale: number): Float32Array => { const a = k.alloc(len); a.set(randomArray(len, rnd, scale)); return a; };
  const adam = (rows: number, cols: number): AdamLike => ({ mW: k.alloc(rows * cols), vW: k.alloc(rows * cols), mb: k.alloc(rows), vb: k.alloc(rows), t: 0 });
  return { w1: init(H * D, Math.sqrt(6 / D)), b1: k.alloc(H), w2: init(2 * H, Math.sqrt(6 / H)), b2: k.alloc(2), s1: adam(H, D), s2: adam(2, H) };
}

/** One training step; returns the number of non-zero entries of the hidden gradient (for the flop count). */
function trainStep(k: Kernels, m: Mlp, x: Float32Array, y: Int32Array, n: number, D: number, H: number, buf: { h: Float32Array; o: Float32Array; dh: Float32Array; dout: Float32Array }): number {
  const opt = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 };
  k.linearForward(x, n, D, m.w1, m.b1, H, buf.h);
  for (let i = 0; i < n * H; i++) if (buf.h[i]! < 0) buf.h[i] = 0;
  k.linearForward(buf.h, n, H, m.w2, m.b2, 2, buf.o);
  for (let i = 0; i < n; i++) {
    // softmax cross-entropy over 2 classes; gradient averaged over the batch
    const a = buf.o[2 * i]!, b = buf.o[2 * i + 1]!, mx = Math.max(a, b);
    const ea = Math.exp(a - mx), eb = Math.exp(b - mx), z = ea + eb;
    buf.dout[2 * i] = (ea / z - (y[i] === 0 ? 1 : 0)) / n;
    buf.dout[2 * i + 1] = (eb / z - (y[i] === 1 ? 1 : 0)) / n;
  }
  m.s2.t++;
  k.linearBackwardAdamW(buf.h, buf.dout, n, H, 2, m.w2, m.b2, m.s2, opt, buf.dh);
  let nnz = 0;
  for (let i = 0; i < n * H; i++) { if (buf.h[i] === 0) buf.dh[i] = 0; else if (buf.dh[i] !== 0) nnz++; }
  m.s1.t++;
  k.linearBackwardAdamW(x, buf.dh, n, D, H, m.w1, m.b1, m.s1, opt);
  return nnz;
}

function benchMlp(wasm: Kernels, D: number): Row {
  const H = 64, n = 32, batches = 8;
  const rnd = lcg(11);
  const setup = (k: Kernels, steps: number): { units: number; run: () => void; nnz: () => number } => {
    const m = makeMlp(k, D, H, lcg(3));
    const xs = k.alloc(batches * n * D);
    for (let i = 0; i < xs.length; i++) xs[i] = rnd(); // PPV features lie in [0, 1]
    const ys = Int32Array.from({ length: batches * n }, () => (rnd() < 0.5 ? 0 : 1));
    const buf = { h: k.alloc(n * H), o: k.alloc(n * 2), dh: k.alloc(n * H), dout: k.alloc(n * 2) };
    let nnz = 0, calls = 0, s = 0;
    const run = (): void => {
      for (let i = 0; i < steps; i++, s++) {
        const b = s % batches;
        nnz += trainStep(k, m, xs.subarray(b * n * D, (b + 1) * n * D), ys.subarray(b * n, (b + 1) * n), n, D, H, buf);
        calls++;
      }
    };
    return { units: steps * n, run, nnz: () => nnz / calls };
  };
  const wasmRun = setup(wasm, D <= 2000 ? 200 : 50);
  const refRun = setup(referenceKernels, D <= 2000 ? 4 : 1);
  const [wasmS, refS, bestS] = timePair(7, wasmRun, refRun);
  const w = { perSample: wasmS, nnz: wasmRun.nnz() };
  const r = { perSample: refS };
  // Executed flops per step: forward 2nDH + 2n·2H; layer-2 gradient + dx 2·(2n·2H); layer-1
  // gradient over the non-zero dh only 2·nnz·D; AdamW 14 per weight.
  const flops = 2 * n * D * H + 4 * n * H + 8 * n * H + 2 * w.nnz * D + 14 * (H * D + H + 2 * H + 2);
  return {
    name: `MLP head D=${D}→${H}→2, batch ${n} (fwd+bwd+AdamW)`,
    unit: 'samples/s', ref: 1 / r.perSample, wasm: 1 / w.perSample, wasmBest: 1 / bestS, gflops: (flops / n) / w.perSample / 1e9,
  };
}

function benchKnn(wasm: Kernels): Row {
  const nq = 32, nr = 1024, D = 2000, rnd = lcg(13);
  const q = randomArray(nq * D, rnd), refs = wasm.alloc(nr * D);
  refs.set(randomArray(nr * D, rnd)); // the reference set stays resident, as a knn head would keep it
  const [wasmS, refS, bestS] = timePair(7,
    { units: nq, run: () => { wasm.sqDistances(q, nq, refs, nr, D); } },
    { units: nq, run: () => { referenceKernels.sqDistances(q, nq, refs, nr, D); } });
  // 2·nq·nr·D for the dot products + 2·(nq + nr)·D for the norms
  const flops = 2 * nq * nr * D + 2 * (nq + nr) * D;
  return { name: `knn sqDistances ${nq} queries × ${nr} references, D=${D}`, unit: 'queries/s', ref: 1 / refS, wasm: 1 / wasmS, wasmBest: 1 / bestS, gflops: flops / nq / wasmS / 1e9 };
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function main(): void {
  const wasm = createWasmKernels();
  const rows = [
    benchTransform(wasm, undefined, ' (default fit)'),
    benchTransform(wasm, 4, ' (maxDilationsPerKernel 4)'),
    benchMlp(wasm, 2000),
    benchMlp(wasm, 9996),
    benchKnn(wasm),
  ];
  console.log(`node ${process.version}, ${process.arch}, single thread; peak ${PEAK_GFLOPS} GFLOP/s (128-bit SIMD, no FMA)\n`);
  console.log('| workload | unit | reference | wasm | wasm/reference | wasm GFLOP/s | % of 28 | wasm best round |');
  console.log('|---|---|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.unit} | ${fmt(r.ref)} | ${fmt(r.wasm)} | ${(r.wasm / r.ref).toFixed(1)}× | ${r.gflops.toFixed(1)} | ${((100 * r.gflops) / PEAK_GFLOPS).toFixed(0)}% | ${fmt(r.wasmBest)} |`);
  }
  console.log('\nreference, wasm: medians of 7 alternating rounds; GFLOP/s from the wasm median.');
}

main();
