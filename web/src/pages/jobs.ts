/**
 * Jobs page: the table (newest first, as the server lists them) with a status filter, status,
 * step/progress, duration and best metric per job, live: the org's job stream reloads it on every
 * status change, and while any listed job is active it also reloads every 2 s (the stream carries
 * status changes only, not progress). An empty list says how to start. The "New job" forms: v0.5 text
 * models (name, model, file ids) and time-series omega jobs (omega-form.ts). At phone width the table
 * is drawn as cards.
 */
import { bestCheckpoint, bestText, followJobs, formatDuration, isTerminalStatus, type CreateJobV05, type FileMetadata, type FtClient, type Job, type Model } from '../../../src/client/index.js';
import { alertBox, badge, cardify, fmtNum, fmtTime, h, replace } from '../dom.js';
import { poll, type PageCtx } from '../page.js';
import { omegaJobForm } from './omega-form.js';

const STATUSES = ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'STOPPING', 'COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
const ACTIVE = ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'STOPPING'];
const REFRESH_MS = 2000;

const HEADERS = ['Job', 'Name', 'Model', 'Status', 'Step', 'Duration', 'Best', 'Created'];

/** Best checkpoint per job, read once per job version (a finished job's never changes). */
class BestCache {
  private readonly seen = new Map<string, { updated_at: string; text: string; title: string }>();
  constructor(private readonly client: FtClient) {}
  cell(j: Job): HTMLTableCellElement {
    const td = h('td', { class: 'best' });
    const hit = this.seen.get(j.id);
    if (hit) replace(td, hit.text);
    if (hit) td.title = hit.title;
    if (hit?.updated_at === j.updated_at) return td;
    if (!hit) replace(td, '…');
    this.client.checkpoints(j.id).then(({ data }) => {
      const b = bestCheckpoint(data);
      const v = { updated_at: j.updated_at, text: b ? `${b.metric} ${fmtNum(b.value)}` : '-', title: b ? bestText(b) : 'no checkpoint' };
      this.seen.set(j.id, v);
      replace(td, v.text);
      td.title = v.title;
    }, () => replace(td, '-'));
    return td;
  }
}

/** Create to end (or to now while it runs): what a person waiting for it experienced, queue included. */
function duration(j: Job): string {
  const end = isTerminalStatus(j.status) ? Date.parse(j.updated_at) : Date.now();
  return formatDuration((end - Date.parse(j.created_at)) / 1000);
}

function row(j: Job, best: BestCache): HTMLTableRowElement {
  const p = j.progress;
  return h('tr', { 'data-job': j.id },
    h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, h('code', {}, j.id))),
    h('td', {}, j.name),
    h('td', {}, String(j.config.model ?? '-')),
    h('td', {}, badge(j.status, p?.phase)),
    h('td', { class: 'num step' }, p ? `${p.step}${p.total_steps ? ` / ${p.total_steps}` : ''}` : '-'),
    h('td', { class: 'num', title: 'from create to end, queue time included' }, duration(j)),
    best.cell(j),
    h('td', {}, fmtTime(j.created_at)));
}

function emptyState(filtered: boolean): HTMLElement {
  if (filtered) return h('tr', {}, h('td', { colspan: HEADERS.length, class: 'muted' }, 'No job with this status.'));
  return h('tr', { class: 'empty' }, h('td', { colspan: HEADERS.length },
    h('p', {}, h('strong', {}, 'No jobs yet.'), ' To start: upload your datasets on the ', h('a', { href: '#/files' }, 'Files'), ' page (JSONL for text models, one CSV per class for omega), then open ',
      h('em', {}, 'New job (text model)'), ' or ', h('em', {}, 'New time-series (omega) job'), ' above.'),
    h('p', { class: 'muted' }, 'From a terminal: ', h('code', {}, 'ftnode files upload train.jsonl'), ' then ', h('code', {}, 'ftnode jobs create --train train.jsonl --wait'), '.')));
}

function ids(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

function newJobForm(ctx: PageCtx, models: Model[], fileIds: string[]): HTMLElement {
  const text = models.filter((m) => m.kind === 'text');
  const suggestions = h('datalist', { id: 'file-ids' }, fileIds.map((id) => h('option', { value: id })));
  const name = h('input', { id: 'job-name', name: 'name', required: true, maxlength: 4096, placeholder: 'my-finetune' });
  const model = h('select', { id: 'job-model', name: 'model' }, text.map((m) => h('option', { value: m.id }, `${m.id}${m.stand_in ? ' (stand-in)' : ''}`)));
  const train = h('input', { id: 'job-train', name: 'train', required: true, placeholder: 'train.jsonl', list: 'file-ids', 'aria-describedby': 'ids-help' });
  const evalIds = h('input', { id: 'job-eval', name: 'eval', placeholder: 'eval.jsonl (optional)', list: 'file-ids', 'aria-describedby': 'ids-help' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'grid-form' },
    h('label', { for: 'job-name' }, 'Name'), name,
    h('label', { for: 'job-model' }, 'Model'), model,
    h('label', { for: 'job-train' }, 'Training file ids'), train,
    h('label', { for: 'job-eval' }, 'Evaluation file ids'), evalIds,
    h('p', { id: 'ids-help', class: 'muted span' }, 'File ids are the names of uploaded files (see Files), separated by commas. For time-series (omega) jobs use the form below.'),
    h('div', { class: 'span' }, h('button', { type: 'submit', class: 'primary' }, 'Create job')), status, suggestions);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const datasets: CreateJobV05['config']['datasets'] = [{ name: 'train', split: 'train', file_ids: ids(train.value) }];
    if (ids(evalIds.value).length > 0) datasets.push({ name: 'eval', split: 'eval', file_ids: ids(evalIds.value) });
    replace(status, h('p', { class: 'muted' }, 'Creating…'));
    ctx.client.createJob({ name: name.value.trim(), config: { model: model.value, datasets } }).then(
      (job) => void (location.hash = `#/jobs/${encodeURIComponent(job.id)}`),
      (err: unknown) => replace(status, alertBox(err)),
    );
  });
  return h('details', { class: 'card', id: 'new-job' }, h('summary', {}, 'New job (text model)'), form);
}

export async function jobsPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  const filter = h('select', { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'All statuses'), h('option', { value: 'active' }, 'Active (not finished)'),
    STATUSES.map((s) => h('option', { value: s }, s)));
  const tbody = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const tableEl = h('table', { class: 'jobs' },
    h('caption', { class: 'sr-only' }, 'Jobs, newest first'),
    h('thead', {}, h('tr', {}, HEADERS.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const formSlot = h('div');
  root.append(
    h('div', { class: 'title-row' }, h('h1', { tabindex: -1 }, 'Jobs'),
      h('div', { class: 'filter' }, h('label', { for: 'status-filter' }, 'Status'), filter)),
    formSlot, h('div', { class: 'table-wrap' }, tableEl), count);

  // The files are suggestions (text form) and choices (omega form): a server without the listing route still gets both forms.
  const files = ctx.client.supports('listFiles').then((ok) => (ok ? ctx.client.listFiles() : [])).catch((): FileMetadata[] => []);
  Promise.all([ctx.client.models(), files]).then(([m, list]) => {
    formSlot.append(newJobForm(ctx, m.data, list.map((f) => f.file_id)));
    if (m.data.some((x) => x.id === 'omega' || x.kind === 'timeseries')) formSlot.append(omegaJobForm(ctx, list));
  }, ctx.onError);
  const best = new BestCache(ctx.client);
  let again: ReturnType<typeof setTimeout> | null = null;
  const load = async (): Promise<void> => {
    const v = filter.value;
    const jobs = await ctx.client.listJobs({ statuses: v === 'active' ? ACTIVE : v ? [v] : undefined });
    if (ctx.signal.aborted) return;
    replace(tbody, jobs.length ? jobs.map((j) => row(j, best)) : emptyState(Boolean(v)));
    cardify(tableEl);
    count.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'} · refreshed ${new Date().toLocaleTimeString()}`;
    // Progress is not on the org stream: while something runs, read the list again in REFRESH_MS.
    if (again === null && jobs.some((j) => !isTerminalStatus(j.status))) {
      again = setTimeout(() => {
        again = null;
        if (!ctx.signal.aborted) void load().catch(ctx.onError);
      }, document.hidden ? REFRESH_MS * 5 : REFRESH_MS);
    }
  };
  filter.addEventListener('change', () => void load().catch(ctx.onError));
  void live(ctx, load);
}

/**
 * Live updates: the org's job stream (server-sent events) triggers a reload, at most one per 150 ms
 * when many jobs change at once. A server without the stream, or a stream that fails for good, falls
 * back to polling every REFRESH_MS.
 */
async function live(ctx: PageCtx, load: () => Promise<void>): Promise<void> {
  await load().catch(ctx.onError);
  let pending: ReturnType<typeof setTimeout> | null = null;
  const schedule = (): void => {
    pending ??= setTimeout(() => {
      pending = null;
      void load().catch(ctx.onError);
    }, 150);
  };
  try {
    for await (const _change of followJobs(ctx.client, { signal: ctx.signal })) schedule();
  } catch (err) {
    if (ctx.signal.aborted) return;
    if ((err as { status?: number })?.status === 401) return ctx.onError(err);
    poll(ctx, REFRESH_MS, load);
  }
}
