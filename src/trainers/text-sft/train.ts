/**
 * The text-sft training run: load + check datasets, choose hyperparameters, mini-batch FTRL with
 * periodic evaluation, checkpoints, stop and resume. Runs inside the trainer child process
 * (src/trainers/main.ts) or in-process in tests; it talks only through the TrainContext.
 *
 * Schedule: step s (0-based) trains batch s mod steps_per_epoch of epoch floor(s / steps_per_epoch),
 * in the order stream.ts derives from (seed, epoch). So a run resumed at step s replays nothing and skips
 * nothing, and (the checkpoint holding the whole optimizer state) ends with the same weights as an
 * uninterrupted run.
 * Data: streamed (prepare-data.ts): the examples are spilled to work_dir once and read back a window
 * at a time (stream.ts), so memory does not grow with the dataset; batches come from the TrainStream.
 * Evaluation: every eval_interval steps (not at the last step, which the final evaluation covers), on
 * the eval split, or, without one, on a seeded 10% of train held out from training (on train itself
 * below 10 examples, too few to hold any out; at most 5,000 examples either way). Checkpoint rule: a checkpoint whenever eval loss
 * improves on the best so far (loss, not accuracy: with ~150 eval examples accuracy moves in steps
 * of 0.7% and ties a lot, while loss rewards a model that is more confidently right); plus always one
 * after the final evaluation.
 * Stop: checked before every step and before finalizing; once set no step (and no finalizing)
 * starts, and the run returns `stopped`. An evaluation (and its checkpoint) already started runs
 * to its end first.
 */
import { readFile } from 'node:fs/promises';
import { InvalidConfigError, InvalidDatasetError, type TrainContext } from '../builtin.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { hashDimFor, hashingConfig } from './features.js';
import { chooseHyperparameters, ftrlParams, type Hyperparameters } from './hyperparameters.js';
import { SoftmaxModel, type EvalExample } from './model.js';
import { buildTrainData, spillDatasets, type EvalSource, type Spilled } from './prepare-data.js';
import type { TrainStream } from './stream.js';

export { MAX_CLASSES } from './dataset.js';

export type TrainResult = { reason: 'completed' | 'stopped'; step: number; metrics?: Record<string, number> };
type EvalMetrics = { eval_loss: number; eval_accuracy: number };

interface Prepared {
  labels: string[];
  stream: TrainStream;
  evalSet: EvalExample[];
  evalSource: EvalSource;
  hp: Hyperparameters;
  model: SoftmaxModel;
  startStep: number;
  bestEvalLoss: number | null;
}

export async function trainTextSft(ctx: TrainContext): Promise<TrainResult> {
  const spilled = await spillDatasets(ctx.spec);
  try {
    return await run(ctx, await prepare(ctx, spilled));
  } finally {
    spilled.remove();
  }
}

async function run(ctx: TrainContext, p: Prepared): Promise<TrainResult> {
  const { hp, model, stream } = p;
  const seed = ctx.spec.seed >>> 0;
  const header = (step: number, metrics: Record<string, number>) => ({
    trainer: 'text-sft' as const,
    hashing: hashingConfig(model.dim),
    step,
    hyperparameters: hp,
    seed,
    best_eval_loss: p.bestEvalLoss,
    metrics,
  });

  const evaluate = (step: number): EvalMetrics => {
    ctx.emit({ type: 'eval_start', step });
    const r = model.evaluate(p.evalSet);
    // An eval set whose labels training never saw has no loss; accuracy (0) still says so.
    const metrics: EvalMetrics = { eval_loss: Number.isFinite(r.loss) ? r.loss : 1e9, eval_accuracy: r.accuracy };
    ctx.emit({ type: 'eval_end', step, metrics });
    return metrics;
  };

  let step = p.startStep;
  let lossSum = 0;
  let lossSteps = 0;
  let lastLoss = NaN;
  let examplesSeen = 0;
  const t0 = process.hrtime.bigint();
  while (step < hp.total_steps) {
    if (ctx.stopRequested()) return { reason: 'stopped', step };
    const epoch = Math.floor(step / hp.steps_per_epoch);
    const { xs, ys } = stream.batch(epoch, (step % hp.steps_per_epoch) * hp.batch_size, hp.batch_size);
    lossSum += model.trainBatch(xs, ys);
    lossSteps++;
    examplesSeen += xs.length;
    step++;
    ctx.emit({ type: 'progress', step, total_steps: hp.total_steps, epoch: epoch + 1 });
    if (step % hp.metrics_interval === 0 || step === hp.total_steps) {
      lastLoss = lossSum / lossSteps;
      ctx.emit({ type: 'metrics', step, values: { loss: lastLoss, learning_rate: hp.learning_rate, epoch: epoch + 1 } });
      lossSum = lossSteps = 0;
    }
    if (step % hp.eval_interval === 0 && step < hp.total_steps) {
      const m = evaluate(step);
      if (p.bestEvalLoss === null || m.eval_loss < p.bestEvalLoss) {
        p.bestEvalLoss = m.eval_loss;
        const metrics: Record<string, number> = { ...m };
        if (Number.isFinite(lastLoss)) metrics.loss = lastLoss;
        await ctx.writeCheckpoint(step, encodeCheckpoint(model, header(step, metrics)), metrics);
      }
    }
    // Let stdin deliver a `stop` line: the loop is synchronous CPU work otherwise.
    await new Promise<void>((r) => setImmediate(r));
  }

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (examplesSeen > 0) {
    ctx.emit({ type: 'log', level: 'info', message: `trained ${examplesSeen} examples in ${seconds.toFixed(2)} s (${Math.round(examplesSeen / seconds)} examples/s)` });
  }
  // A stop that came during the last step still means stop: finalizing is new work.
  if (ctx.stopRequested()) return { reason: 'stopped', step };
  ctx.emit({ type: 'finalizing' });
  const final = evaluate(step);
  if (p.bestEvalLoss === null || final.eval_loss < p.bestEvalLoss) p.bestEvalLoss = final.eval_loss;
  const metrics: Record<string, number> = { ...final };
  if (Number.isFinite(lastLoss)) metrics.loss = lastLoss;
  await ctx.writeCheckpoint(step, encodeCheckpoint(model, header(step, metrics)), metrics, 'final');
  return { reason: 'completed', step, metrics };
}

async function prepare(ctx: TrainContext, spilled: Spilled): Promise<Prepared> {
  const { spec } = ctx;
  const { labels } = spilled;
  let resume: Checkpoint | null = null;
  if (spec.resume) {
    resume = decodeCheckpoint(await readFile(spec.resume.path));
    if (resume.header.labels.join('\u0000') !== labels.join('\u0000')) {
      throw new InvalidConfigError(`checkpoint ${spec.resume.checkpoint_id} was trained on other labels than this dataset has`);
    }
  }
  const dim = resume?.model.dim ?? hashDimFor(labels.length);
  const data = buildTrainData(spilled, dim, spec.seed >>> 0);
  const n = data.stream.n;
  const hp = resume?.header.hyperparameters ?? chooseHyperparameters(n, labels.length);
  if (Math.ceil(n / hp.batch_size) !== hp.steps_per_epoch) {
    throw new InvalidConfigError(`checkpoint ${spec.resume?.checkpoint_id} was trained on ${hp.steps_per_epoch} batches an epoch; this dataset gives ${Math.ceil(n / hp.batch_size)}`);
  }
  const model = resume?.model ?? new SoftmaxModel(dim, labels, ftrlParams(hp));
  const startStep = resume ? Math.min(resume.header.step, hp.total_steps) : 0;
  const { evalSet, evalSource } = data;
  const unseen = evalSet.filter((e) => e.y < 0).length;
  if (unseen > 0) {
    ctx.emit({ type: 'log', level: 'warn', message: `${unseen} of ${evalSet.length} eval examples have an output never seen in training: they count as wrong` });
  }
  if (data.evalDropped > 0) {
    ctx.emit({ type: 'log', level: 'warn', message: `${data.evalDropped} sampled eval examples left out: the eval set is capped at 4,000,000 features in memory` });
  }
  ctx.emit({
    type: 'hyperparameters',
    values: { ...hp, train_examples: n, eval_examples: evalSet.length, eval_source: evalSource, classes: labels.length, hash_dim: model.dim, seed: spec.seed >>> 0 },
  });
  if (resume) ctx.emit({ type: 'log', level: 'info', message: `resuming from checkpoint ${spec.resume!.checkpoint_id} at step ${startStep} of ${hp.total_steps}` });
  return { labels, stream: data.stream, evalSet, evalSource, hp, model, startStep, bestEvalLoss: resume?.header.best_eval_loss ?? null };
}
