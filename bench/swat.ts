/**
 * SWaT benchmark of the built-in time-series trainer (model `omega`).
 *   node dist/bench/swat.js [--method head|knn] [--window 128] [--step 4] [--seed 0]
 *                           [--hp key=value ...] [--train RE] [--val RE] [--test RE|none]
 *                           [--threads N | --compare-threads]
 * Trains on the files matching --train (default `_train_`: 4 normal + 4 attack) with the --val files
 * (default `_tune_`) as validation_files, exactly as a job would (same trainer code, in-process
 * context), then scores the best checkpoint on the --test files (default `_nshot_`: EARLIER in time
 * than train, with attack episodes the training files do not contain). The real held-out split,
 * later in time, is not distributed; the out-of-time proxy is
 *   --train '_train_[012]' --val _train_3 --test _tune_
 * (select on a later slice, score on a still later one).
 * --threads N: head training and the embedding pass on N threads (default: one per core).
 * --compare-threads: trains twice in this process, on 1 thread then on 2, checks that every
 * checkpoint is byte-identical, and prints wall and CPU seconds of both with the load average
 * (the machine is shared: the CPU seconds and the load say how far the wall ratio can be trusted).
 * Data: $FTNODE_SWAT_DIR, default ../shared/datasets/swat relative to the repository root.
 * Prints one JSON line of results; docs/benchmarks-swat.md records the figures.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainContext } from '../src/trainers/builtin.js';
import type { TrainerMessage, TrainerSpec } from '../src/trainers/protocol.js';
import { predictWindowsFromCheckpoint, timeseriesTrainer } from '../src/trainers/timeseries/index.js';
import { macroF1 } from '../src/trainers/timeseries/metrics.js';
import { setHeadThreads } from '../src/trainers/timeseries/head-pool.js';
import { setEmbedThreads } from '../src/trainers/timeseries/embed-pool.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const swatDir = resolve(repoRoot, process.env.FTNODE_SWAT_DIR ?? '../shared/datasets/swat');

interface Args { method: 'head' | 'knn'; window: number; step: number | null; seed: number; hp: Record<string, unknown>; train: string; val: string; test: string; threads: number | null; compare: boolean }

function args(): Args {
  const a = process.argv.slice(2);
  const out: Args = { method: 'head', window: 128, step: null, seed: 0, hp: {}, train: '_train_', val: '_tune_', test: '_nshot_', threads: null, compare: false };
  for (let i = 0; i < a.length; i++) {
    const v = a[i + 1];
    if (a[i] === '--method') (out.method = v as 'head' | 'knn'), i++;
    else if (a[i] === '--window') (out.window = Number(v)), i++;
    else if (a[i] === '--step') (out.step = Number(v)), i++;
    else if (a[i] === '--seed') (out.seed = Number(v)), i++;
    else if (a[i] === '--hp') {
      const [k, val] = v!.split('=');
      out.hp[k!] = val === 'true' ? true : val === 'false' ? false : Number.isNaN(Number(val)) ? val : Number(val);
      i++;
    } else if (a[i] === '--train') (out.train = v!), i++;
    else if (a[i] === '--val') (out.val = v!), i++;
    else if (a[i] === '--test') (out.test = v!), i++;
    else if (a[i] === '--threads') (out.threads = Number(v)), i++;
    else if (a[i] === '--compare-threads') out.compare = true;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return out;
}

async function main(): Promise<void> {
  const opt = args();
  const names = (await readdir(swatDir)).filter((f) => f.endsWith('.csv')).sort();
  const files = (re: string) =>
    names.filter((f) => new RegExp(re).test(f)).map((f) => ({ file_id: f, path: join(swatDir, f), label: f.startsWith('swat_attack') ? 'attack' : 'normal' }));
  const step = opt.step ?? 4;
  const work = await mkdtemp(join(tmpdir(), 'ftnode-swat-'));
  const spec: TrainerSpec = {
    protocol: 1, job_id: 'bench-swat', attempt: 1, model: 'omega', trainer: 'timeseries', seed: opt.seed, work_dir: work, resume: null,
    config: { name: 'swat', seed: opt.seed, model: 'omega', method: { type: opt.method, [opt.method]: { hyperparameters: opt.hp, reader: { window_size: opt.window, step_size: step } } } },
    datasets: [
      { name: 'training_files', split: 'train', files: files(opt.train) },
      { name: 'validation_files', split: 'eval', files: files(opt.val) },
    ],
  };
  const runOnce = async (threads: number | null) => {
    if (threads !== null) (setHeadThreads(threads), setEmbedThreads(threads));
    const evals: Array<Record<string, number>> = [];
    let hyper: Record<string, unknown> = {};
    let bestPath = '';
    const t0 = performance.now();
    let tFirstEval = 0;
    const ctx: TrainContext = {
      spec,
      emit(m: TrainerMessage) {
        if (m.type === 'eval_end') evals.push(m.metrics);
        if (m.type === 'hyperparameters') hyper = m.values;
        if (m.type === 'eval_start' && !tFirstEval) tFirstEval = performance.now();
        if (m.type === 'log') process.stderr.write(`[${m.level}] ${m.message}\n`);
        if (m.type === 'eval_end') process.stderr.write(`eval ${m.step}: ${JSON.stringify(m.metrics)}\n`);
      },
      stopRequested: () => false,
      async writeCheckpoint(s, bytes) {
        bestPath = join(work, `ckpt-${s}.bin`);
        await writeFile(bestPath, bytes);
        process.stderr.write(`checkpoint step ${s}: ${(bytes.length / 1e6).toFixed(1)} MB\n`);
      },
    };
    const ckpts: Buffer[] = [];
    const write = ctx.writeCheckpoint;
    ctx.writeCheckpoint = async (s, bytes, m, name) => (ckpts.push(bytes), write(s, bytes, m, name));
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const result = await timeseriesTrainer.train(ctx);
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    return { result, evals, hyper, bestPath, tFirstEval, t0, ckpts, wall, cpuSeconds: (cpu.user + cpu.system) / 1e6, load: [load0, loadavg()[0]!] };
  };
  const compare: Record<string, unknown> = {};
  let last: Awaited<ReturnType<typeof runOnce>> | null = null;
  if (opt.compare) {
    const one = await runOnce(1);
    const two = (last = await runOnce(2));
    const same = one.ckpts.length === two.ckpts.length && one.ckpts.every((b, k) => b.equals(two.ckpts[k]!));
    if (!same) throw new Error('1-thread and 2-thread checkpoints differ');
    Object.assign(compare, {
      threads_1: { wall_s: +one.wall.toFixed(1), cpu_s: +one.cpuSeconds.toFixed(1), load: one.load.map((l) => +l.toFixed(1)) },
      threads_2: { wall_s: +two.wall.toFixed(1), cpu_s: +two.cpuSeconds.toFixed(1), load: two.load.map((l) => +l.toFixed(1)) },
      wall_ratio_2_over_1: +(two.wall / one.wall).toFixed(3), checkpoints_identical: same, n_checkpoints: one.ckpts.length,
    });
  }
  const { result, evals, hyper, bestPath, tFirstEval, t0 } = last ?? (await runOnce(opt.threads));
  const trainSeconds = (performance.now() - t0) / 1000;
  const report: Record<string, unknown> = {
    method: opt.method, window: opt.window, step, seed: opt.seed, hp: opt.hp, train: opt.train, val: opt.val, test: opt.test, hyperparameters: hyper,
    val_macro_f1: result.metrics?.macro_f1, val_accuracy: result.metrics?.accuracy, best_epoch: result.metrics?.epoch,
    epochs_run: evals.length, train_seconds: +trainSeconds.toFixed(1), // load + encode (+ one epoch for head): the fixed cost before the first evaluation
    first_eval_seconds: tFirstEval ? +((tFirstEval - t0) / 1000).toFixed(1) : null,
    ...(opt.compare ? { compare_threads: compare } : {}),
  };
  if (opt.test !== 'none' && bestPath) {
    const t1 = performance.now();
    const test = files(opt.test);
    const preds = await predictWindowsFromCheckpoint(bestPath, test);
    const labels = ['attack', 'normal'];
    const truth = preds.map((p) => labels.indexOf(test.find((f) => f.file_id === p.file_id)!.label));
    const pred = preds.map((p) => labels.indexOf(p.prediction));
    report.test_macro_f1 = +macroF1(truth, pred, 2).toFixed(4);
    // Per-class recall tells "unseen attack types" (attack recall) from "drifted normal" (normal recall).
    for (const [k, name] of labels.entries()) {
      const mine = truth.flatMap((t, i) => (t === k ? [pred[i]] : []));
      report[`test_recall_${name}`] = +(mine.filter((p) => p === k).length / mine.length).toFixed(4);
    }
    report.test_predict_seconds = +((performance.now() - t1) / 1000).toFixed(1);
  }
  report.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify(report));
  await rm(work, { recursive: true, force: true });
}

void main();
