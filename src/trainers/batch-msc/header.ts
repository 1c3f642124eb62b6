/**
 * Cheap reads for create-time checks and run-time planning, without parsing whole files:
 * the JSON header of a time-series checkpoint (checkpoint.ts container: magic, u32 length, JSON),
 * the header row of a CSV (first 64 KiB at most), and a CSV's data-row count (a byte scan that
 * counts non-blank lines in 1 MiB pieces: ~1 ms per MB, so window totals are known before
 * classification starts).
 */
import { open } from 'node:fs/promises';
import { MAGIC } from '../timeseries/checkpoint.js';
import { splitCsvLine } from '../timeseries/reader.js';

/** A header longer than this is not one of ours (a knn header with its settings is < 2 KB). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const CSV_HEADER_BYTES = 64 * 1024;

export interface CheckpointHeader {
  format?: string;
  version?: number;
  method?: 'head' | 'knn';
  labels?: string[];
  reader?: { window_size: number; step_size: number; data_columns: string[]; timestamp_column: string };
  knn?: { settings?: Record<string, unknown> };
  [k: string]: unknown;
}

export async function readCheckpointHeader(path: string): Promise<CheckpointHeader> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await fh.read(head, 0, 12, 0);
    if (bytesRead < 12 || head.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an ftnode time-series checkpoint (bad magic)');
    const h = head.readUInt32LE(8);
    if (h > MAX_HEADER_BYTES) throw new Error(`checkpoint header of ${h} bytes is implausible`);
    const json = Buffer.alloc(h);
    await fh.read(json, 0, h, 12);
    const meta = JSON.parse(json.toString('utf8')) as CheckpointHeader;
    delete meta.tensors;
    return meta;
  } finally {
    await fh.close();
  }
}

export async function readCsvHeader(path: string): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(CSV_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, CSV_HEADER_BYTES, 0);
    let line = buf.toString('utf8', 0, bytesRead).split('\n')[0] ?? '';
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    line = line.replace(/\r$/, '');
    return line.trim() === '' ? [] : splitCsvLine(line).map((h) => h.trim());
  } finally {
    await fh.close();
  }
}

/** Data rows of a CSV as the reader counts them: non-blank lines after the header (read in 1 MiB pieces). */
export async function countCsvRows(path: string): Promise<number> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  let blank = true;
  try {
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i]!;
        if (b === 0x0a) {
          if (!blank) lines++;
          blank = true;
        } else if (b !== 0x20 && b !== 0x0d && b !== 0x09) blank = false;
      }
    }
  } finally {
    await fh.close();
  }
  if (!blank) lines++;
  return Math.max(0, lines - 1);
}
