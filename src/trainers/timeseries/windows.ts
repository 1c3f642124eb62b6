/**
 * Per-channel normalisation and sliding windows over Series.
 * - ChannelStats (mean, std per data column) are fitted on the TRAINING rows only and stored in the
 *   checkpoint, so validation and prediction data are scaled exactly like training data.
 *   A channel with std < 1e-6 (a constant actuator) keeps scale 1 instead of blowing up.
 * - A WindowSet lists the windows of several series (start = k·step while start + window ≤ T) and
 *   copies batches of them into [n, C, L] Float32Array buffers on demand, so 40k overlapping windows
 *   never exist in memory at once (40k × 40 × 128 floats would be 800 MB).
 */
import type { Series } from './reader.js';

export interface ChannelStats {
  mean: Float32Array;
  std: Float32Array;
}

const MIN_STD = 1e-6;

export function fitChannelStats(series: Series[]): ChannelStats {
  const C = series[0]!.columns.length;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  let n = 0;
  for (const s of series) {
    for (let c = 0; c < C; c++) {
      const base = c * s.length;
      let a = 0;
      let b = 0;
      for (let t = 0; t < s.length; t++) {
        const v = s.data[base + t]!;
        a += v;
        b += v * v;
      }
      sum[c] += a;
      sq[c] += b;
    }
    n += s.length;
  }
  const mean = new Float32Array(C);
  const std = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = sum[c]! / n;
    const sd = Math.sqrt(Math.max(0, sq[c]! / n - m * m));
    mean[c] = m;
    std[c] = sd < MIN_STD ? 1 : sd;
  }
  return { mean, std };
}

/** Scales a series in place: (x − mean) / std per channel. */
export function applyChannelStats(s: Series, stats: ChannelStats): void {
  for (let c = 0; c < s.columns.length; c++) {
    const m = stats.mean[c]!;
    const inv = 1 / stats.std[c]!;
    const base = c * s.length;
    for (let t = 0; t < s.length; t++) s.data[base + t] = (s.data[base + t]! - m) * inv;
  }
}

export interface WindowInfo {
  series: number;
  windowIndex: number;
  start: number;
}

export class WindowSet {
  readonly channels: number;
  readonly count: number;
  /** Prefix sums of windows per series: series i owns windows [offsets[i], offsets[i+1]). */
  private readonly offsets: number[];

  constructor(readonly series: Series[], readonly windowLen: number, readonly step: number) {
    this.channels = series[0]?.columns.length ?? 0;
    this.offsets = [0];
    for (const s of series) this.offsets.push(this.offsets[this.offsets.length - 1]! + windowCount(s.length, windowLen, step));
    this.count = this.offsets[this.offsets.length - 1]!;
  }

  info(i: number): WindowInfo {
    let lo = 0;
    let hi = this.series.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const windowIndex = i - this.offsets[lo]!;
    return { series: lo, windowIndex, start: windowIndex * this.step };
  }

  /** Per-window series index (e.g. to look up labels). */
  seriesOf(): Int32Array {
    const out = new Int32Array(this.count);
    for (let s = 0; s < this.series.length; s++) out.fill(s, this.offsets[s]!, this.offsets[s + 1]!);
    return out;
  }

  /** The timestamp of a window's last row. */
  endTimestamp(i: number): string {
    const w = this.info(i);
    return this.series[w.series]!.timestamps[w.start + this.windowLen - 1]!;
  }

  /** Copies windows idx[from..to) into out as [n, C, L]; returns the filled prefix. */
  fill(idx: ArrayLike<number>, from: number, to: number, out?: Float32Array): Float32Array {
    const C = this.channels;
    const L = this.windowLen;
    const buf = out && out.length >= (to - from) * C * L ? out : new Float32Array((to - from) * C * L);
    for (let k = from; k < to; k++) {
      const w = this.info(idx[k]!);
      const s = this.series[w.series]!;
      for (let c = 0; c < C; c++) {
        const src = c * s.length + w.start;
        buf.set(s.data.subarray(src, src + L), ((k - from) * C + c) * L);
      }
    }
    return buf.subarray(0, (to - from) * C * L);
  }
}

export function windowCount(T: number, windowLen: number, step: number): number {
  return T < windowLen ? 0 : Math.floor((T - windowLen) / step) + 1;
}

export function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
