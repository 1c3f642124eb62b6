/**
 * The head's automatic choice of encoder × hidden units (a request with cfg.auto: none of encoder,
 * hidden_units, instance_norm, num_features set). Time-respecting, from the training files only:
 *   1. each training file (one class, rows in time order) is cut into an earlier part and its LATEST
 *      HELD_OUT_FRACTION of rows; no window crosses the cut, nothing is shuffled across it;
 *   2. channel normalisation, encoder and feature statistics are fitted on the earlier parts only;
 *   3. each candidate (CANDIDATES, simplest first) trains on the earlier windows exactly as the real
 *      head does (AdamW, seeded shuffles, early stopping) and scores its best epoch's macro-F1 on the
 *      later block;
 *   4. the simplest candidate within one standard error of the best score wins (the one-standard-
 *      error rule): later-in-time drift punishes capacity, and the later block is small.
 * validation_files are never looked at here: they still select the final run's checkpoint, and a
 * held-out split stays held out. The trainer then fits the winner on all training files as usual.
 */
import { chooseHeadSchedule, type HeadSchedule } from './hparams.js';
import type { TsConfig } from './config.js';
import type { LoadedData } from './data.js';
import { fitEncoderRocket, fitFeatureStats, standardize, statsRocket, transformWindows, type BatchHook, type EncoderParams } from './encoder.js';
import { transformWindowsOnCores } from './embed-pool.js';
import { headToKernelMemory, headWorkspace, initHead, type HeadModel, type HeadWorkspace } from './head.js';
import { HeadPool, headProbaOn, headStep } from './head-pool.js';
import { evalMetrics } from './metrics.js';
import type { Series } from './reader.js';
import { epochOrder } from './rng.js';
import { applyChannelStats, fitChannelStats, identity, WindowSet } from './windows.js';

export interface Candidate {
  encoder: 'window_stats' | 'minirocket';
  hiddenUnits: number;
}

/**
 * Simplest first, by trainable weights at SWaT's 40 channels: window statistics (120 features) ×
 * softmax = 240 weights, × 64 units = 7.7k; MiniRocket (9,996 features) × softmax = 20k, × 64 units
 * = 640k (the default before the automatic choice).
 */
export const CANDIDATES: readonly Candidate[] = [
  { encoder: 'window_stats', hiddenUnits: 0 },
  { encoder: 'window_stats', hiddenUnits: 64 },
  { encoder: 'minirocket', hiddenUnits: 0 },
  { encoder: 'minirocket', hiddenUnits: 64 },
];

/** The latest quarter of each file: on SWaT's train_0..1 ~1,250 rows a file, ~10 disjoint 128-row windows. */
export const HELD_OUT_FRACTION = 0.25;
/**
 * Floor of the rule's margin: below one point of macro-F1 the held-out block cannot tell
 * candidates apart anyway (a few windows of one episode).
 */
const MIN_MARGIN = 0.01;

export interface Scored extends Candidate {
  macroF1: number;
  epoch: number;
}

export interface Selection {
  chosen: Candidate;
  scores: Scored[];
  margin: number;
  nFit: number;
  nHeld: number;
}

/** Rows [a, b) of a series as a new series (channel-major copy). */
function rows(s: Series, a: number, b: number): Series {
  const C = s.columns.length;
  const T = b - a;
  const data = new Float32Array(C * T);
  for (let c = 0; c < C; c++) data.set(s.data.subarray(c * s.length + a, c * s.length + b), c * T);
  return { fileId: s.fileId, label: s.label, columns: s.columns, timestamps: [], data, length: T };
}

export interface BlockedSplit {
  fit: Series[];
  yFit: number[];
  held: Series[];
  yHeld: number[];
  heldRows: number;
}

/**
 * Earlier part / latest block of every training file long enough for a window on both sides; null
 * (with the reason) when some class would have no window on one side.
 */
export function blockedSplit(series: Series[], y: number[], nClasses: number, windowSize: number): BlockedSplit | string {
  const out: BlockedSplit = { fit: [], yFit: [], held: [], yHeld: [], heldRows: 0 };
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const held = Math.max(windowSize, Math.round(s.length * HELD_OUT_FRACTION));
    if (s.length - held < windowSize) {
      out.fit.push(s);
      out.yFit.push(y[i]!);
      continue;
    }
    out.fit.push(rows(s, 0, s.length - held));
    out.yFit.push(y[i]!);
    out.held.push(rows(s, s.length - held, s.length));
    out.yHeld.push(y[i]!);
    out.heldRows += held;
  }
  for (let k = 0; k < nClasses; k++) {
    if (!out.yHeld.includes(k)) return `class ${k} has no training file of at least ${2 * windowSize} rows to hold a later block out of`;
  }
  return out;
}

const labelsOf = (ws: WindowSet, y: number[]): Int32Array => {
  const so = ws.seriesOf();
  return Int32Array.from(so, (s) => y[s]!);
};

/**
 * Runs the blocked validation; returns null when stopped, or a string (why) when the training
 * files are too short to hold a block out (the caller keeps the fixed defaults).
 */
export async function selectHead(data: LoadedData, cfg: TsConfig, seed: number, hook: BatchHook, log: (m: string) => void): Promise<Selection | string | null> {
  const K = data.labels.length;
  const L = cfg.reader.windowSize;
  const split = blockedSplit(data.train.series, data.train.y, K, L);
  if (typeof split === 'string') return split;
  const stats = fitChannelStats(split.fit);
  // Copies (rows() copied the cut files; an uncut file is the caller's): normalise without touching data.
  const own = (s: Series): Series => rows(s, 0, s.length);
  const fit = split.fit.map((s) => (data.train.series.includes(s) ? own(s) : s));
  for (const s of [...fit, ...split.held]) applyChannelStats(s, stats);
  const fitWs = new WindowSet(fit, L, cfg.reader.stepSize);
  const heldWs = new WindowSet(split.held, L, cfg.reader.stepSize);
  const yFit = labelsOf(fitWs, split.yFit);
  const yHeld = labelsOf(heldWs, split.yHeld);
  const scores: Scored[] = [];
  for (const encoder of ['window_stats', 'minirocket'] as const) {
    const windowStats = encoder === 'window_stats';
    const rocket = windowStats ? statsRocket(fitWs.channels, L) : fitEncoderRocket(fitWs, seed, true, null);
    const enc: EncoderParams = windowStats ? { instanceNorm: false, rocket, features: null, windowStats } : { instanceNorm: true, rocket, features: null };
    const transform = windowStats ? transformWindows : transformWindowsOnCores;
    const xFit = await transform(fitWs, identity(fitWs.count), enc, hook);
    const xHeld = xFit && (await transform(heldWs, identity(heldWs.count), enc, hook));
    if (!xFit || !xHeld) return null;
    const features = fitFeatureStats(xFit, fitWs.count, rocket.nFeatures);
    standardize(xFit, fitWs.count, features);
    standardize(xHeld, heldWs.count, features);
    for (const c of CANDIDATES) {
      if (c.encoder !== encoder) continue;
      const r = await fitAndScore(xFit, yFit, xHeld, yHeld, rocket.nFeatures, K, c.hiddenUnits, cfg, seed, hook);
      if (!r) return null;
      scores.push({ ...c, ...r });
      log(`automatic choice: ${encoder} encoder, ${c.hiddenUnits} hidden units: macro-F1 ${r.macroF1.toFixed(4)} on the latest ${HELD_OUT_FRACTION * 100}% of each training file (best epoch ${r.epoch})`);
    }
  }
  const best = Math.max(...scores.map((s) => s.macroF1));
  // One standard error of a rate near `best` over the held block's disjoint windows (overlapping
  // windows are not independent evidence): 40 windows at 0.97 → 0.027.
  const nIndependent = Math.max(1, Math.floor(split.heldRows / L));
  const margin = Math.max(MIN_MARGIN, Math.sqrt((best * (1 - best)) / nIndependent));
  const chosen = scores.find((s) => s.macroF1 >= best - margin)!;
  return { chosen: { encoder: chosen.encoder, hiddenUnits: chosen.hiddenUnits }, scores, margin, nFit: fitWs.count, nHeld: heldWs.count };
}

/** Trains one candidate on the earlier windows; its best epoch's macro-F1 on the later block. */
async function fitAndScore(
  xFit: Float32Array, yFit: Int32Array, xHeld: Float32Array, yHeld: Int32Array, F: number, K: number, hidden: number,
  cfg: TsConfig, seed: number, hook: BatchHook,
): Promise<{ macroF1: number; epoch: number } | null> {
  const n = yFit.length;
  // The real run's rule and patience; never a user's n_epochs (a 5,000-epoch request is for the final run).
  const schedule = chooseHeadSchedule(n, { batchSize: cfg.head.batchSize, nEpochs: null });
  const stepsPerEpoch = Math.max(1, Math.ceil(n / schedule.batchSize));
  const model = headToKernelMemory(initHead(F, hidden, K, seed));
  const work = headWorkspace(model, schedule.batchSize);
  const yb = new Int32Array(schedule.batchSize);
  const opt = { lr: cfg.head.learningRate, weightDecay: cfg.head.weightDecay };
  const pool = HeadPool.create(model, schedule.batchSize, opt);
  try {
    return await epochs(model, work, pool, yb, xFit, yFit, xHeld, yHeld, F, K, schedule, stepsPerEpoch, opt, cfg.head.patience, seed, hook);
  } finally {
    await pool?.close();
  }
}

async function epochs(
  model: HeadModel, work: HeadWorkspace, pool: HeadPool | null, yb: Int32Array, xFit: Float32Array, yFit: Int32Array, xHeld: Float32Array, yHeld: Int32Array,
  F: number, K: number, schedule: HeadSchedule, stepsPerEpoch: number, opt: { lr: number; weightDecay: number }, patience: number, seed: number, hook: BatchHook,
): Promise<{ macroF1: number; epoch: number } | null> {
  const n = yFit.length;
  let best = -Infinity;
  let bestEpoch = 0;
  let since = 0;
  for (let epoch = 1; epoch <= schedule.nEpochs; epoch++) {
    const order = epochOrder(seed, epoch, n);
    for (let s = 0; s < stepsPerEpoch; s++) {
      if (await hook(s, stepsPerEpoch)) return null;
      const from = s * schedule.batchSize;
      const bs = Math.min(schedule.batchSize, n - from);
      for (let i = 0; i < bs; i++) {
        const r = order[from + i]!;
        work.x.set(xFit.subarray(r * F, (r + 1) * F), i * F);
        yb[i] = yFit[r]!;
      }
      await headStep(pool, model, work, yb, bs, opt);
    }
    const f1 = evalMetrics(await headProbaOn(pool, model, xHeld, yHeld.length), yHeld, K).macro_f1;
    if (f1 > best) (best = f1), (bestEpoch = epoch), (since = 0);
    else if (++since >= patience) break;
  }
  return { macroF1: best, epoch: bestEpoch };
}
