/**
 * The `knn` method: embed the training windows (the "steps" are embedding batches of `batch_size`
 * windows, default 256), keep embeddings + labels as the model, then in finalization evaluate on the
 * validation files and commit the one checkpoint (`step_1`), as Archetype's knn worker does.
 * Stop: checked before every embedding batch; a stop before the checkpoint leaves none (nothing
 * to finalize from); a stop during the evaluation lets it finish and commit.
 * A resumed knn job already has its checkpoint: it finalizes without writing another.
 * Step units: progress and eval steps count embedding batches (the evaluation is at the last one);
 * the checkpoint is step 1.
 * The reference vectors are quantised to int8 before the evaluation (knn.ts quantizeKnn), so the
 * reported metrics are those of the stored checkpoint (version 3: 1 byte per value, and the PCA
 * basis that lets the search skip provably far references, knn-basis.ts).
 * A request that sets none of encoder, instance_norm and num_features gets its encoder chosen first
 * (window statistics or MiniRocket) by the blocked validation of select.ts, as head's does.
 */
import type { TrainContext } from '../builtin.js';
import { buildKnn, quantizeKnn } from './knn.js';
import { evalMetrics } from './metrics.js';
import { predictProba, serializeModel, type SelectionRecord, type TsModel } from './model.js';
import { getKernels } from './numeric.js';
import { DEFAULT_NUM_FEATURES, ENCODE_BATCH } from './encoder.js';
import { prepare, tick } from './prepare.js';
import { identity } from './windows.js';
import { chooseBeforeFit } from './select.js';
import type { TrainResult } from './train-head.js';

export async function trainKnn(ctx: TrainContext): Promise<TrainResult> {
  let total = 1;
  let batch = ENCODE_BATCH;
  const stopHook = async (): Promise<boolean> => (await tick(), ctx.stopRequested());
  let selection: SelectionRecord | undefined;
  // The automatic choice of encoder (select.ts), before anything of the final run is fitted.
  const choose = chooseBeforeFit(ctx, stopHook, (r) => (selection = r));
  const p = await prepare(ctx, ({ nTrain, nVal, nChannels, cfg, resumed }) => {
    if (resumed) selection = resumed.selection; // a resumed run keeps the choice that made its model
    batch = cfg.knn.batchSize ?? ENCODE_BATCH;
    total = Math.max(1, Math.ceil(nTrain / batch));
    ctx.emit({ type: 'hyperparameters', values: {
      method: 'knn', batch_size: batch, n_neighbors: cfg.knn.nNeighbors, metric: cfg.knn.metric, weights: cfg.knn.weights,
      normalize_embeddings: cfg.knn.normalizeEmbeddings, window_size: cfg.reader.windowSize, step_size: cfg.reader.stepSize,
      ...(cfg.encoder.windowStats
        ? { encoder: 'window_stats', instance_norm: false, num_features: 3 * nChannels }
        : { encoder: 'minirocket', instance_norm: cfg.encoder.instanceNorm, num_features: cfg.encoder.numFeatures ?? DEFAULT_NUM_FEATURES }),
      n_train_windows: nTrain, n_validation_windows: nVal, seed: ctx.spec.seed, kernels: getKernels().name,
      ...(selection ? {
        selection: 'automatic', selection_margin: selection.margin,
        selection_scores: selection.scores.map((c) => `${c.encoder}: ${c.macro_f1}`).join(', '),
      } : {}),
    } });
    return async (done) => {
      await tick();
      if (ctx.stopRequested()) return true;
      ctx.emit({ type: 'progress', step: Math.floor(done / batch), total_steps: total, epoch: 0, phase: 'embedding' });
      return false;
    };
  }, choose);
  if (!p) return { reason: 'stopped', step: 0 };
  if (p.resumed?.knn) {
    ctx.emit({ type: 'finalizing' });
    return { reason: 'completed', step: p.resumed.epoch, metrics: p.resumed.metrics };
  }
  ctx.emit({ type: 'progress', step: total, total_steps: total, epoch: 1 });
  const K = p.data.labels.length;
  const F = p.encoder.rocket.nFeatures;
  const knn = quantizeKnn(buildKnn(p.cfg.knn, p.xTrain, p.trainWs.count, F, p.yTrain, K), ctx.spec.seed);
  const model: TsModel = {
    method: 'knn', labels: p.data.labels, channelStats: p.channelStats, encoder: p.encoder,
    reader: { ...p.cfg.reader, dataColumns: p.data.columns }, knn, epoch: 1, seed: ctx.spec.seed, metrics: {}, kernels: getKernels().name,
    ...(selection ? { selection } : {}),
  };
  ctx.emit({ type: 'finalizing' });
  // On the metrics axis the evaluation comes after the last embedding batch (step `total`).
  ctx.emit({ type: 'eval_start', step: total });
  const probs = await predictProba(model, p.valWs, identity(p.valWs.count), async () => (await tick(), false));
  const { macro_f1, accuracy } = evalMetrics(probs, p.yVal, K);
  // `epoch` in the checkpoint's metrics places it on the metrics axis (the evaluation at step `total`), as head's do.
  model.metrics = { macro_f1, accuracy, epoch: 1 };
  ctx.emit({ type: 'eval_end', step: total, metrics: model.metrics });
  await ctx.writeCheckpoint(1, serializeModel(model), model.metrics, 'step_1');
  return { reason: 'completed', step: 1, metrics: model.metrics };
}
