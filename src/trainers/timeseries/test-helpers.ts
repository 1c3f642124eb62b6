/**
 * Test support (not a test file): generated synthetic multichannel series written as CSV, specs
 * and a recording TrainContext whose stop flag can flip when a chosen message is emitted.
 * Class k is a sinusoid of period 8·(k+1) on channel 0 and its quarter-phase copy on channel 1,
 * plus noise and a random per-file level offset (which instance normalisation must ignore).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainContext } from '../builtin.js';
import type { TrainerMessage, TrainerSpec } from '../protocol.js';
import { Rng } from './rng.js';

export const CHANNELS = ['a', 'b', 'c'];

export function syntheticCsv(classId: number, rows: number, seed: number, opts: { missing?: boolean } = {}): string {
  const rng = new Rng(seed, 999);
  const period = 8 * (classId + 1);
  const level = rng.normal() * 3;
  const lines = ['timestamp,' + CHANNELS.join(',')];
  for (let t = 0; t < rows; t++) {
    const ph = (2 * Math.PI * t) / period;
    const vals = [Math.sin(ph) + level, Math.cos(ph) - level, rng.normal()].map((v) => (v + 0.3 * rng.normal()).toFixed(4));
    if (opts.missing && t % 17 === 5) vals[1] = '';
    lines.push(`2020-01-01 00:${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')},${vals.join(',')}`);
  }
  return lines.join('\n') + '\n';
}

export interface SynthFiles {
  dir: string;
  train: Array<{ file_id: string; path: string; label: string }>;
  val: Array<{ file_id: string; path: string; label: string }>;
}

export async function writeSynthetic(nClasses = 2, rows = 300, filesPerClass = 2): Promise<SynthFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'ftnode-ts-'));
  const files: SynthFiles = { dir, train: [], val: [] };
  for (let k = 0; k < nClasses; k++) {
    for (let f = 0; f <= filesPerClass; f++) {
      const split = f < filesPerClass ? 'train' : 'val';
      const file_id = `class${k}_${split}_${f}.csv`;
      const path = join(dir, file_id);
      await writeFile(path, syntheticCsv(k, rows, k * 100 + f));
      files[split].push({ file_id, path, label: `class${k}` });
    }
  }
  return files;
}

export function makeSpec(files: SynthFiles, method: 'head' | 'knn', hp: Record<string, unknown> = {}, seed = 7): TrainerSpec {
  return {
    protocol: 1, job_id: 'ftj-test', attempt: 1, model: 'omega', trainer: 'timeseries', seed, work_dir: files.dir, resume: null,
    config: {
      name: 'test', seed, model: 'omega',
      method: { type: method, [method]: { hyperparameters: { num_features: 840, ...hp }, reader: { window_size: 32, step_size: 4 } } },
    },
    datasets: [
      { name: 'training_files', split: 'train', files: files.train },
      { name: 'validation_files', split: 'eval', files: files.val },
    ],
  };
}

export interface Recorded {
  ctx: TrainContext;
  messages: TrainerMessage[];
  checkpoints: Array<{ step: number; bytes: Buffer; metrics: Record<string, number>; name?: string }>;
  requestStop(): void;
}

/** A TrainContext that records everything; `stopWhen` flips stopRequested when it returns true. */
export function recordingCtx(spec: TrainerSpec, stopWhen?: (m: TrainerMessage, all: TrainerMessage[]) => boolean): Recorded {
  let stop = false;
  const rec: Recorded = {
    messages: [],
    checkpoints: [],
    requestStop: () => (stop = true),
    ctx: {
      spec,
      emit(msg) {
        rec.messages.push(msg);
        if (stopWhen?.(msg, rec.messages)) stop = true;
      },
      stopRequested: () => stop,
      async writeCheckpoint(step, bytes, metrics, name) {
        rec.checkpoints.push({ step, bytes, metrics, name });
        rec.ctx.emit({ type: 'checkpoint', step, path: `ckpt-${step}.bin`, sha256: '', size: bytes.length, metrics, name });
      },
    },
  };
  return rec;
}
