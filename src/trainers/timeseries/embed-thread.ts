/**
 * worker_threads entry of embed-pool.ts: holds one encoder (RocketParams + instance-norm flag) and
 * answers each `{id, windows, n}` ([n, C, L] float32, transferred) with the raw MiniRocket features
 * [n, F] (transferred back), computed exactly as transformWindows does on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instanceNormalize } from './encoder.js';
import { getKernels, type RocketParams } from './numeric.js';

export type ToEmbedThread = { id: number; windows: Float32Array; n: number };
export type FromEmbedThread = { id: number; features: Float32Array } | { id: number; error: string } | { ready: true };

const { rocket, instanceNorm } = workerData as { rocket: RocketParams; instanceNorm: boolean };
const port = parentPort!;
port.on('message', (m: ToEmbedThread) => {
  try {
    if (instanceNorm) instanceNormalize(m.windows, m.n, rocket.nChannels, rocket.windowLen);
    const f = getKernels().rocketTransform(rocket, m.windows, m.n);
    const features = f.buffer instanceof ArrayBuffer && f.byteOffset === 0 && f.byteLength === f.buffer.byteLength ? f : f.slice();
    port.postMessage({ id: m.id, features } satisfies FromEmbedThread, [features.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: m.id, error: (err as Error).message } satisfies FromEmbedThread);
  }
});
port.postMessage({ ready: true } satisfies FromEmbedThread);
