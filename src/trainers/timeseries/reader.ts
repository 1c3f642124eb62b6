/**
 * CSV → Series: the Omega time-series dataset format (docs/spec.md#dataset-formats).
 * - A header row; the timestamp column (default `timestamp`) is kept as an opaque string, never
 *   parsed ("28/12/2015 10:29:14 AM" must work). A file without it gets row numbers as timestamps.
 * - Data columns: `data_columns` when given, else every column except the timestamp, in header order.
 * - Missing values (empty cell, `NaN`, `nan`, `null`) are forward-filled per column; leading missing
 *   values take the column's first valid value (a backward fill), or 0 when the column has none.
 * - Anything else that is not a finite decimal number is an InvalidDatasetError naming the file, the
 *   1-based line (the header is line 1) and the column. So are a missing column, a row with the
 *   wrong number of cells, and a file with fewer data rows than `minRows` (one window).
 * - Streaming: files are read line by line (csv-rows.ts; a line may hold at most 1 MiB), so reading
 *   holds 4 bytes a data cell (plus the timestamp strings when kept), never the text or row objects.
 * Invariant: Series.data is channel-major [C, T] Float32Array with no NaN.
 */
import { InvalidDatasetError } from '../builtin.js';
import { CsvRowParser, parseCell, scanCsvFile, type ReadOptions } from './csv-rows.js';

export { MAX_CSV_LINE_BYTES, resolveColumns, scanCsvFile, splitCsvLine, type ReadOptions } from './csv-rows.js';

export interface Series {
  fileId: string;
  label?: string;
  columns: string[];
  /** One per row; empty when read with `timestamps: false` (training never looks at them). */
  timestamps: string[];
  /** Channel-major [C, T]. */
  data: Float32Array;
  length: number;
}

export interface SeriesOptions extends ReadOptions {
  /** Keep each row's timestamp string (default true; predictions report them, training does not). */
  timestamps?: boolean;
}

/** Parses a whole CSV text; throws InvalidDatasetError at the first problem. */
export function parseCsvText(text: string, fileId: string, opts: SeriesOptions): Series {
  const b = new SeriesBuilder(opts.timestamps !== false);
  const p = new CsvRowParser(fileId, opts, (v, ts) => b.add(v, ts));
  const lines = text.split('\n');
  p.header((lines[0] ?? '').replace(/^\uFEFF/, '').replace(/\r$/, ''));
  for (let li = 1; li < lines.length; li++) p.line(lines[li]!.replace(/\r$/, ''), li + 1);
  p.finish();
  return b.series(fileId, p.names);
}

/**
 * Reads a CSV file into a Series, streaming: the text is never held, only the values (4 bytes a
 * cell, in 64 Ki-value chunks) and, unless `timestamps: false`, the timestamp strings.
 */
export async function readSeriesFile(path: string, fileId: string, opts: SeriesOptions): Promise<Series> {
  const b = new SeriesBuilder(opts.timestamps !== false);
  const { names } = await scanCsvFile(path, fileId, opts, (v, ts) => b.add(v, ts));
  return b.series(fileId, names);
}

const CHUNK = 65_536;

/** Collects rows channel by channel as float32 (NaN for missing), then forward-fills into a Series. */
class SeriesBuilder {
  private chunks: Float32Array[][] = [];
  private readonly ts: string[] = [];
  private n = 0;

  constructor(private readonly keepTimestamps: boolean) {}

  add(v: Float64Array, ts: string): void {
    if (this.n === 0) this.chunks = Array.from({ length: v.length }, () => []);
    const k = this.n % CHUNK;
    for (let c = 0; c < v.length; c++) {
      if (k === 0) this.chunks[c]!.push(new Float32Array(CHUNK));
      this.chunks[c]!.at(-1)![k] = v[c]!;
    }
    if (this.keepTimestamps) this.ts.push(ts);
    this.n++;
  }

  series(fileId: string, names: string[]): Series {
    const T = this.n;
    const data = new Float32Array(names.length * T);
    for (let c = 0; c < names.length; c++) {
      const parts = this.chunks[c] ?? [];
      for (let i = 0; i < parts.length; i++) data.set(parts[i]!.subarray(0, Math.min(CHUNK, T - i * CHUNK)), c * T + i * CHUNK);
      this.chunks[c] = []; // free the chunks while the next channel is copied
      forwardFill(data.subarray(c * T, (c + 1) * T));
    }
    return { fileId, columns: names, timestamps: this.ts, data, length: T };
  }
}

/** Gaps take the previous value; leading gaps the first valid value, or 0 when there is none. */
export function forwardFill(col: Float32Array): void {
  let last = 0;
  for (let t = 0; t < col.length; t++) {
    if (!Number.isNaN(col[t]!)) {
      last = col[t]!;
      break;
    }
  }
  for (let t = 0; t < col.length; t++) {
    if (Number.isNaN(col[t]!)) col[t] = last;
    else last = col[t]!;
  }
}

/** JSON rows (`[{timestamp, col: value, ...}]`) → Series with the given columns; line = row index + 1. */
export function seriesFromRows(rows: Array<Record<string, unknown>>, fileId: string, columns: string[], timestampColumn: string, minRows = 1): Series {
  const b = new SeriesBuilder(true);
  const row = new Float64Array(columns.length);
  rows.forEach((r, i) => {
    columns.forEach((name, c) => {
      const v = r[name];
      if (v === undefined) throw new InvalidDatasetError({ file_id: fileId, line: i + 1, column: name, message: `missing column '${name}'` });
      if (typeof v === 'number') {
        if (Number.isNaN(v)) row[c] = NaN;
        else if (!Number.isFinite(v)) throw new InvalidDatasetError({ file_id: fileId, line: i + 1, column: name, message: 'not a finite number' });
        else row[c] = v;
      } else if (v === null || typeof v === 'string') row[c] = parseCell(v ?? '', fileId, i + 1, name);
      else throw new InvalidDatasetError({ file_id: fileId, line: i + 1, column: name, message: `not a number: ${JSON.stringify(v)}` });
    });
    const ts = r[timestampColumn];
    b.add(row, ts === undefined || ts === null ? String(i) : String(ts));
  });
  if (rows.length < minRows) {
    throw new InvalidDatasetError({ file_id: fileId, message: `has ${rows.length} data rows; at least ${minRows} are needed (one window of window_size rows)` });
  }
  return b.series(fileId, columns);
}
