/**
 * A pool of classification threads for one model: the Predictor of classifyFile when a file's
 * batches are spread over the machine's cores (run.ts). Each thread holds its own copy of the model
 * (a 39k-window int8 knn is 40 MB; a head 8 MB) and its own wasm kernels; a batch goes to an idle
 * thread, at most one per thread at a time; `depth` = threads + 1 batches are in flight (one queued)
 * while the main thread reads and windows the CSV. Outputs are identical to the main thread's: the same predictProba
 * runs on the same floats, and classifyFile writes the batches in order.
 */
import { Worker } from 'node:worker_threads';
import type { Predictor } from './classify.js';
import type { FromPoolThread, ToPoolThread } from './pool-thread.js';
import type { ModelSource } from './thread.js';

interface Job { id: number; windows: Float32Array; n: number; resolve: (p: Float32Array) => void; reject: (e: Error) => void }

export class ThreadPool implements Predictor {
  readonly depth: number;
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private failed: Error | null = null;
  private readonly workers: Worker[];
  readonly ready: Promise<void>;

  constructor(model: ModelSource, threads: number) {
    // One batch more than threads: one waits queued while the main thread parses and writes, so no thread idles.
    this.depth = threads + 1;
    this.workers = Array.from({ length: threads }, () => new Worker(new URL('./pool-thread.js', import.meta.url), { workerData: { model } }));
    this.ready = Promise.all(this.workers.map((w) => new Promise<void>((resolve, reject) => {
      w.on('message', (m: FromPoolThread) => {
        if ('ready' in m) {
          this.idle.push(w);
          this.pump();
          return resolve();
        }
        const job = this.running.get(w)!;
        this.running.delete(w);
        this.idle.push(w);
        if ('error' in m) job.reject(new Error(m.error));
        else job.resolve(m.probs);
        this.pump();
      });
      w.once('error', (err) => (this.fail(err), reject(err)));
      w.once('exit', (code) => this.fail(new Error(`classification thread exited with code ${code}`)));
    }))).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  proba(windows: Float32Array, n: number): Promise<Float32Array> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, windows, n, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('thread pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.shift()!, job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage({ id: job.id, windows: job.windows, n: job.n } satisfies ToPoolThread, [job.windows.buffer as ArrayBuffer]);
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const job of [...this.queue, ...this.running.values()]) job.reject(err);
    this.queue.length = 0;
    this.running.clear();
  }
}
