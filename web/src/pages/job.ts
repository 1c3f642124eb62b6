/**
 * Job page: header (status, phase, step N of M, remaining time, and the result summary: why it ended,
 * the best checkpoint, how long it ran), Stop/Cancel with confirmation, status timeline, the curves
 * (losses; macro-F1 and the other evaluation metrics, the best checkpoint marked) on the job's one
 * step axis, hyperparameters, checkpoints, inference config and events. Live from the job's
 * server-sent event stream: every status message refreshes the metrics (one read in flight at a
 * time), a committed checkpoint refreshes the table, a terminal status loads the inference config.
 */
import { bestCheckpoint, formatDuration, summarizeJob, summaryText, type Checkpoint, type Job, type JobEvent, type MetricsPage } from '../../../src/client/index.js';
import { StepChart, type Mark } from '../chart.js';
import { badge, confirmDialog, h, replace } from '../dom.js';
import type { PageCtx } from '../page.js';
import { actionsPanel, CANCEL_TEXT, eventItem, renderCheckpoints, renderHyperparameters, renderTimeline, STOP_TEXT } from './job-parts.js';

const MAX_EVENTS_SHOWN = 300;
const isLoss = (k: string): boolean => k === 'loss' || /_loss$/.test(k);
const isScore = (k: string): boolean => k === 'macro_f1' || (k.startsWith('eval_') && !isLoss(k));

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

/**
 * Where the best checkpoint sits on the metrics axis (the metrics page says; a server without that
 * extension, its own step). Undefined while the metrics page predates the checkpoint: the checkpoint list
 * and the metrics are two reads, and a time-series checkpoint's own step counts epochs, not the
 * optimizer steps of the axis (`step_4` is at step 124 with 31 steps per epoch), so the chart keeps
 * the mark it has until the metrics page catches up.
 */
function bestMark(page: MetricsPage, ckpts: Checkpoint[]): Mark | null | undefined {
  const best = bestCheckpoint(ckpts);
  if (!best) return null;
  const listed = page.checkpoints?.find((c) => c.id === best.checkpoint_id);
  if (page.checkpoints && !listed) return undefined;
  const step = listed?.metrics_step ?? best.step;
  return { step, label: `best ${best.checkpoint_id} (${best.metric} ${Number.isInteger(best.value) ? best.value : best.value.toFixed(4)}) at step ${step}` };
}

export async function jobPage(root: HTMLElement, ctx: PageCtx, id: string): Promise<void> {
  const { client, signal } = ctx;
  let job: Job = await client.getJob(id);
  const events: JobEvent[] = [];
  let ckpts: Checkpoint[] = [];
  let metrics: MetricsPage = { last_checkpoint_step: 0, metrics: [] };

  const title = h('h1', { tabindex: -1 }, job.name);
  const statusLine = h('p', { class: 'status-line', 'aria-live': 'polite', id: 'job-status' });
  const summary = h('p', { class: 'summary', id: 'job-summary' });
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const lossChart = new StepChart('Losses', isLoss, 'loss-chart', `job-${job.id}`);
  const evalChart = new StepChart('Evaluation: macro-F1 and scores', isScore, 'eval-chart', `job-${job.id}`);
  const hpSlot = h('div', { id: 'hyperparameters' });
  const ckptBody = h('tbody');
  const config = h('pre', { id: 'inference-config', class: 'config', tabindex: 0 }, 'Written when the job completes, or stops with a checkpoint.');
  const eventList = h('ol', { class: 'events', id: 'events', reversed: true });
  signal.addEventListener('abort', () => {
    lossChart.destroy();
    evalChart.destroy();
  });

  const act = async (kind: 'stop' | 'cancel'): Promise<void> => {
    const ok = await confirmDialog(kind === 'stop'
      ? { title: `Stop ${job.id}?`, body: STOP_TEXT, confirm: 'Stop gracefully', cancel: 'Keep it running' }
      : { title: `Cancel ${job.id}?`, body: CANCEL_TEXT, confirm: 'Cancel now', cancel: 'Keep it running', danger: true });
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
    title, statusLine, summary, actions.el,
    h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Timeline'), timeline),
    h('section', { class: 'charts', 'aria-label': 'Curves' }, lossChart.el, evalChart.el),
    h('p', { class: 'muted axis-note' }, 'Both charts share one x axis, the trainer\'s step (optimizer steps; for omega knn, embedding batches): an evaluation is drawn at the step its weights reached, with its epoch in the caption. Hover a chart for the values at a step.'),
    h('section', { 'aria-labelledby': 'hp-h' }, h('h2', { id: 'hp-h' }, 'Hyperparameters'), hpSlot),
    h('section', { 'aria-labelledby': 'ck-h' }, h('h2', { id: 'ck-h' }, 'Checkpoints'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'checkpoints' },
        h('thead', {}, h('tr', {}, ['Checkpoint', 'Step', 'Size', 'Metrics', ''].map((c) => h('th', { scope: 'col' }, c)))), ckptBody))),
    h('section', { 'aria-labelledby': 'ic-h' }, h('h2', { id: 'ic-h' }, 'Inference config'), config),
    h('section', { 'aria-labelledby': 'ev-h' }, h('h2', { id: 'ev-h' }, 'Events'), eventList));

  const renderSummary = (): void => {
    const s = summarizeJob(job, ckpts, events);
    summary.dataset.outcome = s.outcome;
    replace(summary, s.outcome === 'queued' ? 'Waiting for a worker.' : summaryText(s));
  };
  let mark: Mark | null = null;
  const drawCharts = async (): Promise<void> => {
    const next = bestMark(metrics, ckpts);
    if (next !== undefined) mark = next;
    await Promise.all([lossChart.update(metrics.metrics, mark), evalChart.update(metrics.metrics, mark)]);
  };
  const refreshMetrics = coalesce(async () => {
    metrics = await client.metrics(job.id);
    await drawCharts();
  }, ctx.onError);
  const refreshCheckpoints = coalesce(async () => {
    ckpts = (await client.checkpoints(job.id)).data;
    const bestId = bestCheckpoint(ckpts)?.checkpoint_id ?? null;
    renderCheckpoints(ckptBody, client, job.id, ckpts, bestId);
    renderSummary();
    // A checkpoint newer than the metrics page: read the page again for its place on the axis.
    if (bestId && metrics.checkpoints && !metrics.checkpoints.some((c) => c.id === bestId)) refreshMetrics();
    await drawCharts();
  }, ctx.onError);
  let configLoaded = false;
  const loadConfig = coalesce(async () => {
    if (configLoaded || !job.inference_config_path) return;
    configLoaded = true;
    replace(config, await client.inferenceConfig(job.id));
  }, ctx.onError);

  function show(j: Job): void {
    job = j;
    const p = j.progress;
    replace(statusLine, badge(j.status, p?.phase), p ? ` step ${p.step}${p.total_steps ? ` of ${p.total_steps}` : ''}${p.epoch !== null ? ` · epoch ${p.epoch}` : ''}${p.eta_seconds !== null && p.eta_seconds > 0 ? ` · about ${formatDuration(p.eta_seconds)} left` : ''}` : '',
      j.error ? h('span', { class: 'alert' }, ` ${j.error.code}: ${j.error.message}`) : null);
    root.dataset.status = j.status;
    actions.update(j);
    renderTimeline(timeline, events, j);
    renderSummary();
    if (j.inference_config_path) loadConfig();
  }

  show(job);
  renderHyperparameters(hpSlot, undefined);
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
      if (m.event.type === 'hyperparameters') renderHyperparameters(hpSlot, m.event);
      renderTimeline(timeline, events, job);
      renderSummary();
    }
    refreshCheckpoints();
  } catch (err) {
    if (!signal.aborted) ctx.onError(err);
  }
}
