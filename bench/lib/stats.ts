/** Percentiles, summaries and small formatting helpers shared by the benchmarks. */

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
}

/** Nearest-rank percentile (q in [0, 100]) of an ascending-sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function percentile(values: ArrayLike<number>, q: number): number {
  return percentileSorted(Float64Array.from(values).sort(), q);
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return {
    n: s.length,
    mean: s.length ? sum / s.length : NaN,
    p50: percentileSorted(s, 50),
    p90: percentileSorted(s, 90),
    p99: percentileSorted(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    min: s.length ? s[0]! : NaN,
  };
}

/** Largest value (-Infinity for none); a loop, where Math.max(...xs) overflows the stack past ~100k values. */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** Smallest value (Infinity for none); see maxOf. */
export function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/** Fixed decimals for ms values; thousands separators for rates. */
export const ms = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));
export const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : String(v));
export const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : String(v));

/** A GitHub-flavoured markdown table (what docs/benchmarks-core.md pastes). */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A seeded PRNG (mulberry32), so every run requests the same ids/offsets. */
export { mulberry32 as prng } from '../../src/lib/prng.js';
