/**
 * Human output of the remote commands: aligned tables, byte sizes, and the progress bar with bytes/s
 * drawn on stderr (redrawn in place on a terminal at most every 100 ms; elsewhere one summary line at
 * the end, so logs of scripts stay short). `--json` output never goes through here.
 */
import { formatBytes } from '../../client/index.js';

export function table(rows: Array<Array<string | number | null | undefined>>, header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  // A loop, not Math.max(...cells): a table can have as many rows as the server has jobs.
  const widths = header.map((_, i) => cells.reduce((w, r) => Math.max(w, (r[i] ?? '').length), 0));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export const bytes = formatBytes;

export function num(v: unknown, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : '-';
}

export interface ProgressBar {
  update(done: number, total: number): void;
  finish(label: string): void;
}

/** A progress bar for `label` on stderr: `label [#####.....]  45%  12.0 MiB / 27.0 MiB  5.20 MiB/s`. */
export function progressBar(label: string, o: { enabled: boolean; tty?: boolean; now?: () => number } = { enabled: true }): ProgressBar {
  const now = o.now ?? (() => performance.now());
  const tty = o.tty ?? Boolean(process.stderr.isTTY);
  const start = now();
  let lastDraw = 0;
  let last = { done: 0, total: 0 };
  const rate = (done: number): string => {
    const secs = (now() - start) / 1000;
    return secs > 0 ? `${bytes(Math.round(done / secs))}/s` : '-';
  };
  const line = (done: number, total: number): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${bytes(done)} / ${bytes(total)}  ${rate(done)}`;
  };
  return {
    update(done, total) {
      last = { done, total };
      if (!o.enabled || !tty) return;
      const t = now();
      if (t - lastDraw < 100 && done < total) return;
      lastDraw = t;
      process.stderr.write(`\r${line(done, total)}\x1b[K`);
    },
    finish(suffix) {
      if (!o.enabled) return;
      process.stderr.write(`${tty ? '\r' : ''}${line(last.done, last.total)}  ${suffix}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}
