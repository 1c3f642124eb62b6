/**
 * The batch-msc trainer's view of a batch job's stored config (checked by api/drafts-batch.ts, stored
 * by service/batch/batch-create.ts; docs/batch.md): reader, knn classifier, batch size,
 * parallelism, seed and the output file name of each input. The reader and classifier fields go
 * through the time-series trainer's own parseConfig (as a knn config), so both trainers accept
 * exactly the same values; problems name the batch request's field paths.
 */
import { InvalidConfigError, type DatasetProblem } from '../builtin.js';
import { parseConfig, type KnnSettings } from '../timeseries/config.js';

export interface BatchReader {
  windowSize: number | null;
  stepSize: number | null;
  timestampColumn: string | null;
  dataColumns: string[] | null;
}

export interface BatchSettings {
  /** As requested; null fields: from the checkpoint (or the defaults without one). */
  reader: BatchReader;
  /** The few-shot classifier (ignored with a checkpoint: its own classifier is used). */
  knn: KnnSettings;
  /** MiniRocket features of the few-shot encoder (the omega knn default). */
  numFeatures: number | null;
  /** Windows per classification batch and per progress entry. */
  batchSize: number;
  parallelism: number;
  seed: number;
  /** input file_id → output filename, fixed at create. */
  outputs: Map<string, string>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

const FIELD_MAP: Array<[RegExp, string]> = [
  [/^method\.knn\.reader/, 'parameters.worker.config.reader_config'],
  [/^method\.knn\.hyperparameters\.batch_size/, 'parameters.worker.config.batch_size'],
  [/^method\.knn\.hyperparameters/, 'parameters.worker.config.classifier_config'],
];

export interface ParsedBatchSettings {
  settings: BatchSettings;
  problems: DatasetProblem[];
}

export function parseBatchSettings(config: Obj): ParsedBatchSettings {
  const worker = obj(obj(config.parameters).worker);
  const c = obj(worker.config);
  const r = obj(c.reader_config);
  const k = obj(c.classifier_config);
  const hp = defined({ n_neighbors: k.n_neighbors, metric: k.metric, weights: k.weights, normalize_embeddings: k.normalize_embeddings, batch_size: c.batch_size });
  const reader = defined({ window_size: r.window_size, step_size: r.step_size, timestamp_column: r.timestamp_column, data_columns: r.data_columns });
  const parsed = parseConfig({ method: { type: 'knn', knn: { hyperparameters: hp, reader } } });
  const problems = parsed.problems.map((p) => ({ ...p, column: FIELD_MAP.reduce((col, [re, to]) => col.replace(re, to), p.column ?? '') }));
  const cfg = parsed.config;
  const parallelism = typeof worker.parallelism === 'number' && Number.isInteger(worker.parallelism) && worker.parallelism >= 1 ? worker.parallelism : 1;
  const outputs = new Map<string, string>();
  for (const o of Array.isArray(config.outputs) ? config.outputs : []) {
    const e = obj(o);
    if (typeof e.input_file_id === 'string' && typeof e.filename === 'string') outputs.set(e.input_file_id, e.filename);
  }
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  return {
    problems,
    settings: {
      reader: {
        windowSize: typeof r.window_size === 'number' ? cfg.reader.windowSize : null,
        stepSize: typeof r.step_size === 'number' ? cfg.reader.stepSize : null,
        timestampColumn: str(r.timestamp_column),
        dataColumns: cfg.reader.dataColumns,
      },
      knn: cfg.knn,
      numFeatures: cfg.encoder.numFeatures,
      batchSize: cfg.knn.batchSize ?? 256,
      parallelism,
      seed: typeof c.seed === 'number' && Number.isInteger(c.seed) ? c.seed : 0,
      outputs,
    },
  };
}

export function settingsOrThrow(config: Obj): BatchSettings {
  const { settings, problems } = parseBatchSettings(config);
  if (problems.length > 0) throw new InvalidConfigError(problems.map((p) => `${p.column}: ${p.message}`).join('; '));
  return settings;
}
