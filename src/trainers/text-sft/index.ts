/**
 * The built-in text SFT trainer (`text-sft`): a label-style stand-in for Newton fine-tuning.
 * It learns to pick, for a Newton SFT example's instruction + inputs, one of the distinct output
 * texts seen in training (softmax regression over hashed n-grams; docs/trainers/text-sft.md).
 * This file wires the three entry points of BuiltinTrainer: validate (server, job create),
 * train (child process), predict (server, /predict).
 */
import { readFile, stat } from 'node:fs/promises';
import { InvalidDatasetError, type BuiltinTrainer, type Prediction, type PredictInput, type ValidationInput } from '../builtin.js';
import { decodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { MAX_PROBLEMS, scanDatasets } from './dataset.js';
import { checkExample } from './examples.js';
import { featurize } from './features.js';
import { trainTextSft } from './train.js';

/** predict returns the probabilities of the 5 most likely labels only (all of them when k <= 5). */
export const PREDICT_TOP_N = 5;
/** Decoded checkpoints kept for repeated /predict calls (a k = 4 model is 3 x 4 MiB dense in memory). */
const CACHE_SIZE = 4;
const cache = new Map<string, { key: string; ckpt: Checkpoint }>();

async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const st = await stat(path);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(path);
  if (hit && hit.key === key) return hit.ckpt;
  const ckpt = decodeCheckpoint(await readFile(path));
  cache.delete(path);
  cache.set(path, { key, ckpt });
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return ckpt;
}

/** Streams every file (dataset.ts): memory does not grow with the dataset, however large. */
async function validate(input: ValidationInput) {
  const datasets = input.datasets.map((d) => ({ name: d.name, split: d.split, files: d.files.map((f) => ({ file_id: f.file_id, path: f.path })) }));
  return (await scanDatasets(datasets, MAX_PROBLEMS)).problems;
}

/**
 * Examples come in the dataset's own shape (outputs optional and ignored); a bare string is taken
 * as the input text for convenience. Problems name the 1-based example number as `line`.
 */
async function predict(checkpointPath: string, input: PredictInput): Promise<Prediction[]> {
  const examples = input.examples;
  if (!Array.isArray(examples) || examples.length === 0) {
    throw new InvalidDatasetError({ file_id: 'request', message: '`examples` must be a non-empty list of SFT examples' });
  }
  const texts = examples.map((ex, i) => {
    if (typeof ex === 'string') return ex;
    const { example, problems } = checkExample(ex, false);
    if (!example) throw new InvalidDatasetError({ file_id: 'request', line: i + 1, message: `example ${i + 1}: ${problems[0].message}` });
    return example.text;
  });
  const { model } = await loadCheckpoint(checkpointPath);
  return texts.map((text) => {
    const top = model.topLabels(featurize(text, model.dim), PREDICT_TOP_N);
    return { prediction: top[0][0], probabilities: Object.fromEntries(top) };
  });
}

export const textSftTrainer: BuiltinTrainer = {
  name: 'text-sft',
  validate,
  train: trainTextSft,
  predict,
};

export { trainTextSft } from './train.js';
export { chooseHyperparameters } from './hyperparameters.js';
export { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
