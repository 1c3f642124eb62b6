/**
 * The text-sft trainer's data, in bounded memory whatever the dataset size:
 * 1. spillDatasets: one streaming pass over the job's files (dataset.ts: the checks validate() ran
 *    at create, stopping at the first problem) that writes each valid example's model text and label
 *    to a spill file in work_dir (spill.ts), one per split, and learns n and the classes.
 * 2. buildTrainData: picks the evaluation examples and featurises them (the only examples kept in
 *    memory: at most EVAL_MAX_EXAMPLES and EVAL_MAX_NNZ non-zeros), and returns the TrainStream
 *    that serves training batches from the spill (stream.ts).
 * Evaluation set: the eval split when there is one (a seeded sample of EVAL_MAX_EXAMPLES when it is
 * larger). Without one: below MIN_HOLDOUT_N train examples the train set itself; up to
 * EXACT_HOLDOUT_MAX a seeded floor(n/10) held out of training (a permutation of n); above it each
 * train example is held out with probability EVAL_MAX_EXAMPLES / n, by a seeded hash of its index
 * (no per-example memory).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidDatasetError } from '../builtin.js';
import type { TrainerSpec } from '../protocol.js';
import { scanDatasets } from './dataset.js';
import { featurize } from './features.js';
import type { EvalExample } from './model.js';
import { mixSeed, permutation } from './prng.js';
import { forEachRecord, readRecords, SpillWriter, type BlockIndex } from './spill.js';
import { TrainStream } from './stream.js';

/** Eval examples kept (featurised) in memory: 5,000 give accuracy to ±0.7% (95%) and cost ~20 MB. */
export const EVAL_MAX_EXAMPLES = 5000;
/** ...and at most this many non-zeros among them (8 bytes each: 32 MB), whatever their length. */
export const EVAL_MAX_NNZ = 4_000_000;
/** Below this many train examples (and no eval split) evaluation uses the train set itself. */
export const MIN_HOLDOUT_N = 10;
/** Up to here floor(n/10) <= EVAL_MAX_EXAMPLES are held out exactly (a Uint8Array of n marks them). */
export const EXACT_HOLDOUT_MAX = 10 * EVAL_MAX_EXAMPLES;

export type EvalSource = 'eval_split' | 'holdout_10pct' | 'train';

export interface Spilled {
  /** Sorted distinct train outputs: the classes. */
  labels: string[];
  train: { path: string; index: BlockIndex; count: number };
  eval: { path: string; index: BlockIndex; count: number };
  remove(): void;
}

export async function spillDatasets(spec: TrainerSpec): Promise<Spilled> {
  const trainPath = join(spec.work_dir, 'text-sft-train.spill');
  const evalPath = join(spec.work_dir, 'text-sft-eval.spill');
  const remove = () => {
    for (const p of [trainPath, evalPath]) if (existsSync(p)) rmSync(p, { force: true });
  };
  const tw = new SpillWriter(trainPath);
  const ew = new SpillWriter(evalPath);
  let scan;
  try {
    scan = await scanDatasets(spec.datasets, 1, (split, ex) => (split === 'eval' ? ew : tw).add(ex.text, ex.label));
  } catch (err) {
    tw.close();
    ew.close();
    remove();
    throw err;
  }
  const trainIndex = tw.close();
  const evalIndex = ew.close();
  if (scan.problems.length > 0) {
    remove();
    throw new InvalidDatasetError(scan.problems[0]!);
  }
  return {
    labels: [...scan.labels].sort(),
    train: { path: trainPath, index: trainIndex, count: tw.count },
    eval: { path: evalPath, index: evalIndex, count: ew.count },
    remove,
  };
}

export interface TrainData {
  stream: TrainStream;
  evalSet: EvalExample[];
  evalSource: EvalSource;
  /** Eval examples sampled but left out by the EVAL_MAX_NNZ budget (0 almost always). */
  evalDropped: number;
}

export function buildTrainData(s: Spilled, dim: number, seed: number): TrainData {
  const classOf = new Map(s.labels.map((l, i) => [l, i]));
  const n = s.train.count;
  const evalSet: EvalExample[] = [];
  let nnz = 0;
  let dropped = 0;
  const keep = (text: string, label: string): void => {
    const x = featurize(text, dim);
    if (nnz + x.idx.length > EVAL_MAX_NNZ && evalSet.length > 0) return void dropped++;
    nnz += x.idx.length;
    evalSet.push({ x, y: classOf.get(label) ?? -1 });
  };
  let evalSource: EvalSource;
  let held: (i: number) => boolean = () => false;
  if (s.eval.count > 0) {
    evalSource = 'eval_split';
    const sample = sampler(s.eval.count, mixSeed(seed, 8));
    forEachRecord(s.eval.path, s.eval.index, (r, i) => sample(i) && keep(r.text, r.label));
  } else if (n < MIN_HOLDOUT_N) {
    evalSource = 'train';
    forEachRecord(s.train.path, s.train.index, (r) => keep(r.text, r.label));
  } else {
    evalSource = 'holdout_10pct';
    if (n <= EXACT_HOLDOUT_MAX) {
      const marks = new Uint8Array(n);
      for (const i of permutation(n, mixSeed(seed, 7)).subarray(0, Math.floor(n / 10))) marks[i] = 1;
      held = (i) => marks[i] === 1;
    } else held = sampler(n, mixSeed(seed, 7));
    readHeld(s.train.path, s.train.index, held, keep);
  }
  const ix = s.train.index;
  const trainPerBlock = new Uint32Array(ix.offsets.length - 1);
  for (let b = 0; b < trainPerBlock.length; b++) {
    let c = 0;
    for (let i = ix.firstRecord[b]!; i < ix.firstRecord[b + 1]!; i++) if (!held(i)) c++;
    trainPerBlock[b] = c;
  }
  const stream = new TrainStream({ path: s.train.path, index: ix, trainPerBlock, held, classOf, dim, seed });
  return { stream, evalSet, evalSource, evalDropped: dropped };
}

/** All records of n when n <= EVAL_MAX_EXAMPLES, else each with probability EVAL_MAX_EXAMPLES / n. */
function sampler(n: number, salt: number): (i: number) => boolean {
  if (n <= EVAL_MAX_EXAMPLES) return () => true;
  const threshold = Math.floor((EVAL_MAX_EXAMPLES / n) * 2 ** 32);
  return (i) => mixSeed(salt, i) < threshold;
}

/** Reads only the blocks that hold a held-out record, in order. */
function readHeld(path: string, ix: BlockIndex, held: (i: number) => boolean, keep: (text: string, label: string) => void): void {
  for (let b = 0; b + 1 < ix.offsets.length; b++) {
    const first = ix.firstRecord[b]!;
    let any = false;
    for (let i = first; i < ix.firstRecord[b + 1]! && !any; i++) any = held(i);
    if (any) readRecords(path, ix.offsets[b]!, ix.offsets[b + 1]!, (r, k) => held(first + k) && keep(r.text, r.label));
  }
}
