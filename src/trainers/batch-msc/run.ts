/**
 * The batch-msc run (what `train` means for a batch pipeline): build the classifier, then classify
 * every input file not already committed by an earlier attempt, and report each finished CSV with an
 * `output` message (the worker verifies and commits it). Progress: `progress` (step = windows
 * classified, total = windows of all inputs, counted up front) and `metrics` entries carrying
 * `input_index`, which the batch API lists as progress entries: the first batch of each file, then
 * at most one per 250 ms per file, and one when the file is done.
 * parallelism > 1: that many input files at once on worker_threads (capped by the CPU count and the
 * number of files; each thread loads its own copy of the classifier); 1 (the default): one file at a
 * time, its batches of windows spread over a pool of one thread per core (pool.ts; the main thread
 * reads and windows the CSV), or on the main thread alone on a one-core machine. Outputs and
 * progress are the same either way (batches are written in order).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InvalidDatasetError, type TrainContext } from '../builtin.js';
import { serializeModel } from '../timeseries/model.js';
import { tick } from '../timeseries/prepare.js';
import { windowCount } from '../timeseries/windows.js';
import { checkpointClassifier, fewShotClassifier, type Classifier } from './classifier.js';
import { classifyFile, type ClassifyResult, type ClassifyTask } from './classify.js';
import { countCsvRows } from './header.js';
import { ThreadPool } from './pool.js';
import { settingsOrThrow, type BatchSettings } from './settings.js';
import type { FromThread, ModelSource, ThreadData } from './thread.js';

const ENTRY_EVERY_MS = 250;
/** Threads of the per-file pool: the cores, at most 8 (each holds a copy of the model). */
const MAX_POOL_THREADS = 8;
type Task = ClassifyTask & { index: number; filename: string; estimate: number };

export async function runBatch(ctx: TrainContext): Promise<{ reason: 'completed' | 'stopped'; step: number; metrics?: Record<string, number> }> {
  const s = settingsOrThrow(ctx.spec.config);
  const files = ctx.spec.datasets.filter((d) => d.split === 'eval').flatMap((d) => d.files);
  const nShots = ctx.spec.datasets.filter((d) => d.split === 'train').flatMap((d) => d.files);
  const log = (message: string, level: 'info' | 'warn' = 'info'): void => ctx.emit({ type: 'log', level, message });
  const ckpt = ctx.spec.resources?.checkpoint;
  ctx.emit({ type: 'progress', step: 0, total_steps: 1, epoch: 0, phase: ckpt ? 'loading_checkpoint' : 'fitting_few_shot' });
  const clf: Classifier = ckpt
    ? await checkpointClassifier(ckpt.path, s)
    : await fewShotClassifier(nShots, s, async () => (await tick(), ctx.stopRequested()));
  for (const n of clf.notes) log(n, n.includes('differs') ? 'warn' : 'info');
  const done = new Set((ctx.spec.resources?.committed_outputs ?? []).map((o) => o.input_file_id));
  if (done.size > 0) log(`resuming: ${done.size} of ${files.length} outputs were committed by an earlier attempt; their inputs are skipped`);
  const L = clf.model.reader.windowSize;
  const tasks: Task[] = [];
  for (const [index, f] of files.entries()) {
    if (done.has(f.file_id)) continue;
    const filename = s.outputs.get(f.file_id) ?? `output_${index}.csv`;
    tasks.push({ index, file_id: f.file_id, path: f.path, filename, outPath: join(ctx.spec.work_dir, filename), estimate: windowCount(await countCsvRows(f.path), L, clf.step) });
  }
  const threads = Math.min(s.parallelism, tasks.length, availableParallelism());
  const poolSize = threads > 1 || tasks.length === 0 ? 1 : Math.min(MAX_POOL_THREADS, availableParallelism());
  log(`batch-msc pid ${process.pid}: ${tasks.length} input files to classify, window ${L}, step ${clf.step}, batch ${s.batchSize}, parallelism ${s.parallelism} (${threads > 1 ? `${threads} threads` : poolSize > 1 ? `one file at a time over ${poolSize} threads` : 'main thread'})`);
  const tracker = new Tracker(ctx, tasks);
  const finish = (t: Task, r: ClassifyResult): void => {
    tracker.fileDone(t.index, r.windows);
    ctx.emit({ type: 'output', filename: t.filename, path: t.filename, size: r.size, sha256: r.sha256, input_file_id: t.file_id });
  };
  const stopped = threads > 1
    ? await runThreaded(threads, clf, s, tasks, tracker, finish, () => ctx.stopRequested())
    : await runPooled(poolSize, clf, s, tasks, tracker, finish, () => ctx.stopRequested());
  return { reason: stopped ? 'stopped' : 'completed', step: tracker.done, metrics: { windows: tracker.done, windows_per_second: tracker.rate() } };
}

async function runPooled(poolSize: number, clf: Classifier, s: BatchSettings, tasks: Task[], tracker: Tracker, finish: (t: Task, r: ClassifyResult) => void, stop: () => boolean): Promise<boolean> {
  const pool = poolSize > 1 ? new ThreadPool(modelSource(clf), poolSize) : undefined;
  try {
    for (const t of tasks) {
      await tick(); // lets the stdin reader deliver a `stop` between files
      if (stop()) return true;
      finish(t, await classifyFile(clf.model, clf.step, s.batchSize, t, (d, n) => tracker.batch(t.index, d, n), pool));
    }
    return false;
  } finally {
    await pool?.close();
  }
}

/** A checkpoint is re-read by each thread (cheaper than copying the decoded tensors); a few-shot model is sent serialized. */
function modelSource(clf: Classifier): ModelSource {
  return clf.path ? { kind: 'path', path: clf.path } : { kind: 'bytes', bytes: serializeModel(clf.model) };
}

async function runThreaded(n: number, clf: Classifier, s: BatchSettings, tasks: Task[], tracker: Tracker, finish: (t: Task, r: ClassifyResult) => void, stop: () => boolean): Promise<boolean> {
  const data: ThreadData = { model: modelSource(clf), step: clf.step, batchSize: s.batchSize };
  const queue = [...tasks];
  let stopped = false;
  const workers = Array.from({ length: n }, () => new Worker(new URL('./thread.js', import.meta.url), { workerData: data }));
  const drive = (w: Worker): Promise<void> => new Promise<void>((resolve, reject) => {
    let current: Task | undefined;
    const next = (): void => {
      if (stop()) stopped = true;
      current = stopped ? undefined : queue.shift();
      if (!current) return resolve();
      const { index, file_id, path, outPath } = current;
      w.postMessage({ type: 'task', index, task: { file_id, path, outPath } });
    };
    w.on('message', (m: FromThread) => {
      if (m.type === 'batch') tracker.batch(m.index, m.done, m.total);
      else if (m.type === 'done') (finish(current!, m), next());
      else reject(m.problem ? new InvalidDatasetError(m.problem) : new Error(m.message));
    });
    w.once('error', reject);
    w.once('exit', (code) => (current ? reject(new Error(`classification thread exited with code ${code}`)) : resolve()));
    next();
  });
  try {
    await Promise.all(workers.map(drive));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return stopped;
}

/** Window counts across files (threads report out of order; the totals only grow). */
class Tracker {
  done = 0;
  private total: number;
  private readonly perFile = new Map<number, { done: number; total: number; lastEntry: number }>();
  private readonly t0 = performance.now();

  constructor(private readonly ctx: TrainContext, tasks: Task[]) {
    this.total = tasks.reduce((a, t) => a + t.estimate, 0);
    for (const t of tasks) this.perFile.set(t.index, { done: 0, total: t.estimate, lastEntry: -Infinity });
  }

  rate(): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0 ? Math.round(this.done / s) : 0;
  }

  batch(index: number, fileDone: number, fileTotal: number): void {
    const f = this.perFile.get(index)!;
    this.total += fileTotal - f.total; // the estimate becomes the real count at the first batch
    f.total = fileTotal;
    this.done += fileDone - f.done;
    f.done = fileDone;
    this.total = Math.max(this.total, this.done);
    this.ctx.emit({ type: 'progress', step: this.done, total_steps: this.total, epoch: 0, phase: 'classifying' });
    const now = performance.now();
    if (now - f.lastEntry >= ENTRY_EVERY_MS) {
      f.lastEntry = now;
      this.entry(index, 0);
    }
  }

  fileDone(index: number, windows: number): void {
    if (windows === 0) this.batch(index, 0, 0);
    this.entry(index, 1);
  }

  private entry(index: number, completed: number): void {
    const f = this.perFile.get(index)!;
    this.ctx.emit({ type: 'metrics', step: this.done, values: {
      input_index: index, input_windows_done: f.done, input_windows_total: f.total, windows_done: this.done,
      windows_total: this.total, input_completed: completed, windows_per_second: this.rate(),
    } });
  }
}
