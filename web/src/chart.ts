/**
 * Step charts drawn with uPlot (served from the server's own /vendor/, never a CDN; loaded on first
 * use). One chart per metric family (training loss, evaluation metrics), x = step. The figure carries
 * `data-points` (values drawn) and a text caption with the latest values, for tests and screen readers.
 */
import type uPlotNs from 'uplot';
import { fmtNum, h, replace } from './dom.js';

type UPlot = typeof uPlotNs;
type Instance = InstanceType<UPlot>;

const VENDOR_URL = '/vendor/uplot.esm.js';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
let loader: Promise<UPlot> | null = null;

function loadUPlot(): Promise<UPlot> {
  loader ??= (import(/* a URL served by ftnode, not a bundled module */ VENDOR_URL as string) as Promise<{ default: UPlot }>).then((m) => m.default);
  return loader;
}

export class StepChart {
  readonly el: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly caption: HTMLElement;
  private plot: Instance | null = null;
  private keys = '';
  private resize: ResizeObserver | null = null;

  constructor(readonly title: string, private readonly pick: (key: string) => boolean, id: string) {
    this.plotBox = h('div', { class: 'plot' });
    this.caption = h('figcaption', { class: 'muted' }, 'No values yet.');
    this.el = h('figure', { class: 'chart card', id, 'data-points': 0, 'aria-label': title }, h('h3', {}, title), this.plotBox, this.caption);
  }

  /** Redraws from the metrics entries (one per step, ascending). */
  async update(entries: Array<Record<string, number>>): Promise<void> {
    const keys = [...new Set(entries.flatMap((e) => Object.keys(e)).filter(this.pick))].sort();
    const rows = entries.filter((e) => keys.some((k) => typeof e[k] === 'number'));
    const data: Array<Array<number | null>> = [rows.map((e) => e.step!), ...keys.map((k) => rows.map((e) => (typeof e[k] === 'number' ? e[k]! : null)))];
    const points = data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null).length, 0);
    this.el.dataset.points = String(points);
    const last = rows[rows.length - 1];
    replace(this.caption, last ? `Step ${last.step}: ${keys.filter((k) => typeof last[k] === 'number').map((k) => `${k} ${fmtNum(last[k])}`).join(', ')} · ${rows.length} steps` : 'No values yet.');
    if (rows.length === 0) return;
    const uPlot = await loadUPlot();
    if (!this.plot || this.keys !== keys.join('|')) this.create(uPlot, keys, data);
    else this.plot.setData(data as uPlotNs.AlignedData);
  }

  private create(uPlot: UPlot, keys: string[], data: Array<Array<number | null>>): void {
    this.plot?.destroy();
    this.resize?.disconnect();
    this.keys = keys.join('|');
    const width = Math.max(260, this.plotBox.clientWidth || 600);
    this.plot = new uPlot({
      width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, {}],
      series: [{ label: 'step' }, ...keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: true, size: 5 } }))],
      legend: { live: false },
    }, data as uPlotNs.AlignedData, this.plotBox);
    this.resize = new ResizeObserver(() => {
      const w = this.plotBox.clientWidth;
      if (w > 0 && this.plot && Math.abs(this.plot.width - w) > 4) this.plot.setSize({ width: w, height: 220 });
    });
    this.resize.observe(this.plotBox);
  }

  destroy(): void {
    this.resize?.disconnect();
    this.plot?.destroy();
  }
}
