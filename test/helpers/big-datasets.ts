/**
 * Generators of real-sized datasets for the streaming tests and bench/datasets.ts, written straight
 * to a file in 1 MiB pieces (the generator's memory does not grow with the size either), seeded so
 * the same arguments give the same bytes:
 * - writeSftJsonl: Newton SFT examples (JSONL) whose label follows a rule over the readings in the
 *   input (as examples/datasets/make-sensor-sft.mjs: overheating / vibration_fault / occupied / empty),
 *   padded with more readings up to about `bytesPerExample` bytes a line;
 * - writeSensorCsv: a time-series CSV (timestamp + `channels` numeric columns) of `rows` rows.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mulberry32 } from '../../src/lib/prng.js';

const PIECE = 1 << 20;

class PieceWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  add(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= PIECE) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    this.bytes += buf.length;
    this.parts = [];
    this.size = 0;
  }

  close(): number {
    this.flush();
    closeSync(this.fd);
    return this.bytes;
  }
}

const ROOMS = ['Entrance', 'Storage', 'Kitchen', 'Lab-1', 'Lab-2', 'Server-Room', 'Workshop', 'Lobby'];

export interface SftOptions {
  /** Target line length; each example holds as many readings as fit (at least one). */
  bytesPerExample?: number;
  seed?: number;
  /** The first `distinctOutputs` examples each get a unique output `answer <i>` (to test the class limit). */
  distinctOutputs?: number;
}

/** Writes n examples; returns the file size in bytes. */
export function writeSftJsonl(path: string, n: number, o: SftOptions = {}): number {
  const rand = mulberry32(o.seed ?? 1);
  const target = o.bytesPerExample ?? 500;
  const w = new PieceWriter(path);
  for (let i = 0; i < n; i++) {
    const room = ROOMS[Math.floor(rand() * ROOMS.length)]!;
    const scenario = Math.floor(rand() * 4);
    const readings: string[] = [];
    let hot = false, shaky = false, busy = false;
    // ~230 bytes of JSON around the contents; a reading is ~78 bytes.
    const count = Math.max(1, Math.round((target - 230) / 78));
    for (let r = 0; r < count; r++) {
      const t = scenario === 0 && r === 0 ? 40 + rand() * 20 : 17 + rand() * 22.9;
      const v = scenario === 1 && r === 0 ? 7 + rand() * 8 : 0.2 + rand() * 6.7;
      const p = scenario === 2 && r === 0 ? true : scenario === 3 ? false : rand() < 0.3;
      hot ||= t >= 40;
      shaky ||= v >= 7;
      busy ||= p;
      readings.push(`- {t: 19:${String(r % 60).padStart(2, '0')}, temperature_c: ${t.toFixed(1)}, vibration_mm_s: ${v.toFixed(1)}, presence: ${p ? 'active' : 'inactive'}}`);
    }
    let label = hot ? 'overheating' : shaky ? 'vibration_fault' : busy ? 'occupied' : 'empty';
    if (o.distinctOutputs && i < o.distinctOutputs) label = `answer ${i}`;
    const ex = {
      lens_parameters: { instruction: 'Classify this pump log.' },
      inputs: [{ type: 'data.text', event_data: { contents: `sensor: ${room}-pump\nlog:\n${readings.join('\n')}\n` } }],
      outputs: [{ type: 'data.text', event_data: { contents: label } }],
    };
    w.add(`${JSON.stringify(ex)}\n`);
  }
  return w.close();
}

/** Writes a CSV of `rows` data rows: `timestamp,c0..c{channels-1}`; returns the file size in bytes. */
export function writeSensorCsv(path: string, rows: number, channels = 4, seed = 1): number {
  const rand = mulberry32(seed);
  const w = new PieceWriter(path);
  w.add(`timestamp,${Array.from({ length: channels }, (_, c) => `c${c}`).join(',')}\n`);
  const phase = Array.from({ length: channels }, () => rand() * 6.28);
  for (let r = 0; r < rows; r++) {
    const cells = [`2025-01-01T${String(Math.floor(r / 3600) % 24).padStart(2, '0')}:${String(Math.floor(r / 60) % 60).padStart(2, '0')}:${String(r % 60).padStart(2, '0')}`];
    for (let c = 0; c < channels; c++) cells.push((Math.sin(r / (20 + 7 * c) + phase[c]!) * 10 + rand()).toFixed(3));
    w.add(`${cells.join(',')}\n`);
  }
  return w.close();
}
