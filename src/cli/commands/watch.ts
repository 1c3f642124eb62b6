/**
 * `ftnode jobs watch ID` (and `jobs create --wait`): follows the job's server-sent event stream until
 * the job is terminal and shows status, phase, step, remaining time, the latest training loss and the
 * latest evaluation; each evaluation is also printed once, as it is recorded.
 * Evaluations come from the stream's `eval_finished` events: the stream resumes after the last event
 * id it delivered, so an evaluation is never skipped nor repeated, even across reconnects. The loss
 * is not an event: each status message triggers a read of the metrics entries from the last one seen
 * to the end of the list (never a bounded page, so a row can be re-read but not skipped).
 * A lost stream is retried with backoff for `--reconnect-for` seconds (default 120); when that is
 * spent the exit code is 5 (EXIT_STREAM_LOST), distinct from the job's own outcome.
 */
import type { Command } from 'commander';
import { ApiError, type FtClient, type Job, type JobEvent } from '../../client/index.js';
import { act, CliError, remote, type Ctx } from '../remote/context.js';
import { num } from '../remote/format.js';
import { numberArg } from '../remote/options.js';
import { endLine, loadSummary } from './summary.js';

/** Exit codes of `jobs watch` / `jobs create --wait` (docs/cli.md). */
export const EXIT_BY_STATUS: Record<string, number> = { COMPLETED: 0, STOPPED: 3, CANCELLED: 4, FAILED: 1 };
/** The stream could not be followed to the job's end (server gone longer than --reconnect-for). */
export const EXIT_STREAM_LOST = 5;
const DEFAULT_RECONNECT_S = 120;

export interface Evaluation {
  step: number;
  epoch: number | null;
  /** As recorded in the metrics (macro_f1, eval_accuracy, eval_loss, …). */
  values: Record<string, number>;
}

/** An `eval_finished` event → the evaluation it records (null for other events). */
export function evaluationOf(e: JobEvent): Evaluation | null {
  if (e.type !== 'eval_finished' || !e.data) return null;
  const d = e.data as { step?: unknown; epoch?: unknown; metrics?: unknown; values?: unknown };
  const raw = (d.values ?? d.metrics) as Record<string, unknown> | undefined;
  if (typeof d.step !== 'number' || !raw || typeof raw !== 'object') return null;
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'number' || k === 'epoch') continue;
    values[d.values || k.startsWith('eval_') || k === 'macro_f1' ? k : `eval_${k}`] = v; // events written before `values` existed
  }
  const epoch = typeof d.epoch === 'number' ? d.epoch : typeof raw.epoch === 'number' ? raw.epoch : null;
  return { step: d.step, epoch, values };
}

/** macro_f1 first (the selection metric), then the other values in recorded order. */
function ordered(values: Record<string, number>): Array<[string, number]> {
  return Object.entries(values).sort(([a], [b]) => Number(b === 'macro_f1') - Number(a === 'macro_f1'));
}

export function evalText(e: Evaluation, max = Infinity): string {
  return ordered(e.values).slice(0, max).map(([k, v]) => `${k} ${num(v)}`).join(' ');
}

class LossFollower {
  private seen = 0;
  loss: number | null = null;
  private lossStep = -1;

  constructor(private readonly client: FtClient, private readonly id: string) {}

  async refresh(): Promise<void> {
    const offset = Math.max(0, this.seen - 1);
    const page = await this.client.metrics(this.id, { offset });
    this.seen = offset + page.metrics.length;
    for (const m of page.metrics) {
      if (typeof m.loss === 'number' && m.step >= this.lossStep) {
        this.loss = m.loss;
        this.lossStep = m.step;
      }
    }
  }
}

interface Snapshot {
  status: string;
  phase: string | null;
  step: number | null;
  total_steps: number | null;
  eta_seconds: number | null;
  loss: number | null;
  eval: Record<string, number> | null;
  eval_step: number | null;
  eval_epoch: number | null;
}

function describe(s: Snapshot): string {
  const parts = [s.phase ? `${s.status} (${s.phase})` : s.status];
  if (s.step !== null) parts.push(`step ${s.step}${s.total_steps ? `/${s.total_steps}` : ''}`);
  if (s.eta_seconds !== null && s.eta_seconds > 0) parts.push(`eta ${formatEta(s.eta_seconds)}`);
  if (s.loss !== null) parts.push(`loss ${num(s.loss)}`);
  if (s.eval) parts.push(`${evalText({ step: 0, epoch: null, values: s.eval }, 3)}${s.eval_step !== null ? ` @${s.eval_step}` : ''}${s.eval_epoch !== null ? ` (epoch ${s.eval_epoch})` : ''}`);
  return parts.join('  ');
}

function formatEta(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export interface WatchOptions {
  events?: boolean;
  reconnectForMs?: number;
}

/** Follows job `id` until it is terminal; prints as it goes and returns the exit code for its status. */
export async function watchJob(ctx: Ctx, client: FtClient, id: string, o: WatchOptions = {}): Promise<number> {
  const loss = new LossFollower(client, id);
  const tty = Boolean(process.stdout.isTTY) && !ctx.json;
  let lastLine = '';
  let final: Job | null = null;
  let latestEval: Evaluation | null = null;
  let lost = false;
  const events: JobEvent[] = []; // every event, oldest first (the stream starts from the first): the summary reads them
  let last = { step: null as number | null, total_steps: null as number | null };
  const clearLine = (): void => {
    if (tty && lastLine) process.stdout.write('\r\x1b[K');
    lastLine = '';
  };
  const show = (job: Job): void => {
    // A finished job has no progress any more: keep showing the step it reached.
    if (job.progress) last = { step: job.progress.step, total_steps: job.progress.total_steps };
    const s: Snapshot = {
      status: job.status, phase: job.progress?.phase ?? null, ...last, eta_seconds: job.progress?.eta_seconds ?? null,
      loss: loss.loss, eval: latestEval?.values ?? null, eval_step: latestEval?.step ?? null, eval_epoch: latestEval?.epoch ?? null,
    };
    if (ctx.json) return ctx.out(JSON.stringify({ type: 'status', job_id: id, ...s }));
    const line = describe(s);
    if (line === lastLine) return;
    lastLine = line;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else ctx.out(line);
  };
  const onEvent = (e: JobEvent): void => {
    events.push(e);
    const ev = evaluationOf(e);
    if (ev) {
      latestEval = ev;
      if (ctx.json) ctx.out(JSON.stringify({ type: 'eval', job_id: id, step: ev.step, epoch: ev.epoch, metrics: ev.values }));
      else {
        clearLine();
        ctx.out(`eval  step ${ev.step}${ev.epoch !== null ? ` (epoch ${ev.epoch})` : ''}  ${evalText(ev)}`);
      }
    }
    if (!o.events) return;
    if (ctx.json) return ctx.out(JSON.stringify({ type: 'event', job_id: id, event: e }));
    clearLine();
    ctx.out(`${e.created_at}  ${e.level.padEnd(5)}  ${e.type}: ${e.message}`);
  };
  const onReconnect = (attempt: number, cause: string): void => {
    lost = true;
    // One note when the stream drops, then one every 5 tries (~25 s at the 5 s backoff cap).
    if (attempt === 1 || attempt % 5 === 0) {
      clearLine();
      ctx.err(`note: lost the event stream of ${id} (${cause}); reconnecting (try ${attempt})`);
    }
  };
  try {
    for await (const m of client.follow(id, { reconnectForMs: o.reconnectForMs ?? DEFAULT_RECONNECT_S * 1000, onReconnect })) {
      if (lost) {
        lost = false;
        clearLine();
        ctx.err(`note: reconnected to the event stream of ${id}`);
      }
      if (m.kind === 'event') {
        onEvent(m.event);
        continue;
      }
      await loss.refresh();
      show(m.job);
      final = m.job;
    }
  } catch (err) {
    if (err instanceof ApiError && err.code === 'stream_lost') {
      clearLine();
      throw new CliError('stream_lost', `${err.message}; run 'ftnode jobs watch ${id}' again to follow it`, EXIT_STREAM_LOST);
    }
    throw err;
  }
  if (tty) process.stdout.write('\n');
  const status = final?.status ?? 'UNKNOWN';
  const summary = final ? await loadSummary(client, final, events).catch(() => null) : null;
  if (final?.error && !ctx.json) ctx.err(`job ${id} failed: ${final.error.code}: ${final.error.message}`);
  if (!ctx.json) ctx.out(endLine(id, status, summary, final?.inference_config_path ?? null));
  else ctx.out(JSON.stringify({ type: 'end', job_id: id, status, summary, job: final }));
  return EXIT_BY_STATUS[status] ?? 1;
}

/** `--reconnect-for SECONDS` (parsed by numberArg) → milliseconds. */
export function reconnectFor(v: unknown): number {
  return (typeof v === 'number' ? v : DEFAULT_RECONNECT_S) * 1000;
}

export const reconnectOption = (): [string, string, (v: string) => number] =>
  ['--reconnect-for <seconds>', `keep reconnecting a lost event stream this long (default ${DEFAULT_RECONNECT_S})`, numberArg(0, 'a number of seconds ≥ 0')];

export function registerWatch(jobs: Command): void {
  remote(jobs.command('watch').description('follow a job live until it ends; exit code 0 COMPLETED, 3 STOPPED, 4 CANCELLED, 1 FAILED or error, 5 stream lost'))
    .argument('<job_id>')
    .option('--events', 'also print each job event')
    .option(...reconnectOption())
    .action(act((ctx, id: string) => watchJob(ctx, ctx.client(), id, { events: Boolean(ctx.opts.events), reconnectForMs: reconnectFor(ctx.opts.reconnectFor) })));
}
