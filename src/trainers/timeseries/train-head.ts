/**
 * The `head` method's training loop: shuffled seeded mini-batches (the order of epoch e depends only
 * on (seed, e), so a resumed run repeats an uninterrupted one), AdamW, an evaluation on the
 * validation files after every epoch, a checkpoint `step_<epoch>` each time validation macro-F1
 * improves (the highest step is the best, docs/spec.md#extensions-and-v06), early stopping after `patience`
 * epochs without improvement.
 * Stop: checked before every mini-batch; once set no step starts; an evaluation in progress runs to
 * its end (and checkpoints if it improved); then the loop returns `stopped`.
 * Step units: progress, metrics, eval_start and eval_end `step` count AdamW steps (one axis for every
 * curve: the evaluation after epoch e is at step e × steps-per-epoch, with `epoch` as a field of its
 * metrics); checkpoint and done `step` count epochs (`step_<epoch>`, docs/spec.md#extensions-and-v06).
 */
import type { TrainContext } from '../builtin.js';
import { chooseHeadSchedule } from './hparams.js';
import { headToKernelMemory, headWorkspace, initHead } from './head.js';
import { HeadPool, headProbaOn, headStep } from './head-pool.js';
import { evalMetrics } from './metrics.js';
import { serializeModel, type SelectionRecord, type TsModel } from './model.js';
import { chooseBeforeFit } from './select.js';
import { getKernels } from './numeric.js';
import { DEFAULT_NUM_FEATURES, embedWindows } from './encoder.js';
import { prepare, tick } from './prepare.js';
import { epochOrder } from './rng.js';
import { identity } from './windows.js';

export type TrainResult = { reason: 'completed' | 'stopped'; step: number; metrics?: Record<string, number> };

/** ~10 progress + metrics messages per epoch: enough for a live chart, few enough for the event log. */
const REPORTS_PER_EPOCH = 10;

export async function trainHead(ctx: TrainContext): Promise<TrainResult> {
  const pools: HeadPool[] = [];
  try {
    return await trainHeadOn(ctx, pools);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

async function trainHeadOn(ctx: TrainContext, pools: HeadPool[]): Promise<TrainResult> {
  let schedule = { batchSize: 0, nEpochs: 0 };
  let totalSteps = 0;
  let stepsPerEpoch = 1;
  const stopHook = async (): Promise<boolean> => (await tick(), ctx.stopRequested());
  let selection: SelectionRecord | undefined;
  // The automatic choice of encoder × width (select.ts), before anything of the final run is fitted.
  const choose = chooseBeforeFit(ctx, stopHook, (r) => (selection = r));
  const p = await prepare(ctx, ({ nTrain, nVal, cfg, resumed }) => {
    if (resumed) selection = resumed.selection; // a resumed run keeps the choice that made its model
    schedule = chooseHeadSchedule(nTrain, cfg.head);
    stepsPerEpoch = Math.max(1, Math.ceil(nTrain / schedule.batchSize));
    totalSteps = stepsPerEpoch * schedule.nEpochs;
    ctx.emit({ type: 'hyperparameters', values: {
      method: 'head', batch_size: schedule.batchSize, n_epochs: schedule.nEpochs, learning_rate: cfg.head.learningRate,
      weight_decay: cfg.head.weightDecay, hidden_units: cfg.head.hiddenUnits, patience: cfg.head.patience,
      window_size: cfg.reader.windowSize, step_size: cfg.reader.stepSize, instance_norm: cfg.encoder.instanceNorm, num_features: cfg.encoder.numFeatures ?? DEFAULT_NUM_FEATURES,
      n_train_windows: nTrain, n_validation_windows: nVal, seed: ctx.spec.seed, kernels: getKernels().name,
      // Only when asked for, so the default message stays as it was.
      ...(cfg.encoder.windowStats ? { encoder: 'window_stats', instance_norm: false, num_features: '3 per data column' } : {}),
      ...(selection ? {
        encoder: selection.encoder, selection: 'automatic', selection_margin: selection.margin,
        selection_scores: selection.scores.map((c) => `${c.encoder}/${c.hidden_units}: ${c.macro_f1}`).join(', '),
      } : {}),
    } });
    ctx.emit({ type: 'progress', step: 0, total_steps: totalSteps, epoch: 0, phase: 'encoding' });
    return stopHook;
  }, choose);
  if (!p) return { reason: 'stopped', step: 0 };
  const { cfg, trainWs } = p;
  const F = p.encoder.rocket.nFeatures;
  const K = p.data.labels.length;
  const seed = ctx.spec.seed;
  const model = headToKernelMemory(p.resumed?.head?.model ?? initHead(F, cfg.head.hiddenUnits, K, seed));
  const startEpoch = p.resumed?.epoch ?? 0;
  let best = p.resumed?.metrics.macro_f1 ?? -Infinity;
  let bestMetrics: Record<string, number> | undefined = p.resumed?.metrics;
  let committed = p.resumed !== null;
  let sinceBest = 0;
  let lastEpoch = startEpoch;
  const n = trainWs.count;
  const work = headWorkspace(model, schedule.batchSize);
  const yb = new Int32Array(schedule.batchSize);
  const reportEvery = Math.max(1, Math.floor(stepsPerEpoch / REPORTS_PER_EPOCH));
  const opt = { lr: cfg.head.learningRate, weightDecay: cfg.head.weightDecay };
  // The hidden layer's units split over the cores (head-pool.ts; the same floats as one thread).
  const pool = HeadPool.create(model, schedule.batchSize, opt);
  if (pool) pools.push(pool);

  const snapshot = (epoch: number, metrics: Record<string, number>): TsModel => ({
    method: 'head', labels: p.data.labels, channelStats: p.channelStats, encoder: p.encoder,
    reader: { ...cfg.reader, dataColumns: p.data.columns }, head: { model, settings: cfg.head },
    epoch, seed, metrics, kernels: getKernels().name, ...(selection ? { selection } : {}),
  });
  // The encoder is frozen: embed the validation windows once, not at every evaluation (~0.5 s each on SWaT).
  const xVal = await embedWindows(p.valWs, identity(p.valWs.count), p.encoder, stopHook);
  if (!xVal) return { reason: 'stopped', step: startEpoch, metrics: bestMetrics };
  const evaluate = async (epoch: number, trainLoss: number): Promise<Record<string, number>> => {
    const step = epoch * stepsPerEpoch; // the AdamW step the evaluated weights reached
    ctx.emit({ type: 'eval_start', step });
    await tick();
    const probs = await headProbaOn(pool, model, xVal, p.valWs.count);
    const metrics = { ...evalMetrics(probs, p.yVal, K), epoch, ...(Number.isFinite(trainLoss) ? { train_loss: trainLoss } : {}) };
    ctx.emit({ type: 'eval_end', step, metrics });
    return metrics;
  };
  const commit = async (epoch: number, metrics: Record<string, number>): Promise<void> => {
    await pool?.sync(); // the threads' rows of the first layer into the model
    await ctx.writeCheckpoint(epoch, serializeModel(snapshot(epoch, metrics)), metrics, `step_${epoch}`);
    committed = true;
  };

  for (let epoch = startEpoch + 1; epoch <= schedule.nEpochs; epoch++) {
    const order = epochOrder(seed, epoch, n);
    let lossSum = 0;
    let lossN = 0;
    let epochLoss = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      await tick(); // lets the stdin reader deliver a `stop` before the next step
      if (ctx.stopRequested()) return { reason: 'stopped', step: lastEpoch, metrics: bestMetrics };
      const from = s * schedule.batchSize;
      const bs = Math.min(schedule.batchSize, n - from);
      for (let i = 0; i < bs; i++) {
        const r = order[from + i]!;
        work.x.set(p.xTrain.subarray(r * F, (r + 1) * F), i * F);
        yb[i] = p.yTrain[r]!;
      }
      const loss = await headStep(pool, model, work, yb, bs, opt);
      lossSum += loss;
      lossN++;
      epochLoss += loss;
      const step = (epoch - 1) * stepsPerEpoch + s + 1;
      if ((s + 1) % reportEvery === 0 || s === stepsPerEpoch - 1) {
        ctx.emit({ type: 'progress', step, total_steps: totalSteps, epoch });
        ctx.emit({ type: 'metrics', step, values: { loss: lossSum / lossN, learning_rate: opt.lr } });
        lossSum = 0;
        lossN = 0;
      }
    }
    lastEpoch = epoch;
    const metrics = await evaluate(epoch, epochLoss / stepsPerEpoch);
    if (metrics.macro_f1! > best) {
      best = metrics.macro_f1!;
      bestMetrics = metrics;
      sinceBest = 0;
      await commit(epoch, metrics);
    } else sinceBest++;
    if (ctx.stopRequested()) return { reason: 'stopped', step: lastEpoch, metrics: bestMetrics };
    if (sinceBest >= cfg.head.patience && epoch < schedule.nEpochs) {
      const step = epoch * stepsPerEpoch;
      ctx.emit({ type: 'early_stop', step, epoch, message: `early stopping after epoch ${epoch} of ${schedule.nEpochs}: no macro-F1 gain for ${sinceBest} epochs (best ${best.toFixed(4)} at epoch ${bestMetrics?.epoch ?? '?'})` });
      break;
    }
  }
  ctx.emit({ type: 'finalizing' });
  if (!committed) {
    const metrics = await evaluate(lastEpoch, NaN);
    bestMetrics = metrics;
    await commit(lastEpoch, metrics);
  }
  return { reason: 'completed', step: lastEpoch, metrics: bestMetrics };
}

