/**
 * worker_threads entry of the batch pool (pool.ts): loads the classifier once (checkpoint path or
 * serialized model), then answers each `{id, windows, n}` with the class probabilities of those
 * windows (predictProba, the same code as the main thread: identical floats). Buffers are
 * transferred both ways, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deserializeModel, loadModel, type TsModel } from '../timeseries/model.js';
import { inlinePredictor } from './classify.js';
import type { ModelSource } from './thread.js';

export type ToPoolThread = { id: number; windows: Float32Array; n: number };
export type FromPoolThread = { id: number; probs: Float32Array } | { id: number; error: string } | { ready: true };

async function main(): Promise<void> {
  const src = (workerData as { model: ModelSource }).model;
  const model: TsModel = src.kind === 'path'
    ? await loadModel(src.path)
    : deserializeModel(Buffer.from(src.bytes.buffer, src.bytes.byteOffset, src.bytes.byteLength));
  const predict = inlinePredictor(model);
  const port = parentPort!;
  // One request at a time per thread (the pool never sends a second before the answer), so in order.
  port.on('message', (m: ToPoolThread) => {
    predict.proba(m.windows, m.n)
      .then((p) => {
        // Transfer only a plain buffer that is exactly this array (never a wasm memory view).
        const probs = p.buffer instanceof ArrayBuffer && p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : p.slice();
        port.postMessage({ id: m.id, probs } satisfies FromPoolThread, [probs.buffer as ArrayBuffer]);
      })
      .catch((err: Error) => port.postMessage({ id: m.id, error: err.message } satisfies FromPoolThread));
  });
  port.postMessage({ ready: true } satisfies FromPoolThread);
}
void main();
