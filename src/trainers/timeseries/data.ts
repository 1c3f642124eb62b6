/**
 * Loads a job's datasets for training: the `train` split (training_files) and the `eval` split
 * (validation_files), one class per file from the file's `label`. Label ids are the sorted distinct
 * training labels. The data columns are fixed once (reader.data_columns, else the stored columns of
 * a resumed checkpoint, else the first training file's header minus the timestamp) and every other
 * file must have them. Throws InvalidDatasetError at the first problem (validate.ts reports all).
 */
import { InvalidDatasetError, type TrainContext } from '../builtin.js';
import type { ReaderSettings } from './config.js';
import { readSeriesFile, type Series } from './reader.js';

export interface LabeledSplit {
  series: Series[];
  /** Class id per series (one class per file). */
  y: number[];
}

export interface LoadedData {
  labels: string[];
  columns: string[];
  train: LabeledSplit;
  val: LabeledSplit;
}

type Files = TrainContext['spec']['datasets'][number]['files'];

export function splitFiles(datasets: TrainContext['spec']['datasets']): { train: Files; val: Files } {
  return {
    train: datasets.filter((d) => d.split === 'train').flatMap((d) => d.files),
    val: datasets.filter((d) => d.split === 'eval').flatMap((d) => d.files),
  };
}

export async function loadData(datasets: TrainContext['spec']['datasets'], reader: ReaderSettings, storedColumns?: string[]): Promise<LoadedData> {
  const { train, val } = splitFiles(datasets);
  if (train.length === 0) throw new InvalidDatasetError({ file_id: 'training_files', message: 'no training files' });
  if (val.length === 0) throw new InvalidDatasetError({ file_id: 'validation_files', message: 'validation_files is required for omega (at least one file)' });
  for (const f of [...train, ...val]) {
    if (!f.label) throw new InvalidDatasetError({ file_id: f.file_id, message: 'no label: every file needs a `label` (one class per file)' });
  }
  const labels = [...new Set(train.map((f) => f.label!))].sort();
  if (labels.length < 2) throw new InvalidDatasetError({ file_id: 'training_files', message: `needs at least 2 distinct labels, found ${labels.length} (${labels.join(', ')})` });
  for (const f of val) {
    if (!labels.includes(f.label!)) throw new InvalidDatasetError({ file_id: f.file_id, message: `label '${f.label}' does not occur in training_files (${labels.join(', ')})` });
  }
  let columns = reader.dataColumns ?? storedColumns ?? null;
  const read = async (f: Files[number]): Promise<Series> => {
    const s = await readSeriesFile(f.path, f.file_id, { dataColumns: columns, timestampColumn: reader.timestampColumn, minRows: reader.windowSize, timestamps: false });
    columns ??= s.columns;
    s.label = f.label;
    return s;
  };
  const trainSeries: Series[] = [];
  for (const f of train) trainSeries.push(await read(f));
  const valSeries: Series[] = [];
  for (const f of val) valSeries.push(await read(f));
  return {
    labels,
    columns: columns!,
    train: { series: trainSeries, y: trainSeries.map((s) => labels.indexOf(s.label!)) },
    val: { series: valSeries, y: valSeries.map((s) => labels.indexOf(s.label!)) },
  };
}

/** Per-window class ids, given the per-series class ids and a window → series map. */
export function windowLabels(seriesOf: Int32Array, y: number[]): Int32Array {
  const out = new Int32Array(seriesOf.length);
  for (let i = 0; i < seriesOf.length; i++) out[i] = y[seriesOf[i]!]!;
  return out;
}
