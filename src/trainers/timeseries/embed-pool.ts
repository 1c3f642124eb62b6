/**
 * The training embedding pass on every core: transformWindowsOnCores is transformWindows with its
 * batches spread over one worker thread per core (embed-thread.ts) while the main thread copies the
 * next windows out of the series. Each window's features depend only on that window, so the result
 * is the same array, bit for bit, as transformWindows' (tested); the hook is called before each
 * batch with the same arguments, so progress and stop behave as before. Threads pay off from a few
 * batches on (start-up ≈ 50–100 ms: a V8 isolate and the wasm module per thread); below
 * MIN_BATCHES, or on one core, it is transformWindows itself.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ENCODE_BATCH, transformWindows, type BatchHook, type EncoderParams } from './encoder.js';
import type { FromEmbedThread, ToEmbedThread } from './embed-thread.js';
import type { WindowSet } from './windows.js';

const MIN_BATCHES = 8;
/** Threads at most (each holds a wasm instance and one batch: ≈ 10 MB at 9,996 features). */
const MAX_THREADS = 8;

let defaultThreads = Math.min(MAX_THREADS, availableParallelism());

/** Threads used when the caller names none (benchmarks compare 1 with 2 in one process). */
export function setEmbedThreads(n: number): void {
  defaultThreads = Math.max(1, Math.floor(n));
}

export async function transformWindowsOnCores(ws: WindowSet, idx: ArrayLike<number>, enc: EncoderParams, hook?: BatchHook, batch = ENCODE_BATCH, threads = defaultThreads): Promise<Float32Array | null> {
  const n = idx.length;
  if (threads < 2 || n < MIN_BATCHES * batch) return transformWindows(ws, idx, enc, hook, batch);
  const F = enc.rocket.nFeatures;
  const out = new Float32Array(n * F);
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./embed-thread.js', import.meta.url), { workerData: { rocket: enc.rocket, instanceNorm: enc.instanceNorm } }));
  const idle: Worker[] = [];
  const waiting: Array<() => void> = [];
  const inFlight = new Map<number, number>(); // id → first window
  let failure: Error | null = null;
  let settle: (() => void) | null = null;
  const release = (w: Worker): void => (idle.push(w), waiting.shift()?.());
  for (const w of workers) {
    w.on('message', (m: FromEmbedThread) => {
      if ('ready' in m) return release(w);
      if ('error' in m) failure ??= new Error(m.error);
      else out.set(m.features, inFlight.get(m.id)! * F);
      inFlight.delete(m.id);
      release(w);
      if (inFlight.size === 0) settle?.();
    });
    w.once('error', (err) => ((failure ??= err), waiting.splice(0).forEach((f) => f()), settle?.()));
  }
  try {
    for (let from = 0, id = 0; from < n; from += batch, id++) {
      if (hook && (await hook(from, n))) return null;
      const to = Math.min(n, from + batch);
      const windows = ws.fill(idx, from, to, new Float32Array((to - from) * ws.channels * ws.windowLen));
      while (idle.length === 0 && !failure) await new Promise<void>((r) => waiting.push(r));
      if (failure) throw failure;
      inFlight.set(id, from);
      idle.shift()!.postMessage({ id, windows, n: to - from } satisfies ToEmbedThread, [windows.buffer as ArrayBuffer]);
    }
    if (inFlight.size > 0) await new Promise<void>((r) => (settle = r));
    if (failure) throw failure;
    return out;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
