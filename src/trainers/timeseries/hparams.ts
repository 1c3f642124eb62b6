/**
 * Hyperparameters chosen from the dataset size when the request does not set them (docs/spec.md#lifecycle:
 * chosen values are reported in a `hyperparameters` message). Pure functions; numbers explained.
 */

export interface HeadSchedule {
  batchSize: number;
  nEpochs: number;
}

/**
 * ~9,000 AdamW steps: Archetype's SWaT example (batch 32, 30 epochs, ~300 steps per epoch). With
 * weight decay 2 the best SWaT epoch fell between 4 and 16; a 10-epoch budget cost 0.01–0.02
 * tune macro-F1. Early stopping (patience 5) ends most runs well before the budget.
 */
const TARGET_STEPS = 9000;
/** Enough passes for early stopping to see a plateau even on large datasets. */
const MIN_EPOCHS = 20;
/** Tiny datasets (a few hundred windows) would otherwise ask for hundreds of epochs. */
const MAX_EPOCHS = 60;

/**
 * batch 32 (Archetype's example) up to 20,000 windows, 64 above (halves the step count on large
 * sets, where gradient noise matters less); epochs = TARGET_STEPS / steps per epoch in [20, 60].
 * Examples: 300 windows → 32 × 60 epochs; SWaT train at step 4 (9,752 windows, 305 steps per
 * epoch) → 32 × 30 epochs; 40,000 windows (625 steps) → 64 × 20 epochs.
 */
export function chooseHeadSchedule(nWindows: number, given: { batchSize: number | null; nEpochs: number | null }): HeadSchedule {
  const batchSize = given.batchSize ?? (nWindows <= 20_000 ? 32 : 64);
  const stepsPerEpoch = Math.max(1, Math.ceil(nWindows / batchSize));
  const nEpochs = given.nEpochs ?? Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.ceil(TARGET_STEPS / stepsPerEpoch)));
  return { batchSize, nEpochs };
}
