/**
 * Built-in trainers by name. Imported lazily so the server does not load numeric kernels it never uses.
 */
import type { BuiltinTrainer } from './builtin.js';

const LOADERS: Record<string, () => Promise<BuiltinTrainer>> = {
  'text-sft': async () => (await import('./text-sft/index.js')).textSftTrainer,
  timeseries: async () => (await import('./timeseries/index.js')).timeseriesTrainer,
  'batch-msc': async () => (await import('./batch-msc/index.js')).batchMscTrainer,
};

export const BUILTIN_TRAINER_NAMES = Object.keys(LOADERS);

export async function loadBuiltinTrainer(name: string): Promise<BuiltinTrainer> {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown built-in trainer '${name}'`);
  return load();
}
