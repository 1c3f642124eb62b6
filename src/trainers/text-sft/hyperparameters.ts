/**
 * The automatic hyperparameter rule of the text-sft trainer (the v0.5 API accepts none from the
 * caller): a pure function of the number of training examples n and of classes k.
 * Tuned on examples/datasets/sensor-sft-*.jsonl (n = 600, k = 4). Figures below are final eval
 * accuracy, mean over seeds 1-5, changing one value at a time (the chosen rule: 0.904); the sweep
 * is in docs/trainers/text-sft.md.
 */
import type { FtrlParams } from './model.js';

export interface Hyperparameters {
  epochs: number;
  batch_size: number;
  /** FTRL alpha: the per-coordinate learning rate is alpha / (beta + sqrt(sum of squared gradients)). */
  learning_rate: number;
  /** FTRL alpha of the per-class bias. */
  bias_learning_rate: number;
  ftrl_beta: number;
  /** L1 and L2 penalties (FTRL-Proximal applies them exactly, in closed form). */
  l1: number;
  l2: number;
  steps_per_epoch: number;
  total_steps: number;
  /** Evaluate (and maybe checkpoint) every this many steps; the final evaluation comes on top. */
  eval_interval: number;
  /** Emit a `metrics` message every this many steps (and at the last step). */
  metrics_interval: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function chooseHyperparameters(n: number, k: number): Hyperparameters {
  if (!(n >= 1) || !(k >= 1)) throw new Error(`chooseHyperparameters: need n >= 1 and k >= 1 (got ${n}, ${k})`);
  // Batch: n/32 rounded to a power of two, between 8 and 32 (n = 150 -> 8, 600 -> 16, >= 725 -> 32).
  // FTRL needs steps more than examples: n = 600: batch 8 -> 0.909, 16 -> 0.904, 32 -> 0.893,
  // 64 -> 0.849; n = 4,800 (3 epochs): batch 32 (450 steps) -> 0.905, 128 (114 steps) -> 0.815.
  const batch_size = clamp(2 ** Math.round(Math.log2(n / 32)), 8, 32);
  // Epochs: ~3,000 visits per class (a class has ~n/k examples), between 3 and 40.
  // n = 600, k = 4 -> 20 (5 epochs -> 0.759, 10 -> 0.861, 20 -> 0.904, 30 -> 0.899); n >= 4,000 -> 3.
  const epochs = clamp(Math.ceil((3000 * k) / n), 3, 40);
  const steps_per_epoch = Math.ceil(n / batch_size);
  const total_steps = epochs * steps_per_epoch;
  return {
    epochs,
    batch_size,
    // alpha is in weight units: a feature worth |x| ~ 0.04 of an L2-normalised ~700-feature example
    // needs |w| ~ 5 / 0.04 = 125 to move a logit by 5, and AdaGrad-style steps grow |w| ~ alpha·sqrt(t).
    // alpha 2 -> 0.849, 5 -> 0.893, 10 -> 0.904, 20 -> 0.899.
    learning_rate: 10,
    // The bias' input is 1, ~25x a feature's, so the same alpha would move it by ~10 on the first
    // step (first-window train loss 4.6 instead of 1.4); alpha / 20 keeps it on the same footing.
    bias_learning_rate: 0.5,
    // beta only guards the very first steps; it must sit below sqrt(n) of a typical coordinate
    // (~0.07 here: gradients are ~0.04/batch). beta 0.01 -> 0.893; beta 1 (the usual default for
    // 0/1 features) -> 0.689.
    ftrl_beta: 0.001,
    // L1 prunes coordinates whose accumulated gradient |z| stays below it. One example contributes
    // at most ~epochs·|x|/batch to a coordinate's |z| over the run, so l1 = 0.08·epochs/batch asks
    // for the weight of ~2+ examples before a feature counts: it stops the model memorising
    // examples by their unique n-grams (timestamps, ids). n = 600 -> 0.1 (0.05 -> 0.867,
    // 0.2 -> 0.891, 0.4 -> 0.828); n = 150 -> 0.4 (0.1 -> 0.621, 0.4 -> 0.704). The floor 0.05 holds
    // coordinates at 0 during the first steps (an FTRL coordinate's first step is ~alpha whatever
    // its gradient): without it n = 4,800 (l1 0.0075) ends as well (0.903) but starts at train
    // loss 16 and a first eval loss of 6-15.
    l1: Math.max(0.05, (0.08 * epochs) / batch_size),
    // L2 is small beside (beta + sqrt(n)) / alpha ~ 0.007: 1e-6 -> 0.904, 1e-3 -> 0.893, 1e-2 -> 0.812.
    l2: 1e-4,
    steps_per_epoch,
    total_steps,
    // ~10 evaluations per run, each on the whole eval set (150 examples take ~5 ms).
    eval_interval: Math.max(1, Math.ceil(total_steps / 10)),
    // ~100 metric points per run.
    metrics_interval: Math.max(1, Math.ceil(total_steps / 100)),
  };
}

export function ftrlParams(hp: Hyperparameters): FtrlParams {
  return { alpha: hp.learning_rate, alpha_bias: hp.bias_learning_rate, beta: hp.ftrl_beta, l1: hp.l1, l2: hp.l2 };
}
