/**
 * The classifier a batch job runs, as a time-series TsModel (so classification is exactly the
 * predict path of the fine-tune API: model.ts predictProba):
 *  - with a checkpoint: the checkpoint itself (its trained head, or its knn vectors and settings);
 *    window size, data columns and timestamp column come from its metadata and override the
 *    request (docs/spec.md#batch-jobs); each overridden field is reported;
 *  - without: the few-shot classifier of timeseries/few-shot.ts fitted on the `worker.n_shots`
 *    files (window statistics, class-scaled nearest neighbours with the request's n_neighbors and
 *    metric), one class per file from metadata.class.
 */
import { InvalidDatasetError } from '../builtin.js';
import type { TrainerDataset } from '../protocol.js';
import { READER_DEFAULTS } from '../timeseries/config.js';
import { windowLabels } from '../timeseries/data.js';
import type { BatchHook } from '../timeseries/encoder.js';
import { fitFewShot } from '../timeseries/few-shot.js';
import { loadModel, type TsModel } from '../timeseries/model.js';
import { getKernels, type RocketParams } from '../timeseries/numeric.js';
import { readSeriesFile, type Series } from '../timeseries/reader.js';
import { WindowSet } from '../timeseries/windows.js';
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
  // The files' own units: no per-channel scaling (the few-shot features are standardised after
  // the window statistics, from the reference windows; scaling channels nearly constant in the
  // references first blew them up 100× and scored 0.33 on SWaT, docs/benchmarks-swat.md).
  const C = columns!.length;
  const channelStats = { mean: new Float32Array(C), std: new Float32Array(C).fill(1) };
  const ws = new WindowSet(series, windowSize, step);
  const y = windowLabels(ws.seriesOf(), series.map((one) => labels.indexOf(one.label!)));
  if (hook && (await hook(0, ws.count))) throw new Error('few-shot fit aborted');
  const fewShot = fitFewShot(ws, y, labels.length, s.knn);
  const model: TsModel = {
    method: 'knn', labels, reader: { windowSize, stepSize: step, dataColumns: columns!, timestampColumn }, channelStats,
    encoder: { instanceNorm: false, rocket: emptyRocket(C, windowSize), features: { mean: new Float32Array(0), std: new Float32Array(0) } },
    fewShot, epoch: 0, seed: s.seed, metrics: {}, kernels: getKernels().name,
  };
  const notes = [`classifier: few-shot knn (n_neighbors ${s.knn.nNeighbors}, ${s.knn.metric}, ${s.knn.weights}), class-scaled (each class's k-th neighbour distance over its own median; weights and normalize_embeddings do not apply) over ${ws.count} windows of ${nShots.length} n_shots files, ${labels.length} classes (${labels.join(', ')}), ${3 * C} window statistics (mean, log std, log mean |diff| per column), window ${windowSize}, step ${step}, ${C} columns`];
  return { model, step, notes, path: null };
}

/** The few-shot model has no MiniRocket encoder: an empty one keeps TsModel's shape (never applied). */
function emptyRocket(nChannels: number, windowLen: number): RocketParams {
  const none = new Int32Array(0);
  return { nChannels, windowLen, kernelIndex: none, dilation: none, padding: none, channelOffsets: none, channelIndices: none, biasOffsets: none, biases: new Float32Array(0), nFeatures: 0 };
}
