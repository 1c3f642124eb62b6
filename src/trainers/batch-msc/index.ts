/**
 * The built-in batch pipeline `machine-state-classification` (trainer name `batch-msc`; docs/batch.md):
 * classifies CSV files window by window with a fine-tuned time-series checkpoint or a few-shot knn
 * built from labeled n_shots files, writing one CSV per input. It speaks the trainer protocol like the
 * training trainers, plus `output` messages for its result files.
 */
import type { BuiltinTrainer } from '../builtin.js';
import { runBatch } from './run.js';
import { validateBatch } from './validate.js';

export const batchMscTrainer: BuiltinTrainer = {
  name: 'batch-msc',
  validate: validateBatch,
  train: runBatch,
  async predict() {
    throw new Error('a batch pipeline has no checkpoints to predict from; its results are its output files');
  },
};
