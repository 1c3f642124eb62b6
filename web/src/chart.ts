/**
 * Step charts drawn with uPlot (served from the server's own /vendor/, never a CDN; loaded on first
 * use). Every chart of a job shares one x axis, the job's metrics step (docs/dashboard.md "Curves"),
 * and the charts' cursors are synced, so hovering one shows the values of every chart at that step
 * in their legends. Each metric has one colour wherever it is drawn (metricColor). Per chart: a
 * log-scale toggle and smoothing (an exponential moving average over the points drawn, as the
 * TensorBoard slider does; 0 = raw). A checkpoint can be marked on the curve (a dashed line and its
 * id at its metrics step). The figure carries `data-points` (values drawn), `data-keys` and
 * `data-marked-step` and a text caption with the latest values, for tests and screen readers.
 */
import type uPlotNs from 'uplot';
import { fmtNum, h, replace } from './dom.js';

type UPlot = typeof uPlotNs;
type Instance = InstanceType<UPlot>;
type Entry = Record<string, number>;

const VENDOR_URL = '/vendor/uplot.esm.js';
const HEIGHT = 220;
/** Colours that read on light and dark backgrounds; known metrics keep theirs, others hash into the rest. */
const FIXED: Record<string, string> = { loss: '#2563eb', macro_f1: '#dc2626', eval_accuracy: '#16a34a', eval_loss: '#9333ea', eval_train_loss: '#0891b2', learning_rate: '#64748b' };
const PALETTE = ['#ea580c', '#db2777', '#65a30d', '#0d9488', '#7c3aed', '#ca8a04', '#4f46e5', '#be123c'];
let loader: Promise<UPlot> | null = null;

function loadUPlot(): Promise<UPlot> {
  loader ??= (import(/* a URL served by ftnode, not a bundled module */ VENDOR_URL as string) as Promise<{ default: UPlot }>).then((m) => m.default);
  return loader;
}

export function metricColor(key: string): string {
  if (FIXED[key]) return FIXED[key]!;
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** Exponential moving average with TensorBoard's debiasing, so the first points are not pulled to 0. */
export function smooth(values: Array<number | null>, weight: number): Array<number | null> {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

export interface Mark {
  step: number;
  label: string;
}

export class StepChart {
  readonly el: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly logBox: HTMLInputElement;
  private readonly smoothing: HTMLSelectElement;
  private plot: Instance | null = null;
  private shape = '';
  private resize: ResizeObserver | null = null;
  private entries: Entry[] = [];
  private mark: Mark | null = null;

  constructor(readonly title: string, private readonly pick: (key: string) => boolean, readonly id: string, private readonly syncKey: string) {
    this.plotBox = h('div', { class: 'plot' });
    this.caption = h('figcaption', { class: 'muted' }, 'No values yet.');
    this.logBox = h('input', { type: 'checkbox', id: `${id}-log` });
    this.smoothing = h('select', { id: `${id}-smooth`, 'aria-label': `Smoothing of ${title}` },
      [['0', 'raw'], ['0.6', 'smooth 0.6'], ['0.9', 'smooth 0.9'], ['0.97', 'smooth 0.97']].map(([v, t]) => h('option', { value: v! }, t!)));
    const redraw = (): void => void this.draw();
    // Axis and grid colours are read when a plot is made: a scheme change makes it again.
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      this.shape = '';
      redraw();
    });
    this.logBox.addEventListener('change', redraw);
    this.smoothing.addEventListener('change', redraw);
    const controls = h('div', { class: 'chart-controls' },
      h('label', { for: `${id}-log`, class: 'inline' }, this.logBox, ' log scale'), this.smoothing);
    this.el = h('figure', { class: 'chart card', id, 'data-points': 0, 'aria-label': title },
      h('div', { class: 'chart-head' }, h('h3', {}, title), controls), this.plotBox, this.caption);
  }

  /** Redraws from the metrics entries (one per step, ascending) and the checkpoint to mark, if any. */
  async update(entries: Entry[], mark: Mark | null = null): Promise<void> {
    this.entries = entries;
    this.mark = mark;
    await this.draw();
  }

  private async draw(): Promise<void> {
    // macro_f1 last: drawn on top of the others (binary accuracy often equals it) and thicker.
    const keys = [...new Set(this.entries.flatMap((e) => Object.keys(e)).filter(this.pick))].sort((a, b) => Number(a === 'macro_f1') - Number(b === 'macro_f1') || a.localeCompare(b));
    const rows = this.entries.filter((e) => keys.some((k) => typeof e[k] === 'number'));
    const log = this.logBox.checked;
    const weight = Number(this.smoothing.value);
    const column = (k: string): Array<number | null> => rows.map((e) => (typeof e[k] === 'number' && (!log || e[k]! > 0) ? e[k]! : null));
    const data: Array<Array<number | null>> = [rows.map((e) => e.step!), ...keys.map((k) => smooth(column(k), weight))];
    this.el.dataset.points = String(data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null).length, 0));
    this.el.dataset.keys = keys.join(' ');
    if (this.mark) this.el.dataset.markedStep = String(this.mark.step);
    else delete this.el.dataset.markedStep;
    const last = rows[rows.length - 1];
    replace(this.caption, last
      ? `Step ${last.step}${typeof last.epoch === 'number' ? ` (epoch ${last.epoch})` : ''}: ${keys.filter((k) => typeof last[k] === 'number').map((k) => `${k} ${fmtNum(last[k])}`).join(', ')} · ${rows.length} steps${this.mark ? ` · ${this.mark.label}` : ''}`
      : 'No values yet.');
    if (rows.length === 0) return;
    const uPlot = await loadUPlot();
    const shape = `${keys.join('|')}|${log}`;
    if (!this.plot || this.shape !== shape) this.create(uPlot, keys, data, log);
    else this.plot.setData(data as uPlotNs.AlignedData);
  }

  private create(uPlot: UPlot, keys: string[], data: Array<Array<number | null>>, log: boolean): void {
    this.plot?.destroy();
    this.resize?.disconnect();
    this.shape = `${keys.join('|')}|${log}`;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--muted').trim() || '#5b6472';
    const grid = css.getPropertyValue('--line').trim() || '#dde1e7';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const width = Math.max(260, this.plotBox.clientWidth || 600);
    this.plot = new uPlot({
      width,
      height: HEIGHT,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [{ ...axis, label: 'step' }, { ...axis }],
      cursor: { sync: { key: this.syncKey } },
      series: [{ label: 'step' }, ...keys.map((k) => ({
        label: k, stroke: metricColor(k), width: k === 'macro_f1' ? 3 : 2, spanGaps: true,
        // Dots while they can be told apart (under ~1 per 4 px), a plain line after.
        points: { show: (u: Instance) => u.data[0].length * 4 < u.bbox.width / devicePixelRatio, size: 5 },
        value: (_u: Instance, v: number | null) => fmtNum(v),
      }))],
      legend: { live: true },
      hooks: { draw: [(u: Instance) => this.drawMark(u)] },
    }, data as uPlotNs.AlignedData, this.plotBox);
    this.resize = new ResizeObserver(() => {
      const w = this.plotBox.clientWidth;
      if (w > 0 && this.plot && Math.abs(this.plot.width - w) > 4) this.plot.setSize({ width: w, height: HEIGHT });
    });
    this.resize.observe(this.plotBox);
  }

  /** The marked checkpoint: a dashed vertical line at its step and its label at the top. */
  private drawMark(u: Instance): void {
    if (!this.mark) return;
    const x = u.valToPos(this.mark.step, 'x', true);
    if (!Number.isFinite(x)) return;
    const { top, height } = u.bbox;
    const c = u.ctx;
    c.save();
    c.strokeStyle = metricColor('macro_f1');
    c.setLineDash([5, 4]);
    c.lineWidth = 1.5 * devicePixelRatio;
    c.beginPath();
    c.moveTo(x, top);
    c.lineTo(x, top + height);
    c.stroke();
    c.setLineDash([]);
    c.fillStyle = metricColor('macro_f1');
    c.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    const text = '★ best';
    const w = c.measureText(text).width;
    c.fillText(text, Math.min(x + 4 * devicePixelRatio, u.bbox.left + u.bbox.width - w), top + 12 * devicePixelRatio);
    c.restore();
  }

  destroy(): void {
    this.resize?.disconnect();
    this.plot?.destroy();
  }
}
