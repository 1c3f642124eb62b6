/**
 * `ftnode jobs watch ID` (and `jobs create --wait`): follows the job's server-sent event stream and
 * shows status, phase, step, the latest training loss and evaluation metric until the job is terminal.
 * Loss values are not events: each status message (sent on every progress change) triggers a read of
 * the metrics entries after the ones already seen. The exit code says how the job ended.
 */
import type { Command } from 'commander';
import type { FtClient, Job, JobEvent } from '../../client/index.js';
import { act, remote, type Ctx } from '../remote/context.js';
import { num } from '../remote/format.js';

/** Exit codes of `jobs watch` / `jobs create --wait` (docs/cli.md). */
export const EXIT_BY_STATUS: Record<string, number> = { COMPLETED: 0, STOPPED: 3, CANCELLED: 4, FAILED: 1 };

interface Snapshot {
  status: string;
  phase: string | null;
  step: number | null;
  total_steps: number | null;
  loss: number | null;
  eval: Record<string, number> | null;
  eval_step: number | null;
}

class MetricsFollower {
  private seen = 0;
  loss: number | null = null;
  evalMetrics: Record<string, number> | null = null;
  evalStep: number | null = null;

  constructor(private readonly client: FtClient, private readonly id: string) {}

  /** Reads the entries after the ones seen, re-reading the last one (eval values merge into its step). */
  async refresh(): Promise<void> {
    const offset = Math.max(0, this.seen - 1);
    const page = await this.client.metrics(this.id, { offset });
    this.seen = offset + page.metrics.length;
    for (const m of page.metrics) {
      if (typeof m.loss === 'number') this.loss = m.loss;
      const evals = Object.entries(m).filter(([k]) => k.startsWith('eval_'));
      if (evals.length > 0) {
        this.evalMetrics = Object.fromEntries(evals) as Record<string, number>;
        this.evalStep = m.step;
      }
    }
  }
}

function describe(s: Snapshot): string {
  const parts = [s.phase ? `${s.status} (${s.phase})` : s.status];
  if (s.step !== null) parts.push(`step ${s.step}${s.total_steps ? `/${s.total_steps}` : ''}`);
  if (s.loss !== null) parts.push(`loss ${num(s.loss)}`);
  if (s.eval) parts.push(Object.entries(s.eval).map(([k, v]) => `${k} ${num(v)}`).join(' ') + (s.eval_step !== null ? ` @${s.eval_step}` : ''));
  return parts.join('  ');
}

/** Follows job `id` until it is terminal; prints as it goes and returns the exit code for its status. */
export async function watchJob(ctx: Ctx, client: FtClient, id: string, o: { events?: boolean } = {}): Promise<number> {
  const metrics = new MetricsFollower(client, id);
  const tty = Boolean(process.stdout.isTTY) && !ctx.json;
  let lastLine = '';
  let final: Job | null = null;
  let lastProgress = { step: null as number | null, total_steps: null as number | null };
  const show = (job: Job): void => {
    // A finished job has no progress any more: keep showing the step it reached.
    if (job.progress) lastProgress = { step: job.progress.step, total_steps: job.progress.total_steps };
    const s: Snapshot = {
      status: job.status, phase: job.progress?.phase ?? null, ...lastProgress,
      loss: metrics.loss, eval: metrics.evalMetrics, eval_step: metrics.evalStep,
    };
    if (ctx.json) return ctx.out(JSON.stringify({ type: 'status', job_id: id, ...s }));
    const line = describe(s);
    if (line === lastLine) return;
    lastLine = line;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else ctx.out(line);
  };
  const showEvent = (e: JobEvent): void => {
    if (!o.events) return;
    if (ctx.json) return ctx.out(JSON.stringify({ type: 'event', job_id: id, event: e }));
    if (tty) process.stdout.write('\r\x1b[K');
    ctx.out(`${e.created_at}  ${e.level.padEnd(5)}  ${e.type}: ${e.message}`);
    lastLine = '';
  };
  for await (const m of client.follow(id)) {
    if (m.kind === 'event') {
      showEvent(m.event);
      continue;
    }
    await metrics.refresh();
    show(m.job);
    final = m.job;
  }
  if (tty) process.stdout.write('\n');
  const status = final?.status ?? 'UNKNOWN';
  if (final?.error && !ctx.json) ctx.err(`job ${id} failed: ${final.error.code}: ${final.error.message}`);
  if (!ctx.json) ctx.out(`job ${id} ended ${status}${final?.inference_config_path ? `; inference config ${final.inference_config_path}` : ''}`);
  else ctx.out(JSON.stringify({ type: 'end', job_id: id, status, job: final }));
  return EXIT_BY_STATUS[status] ?? 1;
}

export function registerWatch(jobs: Command): void {
  remote(jobs.command('watch').description('follow a job live until it ends; exit code 0 COMPLETED, 3 STOPPED, 4 CANCELLED, 1 FAILED or error'))
    .argument('<job_id>')
    .option('--events', 'also print each job event')
    .action(act((ctx, id: string) => watchJob(ctx, ctx.client(), id, { events: Boolean(ctx.opts.events) })));
}
