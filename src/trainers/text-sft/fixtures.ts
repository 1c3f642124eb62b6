/**
 * Test helpers for the text-sft trainer tests (not a test file itself): example builders, temp
 * dirs, a start spec, and a fake TrainContext that records every message and writes checkpoints
 * the way src/trainers/main.ts does.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainContext } from '../builtin.js';
import type { TrainerMessage, TrainerSpec } from '../protocol.js';

/** Repository root, from dist/src/trainers/text-sft/ (compiled) — four levels up. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const EXAMPLE_TRAIN = join(REPO_ROOT, 'examples/datasets/sensor-sft-train.jsonl');
export const EXAMPLE_EVAL = join(REPO_ROOT, 'examples/datasets/sensor-sft-eval.jsonl');
export const TRAINER_MAIN = join(REPO_ROOT, 'dist/src/trainers/main.js');

export function tempDir(prefix = 'text-sft-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sftExample(input: string, output?: string, instruction?: string): Record<string, unknown> {
  const ex: Record<string, unknown> = { inputs: [{ type: 'data.text', event_data: { contents: input } }] };
  if (instruction !== undefined) ex.lens_parameters = { instruction };
  if (output !== undefined) ex.outputs = [{ type: 'data.text', event_data: { contents: output } }];
  return ex;
}

/** A small learnable dataset: the label is the colour word in the text (n examples, 3 classes). */
export function colourExamples(n: number, offset = 0): Array<Record<string, unknown>> {
  const colours = ['red', 'green', 'blue'];
  return Array.from({ length: n }, (_, i) => {
    const c = colours[(i + offset) % 3];
    return sftExample(`reading ${i + offset}: the lamp at desk ${(i * 7 + offset) % 13} shows ${c} light`, c.toUpperCase());
  });
}

export function writeJsonl(dir: string, name: string, examples: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return path;
}

export function makeSpec(workDir: string, train: string[], evalFiles: string[] = [], over: Partial<TrainerSpec> = {}): TrainerSpec {
  const files = (paths: string[]) => paths.map((p) => ({ file_id: p.split('/').pop()!, path: p }));
  const datasets: TrainerSpec['datasets'] = [{ name: 'train-set', split: 'train', files: files(train) }];
  if (evalFiles.length > 0) datasets.push({ name: 'eval-set', split: 'eval', files: files(evalFiles) });
  return {
    protocol: 1,
    job_id: 'ftj-test',
    attempt: 1,
    model: 'Newton::c2_4_7b_251215a172f6d7',
    trainer: 'text-sft',
    config: {},
    datasets,
    work_dir: workDir,
    resume: null,
    seed: 42,
    ...over,
  };
}

export interface FakeContext extends TrainContext {
  messages: TrainerMessage[];
  /** Checkpoints written: step, absolute path, bytes. */
  checkpoints: Array<{ step: number; path: string; bytes: Buffer; metrics: Record<string, number>; name?: string }>;
  stop: boolean;
}

/** `onMessage` may flip ctx.stop, e.g. when a given progress step is emitted. */
export function fakeContext(spec: TrainerSpec, onMessage?: (m: TrainerMessage, ctx: FakeContext) => void): FakeContext {
  const ctx: FakeContext = {
    spec,
    messages: [],
    checkpoints: [],
    stop: false,
    emit(m) {
      ctx.messages.push(m);
      onMessage?.(m, ctx);
    },
    stopRequested: () => ctx.stop,
    async writeCheckpoint(step, bytes, metrics, name) {
      const path = join(spec.work_dir, `ckpt-${String(step).padStart(8, '0')}.bin`);
      await writeFile(path, bytes);
      ctx.checkpoints.push({ step, path, bytes, metrics, name });
      ctx.emit({ type: 'checkpoint', step, path, sha256: '', size: bytes.length, metrics, name: name ?? `step_${step}` });
    },
  };
  return ctx;
}

export function ofType<T extends TrainerMessage['type']>(msgs: TrainerMessage[], type: T): Array<Extract<TrainerMessage, { type: T }>> {
  return msgs.filter((m): m is Extract<TrainerMessage, { type: T }> => m.type === type);
}
