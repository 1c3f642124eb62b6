/**
 * What an in-tree trainer implements. The same module serves three places:
 *  - `train` runs inside the trainer child process (src/trainers/main.ts speaks the protocol for it);
 *  - `validate` runs in the server at job create (cheap checks, clear `invalid_dataset` messages);
 *  - `predict` runs in the server for POST /v0.5/fine-tune/jobs/{id}/predict.
 */
import type { DatasetInput, DatasetProblem, PredictRequest } from '../domain/dataset.js';
import type { TrainerMessage, TrainerSpec } from './protocol.js';

export interface TrainContext {
  spec: TrainerSpec;
  /** Send one protocol message to the worker. */
  emit(msg: TrainerMessage): void;
  /** True once the worker asked for a graceful stop: start no new step, finish the evaluation in progress. */
  stopRequested(): boolean;
  /** Writes a checkpoint file atomically into work_dir and emits the `checkpoint` message for it. */
  writeCheckpoint(step: number, bytes: Buffer, metrics: Record<string, number>, name?: string, meta?: Record<string, unknown>): Promise<void>;
}

export type { DatasetProblem };
export type ValidationInput = DatasetInput;
export type PredictInput = PredictRequest;

export interface Prediction {
  prediction: string;
  probabilities: Record<string, number>;
  [extra: string]: unknown;
}

export interface BuiltinTrainer {
  name: string;
  validate(input: ValidationInput): Promise<DatasetProblem[]>;
  train(ctx: TrainContext): Promise<{ reason: 'completed' | 'stopped'; step: number; metrics?: Record<string, number> }>;
  predict(checkpointPath: string, input: PredictInput): Promise<Prediction[]>;
}

/** Thrown by validate/train for data the trainer cannot use (exit code 2, job FAILED invalid_dataset). */
export class InvalidDatasetError extends Error {
  constructor(readonly problem: DatasetProblem) {
    super(`${problem.file_id}${problem.line !== undefined ? ` line ${problem.line}` : ''}${problem.column ? ` column ${problem.column}` : ''}: ${problem.message}`);
  }
}

/** Thrown for a configuration the trainer cannot honour (exit code 3, job FAILED invalid_config). */
export class InvalidConfigError extends Error {}
