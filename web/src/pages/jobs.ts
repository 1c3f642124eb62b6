/**
 * Jobs page: the table (newest first, as the server lists them) with a status filter, refreshed every
 * 2 s while the page is open (there is no org-wide event stream; the job page uses SSE), and the
 * "New job" form (v0.5 text models: name, model, training and evaluation file ids).
 */
import { followJobs, type CreateJobV05, type Job, type Model } from '../../../src/client/index.js';
import { alertBox, badge, fmtTime, h, replace } from '../dom.js';
import { poll, type PageCtx } from '../page.js';

const STATUSES = ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'STOPPING', 'COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
const ACTIVE = ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'STOPPING'];
const REFRESH_MS = 2000;

function row(j: Job): HTMLTableRowElement {
  const p = j.progress;
  return h('tr', { 'data-job': j.id },
    h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id)),
    h('td', {}, j.name),
    h('td', {}, String(j.config.model ?? '-')),
    h('td', {}, badge(j.status, p?.phase)),
    h('td', { class: 'num' }, p ? `${p.step}${p.total_steps ? ` / ${p.total_steps}` : ''}` : '-'),
    h('td', {}, fmtTime(j.created_at)));
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
    h('p', { id: 'ids-help', class: 'muted span' }, 'File ids are the names of uploaded files (see Files), separated by commas. Time-series (omega) jobs are created through the v0.6 API or the CLI.'),
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
  return h('details', { class: 'card', id: 'new-job' }, h('summary', {}, 'New job'), form);
}

export async function jobsPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  const filter = h('select', { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'All statuses'), h('option', { value: 'active' }, 'Active (not finished)'),
    ...STATUSES.map((s) => h('option', { value: s }, s)));
  const tbody = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const tableEl = h('table', { class: 'jobs' },
    h('caption', { class: 'sr-only' }, 'Jobs, newest first'),
    h('thead', {}, h('tr', {}, ...['Job', 'Name', 'Model', 'Status', 'Step', 'Created'].map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const formSlot = h('div');
  root.append(
    h('div', { class: 'title-row' }, h('h1', { tabindex: -1 }, 'Jobs'),
      h('div', { class: 'filter' }, h('label', { for: 'status-filter' }, 'Status'), filter)),
    formSlot, h('div', { class: 'table-wrap' }, tableEl), count);

  // The file ids are suggestions only: a server without the listing route still gets the form.
  const fileIds = ctx.client.supports('listFiles').then((ok) => (ok ? ctx.client.listFiles() : [])).then((l) => l.map((f) => f.file_id), () => []);
  Promise.all([ctx.client.models(), fileIds]).then(([m, ids]) => formSlot.append(newJobForm(ctx, m.data, ids)), ctx.onError);
  const load = async (): Promise<void> => {
    const v = filter.value;
    const jobs = await ctx.client.listJobs({ statuses: v === 'active' ? ACTIVE : v ? [v] : undefined });
    if (ctx.signal.aborted) return;
    replace(tbody, (jobs.length ? jobs.map(row) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, v ? 'No job with this status.' : 'No jobs yet: create one above.'))]));
    count.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'} · refreshed ${new Date().toLocaleTimeString()}`;
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
