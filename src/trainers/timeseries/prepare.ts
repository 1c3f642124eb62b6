/**
 * The part of training shared by both methods: config → data → channel normalisation → encoder
 * fit → training embeddings. On resume the stored normalisation and encoder are reused (never
 * refitted), so the resumed model sees exactly the features its checkpoint was trained on.
 * Stop is honoured between encoding batches (prepare returns null: nothing to finalize yet).
 */
import { InvalidConfigError, InvalidDatasetError, type TrainContext } from '../builtin.js';
import { parseConfig, type TsConfig } from './config.js';
import { loadData, windowLabels, type LoadedData } from './data.js';
import { ENCODE_BATCH, embedWindows, fitEncoderRocket, fitFeatureStats, standardize, statsRocket, transformWindows, type BatchHook, type EncoderParams, type FeatureStats } from './encoder.js';
import { transformWindowsOnCores } from './embed-pool.js';
import { loadModel, type TsModel } from './model.js';
import { getKernels } from './numeric.js';
import { applyChannelStats, fitChannelStats, identity, WindowSet, type ChannelStats } from './windows.js';

export interface Prepared {
  cfg: TsConfig;
  data: LoadedData;
  trainWs: WindowSet;
  valWs: WindowSet;
  yTrain: Int32Array;
  yVal: Int32Array;
  channelStats: ChannelStats;
  encoder: EncoderParams & { features: FeatureStats };
  /** Standardized training embeddings [nTrain, F]. */
  xTrain: Float32Array;
  resumed: TsModel | null;
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export function configOrThrow(raw: Record<string, unknown>, ctx?: TrainContext): TsConfig {
  const parsed = parseConfig(raw);
  if (parsed.problems.length) throw new InvalidConfigError(parsed.problems.map((p) => `${p.column}: ${p.message}`).join('; '));
  for (const w of parsed.warnings) ctx?.emit({ type: 'log', level: 'warn', message: w });
  return parsed.config;
}

/**
 * Loads data and the encoder. `beforeFit` (not on resume) may change cfg from the raw training data
 * before anything is fitted (the head's automatic choice); false means a stop arrived. `onReady`
 * runs once window counts are known (e.g. to emit hyperparameters).
 */
export async function prepare(
  ctx: TrainContext, onReady: (p: { nTrain: number; nVal: number; nChannels: number; cfg: TsConfig; resumed: TsModel | null }) => BatchHook,
  beforeFit?: (data: LoadedData, cfg: TsConfig) => Promise<boolean>,
): Promise<Prepared | null> {
  const cfg = configOrThrow(ctx.spec.config, ctx);
  const resumed = ctx.spec.resume ? await loadModel(ctx.spec.resume.path) : null;
  if (resumed) {
    // A resumed attempt continues the stored model: its reader settings and columns win.
    cfg.reader = { ...cfg.reader, ...resumed.reader };
    // ... and so do its encoder kind and width (an automatic choice is not made again).
    cfg.encoder.windowStats = resumed.encoder.windowStats === true;
    if (resumed.head) cfg.head.hiddenUnits = resumed.head.model.hidden;
    ctx.emit({ type: 'log', level: 'info', message: `resuming from ${ctx.spec.resume!.checkpoint_id} (epoch ${resumed.epoch})` });
  }
  const data = await loadData(ctx.spec.datasets, cfg.reader, resumed?.reader.dataColumns);
  if (resumed && resumed.labels.join('\u0000') !== data.labels.join('\u0000')) {
    throw new InvalidDatasetError({ file_id: 'training_files', message: `labels (${data.labels.join(', ')}) differ from the checkpoint's (${resumed.labels.join(', ')})` });
  }
  if (!resumed && beforeFit && !(await beforeFit(data, cfg))) return null;
  const channelStats = resumed?.channelStats ?? fitChannelStats(data.train.series);
  for (const s of [...data.train.series, ...data.val.series]) applyChannelStats(s, channelStats);
  const L = cfg.reader.windowSize;
  const trainWs = new WindowSet(data.train.series, L, cfg.reader.stepSize);
  const valWs = new WindowSet(data.val.series, L, cfg.reader.stepSize);
  const hook = onReady({ nTrain: trainWs.count, nVal: valWs.count, nChannels: trainWs.channels, cfg, resumed });
  ctx.emit({ type: 'log', level: 'info', message: `${trainWs.count} training and ${valWs.count} validation windows of ${L}×${trainWs.channels}; kernels ${getKernels().name}` });

  const seed = ctx.spec.seed;
  const windowStats = resumed ? resumed.encoder.windowStats === true : cfg.encoder.windowStats;
  const rocket = resumed?.encoder.rocket ?? (windowStats ? statsRocket(trainWs.channels, L) : fitEncoderRocket(trainWs, seed, cfg.encoder.instanceNorm, cfg.encoder.numFeatures));
  const instanceNorm = windowStats ? false : (resumed?.encoder.instanceNorm ?? cfg.encoder.instanceNorm);
  const all = identity(trainWs.count);
  // knn's batch_size is the embedding batch (Archetype's knn hyperparameter); head embeds in 256s.
  const batch = cfg.method === 'knn' ? (cfg.knn.batchSize ?? ENCODE_BATCH) : ENCODE_BATCH;
  let encoder: EncoderParams & { features: FeatureStats };
  let xTrain: Float32Array | null;
  if (resumed) {
    encoder = resumed.encoder;
    xTrain = await embedWindows(trainWs, all, encoder, hook, batch);
  } else {
    // On every core (embed-pool.ts): the same features as transformWindows, bit for bit.
    // Window statistics are ~100× cheaper than MiniRocket: the main thread alone.
    xTrain = windowStats
      ? await transformWindows(trainWs, all, { instanceNorm, rocket, features: null, windowStats }, hook, batch)
      : await transformWindowsOnCores(trainWs, all, { instanceNorm, rocket, features: null }, hook, batch);
    if (!xTrain) return null;
    const features = fitFeatureStats(xTrain, trainWs.count, rocket.nFeatures);
    standardize(xTrain, trainWs.count, features);
    encoder = windowStats ? { instanceNorm, rocket, features, windowStats } : { instanceNorm, rocket, features };
  }
  if (!xTrain) return null;
  return {
    cfg, data, trainWs, valWs, channelStats, encoder, xTrain, resumed,
    yTrain: windowLabels(trainWs.seriesOf(), data.train.y),
    yVal: windowLabels(valWs.seriesOf(), data.val.y),
  };
}
