/**
 * DOM helpers of the dashboard: `h()` builds elements (text always goes in as text nodes, never as
 * HTML, so server strings cannot inject markup), formatting of times, sizes and numbers, status badges,
 * and a confirmation dialog built on <dialog> (focus is trapped and Escape cancels, natively).
 */
import { ApiError, formatBytes } from '../../src/client/index.js';

/** A child may be a list (of any length: pass rows as one array, never spread them into the call). */
type Child = Node | string | number | null | undefined | false | readonly Child[];
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendAll(el, c);
    else el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : (c as Node));
  }
}

/** A spread of a data-sized list into a call overflows the stack past ~100k items: lists go in whole. */
function appendAll(el: Element, list: readonly Child[]): void {
  for (const c of list) append(el, c);
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export const fmtBytes = formatBytes;

export function fmtNum(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : '-';
}

export function badge(status: string, phase?: string | null): HTMLElement {
  return h('span', { class: `badge s-${status.toLowerCase()}`, 'data-status': status }, status, phase ? h('span', { class: 'phase' }, ` · ${phase.replace(/_/g, ' ')}`) : null);
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.line();
  return `error: ${(err as Error)?.message ?? String(err)}`;
}

export function alertBox(err: unknown): HTMLElement {
  return h('p', { class: 'alert', role: 'alert' }, errorText(err));
}

/**
 * Asks for confirmation in a modal dialog; resolves true only when the confirm button is pressed.
 * `cancel` names the harmless choice for what is at stake ("Keep it running" for a job, "Keep the
 * file" for a file).
 */
export function confirmDialog(o: { title: string; body: string; confirm: string; cancel: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'yes', class: o.danger ? 'danger' : 'primary' }, o.confirm);
    const no = h('button', { type: 'submit', value: 'no', formnovalidate: true }, o.cancel);
    const dialog = h('dialog', { 'aria-labelledby': 'dlg-title', class: 'confirm' },
      h('form', { method: 'dialog' }, h('h2', { id: 'dlg-title' }, o.title), h('p', {}, o.body), h('div', { class: 'row' }, no, yes)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/**
 * At phone width the stylesheet draws `table.cards` rows as cards, one "label: value" line per cell;
 * the label of each cell is its column's header, copied here into `data-label`. Call after (re)rendering.
 */
export function cardify(table: HTMLTableElement): void {
  const labels = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
  table.classList.add('cards');
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((td, i) => {
      if (labels[i] && !td.hasAttribute('colspan')) td.setAttribute('data-label', labels[i]!);
    });
  }
}

/** A small two-column table of a payload's fields (event data, hyperparameters); nested values as JSON. */
export function kvTable(rows: Array<[string, unknown, string?]>, cls = 'kv'): HTMLTableElement {
  const value = (v: unknown): string => (typeof v === 'number' ? fmtNum(v) : typeof v === 'string' ? v : JSON.stringify(v));
  const extra = rows.some((r) => r[2] !== undefined);
  return h('table', { class: cls }, h('tbody', {}, rows.map(([k, v, note]) =>
    h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, h('code', {}, value(v))), extra ? h('td', { class: 'muted' }, note ?? '') : null))));
}
