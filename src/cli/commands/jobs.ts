/**
 * `ftnode jobs create|list|get|stop|cancel|delete|metrics|checkpoints|events|inference-config` (watch
 * is in watch.ts). `create` builds a v0.5 body from flags, or sends a JSON/YAML file as it is: a body
 * with `training_files` (the Omega shape) goes to /v0.6/fine_tuning/jobs, anything else to v0.5.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { bestText, formatDuration, type CreateJobV05, type CreateJobV06, type FtClient, type Job, type JobSummary } from '../../client/index.js';
import { act, CliError, remote, type Ctx } from '../remote/context.js';
import { bytes, num, table } from '../remote/format.js';
import { readableFile } from '../remote/local-files.js';
import { intArg } from '../remote/options.js';
import { loadSummary } from './summary.js';
import { reconnectFor, reconnectOption, registerWatch, watchJob } from './watch.js';

export async function bodyFromFile(path: string): Promise<Record<string, unknown>> {
  await readableFile(path);
  const text = await readFile(path, 'utf8');
  let body: unknown;
  try {
    body = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new CliError('invalid_parameter', `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CliError('invalid_parameter', `${path} must hold one object (a job create body)`);
  return body as Record<string, unknown>;
}

function bodyFromFlags(o: Record<string, unknown>): CreateJobV05 {
  const train = (o.train as string[] | undefined) ?? [];
  const evalIds = (o.eval as string[] | undefined) ?? [];
  if (train.length === 0) throw new CliError('missing_parameter', 'give --train FILE_ID... (or --file job.json|job.yaml)');
  const datasets: CreateJobV05['config']['datasets'] = [{ name: 'train', split: 'train', file_ids: train }];
  if (evalIds.length > 0) datasets.push({ name: 'eval', split: 'eval', file_ids: evalIds });
  const name = (o.name as string | undefined) ?? `${train[0]!.replace(/\.[^.]+$/, '')}-finetune`;
  return { name, config: { ...(o.model ? { model: o.model as string } : {}), datasets } };
}

async function create(ctx: Ctx, client: FtClient): Promise<{ id: string; status: string; record: unknown }> {
  const o = ctx.opts;
  const idem = o.idempotencyKey ? { idempotencyKey: o.idempotencyKey as string } : {};
  if (o.file) {
    const body = await bodyFromFile(o.file as string);
    if (o.name) body.name = o.name;
    if ('training_files' in body) {
      if (o.model) body.model = o.model;
      const j = await client.createJobV06(body as CreateJobV06, idem);
      return { id: j.id, status: j.v05_status, record: j };
    }
    if (o.model) body.config = { ...(body.config as object), model: o.model };
    const j = await client.createJob(body as CreateJobV05, idem);
    return { id: j.id, status: j.status, record: j };
  }
  const body = bodyFromFlags(o);
  if (o.id) body.id = o.id as string;
  const j = await client.createJob(body, idem);
  return { id: j.id, status: j.status, record: j };
}

function jobRow(j: Job): Array<string | number | null> {
  const p = j.progress;
  return [j.id, j.status, (j.config.model as string | undefined) ?? null, p ? `${p.step}${p.total_steps ? `/${p.total_steps}` : ''}` : null, j.created_at.slice(0, 19).replace('T', ' '), j.name];
}

function printJob(ctx: Ctx, j: Job, summary?: JobSummary): void {
  if (ctx.json) return ctx.out(JSON.stringify(summary ? { ...j, summary } : j));
  const p = j.progress;
  const lines: Array<[string, string]> = [
    ['id', j.id], ['name', j.name], ['status', j.status + (p?.phase ? ` (${p.phase})` : '')], ['model', String(j.config.model ?? '-')],
    ['progress', p ? `step ${p.step}${p.total_steps ? `/${p.total_steps}` : ''}${p.epoch !== null ? `, epoch ${p.epoch}` : ''}${p.eta_seconds !== null ? `, eta ${Math.round(p.eta_seconds)} s` : ''}` : '-'],
    ['created_at', j.created_at], ['updated_at', j.updated_at], ['inference_config', j.inference_config_path ?? '-'],
  ];
  if (j.error) lines.push(['error', `${j.error.code}: ${j.error.message}`]);
  if (summary) {
    lines.push(['result', `${j.status}: ${summary.reason}`]);
    lines.push(['best', bestText(summary.best)]);
    lines.push(['duration', `${formatDuration(summary.duration_seconds)}${summary.outcome === 'running' || summary.outcome === 'queued' ? ' so far' : ''}`]);
  }
  ctx.out(lines.map(([k, v]) => `${k.padEnd(17)}${v}`).join('\n'));
}

export function registerJobs(program: Command): Command {
  const jobs = program.command('jobs').description('fine-tune jobs: create, follow, stop, cancel, inspect');

  remote(jobs.command('create').description('create a job from flags or from a JSON/YAML body'))
    .option('--name <name>', 'job name (default: <first train file>-finetune)')
    .option('--model <id>', "model id (see 'ftnode models'; default: the server's default text model)")
    .option('--train <file_ids...>', 'training file ids (split train)')
    .option('--eval <file_ids...>', 'evaluation file ids (split eval)')
    .option('--file <job.json|job.yaml>', 'a whole create body (v0.5, or v0.6 when it has training_files)')
    .option('--id <id>', 'client-chosen job id (a retried create with the same body returns the same job)')
    .option('--idempotency-key <key>', 'Idempotency-Key header')
    .option('--wait', 'follow the job until it ends (exit codes as jobs watch)')
    .option(...reconnectOption())
    .action(act(async (ctx) => {
      const client = ctx.client();
      const r = await create(ctx, client);
      if (ctx.json) ctx.out(JSON.stringify(r.record));
      else ctx.out(`created ${r.id} (${r.status})`);
      if (ctx.opts.wait) return watchJob(ctx, client, r.id, { reconnectForMs: reconnectFor(ctx.opts.reconnectFor) });
    }));

  remote(jobs.command('list').description('list jobs, newest first'))
    .option('--status <statuses...>', 'only these statuses (e.g. RUNNING STOPPING)')
    .option('--limit <n>', 'at most n jobs (-1: all)', intArg(-1, 'an integer ≥ -1'))
    .option('--offset <n>', 'skip n jobs', intArg(0))
    .action(act(async (ctx) => {
      const statuses = ((ctx.opts.status as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase()).filter(Boolean);
      const q = { statuses, limit: ctx.opts.limit as number | undefined, offset: ctx.opts.offset as number | undefined };
      const list = await ctx.client().listJobs(q);
      if (ctx.json) return ctx.out(JSON.stringify(list));
      ctx.out(table(list.map(jobRow), ['ID', 'STATUS', 'MODEL', 'STEP', 'CREATED (UTC)', 'NAME']));
    }));

  remote(jobs.command('get').description('one job')).argument('<job_id>')
    .action(act(async (ctx, id: string) => {
      const client = ctx.client();
      const job = await client.getJob(id);
      printJob(ctx, job, await loadSummary(client, job));
    }));

  remote(jobs.command('stop').description('graceful stop: no new step, the evaluation in progress finishes, the last checkpoint is kept → STOPPED'))
    .argument('<job_id>')
    .action(act(async (ctx, id: string) => printJob(ctx, await ctx.client().stopJob(id))));

  remote(jobs.command('cancel').description('immediate cancel: the trainer is killed, nothing more is saved → CANCELLED'))
    .argument('<job_id>')
    .action(act(async (ctx, id: string) => printJob(ctx, await ctx.client().cancelJob(id))));

  remote(jobs.command('delete').description('delete a finished job with its checkpoints and inference config'))
    .argument('<job_id>')
    .action(act(async (ctx, id: string) => {
      const r = await ctx.client().deleteJob(id);
      ctx.out(ctx.json ? JSON.stringify(r) : `deleted ${r.id}`);
    }));

  registerWatch(jobs);

  remote(jobs.command('metrics').description('training and evaluation metrics per step')).argument('<job_id>')
    .action(act(async (ctx, id: string) => {
      const page = await ctx.client().metrics(id);
      if (ctx.json) return ctx.out(JSON.stringify(page));
      const keys = [...new Set(page.metrics.flatMap((m) => Object.keys(m)).filter((k) => k !== 'step'))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
      ctx.out(table(page.metrics.map((m) => [m.step, ...keys.map((k) => (k in m ? num(m[k]) : null))]), ['STEP', ...keys.map((k) => k.toUpperCase())]));
      ctx.out(`last checkpoint at step ${page.last_checkpoint_step}`);
    }));

  remote(jobs.command('checkpoints').description('committed checkpoints')).argument('<job_id>')
    .action(act(async (ctx, id: string) => {
      const { data } = await ctx.client().checkpoints(id);
      if (ctx.json) return ctx.out(JSON.stringify(data));
      ctx.out(table(data.map((c) => [c.id, c.step, bytes(c.num_bytes), Object.entries(c.metrics).map(([k, v]) => `${k}=${num(v)}`).join(' '), c.created_at]), ['CHECKPOINT', 'STEP', 'SIZE', 'METRICS', 'CREATED']));
    }));

  remote(jobs.command('events').description('job events, oldest first')).argument('<job_id>')
    .option('--limit <n>', 'the last n events (-1: all)', intArg(-1, 'an integer ≥ -1'), 100)
    .action(act(async (ctx, id: string) => {
      const { data } = await ctx.client().events(id, { limit: ctx.opts.limit as number, order: 'desc' });
      const list = [...data].reverse();
      if (ctx.json) return ctx.out(JSON.stringify(list));
      for (const e of list) ctx.out(`${e.created_at}  ${e.level.padEnd(5)}  ${e.type}: ${e.message}`);
    }));

  remote(jobs.command('inference-config').description("the job's inference config (YAML)")).argument('<job_id>')
    .option('-o, --output <file>', 'write it to a file')
    .action(act(async (ctx, id: string) => {
      const text = await ctx.client().inferenceConfig(id);
      if (ctx.opts.output) await writeFile(ctx.opts.output as string, text);
      if (ctx.json) ctx.out(JSON.stringify({ job_id: id, inference_config: parseYaml(text) as unknown, ...(ctx.opts.output ? { path: ctx.opts.output } : {}) }));
      else if (!ctx.opts.output) process.stdout.write(text);
    }));
  return jobs;
}

/** epoch (a field of the entry), loss, macro_f1 and eval_*, then the rest (learning rate, hp_*). */
function rank(k: string): number {
  return k === 'epoch' ? -1 : k === 'loss' ? 0 : k === 'macro_f1' || k.startsWith('eval_') ? 1 : k.startsWith('hp_') ? 3 : 2;
}
