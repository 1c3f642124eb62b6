/**
 * What the service needs from trainers, as an interface (the service layer may not import trainers;
 * src/app wires the built-in ones in). Dataset checks at create and prediction from a checkpoint.
 */
import type { CatalogEntry } from '../domain/catalog.js';
import type { DatasetInput, DatasetProblem, PredictRequest } from '../domain/dataset.js';

export type { DatasetInput, DatasetProblem, PredictRequest };

export interface TrainerHooks {
  /** Problems with the datasets or config; [] when the job can run. External trainers: []. */
  validate(entry: CatalogEntry, input: DatasetInput): Promise<DatasetProblem[]>;
  /** Predictions from a committed checkpoint file; throws when the trainer cannot predict. */
  predict(entry: CatalogEntry, checkpointPath: string, input: PredictRequest): Promise<unknown[]>;
}

export function describeProblem(p: DatasetProblem): string {
  const where = [p.line !== undefined ? `line ${p.line}` : '', p.column ? `column '${p.column}'` : ''].filter(Boolean).join(', ');
  return `${p.file_id}${where ? ` (${where})` : ''}: ${p.message}`;
}
