/**
 * Job page: header (status, phase during STOPPING/FINALIZING, step), Stop/Cancel with confirmation,
 * status timeline, loss and evaluation curves, checkpoints, inference config and events. Live from the
 * job's server-sent event stream: every status message refreshes the metrics (one read in flight at a
 * time), a committed checkpoint refreshes the table, a terminal status loads the inference config.
 */
import type { Job, JobEvent } from '../../../src/client/index.js';
import { StepChart } from '../chart.js';
import { badge, confirmDialog, h, replace } from '../dom.js';
import type { PageCtx } from '../page.js';
import { actionsPanel, CANCEL_TEXT, eventItem, renderCheckpoints, renderTimeline, STOP_TEXT } from './job-parts.js';

const MAX_EVENTS_SHOWN = 300;

/** Runs `fn` now, or once more after the run in flight when called during it. */
function coalesce(fn: () => Promise<void>, onError: (e: unknown) => void): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    fn().catch(onError).finally(() => {
      running = false;
      if (again) {
        again = false;
        run();
      }
    });
  };
  return run;
}

export async function jobPage(root: HTMLElement, ctx: PageCtx, id: string): Promise<void> {
  const { client, signal } = ctx;
  let job: Job = await client.getJob(id);
  const events: JobEvent[] = [];

  const title = h('h1', { tabindex: -1 }, job.name);
  const statusLine = h('p', { class: 'status-line', 'aria-live': 'polite', id: 'job-status' });
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const lossChart = new StepChart('Training loss', (k) => k === 'loss', 'loss-chart');
  const evalChart = new StepChart('Evaluation', (k) => k.startsWith('eval_'), 'eval-chart');
  const ckptBody = h('tbody');
  const config = h('pre', { id: 'inference-config', class: 'config', tabindex: 0 }, 'Written when the job completes, or stops with a checkpoint.');
  const eventList = h('ol', { class: 'events', id: 'events', reversed: true });
  signal.addEventListener('abort', () => {
    lossChart.destroy();
    evalChart.destroy();
  });

  const act = async (kind: 'stop' | 'cancel'): Promise<void> => {
    const ok = await confirmDialog(kind === 'stop'
      ? { title: `Stop ${job.id}?`, body: STOP_TEXT, confirm: 'Stop gracefully' }
      : { title: `Cancel ${job.id}?`, body: CANCEL_TEXT, confirm: 'Cancel now', danger: true });
    if (!ok) return;
    try {
      show(kind === 'stop' ? await client.stopJob(job.id) : await client.cancelJob(job.id));
    } catch (err) {
      ctx.onError(err);
    }
  };
  const actions = actionsPanel(() => void act('stop'), () => void act('cancel'));

  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', h('code', {}, job.id)),
    title, statusLine, actions.el,
    h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Timeline'), timeline),
    h('section', { class: 'charts', 'aria-label': 'Curves' }, lossChart.el, evalChart.el),
    h('section', { 'aria-labelledby': 'ck-h' }, h('h2', { id: 'ck-h' }, 'Checkpoints'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'checkpoints' },
        h('thead', {}, h('tr', {}, ...['Checkpoint', 'Step', 'Size', 'Metrics', ''].map((c) => h('th', { scope: 'col' }, c)))), ckptBody))),
    h('section', { 'aria-labelledby': 'ic-h' }, h('h2', { id: 'ic-h' }, 'Inference config'), config),
    h('section', { 'aria-labelledby': 'ev-h' }, h('h2', { id: 'ev-h' }, 'Events'), eventList));

  const refreshMetrics = coalesce(async () => {
    const page = await client.metrics(job.id);
    await Promise.all([lossChart.update(page.metrics), evalChart.update(page.metrics)]);
  }, ctx.onError);
  const refreshCheckpoints = coalesce(async () => renderCheckpoints(ckptBody, client, job.id, (await client.checkpoints(job.id)).data), ctx.onError);
  let configLoaded = false;
  const loadConfig = coalesce(async () => {
    if (configLoaded || !job.inference_config_path) return;
    configLoaded = true;
    replace(config, await client.inferenceConfig(job.id));
  }, ctx.onError);

  function show(j: Job): void {
    job = j;
    const p = j.progress;
    replace(statusLine, badge(j.status, p?.phase), p ? ` step ${p.step}${p.total_steps ? ` of ${p.total_steps}` : ''}${p.epoch !== null ? ` · epoch ${p.epoch}` : ''}${p.eta_seconds !== null ? ` · about ${Math.round(p.eta_seconds)} s left` : ''}` : '',
      j.error ? h('span', { class: 'alert' }, ` ${j.error.code}: ${j.error.message}`) : null);
    root.dataset.status = j.status;
    actions.update(j);
    renderTimeline(timeline, events, j);
    if (j.inference_config_path) loadConfig();
  }

  show(job);
  refreshMetrics();
  refreshCheckpoints();
  try {
    for await (const m of client.follow(job.id, { signal })) {
      if (m.kind === 'status') {
        show(m.job);
        refreshMetrics();
        continue;
      }
      events.push(m.event);
      eventList.prepend(eventItem(m.event));
      while (eventList.children.length > MAX_EVENTS_SHOWN) eventList.lastElementChild!.remove();
      if (m.event.type === 'checkpoint_committed') refreshCheckpoints();
      if (m.event.type === 'eval_finished') refreshMetrics();
      renderTimeline(timeline, events, job);
    }
    refreshCheckpoints();
  } catch (err) {
    if (!signal.aborted) ctx.onError(err);
  }
}
