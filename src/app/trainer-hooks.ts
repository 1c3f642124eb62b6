/** Wires the built-in trainers into the service's TrainerHooks (validation at create, prediction). */
import type { CatalogEntry } from '../domain/catalog.js';
import { FtError } from '../domain/errors.js';
import type { TrainerHooks } from '../service/trainer-hooks.js';
import { predictExternal } from '../trainers/external-predict.js';
import { loadBuiltinTrainer } from '../trainers/registry.js';

export const builtinTrainerHooks: TrainerHooks = {
  async validate(entry: CatalogEntry, input) {
    if (entry.trainer === 'external') return []; // an external trainer checks its data in STARTING (exit code 2)
    return (await loadBuiltinTrainer(entry.trainer)).validate(input);
  },
  async predict(entry: CatalogEntry, checkpointPath, input) {
    if (entry.trainer === 'external' && entry.predict && entry.command?.length) {
      if (!Array.isArray(input.examples) || input.examples.length === 0) throw new FtError('invalid_parameter', 'this model predicts from `examples` (a non-empty list)');
      return predictExternal({ command: entry.command, env: entry.env, checkpointPath, examples: input.examples });
    }
    if (entry.trainer === 'external') {
      throw new FtError('invalid_parameter', 'this external model does not declare `predict: true` in the catalog; load the downloaded checkpoint with your trainer');
    }
    return (await loadBuiltinTrainer(entry.trainer)).predict(checkpointPath, input);
  },
};
