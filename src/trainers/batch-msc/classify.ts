/**
 * One input file → one output CSV, in batches of `batchSize` windows so memory stays bounded
 * whatever the file length (256 windows × 10k features × 4 bytes = 10 MB of embeddings at a time,
 * where a whole 1M-row file at once would need ~10 GB). Per-window results do not depend on the
 * batch they are computed in, so the output equals predictWindowsFromCheckpoint on the same file.
 * CSV: `<timestamp column>,Prediction,<one probability column per class>`; one row per window,
 * timestamped with the window's last row; probabilities written with JavaScript's shortest
 * round-trip form of the float32 value. Written to `<name>.tmp`, renamed when complete.
 */
import { createHash } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { predictProba, type TsModel } from '../timeseries/model.js';
import { readSeriesFile } from '../timeseries/reader.js';
import { applyChannelStats, WindowSet } from '../timeseries/windows.js';

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

export async function classifyFile(m: TsModel, step: number, batchSize: number, task: ClassifyTask, onBatch?: BatchProgress): Promise<ClassifyResult> {
  // minRows 1: a file shorter than one window gets a header-only output, not a failed job.
  const s = await readSeriesFile(task.path, task.file_id, { dataColumns: m.reader.dataColumns, timestampColumn: m.reader.timestampColumn, minRows: 1 });
  applyChannelStats(s, m.channelStats);
  const ws = new WindowSet([s], m.reader.windowSize, step);
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
  try {
    await write(`${outputHeader(m).map(csvCell).join(',')}\n`);
    const K = m.labels.length;
    const idx = new Int32Array(batchSize);
    for (let from = 0; from < ws.count; from += batchSize) {
      const to = Math.min(ws.count, from + batchSize);
      for (let i = from; i < to; i++) idx[i - from] = i;
      const probs = await predictProba(m, ws, idx.subarray(0, to - from));
      const lines: string[] = [];
      for (let i = 0; i < to - from; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
        const cells = [csvCell(ws.endTimestamp(from + i)), csvCell(m.labels[best]!)];
        for (let k = 0; k < K; k++) cells.push(String(probs[i * K + k]!));
        lines.push(cells.join(','));
      }
      await write(`${lines.join('\n')}\n`);
      await onBatch?.(to, ws.count);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, task.outPath);
  return { windows: ws.count, size, sha256: hash.digest('hex') };
}
