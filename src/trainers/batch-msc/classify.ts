/**
 * One input file → one output CSV, streaming: the file is read line by line (timeseries/csv-rows.ts)
 * and its windows are classified in batches of `batchSize` as the rows arrive, so memory stays
 * bounded whatever the file length: the rows of one batch of windows ((batchSize − 1)·step + window
 * rows) plus one 1 MiB piece of lines, and 256 windows × 10k features × 4 bytes = 10 MB of
 * embeddings at a time (a whole 1M-row file at once would need ~10 GB). Values are forward-filled and
 * normalised with the same float32 arithmetic as readSeriesFile + applyChannelStats, and per-window
 * results do not depend on the batch they are computed in, so the output equals
 * predictWindowsFromCheckpoint on the same file. Leading missing values take the column's first
 * valid value: a first pass reads only until every column has had one (usually line 2).
 * CSV: `<timestamp column>,Prediction,<one probability column per class>`; one row per window,
 * timestamped with the window's last row; probabilities written with JavaScript's shortest
 * round-trip form of the float32 value. Written to `<name>.tmp`, renamed when complete (removed when
 * a bad row is met part way).
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { predictProba, type TsModel } from '../timeseries/model.js';
import { scanCsvFile, type Series } from '../timeseries/reader.js';
import { identity, WindowSet } from '../timeseries/windows.js';
import { countCsvRows } from './header.js';

export interface ClassifyTask {
  file_id: string;
  path: string;
  /** Absolute path of the finished output file. */
  outPath: string;
}

export interface ClassifyResult {
  windows: number;
  size: number;
  sha256: string;
}

/** Called after each batch with (windows done, windows in this file). */
export type BatchProgress = (done: number, total: number) => void | Promise<void>;

export function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Header cells; a class named like the timestamp column or `Prediction` gets a `prob_` prefix. */
export function outputHeader(m: TsModel): string[] {
  const ts = m.reader.timestampColumn;
  return [ts, 'Prediction', ...m.labels.map((l) => (l === ts || l === 'Prediction' ? `prob_${l}` : l))];
}

/**
 * Where a batch of windows is classified: `proba(windows [C, n·L] channel-major, n)` → [n, K].
 * `depth` batches may be in flight (the thread pool's size; 1 on the main thread). Results are
 * written in submission order, and a window's result does not depend on its batch, so the output
 * is the same for any depth.
 */
export interface Predictor {
  depth: number;
  proba(windows: Float32Array, n: number): Promise<Float32Array>;
}

export function inlinePredictor(m: TsModel): Predictor {
  const L = m.reader.windowSize;
  return {
    depth: 1,
    proba: (data, n) => predictProba(m, new WindowSet([{ fileId: '', columns: m.reader.dataColumns, timestamps: [], data, length: n * L } satisfies Series], L, L), identity(n)),
  };
}

export async function classifyFile(m: TsModel, step: number, batchSize: number, task: ClassifyTask, onBatch?: BatchProgress, pool?: Predictor): Promise<ClassifyResult> {
  const r = m.reader;
  const L = r.windowSize;
  // minRows 1: a file shorter than one window gets a header-only output, not a failed job.
  const opts = { dataColumns: r.dataColumns, timestampColumn: r.timestampColumn, minRows: 1 };
  const first = await firstValid(task, opts);
  const estimate = Math.max(0, Math.floor(((await countCsvRows(task.path)) - L) / step) + 1);
  const C = first.length;
  const mean = m.channelStats.mean;
  const inv = Array.from(m.channelStats.std, (sd) => 1 / sd);
  const last = Float64Array.from(first);
  const rows = new RowBuffer(C);
  let next = 0; // first row of the next window
  let windows = 0;
  let reported = 0; // the total last passed to onBatch: the estimate until the file's end

  const tmp = `${task.outPath}.tmp`;
  const fh = await open(tmp, 'w');
  const hash = createHash('sha256');
  let size = 0;
  const write = async (text: string): Promise<void> => {
    const buf = Buffer.from(text, 'utf8');
    hash.update(buf);
    size += buf.length;
    await fh.write(buf);
  };
  const K = m.labels.length;
  const predict = pool ?? inlinePredictor(m);
  /** Batches submitted and not yet written, oldest first: at most predict.depth (1 inline). */
  const pending: Array<{ probs: Promise<Float32Array>; ends: string[]; n: number; final: boolean }> = [];
  const flush = async (keep: number): Promise<void> => {
    while (pending.length > keep) {
      const b = pending.shift()!;
      const probs = await b.probs;
      const lines: string[] = [];
      for (let i = 0; i < b.n; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
        const cells = [csvCell(b.ends[i]!), csvCell(m.labels[best]!)];
        for (let k = 0; k < K; k++) cells.push(String(probs[i * K + k]!));
        lines.push(cells.join(','));
      }
      await write(`${lines.join('\n')}\n`);
      windows += b.n;
      reported = b.final ? windows : Math.max(estimate, windows);
      await onBatch?.(windows, reported);
    }
  };
  /** Classifies the complete windows held, in batches; a short batch only at the end of the file. */
  const drain = async (end: boolean): Promise<void> => {
    for (;;) {
      const avail = rows.end < next + L ? 0 : Math.floor((rows.end - L - next) / step) + 1;
      const n = Math.min(avail, batchSize);
      if (n === 0 || (n < batchSize && !end)) break;
      const ends: string[] = [];
      const data = rows.windows(next, n, step, L, ends);
      const probs = predict.proba(data, n);
      probs.catch(() => undefined); // awaited in order by flush; an early failure must not go unhandled meanwhile
      pending.push({ probs, ends, n, final: end && avail === n });
      next += n * step;
      rows.dropBefore(next);
      await flush(predict.depth - 1);
    }
  };
  try {
    await write(`${outputHeader(m).map(csvCell).join(',')}\n`);
    await scanCsvFile(task.path, task.file_id, opts, (v, ts) => {
      const row = rows.append(ts);
      for (let c = 0; c < C; c++) {
        if (!Number.isNaN(v[c]!)) last[c] = Math.fround(v[c]!);
        row[c] = (last[c]! - mean[c]!) * inv[c]!; // applyChannelStats' arithmetic, float32 on store
      }
    }, () => drain(false));
    await drain(true);
    await flush(0);
    if (windows > 0 && reported !== windows) await onBatch?.(windows, windows);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, task.outPath);
  return { windows, size, sha256: hash.digest('hex') };
}

/** Per column the first valid value (0 for a column with none): reads until every column has one. */
async function firstValid(task: ClassifyTask, opts: { dataColumns: string[]; timestampColumn: string; minRows: number }): Promise<Float64Array> {
  let first: Float64Array | null = null;
  let missing = 0;
  const { names } = await scanCsvFile(task.path, task.file_id, opts, (v) => {
    if (!first) (first = new Float64Array(v.length).fill(NaN)), (missing = v.length);
    for (let c = 0; c < v.length; c++) if (Number.isNaN(first[c]!) && !Number.isNaN(v[c]!)) (first[c] = Math.fround(v[c]!)), missing--;
    return missing > 0;
  });
  const out = first ?? new Float64Array(names.length);
  for (let c = 0; c < out.length; c++) if (Number.isNaN(out[c]!)) out[c] = 0;
  return out;
}

/** Normalised rows [start, end) in row-major float32, with their timestamps; grows by doubling. */
class RowBuffer {
  start = 0;
  end = 0;
  private data: Float32Array;
  private ts: string[] = [];

  constructor(private readonly C: number) {
    this.data = new Float32Array(C * 4096);
  }

  /** Room for one more row; returns its cells (written by the caller). */
  append(ts: string): Float32Array {
    const i = this.end - this.start;
    if ((i + 1) * this.C > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data.subarray(0, i * this.C));
      this.data = grown;
    }
    this.ts.push(ts);
    this.end++;
    return this.data.subarray(i * this.C, (i + 1) * this.C);
  }

  /** Forgets rows before `row` (they belong to no window still to come). */
  dropBefore(row: number): void {
    const k = Math.min(row, this.end) - this.start;
    if (k <= 0) return;
    this.data.copyWithin(0, k * this.C, (this.end - this.start) * this.C);
    this.ts.splice(0, k);
    this.start += k;
  }

  /** n windows of L rows from row `from`, every `step` rows, as one channel-major series of n·L rows. */
  windows(from: number, n: number, step: number, L: number, ends: string[]): Float32Array {
    const { C } = this;
    const T = n * L;
    const out = new Float32Array(C * T);
    for (let w = 0; w < n; w++) {
      const base = from + w * step - this.start;
      for (let t = 0; t < L; t++) {
        const src = (base + t) * C;
        for (let c = 0; c < C; c++) out[c * T + w * L + t] = this.data[src + c]!;
      }
      ends.push(this.ts[base + L - 1]!);
    }
    return out;
  }
}
