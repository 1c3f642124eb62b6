/**
 * worker_threads entry of the batch-msc trainer (parallelism > 1): loads the classifier once
 * (from the checkpoint path, or from the serialized few-shot model the main thread built), then
 * classifies one input file per `task` message and reports `batch`, `done` or `error`. Only the
 * main thread speaks the trainer protocol; a cancel (SIGKILL of the process) ends the threads too.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidDatasetError } from '../builtin.js';
import { deserializeModel, loadModel, type TsModel } from '../timeseries/model.js';
import { classifyFile, type ClassifyTask } from './classify.js';

export type ModelSource = { kind: 'path'; path: string } | { kind: 'bytes'; bytes: Uint8Array };
export interface ThreadData {
  model: ModelSource;
  step: number;
  batchSize: number;
}
export type ToThread = { type: 'task'; index: number; task: ClassifyTask };
export type FromThread =
  | { type: 'batch'; index: number; done: number; total: number }
  | { type: 'done'; index: number; windows: number; size: number; sha256: string }
  | { type: 'error'; index: number; message: string; problem?: InvalidDatasetError['problem'] };

async function main(): Promise<void> {
  const data = workerData as ThreadData;
  const model: TsModel = data.model.kind === 'path'
    ? await loadModel(data.model.path)
    : deserializeModel(Buffer.from(data.model.bytes.buffer, data.model.bytes.byteOffset, data.model.bytes.byteLength));
  const port = parentPort!;
  const post = (m: FromThread): void => port.postMessage(m);
  port.on('message', (m: ToThread) => {
    void classifyFile(model, data.step, data.batchSize, m.task, (done, total) => post({ type: 'batch', index: m.index, done, total }))
      .then((r) => post({ type: 'done', index: m.index, ...r }))
      .catch((err: Error) => post({ type: 'error', index: m.index, message: err.message, ...(err instanceof InvalidDatasetError ? { problem: err.problem } : {}) }));
  });
}

void main();
