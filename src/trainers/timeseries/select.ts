/**
 * The automatic choice of encoder (× hidden units for head) for a request with cfg.auto (head: none
 * of encoder, hidden_units, instance_norm, num_features set; knn: none of encoder, instance_norm,
 * num_features). Time-respecting, from the training files only:
 *   1. each training file (one class, rows in time order) is cut into an earlier part and its LATEST
 *      HELD_OUT_FRACTION of rows; no window crosses the cut, nothing is shuffled across it;
 *   2. channel normalisation, encoder and feature statistics are fitted on the earlier parts only;
 *   3. each candidate (CANDIDATES or KNN_CANDIDATES, simplest first) trains on the earlier windows
 *      exactly as the real run does (head: AdamW, seeded shuffles, early stopping, its best epoch;
 *      knn: the request's neighbours and metric over int8 references) and scores macro-F1 on the
 *      later block;
 *   4. the simplest candidate within one standard error of the best score wins (the one-standard-
 *      error rule): later-in-time drift punishes capacity, and the later block is small.
 * validation_files are never looked at here: they still select the final run's checkpoint, and a
 * held-out split stays held out. The trainer then fits the winner on all training files as usual.
 */
import type { TrainContext } from '../builtin.js';
import { chooseHeadSchedule, type HeadSchedule } from './hparams.js';
import type { TsConfig } from './config.js';
import type { LoadedData } from './data.js';
import { fitEncoderRocket, fitFeatureStats, standardize, statsRocket, transformWindows, type BatchHook, type EncoderParams } from './encoder.js';
import { transformWindowsOnCores } from './embed-pool.js';
import { headToKernelMemory, headWorkspace, initHead, type HeadModel, type HeadWorkspace } from './head.js';
import { HeadPool, headProbaOn, headStep } from './head-pool.js';
import { buildKnn, knnProba, quantizeKnn } from './knn.js';
import { evalMetrics } from './metrics.js';
import type { SelectionRecord } from './model.js';
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

/** Scores one candidate: trained on the earlier windows' features, macro-F1 on the later block's. */
type ScoreCandidate = (
  c: Candidate, xFit: Float32Array, yFit: Int32Array, xHeld: Float32Array, yHeld: Int32Array, F: number, K: number,
) => Promise<{ macroF1: number; epoch: number } | null>;

/**
 * Runs the head's blocked validation; returns null when stopped, or a string (why) when the
 * training files are too short to hold a block out (the caller keeps the fixed defaults).
 */
export function selectHead(data: LoadedData, cfg: TsConfig, seed: number, hook: BatchHook, log: (m: string) => void): Promise<Selection | string | null> {
  const score: ScoreCandidate = (c, xFit, yFit, xHeld, yHeld, F, K) => fitAndScore(xFit, yFit, xHeld, yHeld, F, K, c.hiddenUnits, cfg, seed, hook);
  return selectEncoder(data, cfg, seed, hook, log, CANDIDATES, score, (c) => `${c.encoder} encoder, ${c.hiddenUnits} hidden units`);
}

/**
 * knn's candidates: the two encoders (knn has no layer: hiddenUnits 0). Window statistics first:
 * 120 features on SWaT against MiniRocket's 1,008, ~6× faster to embed and search.
 */
export const KNN_CANDIDATES: readonly Candidate[] = [
  { encoder: 'window_stats', hiddenUnits: 0 },
  { encoder: 'minirocket', hiddenUnits: 0 },
];

/**
 * knn's choice of encoder by the same blocked validation: the request's knn settings over the
 * earlier windows (int8, as the stored checkpoint searches), macro-F1 on the later block.
 */
export function selectKnn(data: LoadedData, cfg: TsConfig, seed: number, hook: BatchHook, log: (m: string) => void): Promise<Selection | string | null> {
  const score: ScoreCandidate = async (_c, xFit, yFit, xHeld, yHeld, F, K) => {
    // buildKnn normalises xFit's rows in place: fine, each encoder has one knn candidate.
    const model = quantizeKnn(buildKnn(cfg.knn, xFit, yFit.length, F, yFit, K), seed);
    return { macroF1: evalMetrics(knnProba(model, xHeld, yHeld.length), yHeld, K).macro_f1, epoch: 1 };
  };
  return selectEncoder(data, cfg, seed, hook, log, KNN_CANDIDATES, score, (c) => `${c.encoder} encoder (knn)`);
}

async function selectEncoder(
  data: LoadedData, cfg: TsConfig, seed: number, hook: BatchHook, log: (m: string) => void,
  candidates: readonly Candidate[], score: ScoreCandidate, describe: (c: Candidate) => string,
): Promise<Selection | string | null> {
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
    if (!candidates.some((c) => c.encoder === encoder)) continue;
    const windowStats = encoder === 'window_stats';
    // MiniRocket at the run's own width: the kernel default for head, 1,008 for knn (config.ts).
    const rocket = windowStats ? statsRocket(fitWs.channels, L) : fitEncoderRocket(fitWs, seed, true, cfg.encoder.numFeatures);
    const enc: EncoderParams = windowStats ? { instanceNorm: false, rocket, features: null, windowStats } : { instanceNorm: true, rocket, features: null };
    const transform = windowStats ? transformWindows : transformWindowsOnCores;
    const xFit = await transform(fitWs, identity(fitWs.count), enc, hook);
    const xHeld = xFit && (await transform(heldWs, identity(heldWs.count), enc, hook));
    if (!xFit || !xHeld) return null;
    const features = fitFeatureStats(xFit, fitWs.count, rocket.nFeatures);
    standardize(xFit, fitWs.count, features);
    standardize(xHeld, heldWs.count, features);
    for (const c of candidates) {
      if (c.encoder !== encoder) continue;
      const r = await score(c, xFit, yFit, xHeld, yHeld, rocket.nFeatures, K);
      if (!r) return null;
      scores.push({ ...c, ...r });
      log(`automatic choice: ${describe(c)}: macro-F1 ${r.macroF1.toFixed(4)} on the latest ${HELD_OUT_FRACTION * 100}% of each training file (best epoch ${r.epoch})`);
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

/**
 * The automatic choice for a cfg.auto request, applied to cfg (encoder; head's width too):
 * its record for the checkpoint and the hyperparameters message, undefined when cfg.auto is off or
 * the files are too short (cfg keeps the fixed defaults), null when a stop arrived.
 */
export async function chooseAutomatically(data: LoadedData, cfg: TsConfig, seed: number, hook: BatchHook, log: (m: string) => void): Promise<SelectionRecord | undefined | null> {
  if (!cfg.auto) return undefined;
  const head = cfg.method === 'head';
  const r = await (head ? selectHead : selectKnn)(data, cfg, seed, hook, log);
  if (r === null) return null;
  const width = head ? `, ${cfg.head.hiddenUnits} hidden units` : '';
  if (typeof r === 'string') {
    log(`automatic choice skipped (${r}): MiniRocket encoder${width}`);
    return undefined;
  }
  cfg.encoder.windowStats = r.chosen.encoder === 'window_stats';
  if (head) cfg.head.hiddenUnits = r.chosen.hiddenUnits;
  log(`automatic choice: ${r.chosen.encoder} encoder${head ? `, ${r.chosen.hiddenUnits} hidden units` : ''} (the simplest within ${r.margin.toFixed(4)} macro-F1 of the best)`);
  return {
    encoder: r.chosen.encoder, hidden_units: r.chosen.hiddenUnits, margin: +r.margin.toFixed(4), n_fit_windows: r.nFit, n_held_windows: r.nHeld,
    held_out_fraction: HELD_OUT_FRACTION,
    scores: r.scores.map((c) => ({ encoder: c.encoder, hidden_units: c.hiddenUnits, macro_f1: +c.macroF1.toFixed(4), epoch: c.epoch })),
  };
}

/**
 * prepare()'s `beforeFit` for a trainer: the automatic choice with the job's seed, its `log` lines
 * and the trainer's stop hook; `keep` gets the record (undefined: no choice was made).
 */
export function chooseBeforeFit(ctx: TrainContext, stopHook: BatchHook, keep: (r: SelectionRecord | undefined) => void): (data: LoadedData, cfg: TsConfig) => Promise<boolean> {
  return async (data, cfg) => {
    const log = (message: string): void => ctx.emit({ type: 'log', level: 'info', message });
    const r = await chooseAutomatically(data, cfg, ctx.spec.seed, stopHook, log);
    if (r === null) return false;
    keep(r);
    return true;
  };
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
