/**
 * The classifier a batch job runs, as a time-series TsModel (so classification is exactly the
 * predict path of the fine-tune API: model.ts predictProba):
 *  - with a checkpoint: the checkpoint itself (its trained head, or its knn vectors and settings);
 *    window size, data columns and timestamp column come from its metadata and override the
 *    request (docs/spec.md#batch-jobs); each overridden field is reported;
 *  - without: a few-shot knn built like the omega knn trainer builds one (train-knn.ts) from the
 *    `worker.n_shots` files: channel statistics, a MiniRocket encoder fitted on their windows
 *    (seeded), standardized embeddings, one class per file from metadata.class.
 */
import { InvalidDatasetError } from '../builtin.js';
import type { TrainerDataset } from '../protocol.js';
import { READER_DEFAULTS } from '../timeseries/config.js';
import { windowLabels } from '../timeseries/data.js';
import { fitEncoderRocket, fitFeatureStats, standardize, transformWindows, type BatchHook } from '../timeseries/encoder.js';
import { buildKnn } from '../timeseries/knn.js';
import { loadModel, type TsModel } from '../timeseries/model.js';
import { getKernels } from '../timeseries/numeric.js';
import { readSeriesFile, type Series } from '../timeseries/reader.js';
import { applyChannelStats, fitChannelStats, identity, WindowSet } from '../timeseries/windows.js';
import type { BatchSettings } from './settings.js';

export interface Classifier {
  model: TsModel;
  /** The inference stride: the request's step_size, else the checkpoint's (or the default). */
  step: number;
  /** Human-readable notes for the job's events (overrides, what was built). */
  notes: string[];
  /** The checkpoint file it was loaded from (threads load their own copy); null for a few-shot model. */
  path: string | null;
}

export async function checkpointClassifier(path: string, s: BatchSettings): Promise<Classifier> {
  const model = await loadModel(path);
  const r = model.reader;
  const notes: string[] = [];
  const differs = (field: string, asked: unknown, used: unknown): void => {
    if (asked !== null && JSON.stringify(asked) !== JSON.stringify(used)) notes.push(`reader_config.${field} ${JSON.stringify(asked)} differs from the checkpoint's ${JSON.stringify(used)}: using the checkpoint's`);
  };
  differs('window_size', s.reader.windowSize, r.windowSize);
  differs('data_columns', s.reader.dataColumns, r.dataColumns);
  differs('timestamp_column', s.reader.timestampColumn, r.timestampColumn);
  notes.push(`classifier: the checkpoint's ${model.method}${model.knn ? ` (n_neighbors ${model.knn.settings.nNeighbors}, ${model.knn.settings.metric}, ${model.knn.settings.weights})` : ''} over ${model.labels.length} classes (${model.labels.join(', ')}); classifier_config and ${'worker.n_shots'} are ignored`);
  return { model, step: s.reader.stepSize ?? r.stepSize, notes, path };
}

export async function fewShotClassifier(nShots: TrainerDataset['files'], s: BatchSettings, hook?: BatchHook): Promise<Classifier> {
  const windowSize = s.reader.windowSize ?? READER_DEFAULTS.windowSize;
  const step = s.reader.stepSize ?? READER_DEFAULTS.stepSize;
  const timestampColumn = s.reader.timestampColumn ?? READER_DEFAULTS.timestampColumn;
  if (nShots.length === 0) throw new InvalidDatasetError({ file_id: 'worker.n_shots', message: 'no n_shots files and no checkpoint: nothing to build a classifier from' });
  const labels = [...new Set(nShots.map((f) => f.label ?? ''))].sort();
  if (labels.length < 2 || labels.includes('')) throw new InvalidDatasetError({ file_id: 'worker.n_shots', message: `needs files of at least 2 distinct metadata.class values, found ${labels.filter(Boolean).join(', ') || 'none'}` });
  let columns = s.reader.dataColumns;
  const series: Series[] = [];
  for (const f of nShots) {
    const one = await readSeriesFile(f.path, f.file_id, { dataColumns: columns, timestampColumn, minRows: windowSize, timestamps: false });
    columns ??= one.columns; // the first file fixes the columns when the request names none
    one.label = f.label;
    series.push(one);
  }
  const channelStats = fitChannelStats(series);
  for (const one of series) applyChannelStats(one, channelStats);
  const ws = new WindowSet(series, windowSize, step);
  const y = windowLabels(ws.seriesOf(), series.map((one) => labels.indexOf(one.label!)));
  const rocket = fitEncoderRocket(ws, s.seed, true, s.numFeatures);
  const x = await transformWindows(ws, identity(ws.count), { instanceNorm: true, rocket, features: null }, hook, s.batchSize);
  if (!x) throw new Error('embedding aborted');
  const features = fitFeatureStats(x, ws.count, rocket.nFeatures);
  standardize(x, ws.count, features);
  const knn = buildKnn(s.knn, x, ws.count, rocket.nFeatures, y, labels.length);
  const model: TsModel = {
    method: 'knn', labels, reader: { windowSize, stepSize: step, dataColumns: columns!, timestampColumn }, channelStats,
    encoder: { instanceNorm: true, rocket, features }, knn, epoch: 0, seed: s.seed, metrics: {}, kernels: getKernels().name,
  };
  const notes = [`classifier: few-shot knn (n_neighbors ${s.knn.nNeighbors}, ${s.knn.metric}, ${s.knn.weights}) over ${ws.count} windows of ${nShots.length} n_shots files, ${labels.length} classes (${labels.join(', ')}), ${rocket.nFeatures} features, window ${windowSize}, step ${step}, ${columns!.length} columns`];
  return { model, step, notes, path: null };
}
