/**
 * Batch inference benchmark (docs/benchmarks-batch.md): windows/s classified end to end by
 * POST /v0.5/batch/jobs (machine-state-classification) on the SWaT tune files, from the create call
 * to COMPLETED (uploads excluded: they happen before the clock starts), plus the trainer process's
 * peak RSS (VmHWM, sampled every 5 ms from the moment it logs its pid).
 *   node dist/bench/batch.js [--method head|knn] [--epochs 3] [--step 1] [--copies 4] [--parallelism 1,2] [--few-shot] [--rounds 3]
 * 1. Fine-tunes an omega checkpoint through /v0.6/fine_tuning/jobs on the SWaT `train` files (tune as
 *    validation_files; `--method knn` embeds them instead of training a head: faster, bigger checkpoint).
 * 2. Baseline, same process and run: the in-process predictWindowsFromCheckpoint on the same files with
 *    the same checkpoint and stride (checkpoint load and CSV parsing included, as the batch job's are).
 * 3. Batch jobs with that checkpoint, once per `--parallelism` value; each output is checked to hold the
 *    baseline's windows and predictions. `--few-shot` adds a checkpoint-less run (knn from the nshot files).
 * Rounds: the baseline and every batch run alternate, `--rounds` times, so a busy shared machine slows
 * them alike; figures are per-run medians, the ratio is the median of the per-round ratios.
 * Inputs: the 2 tune files, `--copies` times each under distinct names (default 4 → 8 inputs), read with
 * the checkpoint's window (128) at `--step` (default 1: a prediction per second of data).
 * Data: $FTNODE_SWAT_DIR, default ../shared/datasets/swat relative to the repository root; without it the
 * benchmark prints why and exits 0.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appConfig, startApp, type App } from '../src/app/app.js';
import { loadModel, predictWindowsFromCheckpoint } from '../src/trainers/timeseries/index.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { sampleMemory } from './lib/proc.js';
import { maxOf } from './lib/stats.js';

const KEY = 'sk_bench_0123456789abcdefghijklmnopqrstuvwxyzAB';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const swatDir = resolve(repoRoot, process.env.FTNODE_SWAT_DIR ?? '../shared/datasets/swat');
const opts = parseArgs({ method: 'head', epochs: 3, step: 1, copies: 4, parallelism: '1,2', fewShot: false, rounds: 3 });

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

function client(app: App): { call(method: string, path: string, body?: unknown): Promise<Json>; upload(name: string, bytes: Buffer): Promise<void> } {
  const auth = { authorization: `Bearer ${KEY}` };
  return {
    async call(method, path, body) {
      const res = await fetch(app.url + path, { method, headers: auth, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
      return text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text;
    },
    async upload(name, bytes) {
      const form = new FormData();
      form.append('file', new Blob([bytes], { type: 'text/csv' }), name);
      const res = await fetch(`${app.url}/v0.5/files`, { method: 'POST', headers: auth, body: form });
      if (res.status !== 200) throw new Error(`upload ${name}: ${res.status}`);
    },
  };
}

async function waitUntil<T>(what: string, fn: () => Promise<T | null | undefined | false>, everyMs = 5, timeoutMs = 1_800_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface BatchRun { label: string; windows: number; seconds: number; windowsPerSecond: number; peakRssMiB: number; matches: boolean | null }

async function main(): Promise<void> {
  if (!existsSync(swatDir)) {
    process.stdout.write(`batch benchmark skipped: no SWaT data at ${swatDir} (set FTNODE_SWAT_DIR)\n`);
    return;
  }
  process.stdout.write(`${machineLine()}\n`);
  const names = readdirSync(swatDir).filter((f) => f.endsWith('.csv')).sort();
  const pick = (split: string): string[] => names.filter((f) => f.includes(`_${split}_`));
  const label = (f: string): string => (f.startsWith('swat_attack') ? 'attack' : 'normal');
  const home = mkdtempSync(join(tmpdir(), 'ftnode-bench-batch-'));
  const app = await startApp(appConfig({ home, port: 0, bootstrapKey: KEY, builtinWorkers: 1 }, {}), { logger: false });
  const c = client(app);
  try {
    for (const f of [...pick('train'), ...pick('tune'), ...pick('nshot')]) await c.upload(f, readFileSync(join(swatDir, f)));
    const inputs: Array<{ file_id: string; path: string }> = [];
    for (let k = 0; k < opts.copies; k++) {
      for (const f of pick('tune')) {
        const file_id = k === 0 ? f : f.replace(/\.csv$/, `_copy${k}.csv`);
        if (k > 0) await c.upload(file_id, readFileSync(join(swatDir, f)));
        inputs.push({ file_id, path: join(swatDir, f) });
      }
    }
    // 1. The checkpoint.
    const t0 = performance.now();
    const method = opts.method === 'knn' ? 'knn' : 'head';
    const hp = method === 'head' ? { n_epochs: opts.epochs } : {};
    const ft = await c.call('POST', '/v0.6/fine_tuning/jobs', {
      name: 'bench-batch', model: 'omega', seed: 0,
      method: { type: method, [method]: { hyperparameters: hp, reader: { window_size: 128, step_size: 4 } } },
      training_files: pick('train').map((f) => ({ file_id: f, label: label(f) })),
      validation_files: pick('tune').map((f) => ({ file_id: f, label: label(f) })),
    });
    const done = await waitUntil('fine-tune', async () => {
      const j = await c.call('GET', `/v0.6/fine_tuning/jobs/${ft.id}`);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    }, 200);
    if (done.status !== 'SUCCEEDED') throw new Error(`fine-tune ${done.status}: ${JSON.stringify(done.error)}`);
    const ckpts = (await c.call('GET', `/v0.6/fine_tuning/jobs/${ft.id}/checkpoints`)).data;
    const ckpt = ckpts[0];
    const org = (await app.auth.authenticate(`Bearer ${KEY}`))!.org.uuid;
    const job = (await app.store.getJob(org, ft.id))!;
    const ckptPath = resolve(app.config.artifactsDir, (await app.store.getCheckpoint(job.uuid, ckpt.id))!.blob_key);
    process.stdout.write(`checkpoint ${ckpt.id} (${method}, step ${ckpt.step}, macro_f1 ${ckpt.metrics.macro_f1?.toFixed(3)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    // 2. Baseline: in-process prediction on the same inputs, same checkpoint, same stride (a fresh load each round).
    let base: Awaited<ReturnType<typeof predictWindowsFromCheckpoint>> = [];
    const baselineRun = async (): Promise<number> => {
      const b0 = performance.now();
      base = await predictWindowsFromCheckpoint((await loadModel(ckptPath)), inputs, { stepSize: opts.step });
      const seconds = (performance.now() - b0) / 1000;
      process.stdout.write(`baseline in-process predictWindowsFromCheckpoint: ${base.length} windows in ${seconds.toFixed(2)} s = ${(base.length / seconds).toFixed(0)} windows/s\n`);
      return base.length / seconds;
    };

    // 3. Batch jobs.
    const batch = async (runLabel: string, parallelism: number, withCheckpoint: boolean): Promise<BatchRun> => {
      const body = {
        name: `bench-${runLabel}`, pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
        inputs: {
          'worker.inference': inputs.map((f) => ({ file_id: f.file_id })),
          'worker.n_shots': withCheckpoint ? [] : pick('nshot').map((f) => ({ file_id: f, metadata: { class: label(f) } })),
          ...(withCheckpoint ? { 'worker.fine_tune_checkpoint': [{ kind: 'checkpoint', checkpoint_id: ckpt.id }] } : {}),
        },
        parameters: { worker: { parallelism, config: { reader_config: { window_size: 128, step_size: opts.step }, batch_size: 256 } } },
      };
      const s0 = performance.now();
      const created = await c.call('POST', '/v0.5/batch/jobs', body);
      const pid = await waitUntil('trainer pid', async () => {
        const ev = (await c.call('GET', `/v0.5/batch/jobs/${created.id}/events?limit=-1`)).events as Array<{ message: string }>;
        return Number(ev.map((e) => /batch-msc pid (\d+)/.exec(e.message)?.[1]).find(Boolean) ?? 0);
      }, 2);
      const mem = sampleMemory(pid, 5);
      const end = await waitUntil('batch job', async () => {
        const j = await c.call('GET', `/v0.5/batch/jobs/${created.id}`);
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
      }, 5);
      const seconds = (performance.now() - s0) / 1000;
      const peak = mem.stop();
      if (end.status !== 'COMPLETED') throw new Error(`batch ${end.status}: ${JSON.stringify(end.error)}`);
      const outs = (await c.call('GET', `/v0.5/batch/jobs/${created.id}/outputs?limit=-1`)).outputs as Array<{ data: { ref: string; input_file_id: string } }>;
      let windows = 0;
      let matches: boolean | null = withCheckpoint ? true : null;
      for (const o of outs) {
        // ref is relative to the version root: {base ending in /v0.5}{ref}
        const rows = (await c.call('GET', `/v0.5${o.data.ref}`) as string).trimEnd().split('\n').slice(1);
        windows += rows.length;
        if (withCheckpoint) {
          const expect = base.filter((p) => p.file_id === o.data.input_file_id);
          matches &&= expect.length === rows.length && rows.every((r, i) => r.split(',')[1] === expect[i]!.prediction);
        }
      }
      const run = { label: runLabel, windows, seconds, windowsPerSecond: windows / seconds, peakRssMiB: peak.peakHwmKiB / 1024, matches };
      process.stdout.write(`batch ${runLabel}: ${windows} windows in ${seconds.toFixed(2)} s = ${run.windowsPerSecond.toFixed(0)} windows/s, trainer peak RSS ${run.peakRssMiB.toFixed(0)} MiB, same predictions as baseline: ${matches}\n`);
      return run;
    };
    const plan: Array<[string, number, boolean]> = String(opts.parallelism).split(',').map((p) => [`checkpoint-p${p}`, Number(p), true]);
    if (opts.fewShot) plan.push(['few-shot-p1', 1, false]);
    const baselineRates: number[] = [];
    const runs = new Map<string, Array<BatchRun & { ratio: number }>>();
    for (let round = 0; round < opts.rounds; round++) {
      const rate = await baselineRun();
      baselineRates.push(rate);
      for (const [l, p, withCkpt] of plan) {
        const r = await batch(l, p, withCkpt);
        runs.set(l, [...(runs.get(l) ?? []), { ...r, ratio: r.windowsPerSecond / rate }]);
      }
    }
    const summary = [...runs.entries()].map(([l, rs]) => ({
      label: l, windows: rs[0]!.windows, windowsPerSecond: median(rs.map((r) => r.windowsPerSecond)), ratio: median(rs.map((r) => r.ratio)),
      peakRssMiB: maxOf(rs.map((r) => r.peakRssMiB)), matches: rs.every((r) => r.matches !== false),
    }));
    process.stdout.write(`\n| run | windows | windows/s (median of ${opts.rounds}) | ratio to baseline (median) | trainer peak RSS |\n|---|--:|--:|--:|--:|\n`);
    process.stdout.write(`| baseline: in-process predictWindowsFromCheckpoint | ${base.length} | ${median(baselineRates).toFixed(0)} | 1 | – |\n`);
    for (const r of summary) process.stdout.write(`| batch ${r.label} | ${r.windows} | ${r.windowsPerSecond.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} MiB |\n`);
    process.stdout.write(`${JSON.stringify({ method, step: opts.step, inputs: inputs.length, rounds: opts.rounds, baselineRates, summary })}\n`);
  } finally {
    // This process is also the client: a download whose last byte it has read may still be finishing on
    // the server side, and close() would then wait for that keep-alive socket's 72 s timeout.
    app.server.server.closeAllConnections();
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
