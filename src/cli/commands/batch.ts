/**
 * `ftnode batch create|list|get|watch|cancel|outputs list|outputs download` (/v0.5/batch/jobs,
 * docs/batch.md). `create` takes a whole body (--file) or builds the machine-state-classification body
 * from flags. Batch jobs have no event stream: `watch` polls the job and its outputs once a second
 * (outputs are listed in commit order and only appended, so an offset cursor sees each exactly once).
 * `outputs download` resolves each output's `ref` as docs/batch.md "Output refs" says: relative to the
 * version root with the key, or a presigned URL as it is without the key; sha256 checked.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { ApiError, BATCH_TERMINAL, type BatchJob, type BatchOutput, type FtClient } from '../../client/index.js';
import { saveDownload } from '../../client/node.js';
import { act, CliError, remote, type Ctx } from '../remote/context.js';
import { bytes, progressBar, table } from '../remote/format.js';
import { intArg } from '../remote/options.js';
import { bodyFromFile } from './jobs.js';
import { EXIT_BY_STATUS, EXIT_STREAM_LOST, reconnectFor, reconnectOption } from './watch.js';

/** One poll a second: a batch job runs for seconds to hours, and each poll is two small reads. */
const POLL_MS = 1000;

function bodyFromFlags(o: Record<string, unknown>): Record<string, unknown> {
  const inference = (o.inference as string[] | undefined) ?? [];
  if (inference.length === 0) throw new CliError('missing_parameter', 'give --inference FILE_ID... (or --file batch.json|batch.yaml)');
  const shots = ((o.shots as string[] | undefined) ?? []).map((s) => {
    const eq = s.lastIndexOf('=');
    if (eq <= 0 || eq === s.length - 1) throw new CliError('invalid_parameter', `--shots takes FILE_ID=CLASS, got '${s}'`);
    return { file_id: s.slice(0, eq), metadata: { class: s.slice(eq + 1) } };
  });
  if (!o.checkpoint && shots.length === 0) throw new CliError('missing_parameter', 'give --checkpoint CKP_ID or --shots FILE_ID=CLASS... (at least two classes)');
  const reader: Record<string, unknown> = {};
  if (o.windowSize !== undefined) reader.window_size = o.windowSize;
  if (o.stepSize !== undefined) reader.step_size = o.stepSize;
  return {
    ...(o.name ? { name: o.name } : {}),
    pipeline_type: 'batch',
    pipeline_key: 'machine-state-classification',
    inputs: {
      'worker.inference': inference.map((file_id) => ({ file_id })),
      'worker.n_shots': shots,
      ...(o.checkpoint ? { 'worker.fine_tune_checkpoint': [{ kind: 'checkpoint', checkpoint_id: o.checkpoint, metadata: {} }] } : {}),
    },
    parameters: { worker: { parallelism: o.parallelism ?? 1, config: Object.keys(reader).length ? { reader_config: reader } : {} } },
  };
}

function printBatch(ctx: Ctx, j: BatchJob): void {
  if (ctx.json) return ctx.out(JSON.stringify(j));
  const p = j.progress;
  const lines: Array<[string, string]> = [
    ['id', j.id], ['name', j.name || '-'], ['status', j.status + (p?.phase ? ` (${p.phase})` : '')], ['pipeline', `${j.pipeline_key} ${j.pipeline_version ?? ''}`.trim()],
    ['checkpoint', j.checkpoint_id ?? '- (few-shot)'], ['windows', p ? `${p.windows_done}${p.windows_total !== null ? ` of ${p.windows_total}` : ''}` : '-'],
    ['created_at', j.created_at], ['updated_at', j.updated_at],
  ];
  if (j.error) lines.push(['error', `${j.error.code}: ${j.error.message}`]);
  ctx.out(lines.map(([k, v]) => `${k.padEnd(12)}${v}`).join('\n'));
}

/** Calls `fn`, retrying connection failures (server restarting) for `budgetMs`; then `stream_lost`, exit 5. */
async function patiently<T>(ctx: Ctx, id: string, budgetMs: number, fn: () => Promise<T>): Promise<T> {
  let since: number | null = null;
  for (;;) {
    try {
      const v = await fn();
      if (since !== null) ctx.err(`note: the server answers again`);
      return v;
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 0 && err.status < 500)) throw err;
      if (since === null) ctx.err(`note: cannot reach the server (${err.message}); retrying for ${Math.round(budgetMs / 1000)} s`);
      since ??= Date.now();
      if (Date.now() - since >= budgetMs) throw new CliError('stream_lost', `lost the server for ${Math.round((Date.now() - since) / 1000)} s while watching batch job ${id}; it may still be running`, EXIT_STREAM_LOST);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

export async function watchBatch(ctx: Ctx, client: FtClient, id: string, budgetMs: number): Promise<number> {
  let seen = 0;
  let lastLine = '';
  let job: BatchJob;
  for (;;) {
    job = await patiently(ctx, id, budgetMs, () => client.getBatchJob(id));
    // Outputs after the job: every output committed before a terminal status is in the read after it.
    const page = await patiently(ctx, id, budgetMs, () => client.batchOutputs(id, { offset: seen, limit: -1 }));
    for (const o of page.outputs) {
      if (ctx.json) ctx.out(JSON.stringify({ type: 'output', job_id: id, ...o }));
      else ctx.out(`output  ${o.filename}  ${bytes(o.num_bytes)}  from ${o.input_file_id}`);
    }
    seen += page.outputs.length;
    const p = job.progress;
    const s = { status: job.status, phase: p?.phase ?? null, windows_done: p?.windows_done ?? null, windows_total: p?.windows_total ?? null, outputs: seen };
    const line = `${s.status}${s.phase ? ` (${s.phase})` : ''}${s.windows_done !== null ? `  windows ${s.windows_done}${s.windows_total !== null ? `/${s.windows_total}` : ''}` : ''}  outputs ${seen}`;
    if (line !== lastLine) {
      lastLine = line;
      ctx.out(ctx.json ? JSON.stringify({ type: 'status', job_id: id, ...s }) : line);
    }
    if (BATCH_TERMINAL.includes(job.status)) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (job.error && !ctx.json) ctx.err(`batch job ${id} failed: ${job.error.code}: ${job.error.message}`);
  if (ctx.json) ctx.out(JSON.stringify({ type: 'end', job_id: id, status: job.status, outputs: seen, job }));
  else ctx.out(`batch job ${id} ended ${job.status}: ${seen} output${seen === 1 ? '' : 's'}${seen ? ` (ftnode batch outputs download ${id})` : ''}`);
  return EXIT_BY_STATUS[job.status] ?? 1;
}

async function downloadOutputs(ctx: Ctx, client: FtClient, id: string, names: string[], dir: string): Promise<void> {
  const { outputs } = await client.batchOutputs(id, { limit: -1 });
  const wanted: BatchOutput[] = names.length ? names.map((n) => outputs.find((o) => o.filename === n) ?? (() => {
    throw new CliError('output_not_found', `batch job ${id} has no output '${n}' (ftnode batch outputs list ${id})`);
  })()) : outputs;
  if (wanted.length === 0) throw new CliError('output_not_found', `batch job ${id} has no outputs yet`);
  await mkdir(dir, { recursive: true });
  for (const o of wanted) {
    const bar = progressBar(o.filename, { enabled: ctx.opts.progress !== false && !ctx.json });
    const saved = await saveDownload(await client.fetchOutputRef(o.ref), join(dir, o.filename), { expectedSha256: o.sha256, onProgress: bar.update });
    bar.finish('sha256 ok');
    ctx.out(ctx.json ? JSON.stringify({ job_id: id, filename: o.filename, ...saved, verified: true, presigned: /^https?:/i.test(o.ref) }) : `${saved.path}\t${bytes(saved.num_bytes)}\tsha256 ${saved.sha256} (verified)`);
  }
}

export function registerBatch(program: Command): void {
  const batch = program.command('batch').description('batch inference jobs (/v0.5/batch/jobs): classify CSV files with a checkpoint or few-shot examples');

  remote(batch.command('create').description('create a machine-state-classification batch job from flags or a JSON/YAML body'))
    .option('--file <batch.json|batch.yaml>', 'a whole create body (docs/batch.md)')
    .option('--name <name>', 'job name (names the outputs)')
    .option('--inference <file_ids...>', 'the CSV files to classify')
    .option('--checkpoint <ckp_id>', 'a checkpoint of an omega fine-tune job')
    .option('--shots <file_id=class...>', 'few-shot examples without a checkpoint: FILE_ID=CLASS, at least two classes')
    .option('--window-size <n>', 'reader window_size (default 128; a checkpoint\'s own wins)', intArg(16, 'an integer from 16 to 1024', 1024))
    .option('--step-size <n>', 'reader step_size, the inference stride (default 4)', intArg(1))
    .option('--parallelism <n>', 'input files classified at once (1-32)', intArg(1, 'an integer from 1 to 32', 32))
    .option('--wait', 'follow the job until it ends (exit codes as batch watch)')
    .option(...reconnectOption())
    .action(act(async (ctx) => {
      const client = ctx.client();
      const body = ctx.opts.file ? await bodyFromFile(ctx.opts.file as string) : bodyFromFlags(ctx.opts);
      if (ctx.opts.file && ctx.opts.name) body.name = ctx.opts.name;
      const job = await client.createBatchJob(body);
      ctx.out(ctx.json ? JSON.stringify(job) : `created ${job.id} (${job.status})`);
      if (ctx.opts.wait) return watchBatch(ctx, client, job.id, reconnectFor(ctx.opts.reconnectFor));
    }));

  remote(batch.command('list').description('batch jobs, newest first'))
    .option('--limit <n>', 'at most n jobs (-1: all)', intArg(-1, 'an integer ≥ -1'), 100)
    .action(act(async (ctx) => {
      const r = await ctx.client().listBatchJobs({ limit: ctx.opts.limit as number });
      if (ctx.json) return ctx.out(JSON.stringify(r));
      ctx.out(table(r.jobs.map((j) => [j.id, j.status, j.progress ? `${j.progress.windows_done}/${j.progress.windows_total ?? '?'}` : null, j.created_at, j.name]), ['ID', 'STATUS', 'WINDOWS', 'CREATED', 'NAME']));
    }));

  remote(batch.command('get').description('one batch job')).argument('<job_id>')
    .action(act(async (ctx, id: string) => printBatch(ctx, await ctx.client().getBatchJob(id))));

  remote(batch.command('watch').description('follow a batch job until it ends; exit code 0 COMPLETED, 4 CANCELLED, 1 FAILED or error, 5 server lost'))
    .argument('<job_id>')
    .option(...reconnectOption())
    .action(act((ctx, id: string) => watchBatch(ctx, ctx.client(), id, reconnectFor(ctx.opts.reconnectFor))));

  remote(batch.command('cancel').description('cancel a batch job (outputs committed before stay)')).argument('<job_id>')
    .action(act(async (ctx, id: string) => printBatch(ctx, await ctx.client().cancelBatchJob(id))));

  const outputs = batch.command('outputs').description("a batch job's output CSVs");
  remote(outputs.command('list').description('the committed outputs, in commit order')).argument('<job_id>')
    .action(act(async (ctx, id: string) => {
      const r = await ctx.client().batchOutputs(id, { limit: -1 });
      if (ctx.json) return ctx.out(JSON.stringify(r.outputs));
      ctx.out(table(r.outputs.map((o) => [o.filename, bytes(o.num_bytes), o.input_file_id, o.sha256]), ['OUTPUT', 'SIZE', 'INPUT', 'SHA256']));
    }));
  remote(outputs.command('download').description('download outputs (all, or the names given); sha256 verified'))
    .argument('<job_id>')
    .argument('[filenames...]', 'only these outputs')
    .option('-d, --dir <folder>', 'where to write them (default: the current folder)', '.')
    .option('--no-progress', 'no progress bar')
    .action(act((ctx, id: string, names: string[]) => downloadOutputs(ctx, ctx.client(), id, names, ctx.opts.dir as string)));
}
