/**
 * SWaT benchmark of knn inference against the head in the same run (docs/benchmarks-swat.md, "knn
 * speed, size and threads"):
 *   node dist/bench/swat-knn.js [--train RE] [--val RE] [--infer RE] [--score RE] [--threads 2] [--no-f32]
 * 1. trains a head (defaults, step 4) and a knn (defaults, step 1: ~39k reference windows) in-process
 *    on --train (default `_train_`) with --val (default `_tune_`) as validation_files, each twice:
 *    embedding pass on the main thread, then on --threads threads (embed-pool.ts); wall times, their
 *    ratio, and the two checkpoints checked byte-equal (same model, same predictions);
 * 2. rebuilds the float32 knn of the same run (the training embeddings again, through the stored
 *    encoder; their int8 codes are checked equal to the checkpoint's) and writes it as a version-1
 *    checkpoint: the format before int8, the baseline; and writes the int8 checkpoint without its
 *    PCA basis as version 2 (`knn_int8_full`: the full int8 search, before the pruned one);
 * 3. batch inference (batch-msc classifyFile, the batch pipeline's code) of each checkpoint on the
 *    --infer files (default `_tune_`) at step 1, on the main thread and on a pool of --threads
 *    threads: windows/s, and every ratio against the head (and 2 threads against 1) of this run;
 *    pooled outputs are checked byte-equal to the main thread's, and the pruned search's (version 3)
 *    to the full int8 search's (version 2); load seconds of each checkpoint (the version-3 load
 *    projects the references on the basis);
 * 4. macro-F1 of float32 and int8 knn on the --infer and --score files (default `_nshot_`): the
 *    quantisation is fixed in advance (nothing is selected on these files).
 * Out-of-time proxy: --train '_train_[012]' --val _train_3 --infer _tune_.
 * Data: $FTNODE_SWAT_DIR, default ../shared/datasets/swat relative to the repository root.
 */
import { readFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainContext } from '../src/trainers/builtin.js';
import type { TrainerSpec } from '../src/trainers/protocol.js';
import { classifyFile, inlinePredictor, type Predictor } from '../src/trainers/batch-msc/classify.js';
import { ThreadPool } from '../src/trainers/batch-msc/pool.js';
import { timeseriesTrainer } from '../src/trainers/timeseries/index.js';
import { embedWindows } from '../src/trainers/timeseries/encoder.js';
import { setEmbedThreads } from '../src/trainers/timeseries/embed-pool.js';
import { buildKnn } from '../src/trainers/timeseries/knn.js';
import { macroF1 } from '../src/trainers/timeseries/metrics.js';
import { loadModel, serializeModel, type TsModel } from '../src/trainers/timeseries/model.js';
import { quantizeRows } from '../src/trainers/timeseries/numeric.js';
import { readSeriesFile } from '../src/trainers/timeseries/reader.js';
import { applyChannelStats, identity, WindowSet } from '../src/trainers/timeseries/windows.js';
import { machineLine } from './lib/machine.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const swatDir = resolve(repoRoot, process.env.FTNODE_SWAT_DIR ?? '../shared/datasets/swat');
type File = { file_id: string; path: string; label: string };

function args() {
  const a = process.argv.slice(2);
  const o = { train: '_train_', val: '_tune_', infer: '_tune_', score: '_nshot_', threads: 2, f32: true };
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!.replace(/^--/, ''), v = a[i + 1];
    if (k === 'no-f32') o.f32 = false;
    else if (k === 'threads') (o.threads = Number(v)), i++;
    else if (k in o) ((o as Record<string, unknown>)[k] = v), i++;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return o;
}

/** CPU seconds of the whole process (every thread) since `from`. */
const cpuSince = (from: NodeJS.CpuUsage): number => { const u = process.cpuUsage(from); return (u.user + u.system) / 1e6; };

async function train(work: string, method: 'head' | 'knn', step: number, train: File[], val: File[], tag: string): Promise<{ path: string; seconds: number; cpu: number; bytes: number }> {
  const spec: TrainerSpec = {
    protocol: 1, job_id: `bench-${method}-${tag}`, attempt: 1, model: 'omega', trainer: 'timeseries', seed: 0, work_dir: work, resume: null,
    config: { name: 'swat', seed: 0, model: 'omega', method: { type: method, [method]: { hyperparameters: {}, reader: { window_size: 128, step_size: step } } } },
    datasets: [{ name: 'training_files', split: 'train', files: train }, { name: 'validation_files', split: 'eval', files: val }],
  };
  let path = '', bytes = 0;
  const ctx: TrainContext = {
    spec, emit: () => undefined, stopRequested: () => false,
    async writeCheckpoint(s, b) {
      path = join(work, `${method}-${spec.job_id}.ckpt`); // the last one written is the best (the trainer writes improvements only)
      bytes = b.length;
      await writeFile(path, b);
    },
  };
  const t0 = performance.now(), c0 = process.cpuUsage();
  await timeseriesTrainer.train(ctx);
  return { path, seconds: (performance.now() - t0) / 1000, cpu: cpuSince(c0), bytes };
}

/** The float32 knn of this run: the training embeddings again, through the checkpoint's encoder. */
async function float32Knn(m: TsModel, train: File[]): Promise<TsModel> {
  const series = [];
  for (const f of train) {
    const s = await readSeriesFile(f.path, f.file_id, { dataColumns: m.reader.dataColumns, timestampColumn: m.reader.timestampColumn, minRows: 128, timestamps: false });
    applyChannelStats(s, m.channelStats);
    series.push(s);
  }
  const ws = new WindowSet(series, m.reader.windowSize, m.reader.stepSize);
  const x = (await embedWindows(ws, identity(ws.count), m.encoder))!;
  const q8 = m.knn!.q8!;
  if (ws.count !== q8.n) throw new Error(`rebuilt ${ws.count} windows, the checkpoint has ${q8.n}`);
  const knn = buildKnn(m.knn!.settings, x, ws.count, q8.d, m.knn!.labels, m.knn!.nClasses);
  const { codes } = quantizeRows(knn.embeddings!, knn.n, knn.dim);
  for (let i = 0; i < codes.length; i++) if (codes[i] !== q8.codes[Math.floor(i / q8.d) * q8.dPad + (i % q8.d)]) throw new Error('rebuilt float32 rows do not quantise to the checkpoint codes');
  return { ...m, knn };
}

interface Inference { windows: number; seconds: number; cpu: number; outputs: string[] }

async function infer(work: string, name: string, m: TsModel, files: File[], predictor: Predictor): Promise<Inference> {
  const t0 = performance.now(), c0 = process.cpuUsage();
  let windows = 0;
  const outputs: string[] = [];
  for (const f of files) {
    const outPath = join(work, `${name}-${f.file_id}.out`);
    windows += (await classifyFile(m, 1, 256, { file_id: f.file_id, path: f.path, outPath }, undefined, predictor)).windows;
    outputs.push(await readFile(outPath, 'utf8'));
  }
  return { windows, seconds: (performance.now() - t0) / 1000, cpu: cpuSince(c0), outputs };
}

/** Macro-F1 of the Prediction column of the outputs against each file's class. */
function scoreOutputs(files: File[], outputs: string[]): number {
  const labels = ['attack', 'normal'];
  const truth: number[] = [], pred: number[] = [];
  outputs.forEach((text, i) => {
    for (const line of text.trim().split('\n').slice(1)) {
      truth.push(labels.indexOf(files[i]!.label));
      pred.push(labels.indexOf(line.split(',')[1]!));
    }
  });
  return +macroF1(truth, pred, 2).toFixed(4);
}

async function main(): Promise<void> {
  const o = args();
  console.error(machineLine());
  const cpu0 = process.cpuUsage(), wall0 = performance.now();
  const names = (await readdir(swatDir)).filter((f) => f.endsWith('.csv')).sort();
  const files = (re: string): File[] => names.filter((f) => new RegExp(re).test(f)).map((f) => ({ file_id: f, path: join(swatDir, f), label: f.startsWith('swat_attack') ? 'attack' : 'normal' }));
  const work = await mkdtemp(join(tmpdir(), 'ftnode-swat-knn-'));
  const report: Record<string, unknown> = { train: o.train, val: o.val, infer: o.infer, score: o.score, threads: o.threads };
  try {
    const trained: Record<string, { path: string; seconds: number; cpu: number; bytes: number }> = {};
    for (const [method, step] of [['head', 4], ['knn', 1]] as const) {
      setEmbedThreads(1);
      const one = await train(work, method, step, files(o.train), files(o.val), '1t');
      setEmbedThreads(o.threads);
      const many = await train(work, method, step, files(o.train), files(o.val), `${o.threads}t`);
      if (!(await readFile(one.path)).equals(await readFile(many.path))) throw new Error(`${method}: the checkpoint trained on ${o.threads} threads differs from the main thread's`);
      report[`${method}_train_seconds_1t`] = +one.seconds.toFixed(1);
      report[`${method}_train_seconds_${o.threads}t`] = +many.seconds.toFixed(1);
      report[`${method}_train_ratio_${o.threads}t_vs_1t`] = +(many.seconds / one.seconds).toFixed(2);
      // On a shared machine the process may get a fixed CPU share whatever its thread count: the CPU
      // seconds show the work the threads added, and wall ≈ CPU / cores where cores are free.
      report[`${method}_train_cpu_seconds_1t`] = +one.cpu.toFixed(1);
      report[`${method}_train_cpu_seconds_${o.threads}t`] = +many.cpu.toFixed(1);
      trained[method] = one;
    }
    const head = trained.head!, knn = trained.knn!;
    Object.assign(report, { head_checkpoint_mb: +(head.bytes / 1e6).toFixed(1), knn_int8_checkpoint_mb: +(knn.bytes / 1e6).toFixed(1) });
    const timedLoad = async (name: string, p: string): Promise<{ path: string; m: TsModel }> => {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const m = await loadModel(p);
      report[`${name}_load_seconds`] = +((performance.now() - t0) / 1000).toFixed(2);
      report[`${name}_load_cpu_seconds`] = +cpuSince(c0).toFixed(2);
      return { path: p, m };
    };
    const models: Record<string, { path: string; m: TsModel }> = { head: await timedLoad('head', head.path), knn_int8: await timedLoad('knn_int8', knn.path) };
    {
      const v3 = models.knn_int8!.m;
      const p = join(work, 'knn-int8-full.ckpt');
      await writeFile(p, serializeModel({ ...v3, knn: { ...v3.knn!, basis: null, projected: undefined } }));
      models.knn_int8_full = await timedLoad('knn_int8_full', p);
      report.knn_int8_full_checkpoint_mb = +((await stat(p)).size / 1e6).toFixed(1);
    }
    if (o.f32) {
      const f32 = await float32Knn(models.knn_int8!.m, files(o.train));
      const p = join(work, 'knn-f32.ckpt');
      await writeFile(p, serializeModel(f32));
      models.knn_f32 = { path: p, m: await loadModel(p) };
      report.knn_f32_checkpoint_mb = +((await stat(p)).size / 1e6).toFixed(1);
    }
    const inferFiles = files(o.infer), scoreFiles = files(o.score);
    const outputs1: Record<string, string[]> = {};
    for (const [name, { path, m }] of Object.entries(models)) {
      const one = await infer(work, `${name}-1`, m, inferFiles, inlinePredictor(m));
      outputs1[name] = one.outputs;
      report[`${name}_windows_per_s_1t`] = Math.round(one.windows / one.seconds);
      report[`${name}_windows_per_cpu_s_1t`] = Math.round(one.windows / one.cpu);
      report.windows = one.windows;
      if (o.threads > 1) {
        const pool = new ThreadPool({ kind: 'path', path }, o.threads);
        const t0 = performance.now();
        await pool.ready;
        report[`${name}_pool_start_seconds`] = +((performance.now() - t0) / 1000).toFixed(2);
        const many = await infer(work, `${name}-${o.threads}`, m, inferFiles, pool);
        await pool.close();
        if (many.outputs.join() !== one.outputs.join()) throw new Error(`${name}: pooled outputs differ from the main thread's`);
        report[`${name}_windows_per_s_${o.threads}t`] = Math.round(many.windows / many.seconds);
        report[`${name}_threads_speedup`] = +(one.seconds / many.seconds).toFixed(2);
        report[`${name}_windows_per_cpu_s_${o.threads}t`] = Math.round(many.windows / many.cpu);
      }
      report[`${name}_macro_f1_infer`] = scoreOutputs(inferFiles, one.outputs);
      if (name !== 'head' && scoreFiles.length > 0) report[`${name}_macro_f1_score`] = scoreOutputs(scoreFiles, (await infer(work, `${name}-s`, m, scoreFiles, inlinePredictor(m))).outputs);
    }
    if (outputs1.knn_int8!.join() !== outputs1.knn_int8_full!.join()) throw new Error('the pruned int8 search (version 3) predicted differently from the full int8 search (version 2)');
    report.pruned_outputs_equal_full = true;
    const r = (a: string, b: string): number | undefined => (typeof report[a] === 'number' && typeof report[b] === 'number' ? +((report[a] as number) / (report[b] as number)).toFixed(2) : undefined);
    report.ratio_knn_int8_vs_head_1t = r('knn_int8_windows_per_s_1t', 'head_windows_per_s_1t');
    report.ratio_knn_int8_vs_head_per_cpu_s = r('knn_int8_windows_per_cpu_s_1t', 'head_windows_per_cpu_s_1t');
    report.ratio_knn_int8_vs_head_pool = r(`knn_int8_windows_per_s_${o.threads}t`, `head_windows_per_s_${o.threads}t`);
    report.ratio_knn_int8_vs_f32_1t = r('knn_int8_windows_per_s_1t', 'knn_f32_windows_per_s_1t');
    report.ratio_knn_int8_full_vs_head_per_cpu_s = r('knn_int8_full_windows_per_cpu_s_1t', 'head_windows_per_cpu_s_1t');
    report.ratio_knn_pruned_vs_full_per_cpu_s = r('knn_int8_windows_per_cpu_s_1t', 'knn_int8_full_windows_per_cpu_s_1t');
    report.ratio_knn_int8_pool_vs_head_1t = r(`knn_int8_windows_per_s_${o.threads}t`, 'head_windows_per_s_1t');
    report.checkpoint_ratio_int8_vs_f32 = r('knn_int8_checkpoint_mb', 'knn_f32_checkpoint_mb');
    if (o.f32) {
      report.macro_f1_change_infer = +((report.knn_int8_macro_f1_infer as number) - (report.knn_f32_macro_f1_infer as number)).toFixed(4);
      if (report.knn_f32_macro_f1_score !== undefined) report.macro_f1_change_score = +((report.knn_int8_macro_f1_score as number) - (report.knn_f32_macro_f1_score as number)).toFixed(4);
    }
    report.process_cpu_share = +(cpuSince(cpu0) / ((performance.now() - wall0) / 1000)).toFixed(2); // CPU seconds per wall second over the run
    console.log(JSON.stringify(report));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

void main();
