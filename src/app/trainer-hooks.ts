/** Wires the built-in trainers into the service's TrainerHooks (validation at create, prediction). */
import type { CatalogEntry } from '../domain/catalog.js';
import { FtError } from '../domain/errors.js';
import type { TrainerHooks } from '../service/trainer-hooks.js';
import { loadBuiltinTrainer } from '../trainers/registry.js';

export const builtinTrainerHooks: TrainerHooks = {
  async validate(entry: CatalogEntry, input) {
    if (entry.trainer === 'external') return []; // an external trainer checks its data in STARTING (exit code 2)
    return (await loadBuiltinTrainer(entry.trainer)).validate(input);
  },
  async predict(entry: CatalogEntry, checkpointPath, input) {
    if (entry.trainer === 'external') {
      throw new FtError('invalid_parameter', 'prediction is available for built-in models only; load the downloaded checkpoint with your trainer');
    }
    return (await loadBuiltinTrainer(entry.trainer)).predict(checkpointPath, input);
  },
};
