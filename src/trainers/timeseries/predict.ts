/**
 * Prediction from a checkpoint: one prediction per window, using the window size, step, columns,
 * timestamp column and normalisation stored in the checkpoint (ambiguity A6: the checkpoint's
 * metadata wins over the caller). `predictWindowsFromCheckpoint` is the library entry (also meant
 * for a future batch-inference feature); `predictFromCheckpoint` adapts the BuiltinTrainer input.
 * Loaded models are cached (4 entries, keyed by path + size + mtime) so repeated predict calls on
 * the same checkpoint do not re-read and re-decode it.
 */
import { stat } from 'node:fs/promises';
import { InvalidDatasetError, type PredictInput, type Prediction } from '../builtin.js';
import { loadModel, predictProba, type TsModel } from './model.js';
import { readSeriesFile, seriesFromRows, type Series } from './reader.js';
import { applyChannelStats, identity, WindowSet } from './windows.js';

export interface WindowPrediction extends Prediction {
  file_id: string;
  window_index: number;
  /** The timestamp of the window's last row (an opaque string, as read). */
  timestamp: string;
}

export type PredictSource = { file_id: string; path: string } | { file_id: string; rows: Array<Record<string, unknown>> };

export interface PredictOptions {
  /** Override the stored step (e.g. 1 for a prediction per row); the window size never changes. */
  stepSize?: number;
}

const CACHE_SIZE = 4;
const cache = new Map<string, TsModel>();

export async function loadModelCached(path: string): Promise<TsModel> {
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  const m = await loadModel(path);
  cache.set(key, m);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return m;
}

async function readSource(m: TsModel, src: PredictSource): Promise<Series> {
  const r = m.reader;
  if ('rows' in src) return seriesFromRows(src.rows, src.file_id, r.dataColumns, r.timestampColumn, r.windowSize);
  return readSeriesFile(src.path, src.file_id, { dataColumns: r.dataColumns, timestampColumn: r.timestampColumn, minRows: r.windowSize });
}

export async function predictWindowsFromCheckpoint(checkpoint: string | TsModel, sources: PredictSource[], opts: PredictOptions = {}): Promise<WindowPrediction[]> {
  const m = typeof checkpoint === 'string' ? await loadModelCached(checkpoint) : checkpoint;
  const step = opts.stepSize ?? m.reader.stepSize;
  if (!Number.isInteger(step) || step < 1) throw new InvalidDatasetError({ file_id: '(input)', message: `step size must be an integer ≥ 1, got ${step}` });
  const out: WindowPrediction[] = [];
  for (const src of sources) {
    const s = await readSource(m, src);
    applyChannelStats(s, m.channelStats);
    const ws = new WindowSet([s], m.reader.windowSize, step);
    const probs = await predictProba(m, ws, identity(ws.count));
    const K = m.labels.length;
    for (let i = 0; i < ws.count; i++) {
      const probabilities: Record<string, number> = {};
      let best = 0;
      for (let k = 0; k < K; k++) {
        probabilities[m.labels[k]!] = probs[i * K + k]!;
        if (probs[i * K + k]! > probs[i * K + best]!) best = k;
      }
      out.push({ prediction: m.labels[best]!, probabilities, file_id: src.file_id, window_index: i, timestamp: ws.endTimestamp(i) });
    }
  }
  return out;
}

/** BuiltinTrainer.predict: `files` and/or `rows` (one series, file_id "rows"). */
export async function predictFromCheckpoint(checkpointPath: string, input: PredictInput): Promise<Prediction[]> {
  const sources: PredictSource[] = [...(input.files ?? [])];
  if (input.rows?.length) sources.push({ file_id: 'rows', rows: input.rows });
  if (sources.length === 0) throw new InvalidDatasetError({ file_id: '(input)', message: 'give `files` or `rows` to predict on' });
  return predictWindowsFromCheckpoint(checkpointPath, sources);
}
