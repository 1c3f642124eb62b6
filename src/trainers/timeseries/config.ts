/**
 * The time-series trainer's view of a job config (the v0.6 Omega create body, docs/spec.md#extensions-and-v06):
 * parses `method.{type, head|knn}.{hyperparameters, reader}` into TsConfig with defaults resolved,
 * and reports every problem at once (file_id '(config)', column = the field path).
 * Archetype only documents batch_size / n_epochs (head) and the knn fields; the extra keys accepted
 * here (learning_rate, weight_decay, hidden_units, patience, instance_norm, num_features, encoder) are
 * ftnode extensions; unknown keys are ignored with a warning so newer clients keep working.
 */
import type { DatasetProblem } from '../builtin.js';

export const CONFIG_FILE_ID = '(config)';
/** The Omega encoder accepts windows of 16–1024 timesteps (docs/spec.md#dataset-formats). */
export const MIN_WINDOW = 16;
export const MAX_WINDOW = 1024;

export interface ReaderSettings {
  windowSize: number;
  stepSize: number;
  /** null: every column except the timestamp column, taken from the first training file. */
  dataColumns: string[] | null;
  timestampColumn: string;
}

export interface EncoderSettings {
  /** Subtract each window's per-channel mean before the transform (default true: levels drift over days). */
  instanceNorm: boolean;
  /** MiniRocket feature count; null = the kernel default (about 10k). */
  numFeatures: number | null;
  /**
   * `encoder: "window_stats"` (ftnode extension; or the automatic choice's pick): per column mean, log std and log mean |Δx|
   * of each window (few-shot.ts's statistics, 3 per column) instead of MiniRocket; instance
   * normalisation does not apply. On SWaT it held up out of time where MiniRocket did not
   * (docs/benchmarks-swat.md, head protocol).
   */
  windowStats: boolean;
}

export interface HeadSettings {
  batchSize: number | null; // null: chosen from the dataset size (hparams.ts)
  nEpochs: number | null;
  learningRate: number;
  weightDecay: number;
  /** 0 = multinomial logistic regression; > 0 = one hidden ReLU layer of that width. */
  hiddenUnits: number;
  /** Epochs without a validation macro-F1 improvement before early stopping. */
  patience: number;
}

export interface KnnSettings {
  batchSize: number | null;
  nNeighbors: number;
  metric: 'cosine' | 'euclidean';
  weights: 'uniform' | 'distance';
  normalizeEmbeddings: boolean;
}

export interface TsConfig {
  method: 'head' | 'knn';
  /**
   * True when the request sets none of encoder, instance_norm and num_features (and, for head,
   * hidden_units); the trainer then chooses the encoder (× hidden units for head) itself by a
   * blocked validation on the latest part of its training files (select.ts). Any of those keys opts
   * out: the others take their fixed defaults (MiniRocket; 64 units for head; 1,008 features for
   * knn), exactly as before the automatic choice existed.
   */
  auto: boolean;
  reader: ReaderSettings;
  encoder: EncoderSettings;
  head: HeadSettings;
  knn: KnnSettings;
}

/**
 * Head defaults, measured on SWaT (docs/benchmarks-swat.md). hiddenUnits (and the MiniRocket
 * encoder) apply only when the request fixes the encoder or width: otherwise select.ts chooses
 * both (cfg.auto). A 64-unit ReLU layer with strong
 * decoupled weight decay (2: each AdamW step at lr 1e-3 shrinks weights by 0.2 %) generalised best
 * out of time; logistic regression or weight decay 0.01 overfit within 1–2 epochs (train loss
 * 0.001) and varied ±0.04 macro-F1 across seeds. lr 1e-3 is Archetype's fixed rate.
 */
export const HEAD_DEFAULTS = { learningRate: 1e-3, weightDecay: 2, hiddenUnits: 64, patience: 5 } as const;
/**
 * knn keeps every training embedding: 1,008 MiniRocket features (84 × 12) instead of ~10k scored
 * the same on SWaT (tune macro-F1 0.915 vs 0.904, 3 seeds) with 10× smaller checkpoints
 * (39 MB instead of 390 MB at step 4) and 10× faster distances.
 */
export const KNN_NUM_FEATURES = 1008;
export const KNN_DEFAULTS = { nNeighbors: 5, metric: 'cosine', weights: 'uniform', normalizeEmbeddings: true } as const;
/** Used only when the request has no reader: Archetype's example grid winner (window 128, step 4). */
export const READER_DEFAULTS = { windowSize: 128, stepSize: 4, timestampColumn: 'timestamp' } as const;

const HEAD_KEYS = ['batch_size', 'n_epochs', 'learning_rate', 'weight_decay', 'hidden_units', 'patience', 'instance_norm', 'num_features', 'encoder'];
/** Keys that fix the head's encoder or width: setting any of them turns the automatic choice off. */
export const AUTO_KEYS = ['encoder', 'hidden_units', 'instance_norm', 'num_features'];
/** knn's: the encoder's keys (knn has no hidden layer). */
export const KNN_AUTO_KEYS = ['encoder', 'instance_norm', 'num_features'];
const KNN_KEYS = ['batch_size', 'n_neighbors', 'metric', 'weights', 'normalize_embeddings', 'instance_norm', 'num_features', 'encoder'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Collector {
  problems: DatasetProblem[] = [];
  warnings: string[] = [];
  bad(column: string, message: string): void {
    this.problems.push({ file_id: CONFIG_FILE_ID, column, message });
  }
  int(o: Obj, key: string, path: string, min: number, max: number, why = ''): number | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.bad(`${path}.${key}`, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}${why}`);
      return null;
    }
    return v;
  }
  num(o: Obj, key: string, path: string, min: number, max: number, dflt: number): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.bad(`${path}.${key}`, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v;
  }
  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.bad(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v;
  }
  oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[], dflt: T): T {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.bad(`${path}.${key}`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v as T;
  }
}

function parseReader(c: Collector, raw: unknown, path: string): ReaderSettings {
  const r: Obj = isObj(raw) ? raw : {};
  if (raw !== undefined && !isObj(raw)) c.bad(path, 'must be an object');
  const windowSize = c.int(r, 'window_size', path, MIN_WINDOW, MAX_WINDOW, ' (the Omega encoder accepts windows of 16–1024 timesteps)') ?? READER_DEFAULTS.windowSize;
  const stepSize = c.int(r, 'step_size', path, 1, 1_000_000) ?? READER_DEFAULTS.stepSize;
  let dataColumns: string[] | null = null;
  if (r.data_columns !== undefined && r.data_columns !== null) {
    const dc = r.data_columns;
    if (!Array.isArray(dc) || dc.length === 0 || !dc.every((x) => typeof x === 'string' && x.length > 0)) {
      c.bad(`${path}.data_columns`, 'must be a non-empty array of column names');
    } else if (new Set(dc).size !== dc.length) {
      c.bad(`${path}.data_columns`, 'lists a column more than once');
    } else dataColumns = dc as string[];
  }
  let timestampColumn: string = READER_DEFAULTS.timestampColumn;
  if (r.timestamp_column !== undefined && r.timestamp_column !== null) {
    if (typeof r.timestamp_column !== 'string' || r.timestamp_column === '') c.bad(`${path}.timestamp_column`, 'must be a column name');
    else timestampColumn = r.timestamp_column;
  }
  if (dataColumns?.includes(timestampColumn)) c.bad(`${path}.data_columns`, `must not include the timestamp column '${timestampColumn}'`);
  return { windowSize, stepSize, dataColumns, timestampColumn };
}

export interface ParsedConfig {
  config: TsConfig;
  problems: DatasetProblem[];
  warnings: string[];
}

/** Parses the job config; `problems` empty means `config` is usable. */
export function parseConfig(raw: Record<string, unknown>): ParsedConfig {
  const c = new Collector();
  const method: Obj = isObj(raw.method) ? raw.method : {};
  if (raw.method !== undefined && !isObj(raw.method)) c.bad('method', 'must be an object');
  const type = c.oneOf(method, 'type', 'method', ['head', 'knn'] as const, 'head');
  const path = `method.${type}`;
  const body: Obj = isObj(method[type]) ? (method[type] as Obj) : {};
  const hp: Obj = isObj(body.hyperparameters) ? body.hyperparameters : {};
  const hpPath = `${path}.hyperparameters`;
  const known = type === 'head' ? HEAD_KEYS : KNN_KEYS;
  for (const k of Object.keys(hp)) if (!known.includes(k)) c.warnings.push(`${hpPath}.${k} is not used by the omega trainer; ignored`);
  const reader = parseReader(c, body.reader, `${path}.reader`);
  const encoder: EncoderSettings = {
    instanceNorm: c.bool(hp, 'instance_norm', hpPath, true),
    numFeatures: c.int(hp, 'num_features', hpPath, 84, 50_000) ?? (type === 'knn' ? KNN_NUM_FEATURES : null),
    windowStats: c.oneOf(hp, 'encoder', hpPath, ['minirocket', 'window_stats'] as const, 'minirocket') === 'window_stats',
  };
  const head: HeadSettings = {
    batchSize: type === 'head' ? c.int(hp, 'batch_size', hpPath, 1, 65_536) : null,
    nEpochs: type === 'head' ? c.int(hp, 'n_epochs', hpPath, 1, 10_000) : null,
    learningRate: type === 'head' ? c.num(hp, 'learning_rate', hpPath, 1e-7, 1, HEAD_DEFAULTS.learningRate) : HEAD_DEFAULTS.learningRate,
    weightDecay: type === 'head' ? c.num(hp, 'weight_decay', hpPath, 0, 10, HEAD_DEFAULTS.weightDecay) : HEAD_DEFAULTS.weightDecay,
    hiddenUnits: (type === 'head' ? c.int(hp, 'hidden_units', hpPath, 0, 4096) : null) ?? HEAD_DEFAULTS.hiddenUnits,
    patience: (type === 'head' ? c.int(hp, 'patience', hpPath, 1, 10_000) : null) ?? HEAD_DEFAULTS.patience,
  };
  const knn: KnnSettings = {
    batchSize: type === 'knn' ? c.int(hp, 'batch_size', hpPath, 1, 65_536) : null,
    // The batch API refuses n_neighbors < 3 (docs/spec.md#batch-jobs); keep the same floor.
    nNeighbors: (type === 'knn' ? c.int(hp, 'n_neighbors', hpPath, 3, 1000) : null) ?? KNN_DEFAULTS.nNeighbors,
    metric: type === 'knn' ? c.oneOf(hp, 'metric', hpPath, ['cosine', 'euclidean'] as const, KNN_DEFAULTS.metric) : KNN_DEFAULTS.metric,
    weights: type === 'knn' ? c.oneOf(hp, 'weights', hpPath, ['uniform', 'distance'] as const, KNN_DEFAULTS.weights) : KNN_DEFAULTS.weights,
    normalizeEmbeddings: type === 'knn' ? c.bool(hp, 'normalize_embeddings', hpPath, KNN_DEFAULTS.normalizeEmbeddings) : KNN_DEFAULTS.normalizeEmbeddings,
  };
  const auto = (type === 'head' ? AUTO_KEYS : KNN_AUTO_KEYS).every((k) => hp[k] === undefined || hp[k] === null);
  return { config: { method: type, auto, reader, encoder, head, knn }, problems: c.problems, warnings: c.warnings };
}
