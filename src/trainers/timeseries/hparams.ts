/**
 * Hyperparameters chosen from the dataset size when the request does not set them (contract §3:
 * chosen values are reported in a `hyperparameters` message). Pure functions; numbers explained.
 */

export interface HeadSchedule {
  batchSize: number;
  nEpochs: number;
}

/** ~3,000 AdamW steps at lr 1e-3 fit a linear or 64-unit head on ~10k standardized features. */
const TARGET_STEPS = 3000;
/** Enough passes for early stopping (patience 5) to see a plateau; more rarely helps a frozen encoder. */
const MIN_EPOCHS = 10;
/** Tiny datasets (a few hundred windows) would otherwise ask for hundreds of epochs. */
const MAX_EPOCHS = 50;

/**
 * batch 32 (Archetype's example) up to 20,000 windows, 64 above (halves the step count on large
 * sets, where gradient noise matters less); epochs = TARGET_STEPS / steps per epoch in [10, 50].
 * Examples: 300 windows → 32 × 50 epochs; SWaT train at step 4 (9,760 windows) → 32 × 10 epochs;
 * 40,000 windows → 64 × 10 epochs.
 */
export function chooseHeadSchedule(nWindows: number, given: { batchSize: number | null; nEpochs: number | null }): HeadSchedule {
  const batchSize = given.batchSize ?? (nWindows <= 20_000 ? 32 : 64);
  const stepsPerEpoch = Math.max(1, Math.ceil(nWindows / batchSize));
  const nEpochs = given.nEpochs ?? Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.ceil(TARGET_STEPS / stepsPerEpoch)));
  return { batchSize, nEpochs };
}
