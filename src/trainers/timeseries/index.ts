/**
 * The built-in time-series trainer (model `omega`, docs/spec.md#models): a frozen MiniRocket encoder
 * (ftnode's stand-in for Archetype's Omega encoder) with a trained `head` or a `knn` classifier.
 * docs/trainers/timeseries.md describes the reader rules, methods, checkpoint format and figures.
 */
import type { BuiltinTrainer } from '../builtin.js';
import { configOrThrow } from './prepare.js';
import { predictFromCheckpoint } from './predict.js';
import { trainHead } from './train-head.js';
import { trainKnn } from './train-knn.js';
import { validateTimeseries } from './validate.js';

export const timeseriesTrainer: BuiltinTrainer = {
  name: 'timeseries',
  validate: validateTimeseries,
  async train(ctx) {
    return configOrThrow(ctx.spec.config).method === 'knn' ? trainKnn(ctx) : trainHead(ctx);
  },
  predict: predictFromCheckpoint,
};

export { predictWindowsFromCheckpoint, type PredictSource, type WindowPrediction, type PredictOptions } from './predict.js';
export { loadModel, type TsModel } from './model.js';
/** Header of a checkpoint (method, labels, reader settings, encoder sizes, metrics, stand_in) without its tensors. */
export { readContainerMeta as readCheckpointInfo } from './checkpoint.js';
export { parseConfig, type TsConfig } from './config.js';
