/**
 * CSV → Series: the Omega time-series dataset format (archetype-api.md §5.2).
 * - A header row; the timestamp column (default `timestamp`) is kept as an opaque string, never
 *   parsed ("28/12/2015 10:29:14 AM" must work). A file without it gets row numbers as timestamps.
 * - Data columns: `data_columns` when given, else every column except the timestamp, in header order.
 * - Missing values (empty cell, `NaN`, `nan`, `null`) are forward-filled per column; leading missing
 *   values take the column's first valid value (a backward fill), or 0 when the column has none.
 * - Anything else that is not a finite decimal number is an InvalidDatasetError naming the file, the
 *   1-based line (the header is line 1) and the column. So are a missing column, a row with the
 *   wrong number of cells, and a file with fewer data rows than `minRows` (one window).
 * Invariant: Series.data is channel-major [C, T] Float32Array with no NaN.
 */
import { readFile } from 'node:fs/promises';
import { InvalidDatasetError } from '../builtin.js';

export interface Series {
  fileId: string;
  label?: string;
  columns: string[];
  timestamps: string[];
  /** Channel-major [C, T]. */
  data: Float32Array;
  length: number;
}

export interface ReadOptions {
  /** null: every column except the timestamp column. */
  dataColumns: string[] | null;
  timestampColumn: string;
  /** Fewer data rows than this is an error (window_size when training). */
  minRows?: number;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = new Set(['', 'nan', 'NaN', 'NAN', 'null', 'NULL']);

/** Splits one CSV line; handles double-quoted fields with "" escapes (no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The data columns a header yields under the options (throws for a missing column). */
export function resolveColumns(header: string[], fileId: string, opts: ReadOptions): { data: number[]; names: string[]; ts: number } {
  const ts = header.indexOf(opts.timestampColumn);
  const names = opts.dataColumns ?? header.filter((_, i) => i !== ts);
  const data = names.map((name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new InvalidDatasetError({ file_id: fileId, line: 1, column: name, message: `missing column '${name}' (header: ${header.join(', ')})` });
    return i;
  });
  if (names.length === 0) throw new InvalidDatasetError({ file_id: fileId, line: 1, message: 'no data columns besides the timestamp' });
  return { data, names, ts };
}

/** Parses a whole CSV text; throws InvalidDatasetError at the first problem. */
export function parseCsvText(text: string, fileId: string, opts: ReadOptions): Series {
  const lines = text.split('\n');
  if (lines[0]?.charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  const header = splitCsvLine((lines[0] ?? '').replace(/\r$/, '')).map((h) => h.trim());
  if (header.length === 0 || (header.length === 1 && header[0] === '')) {
    throw new InvalidDatasetError({ file_id: fileId, line: 1, message: 'empty file: a header row is required' });
  }
  const cols = resolveColumns(header, fileId, opts);
  const C = cols.data.length;
  const rows: Float64Array[] = [];
  const timestamps: string[] = [];
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) {
      throw new InvalidDatasetError({ file_id: fileId, line: li + 1, message: `expected ${header.length} cells, found ${cells.length}` });
    }
    const row = new Float64Array(C);
    for (let c = 0; c < C; c++) row[c] = parseCell(cells[cols.data[c]!]!, fileId, li + 1, cols.names[c]!);
    rows.push(row);
    timestamps.push(cols.ts >= 0 ? cells[cols.ts]!.trim() : String(rows.length - 1));
  }
  return finishSeries(fileId, cols.names, timestamps, rows, opts.minRows);
}

function parseCell(raw: string, fileId: string, line: number, column: string): number {
  const s = raw.trim();
  if (MISSING.has(s)) return NaN;
  if (!NUMBER_RE.test(s)) {
    throw new InvalidDatasetError({ file_id: fileId, line, column, message: `not a number: ${JSON.stringify(raw.slice(0, 40))}` });
  }
  const v = Number(s);
  if (!Number.isFinite(v)) throw new InvalidDatasetError({ file_id: fileId, line, column, message: `number out of range: ${s.slice(0, 40)}` });
  return v;
}

/** Row-major rows with NaN for missing → channel-major forward-filled Series. */
function finishSeries(fileId: string, names: string[], timestamps: string[], rows: Float64Array[], minRows = 1): Series {
  const T = rows.length;
  if (T < minRows) {
    throw new InvalidDatasetError({ file_id: fileId, message: `has ${T} data rows; at least ${minRows} are needed (one window of window_size rows)` });
  }
  const C = names.length;
  const data = new Float32Array(C * T);
  for (let c = 0; c < C; c++) {
    let first = 0; // leading gaps take the first valid value, or 0 when the column is all missing
    for (let t = 0; t < T; t++) {
      const v = rows[t]![c]!;
      if (!Number.isNaN(v)) {
        first = v;
        break;
      }
    }
    let last = first;
    const base = c * T;
    for (let t = 0; t < T; t++) {
      const v = rows[t]![c]!;
      if (!Number.isNaN(v)) last = v;
      data[base + t] = last;
    }
  }
  return { fileId, columns: names, timestamps, data, length: T };
}

export async function readSeriesFile(path: string, fileId: string, opts: ReadOptions): Promise<Series> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidDatasetError({ file_id: fileId, message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
  }
  return parseCsvText(text, fileId, opts);
}

/** JSON rows (`[{timestamp, col: value, ...}]`) → Series with the given columns; line = row index + 1. */
export function seriesFromRows(rows: Array<Record<string, unknown>>, fileId: string, columns: string[], timestampColumn: string, minRows = 1): Series {
  const parsed: Float64Array[] = [];
  const timestamps: string[] = [];
  rows.forEach((r, i) => {
    const row = new Float64Array(columns.length);
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
    parsed.push(row);
    const ts = r[timestampColumn];
    timestamps.push(ts === undefined || ts === null ? String(i) : String(ts));
  });
  return finishSeries(fileId, columns, timestamps, parsed, minRows);
}
