/**
 * Entry point of a built-in trainer child process: speaks the trainer protocol (protocol.ts) on
 * stdio and runs the trainer named in the start spec. Usage: node dist/src/trainers/main.js
 */
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { InvalidConfigError, InvalidDatasetError, type TrainContext } from './builtin.js';
import {
  EXIT_INVALID_CONFIG,
  EXIT_INVALID_DATASET,
  EXIT_OK,
  PROTOCOL_VERSION,
  type TrainerMessage,
  type TrainerSpec,
  type WorkerToTrainer,
} from './protocol.js';
import { loadBuiltinTrainer } from './registry.js';

function emit(msg: TrainerMessage): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  let stop = false;
  let resolveSpec!: (s: TrainerSpec) => void;
  const specPromise = new Promise<TrainerSpec>((r) => (resolveSpec = r));
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let msg: WorkerToTrainer;
    try {
      msg = JSON.parse(line) as WorkerToTrainer;
    } catch {
      return;
    }
    if (msg.type === 'start') resolveSpec(msg.spec);
    else if (msg.type === 'stop') stop = true;
  });
  // The worker is gone (crashed, killed -9): never keep training as an orphan.
  lines.on('close', () => process.exit(EXIT_INVALID_CONFIG + 10));

  const spec = await specPromise;
  const trainer = await loadBuiltinTrainer(spec.trainer);
  emit({ type: 'hello', protocol: PROTOCOL_VERSION, trainer: trainer.name });
  const ctx: TrainContext = {
    spec,
    emit,
    stopRequested: () => stop,
    async writeCheckpoint(step, bytes, metrics, name, meta) {
      const file = `ckpt-${String(step).padStart(8, '0')}.bin`;
      const tmp = join(spec.work_dir, `.${file}.tmp`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(spec.work_dir, file));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      emit({ type: 'checkpoint', step, path: file, sha256, size: bytes.length, metrics, name: name ?? `step_${step}`, meta });
    },
  };
  try {
    const result = await trainer.train(ctx);
    emit({ type: 'done', reason: result.reason, step: result.step, metrics: result.metrics });
    await new Promise<void>((r) => process.stdout.write('', () => r()));
    process.exit(EXIT_OK);
  } catch (err) {
    if (err instanceof InvalidDatasetError) {
      emit({ type: 'error', code: 'invalid_dataset', message: err.message });
      process.exitCode = EXIT_INVALID_DATASET;
    } else if (err instanceof InvalidConfigError) {
      emit({ type: 'error', code: 'invalid_config', message: err.message });
      process.exitCode = EXIT_INVALID_CONFIG;
    } else {
      emit({ type: 'error', code: 'trainer_error', message: (err as Error).message ?? String(err) });
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    }
    await new Promise<void>((r) => process.stdout.write('', () => r()));
    process.exit();
  }
}

void main();
