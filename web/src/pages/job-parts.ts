/**
 * Pieces of the job page that only render: the status timeline (built from the job's events: each
 * status change is recorded as an event), the event list (payloads as small tables), the
 * hyperparameters panel, the checkpoints table (the best one marked; download verifies the sha256 in
 * the browser when it can) and the Stop/Cancel panel with what each action does.
 */
import type { Checkpoint, FtClient, Job, JobEvent } from '../../../src/client/index.js';
import { alertBox, badge, cardify, fmtBytes, fmtNum, fmtTime, h, kvTable, replace } from '../dom.js';

/** Event type → the status it records. */
const STATUS_OF_EVENT: Record<string, (e: JobEvent) => string> = {
  job_registered: () => 'REGISTERED',
  attempt_started: () => 'STARTING',
  attempt_lost: () => 'REGISTERED',
  training_started: () => 'RUNNING',
  finalizing: () => 'FINALIZING',
  stop_requested: (e) => (/before it started/i.test(e.message) ? 'STOPPED' : 'STOPPING'),
  job_completed: () => 'COMPLETED',
  job_stopped: () => 'STOPPED',
  cancelled: () => 'CANCELLED',
  job_failed: () => 'FAILED',
};

export const STOP_TEXT = 'Stop (graceful): no new training step starts, the evaluation in progress finishes, the most recent checkpoint is kept and the job ends STOPPED with an inference config.';
export const CANCEL_TEXT = 'Cancel (immediate): the trainer is killed now, nothing more is saved, and the job ends CANCELLED without an inference config.';

export function renderTimeline(list: HTMLElement, events: JobEvent[], job: Job): void {
  const items = events.filter((e) => STATUS_OF_EVENT[e.type]).map((e) => ({ status: STATUS_OF_EVENT[e.type]!(e), at: e.created_at, message: e.message }));
  const lastStatus = items[items.length - 1]?.status;
  if (lastStatus !== job.status) items.push({ status: job.status, at: job.updated_at, message: '' });
  replace(list, items.map((it, i) => h('li', { class: i === items.length - 1 ? 'current' : '', 'aria-current': i === items.length - 1 ? 'step' : undefined },
    badge(it.status, i === items.length - 1 ? job.progress?.phase : null), ' ', h('time', { datetime: it.at }, fmtTime(it.at)),
    it.message ? h('span', { class: 'muted' }, ` — ${it.message}`) : null)));
}

/**
 * One event: time, type and message; its payload as a small table (an evaluation's values, the
 * hyperparameters with where each came from, any other object's fields) instead of a JSON line.
 */
export function eventItem(e: JobEvent): HTMLElement {
  const d = e.data ?? {};
  let payload: HTMLElement | null = null;
  let message = e.message;
  if (e.type === 'eval_finished' && d.values && typeof d.values === 'object') {
    message = `Evaluation at step ${String(d.step)}${typeof d.epoch === 'number' ? ` (epoch ${d.epoch})` : ''}`;
    payload = kvTable(Object.entries(d.values as Record<string, unknown>));
  } else if (e.type === 'hyperparameters' && d.values && typeof d.values === 'object') {
    const set = new Set(Array.isArray(d.user_set) ? (d.user_set as string[]) : []);
    message = set.size ? `Hyperparameters (${set.size} set in the request, the rest chosen by the trainer)` : 'Hyperparameters, chosen by the trainer';
    payload = kvTable(Object.entries(d.values as Record<string, unknown>).map(([k, v]) => [k, v, set.has(k) ? 'set in the request' : '']));
  } else if (Object.keys(d).length > 0) {
    payload = kvTable(Object.entries(d));
  }
  return h('li', { class: `ev ev-${e.level}`, 'data-type': e.type },
    h('time', { datetime: e.created_at }, fmtTime(e.created_at)), ' ', h('code', {}, e.type), ' ', message,
    payload ? h('details', { class: 'payload' }, h('summary', {}, 'details'), payload) : null);
}

/**
 * The hyperparameters panel, from the job's `hyperparameters` event: each value with where it came
 * from (the create request, or the trainer: its default or its rule from the dataset size).
 */
export function renderHyperparameters(slot: HTMLElement, e: JobEvent | undefined): void {
  const d = e?.data as { values?: Record<string, unknown>; user_set?: string[] } | null | undefined;
  if (!d?.values) return replace(slot, h('p', { class: 'muted' }, 'Reported by the trainer when it starts.'));
  const set = new Set(d.user_set ?? []);
  replace(slot, kvTable(Object.entries(d.values).map(([k, v]) => [k, v, set.has(k) ? 'set in the request' : 'chosen by the trainer']), 'kv hyperparameters'));
}

async function sha256Hex(blob: Blob): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null; // not a secure context: the server's digest is shown instead
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function download(client: FtClient, jobId: string, c: Checkpoint, status: HTMLElement): Promise<void> {
  replace(status, 'downloading…');
  try {
    const blob = await (await client.downloadCheckpoint(jobId, c.id)).blob();
    const sha = await sha256Hex(blob);
    if (sha && sha !== c.sha256) return replace(status, alertBox(new Error(`sha256 mismatch: got ${sha}, expected ${c.sha256}; not saved`)));
    const a = h('a', { href: URL.createObjectURL(blob), download: `${c.id}.ckpt` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    replace(status, sha ? 'saved · sha256 verified' : 'saved');
  } catch (err) {
    replace(status, alertBox(err));
  }
}

export function renderCheckpoints(tbody: HTMLElement, client: FtClient, jobId: string, list: Checkpoint[], bestId: string | null = null): void {
  renderCheckpointRows(tbody, client, jobId, list, bestId);
  const table = tbody.closest('table');
  if (table) cardify(table);
}

function renderCheckpointRows(tbody: HTMLElement, client: FtClient, jobId: string, list: Checkpoint[], bestId: string | null): void {
  if (list.length === 0) return replace(tbody, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No checkpoint committed yet.')));
  replace(tbody, [...list].reverse().map((c) => {
    const status = h('span', { class: 'muted', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', 'aria-label': `Download checkpoint ${c.id} (step ${c.step})` }, 'Download');
    btn.addEventListener('click', () => void download(client, jobId, c, status));
    return h('tr', { 'data-checkpoint': c.id, class: c.id === bestId ? 'best' : undefined },
      h('td', {}, h('code', {}, c.id), c.id === bestId ? h('span', { class: 'badge best-badge' }, '★ best') : null), h('td', { class: 'num' }, c.step), h('td', { class: 'num' }, fmtBytes(c.num_bytes)),
      h('td', {}, Object.entries(c.metrics).map(([k, v]) => `${k} ${fmtNum(v)}`).join(', ')),
      h('td', {}, btn, ' ', status));
  }));
}

export function actionsPanel(onStop: () => void, onCancel: () => void): { el: HTMLElement; update(job: Job): void } {
  const stop = h('button', { type: 'button', id: 'stop-job', 'aria-describedby': 'stop-help' }, 'Stop');
  const cancel = h('button', { type: 'button', id: 'cancel-job', class: 'danger', 'aria-describedby': 'cancel-help' }, 'Cancel');
  stop.addEventListener('click', onStop);
  cancel.addEventListener('click', onCancel);
  const el = h('section', { class: 'card actions', 'aria-label': 'Actions' },
    h('div', { class: 'action' }, stop, h('p', { id: 'stop-help', class: 'muted' }, STOP_TEXT)),
    h('div', { class: 'action' }, cancel, h('p', { id: 'cancel-help', class: 'muted' }, CANCEL_TEXT)));
  return {
    el,
    update(job) {
      const terminal = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'].includes(job.status);
      stop.disabled = terminal || job.status === 'STOPPING' || job.status === 'FINALIZING';
      cancel.disabled = terminal;
      el.hidden = terminal;
    },
  };
}
