/**
 * The batch API's request → draft mapping: POST /v0.5/batch/jobs body → a checked, default-resolved
 * batch request (domain/drafts.ts, docs/batch.md) that BatchCreator stores, every
 * problem collected so one 400 lists them all. An unknown pipeline (or version) is a 404 on its own
 * (`Pipeline <key> not found`, as Archetype answers): nothing else can be checked without its ports.
 * Defaults mirror the time-series trainer's (READER_DEFAULTS, KNN_DEFAULTS, ENCODE_BATCH; a test
 * asserts they agree); with a checkpoint attached, reader fields the request omits stay null: they
 * come from the checkpoint at run time.
 */
import type { Catalog } from '../domain/catalog.js';
import { PORTS, type BatchRequest, type ClassifierConfig, type ReaderConfig, type WorkerConfig } from '../domain/drafts.js';
import { FtError, type ErrorDetail } from '../domain/errors.js';

export const READER_DEFAULTS = { window_size: 128, step_size: 4, timestamp_column: 'timestamp', data_columns: null } as const;
export const CLASSIFIER_DEFAULTS = { n_neighbors: 5, metric: 'cosine', weights: 'uniform', normalize_embeddings: true } as const;
export const BATCH_SIZE_DEFAULT = 256;
/** Beyond a handful of threads the trainer process is capped by the machine's cores anyway. */
export const MAX_PARALLELISM = 32;
export const DEFAULT_PIPELINE_VERSION = '1';
const CHECKPOINT_ID = /^ckp_[0-9a-z]{26}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws pipeline_not_found (404) or every request problem at once (400). */
export function draftBatch(body: unknown, catalog: Catalog): BatchRequest {
  if (!isObj(body)) throw new FtError('missing_parameter', 'the request body must be a JSON object with pipeline_key, inputs and parameters');
  const p: ErrorDetail[] = [];
  const bad = (message: string): void => void p.push({ code: 'invalid_parameter', message });
  const missing = (message: string): void => void p.push({ code: 'missing_parameter', message });
  if (typeof body.pipeline_key !== 'string' || body.pipeline_key === '') throw new FtError('missing_parameter', 'pipeline_key is required (e.g. machine-state-classification)');
  const key = body.pipeline_key;
  const entry = catalog[key];
  if (!entry || entry.kind !== 'batch') throw new FtError('pipeline_not_found', `Pipeline ${key} not found`);
  const published = entry.version ?? DEFAULT_PIPELINE_VERSION;
  const v = body.pipeline_version;
  if (v !== undefined && v !== null && v !== 'latest' && String(v) !== published) throw new FtError('pipeline_not_found', `Pipeline ${key} version ${String(v)} not found (published: ${published})`);
  if (body.pipeline_type !== undefined && body.pipeline_type !== 'batch') bad(`pipeline_type must be 'batch' for ${key}, got ${JSON.stringify(body.pipeline_type)}`);
  let name: string | null = null;
  if (body.name !== undefined && body.name !== null) {
    if (typeof body.name !== 'string' || body.name.length > 255) bad('name must be a string of at most 255 characters');
    else name = body.name;
  }
  const inputs: Obj = isObj(body.inputs) ? body.inputs : {};
  if (!isObj(body.inputs)) missing(`inputs is required: {"${PORTS.inference}": [...], "${PORTS.nShots}": [...]}`);
  for (const port of Object.keys(inputs)) {
    if (!(Object.values(PORTS) as string[]).includes(port)) bad(`inputs has unknown port '${port}'; ${key} has ${Object.values(PORTS).join(', ')}`);
  }
  const checkpointId = parseCheckpointPort(inputs[PORTS.checkpoint], bad);
  const inference = parseFilePort(inputs, PORTS.inference, true, false, p);
  const nShots = parseFilePort(inputs, PORTS.nShots, checkpointId === null, true, p);
  if (checkpointId === null && isObj(body.inputs) && Array.isArray(inputs[PORTS.nShots])) {
    const classes = new Set(nShots.map((f) => f.metadata.class).filter((c) => typeof c === 'string'));
    if (nShots.length > 0 && classes.size < 2) bad(`${PORTS.nShots} needs files of at least 2 distinct metadata.class values for a few-shot classifier, found ${classes.size}`);
  }
  const params: Obj = isObj(body.parameters) ? body.parameters : {};
  if (body.parameters !== undefined && !isObj(body.parameters)) bad('parameters must be an object: {"worker": {"parallelism": 1, "config": {...}}}');
  const worker: Obj = isObj(params.worker) ? params.worker : {};
  if (params.worker !== undefined && !isObj(params.worker)) bad('parameters.worker must be an object');
  const parallelism = int(worker, 'parallelism', 'parameters.worker', 1, MAX_PARALLELISM, bad) ?? 1;
  const workerConfig = parseWorkerConfig(worker.config, checkpointId !== null, bad);
  const otherParameters = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'worker'));
  if (p.length > 0) throw FtError.many(p).in('request');
  return {
    entry, name, pipeline_key: key, pipeline_version: published, inference, nShots, checkpointId,
    inputs: inputs as Record<string, unknown[]>, parallelism, workerConfig, otherParameters,
  };
}

function parseCheckpointPort(raw: unknown, bad: (m: string) => void): string | null {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) return bad(`${PORTS.checkpoint} must be an array with one {"kind": "checkpoint", "checkpoint_id": "ckp_…"} item`), null;
  if (raw.length === 0) return null;
  if (raw.length > 1) return bad(`${PORTS.checkpoint} takes one checkpoint, got ${raw.length}`), null;
  const item = raw[0];
  if (!isObj(item) || item.kind !== 'checkpoint') return bad(`${PORTS.checkpoint}[0] must be {"kind": "checkpoint", "checkpoint_id": "ckp_…"}`), null;
  if (typeof item.checkpoint_id !== 'string' || !CHECKPOINT_ID.test(item.checkpoint_id)) {
    return bad(`${PORTS.checkpoint}[0].checkpoint_id must be a checkpoint id such as ckp_5kn596dy9v8wztr2fcqyhvrsa0, got ${JSON.stringify(item.checkpoint_id ?? null)}`), null;
  }
  return item.checkpoint_id;
}

function parseFilePort(inputs: Obj, port: string, needFiles: boolean, needClass: boolean, p: ErrorDetail[]): Array<{ file_id: string; metadata: Obj }> {
  const raw = inputs[port];
  if (raw === undefined || raw === null) {
    p.push({ code: 'missing_parameter', message: `inputs.${port} is required${port === PORTS.nShots ? ' (it may be empty when a checkpoint is attached)' : ''}` });
    return [];
  }
  if (!Array.isArray(raw)) return p.push({ code: 'invalid_parameter', message: `inputs.${port} must be an array of {"file_id": …} items` }), [];
  if (needFiles && raw.length === 0) {
    p.push({ code: 'invalid_parameter', message: `inputs.${port} is empty; it needs at least one file${port === PORTS.nShots ? ' (or attach a checkpoint)' : ''}` });
  }
  const out: Array<{ file_id: string; metadata: Obj }> = [];
  raw.forEach((item, i) => {
    const where = `inputs.${port}[${i}]`;
    if (!isObj(item) || typeof item.file_id !== 'string' || item.file_id === '') return void p.push({ code: 'invalid_parameter', message: `${where} must be {"file_id": "<name>", "metadata": {...}}` });
    if (item.metadata !== undefined && !isObj(item.metadata)) return void p.push({ code: 'invalid_parameter', message: `${where}.metadata must be an object` });
    const metadata = (item.metadata ?? {}) as Obj;
    if (needClass && needFiles && (typeof metadata.class !== 'string' || metadata.class === '')) {
      return void p.push({ code: 'invalid_parameter', message: `${where}.metadata.class is required: the label of ${item.file_id}` });
    }
    if (out.some((f) => f.file_id === item.file_id)) return void p.push({ code: 'invalid_parameter', message: `${where}: ${item.file_id} is listed twice` });
    out.push({ file_id: item.file_id, metadata });
  });
  return needFiles || port === PORTS.inference ? out : [];
}

function int(o: Obj, key: string, path: string, min: number, max: number, bad: (m: string) => void): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return bad(`${path}.${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`), null;
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[], dflt: T, bad: (m: string) => void): T {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) return bad(`${path}.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`), dflt;
  return v as T;
}

function parseWorkerConfig(raw: unknown, withCheckpoint: boolean, bad: (m: string) => void): WorkerConfig {
  const path = 'parameters.worker.config';
  if (raw !== undefined && raw !== null && !isObj(raw)) bad(`${path} must be an object`);
  const c: Obj = isObj(raw) ? raw : {};
  const rPath = `${path}.reader_config`;
  if (c.reader_config !== undefined && !isObj(c.reader_config)) bad(`${rPath} must be an object`);
  const r: Obj = isObj(c.reader_config) ? c.reader_config : {};
  // The Omega encoder takes windows of 16–1024 timesteps (docs/spec.md#dataset-formats).
  const window_size = int(r, 'window_size', rPath, 16, 1024, bad);
  const step_size = int(r, 'step_size', rPath, 1, 1_000_000, bad);
  let timestamp_column: string | null = null;
  if (r.timestamp_column !== undefined && r.timestamp_column !== null) {
    if (typeof r.timestamp_column !== 'string' || r.timestamp_column === '') bad(`${rPath}.timestamp_column must be a column name`);
    else timestamp_column = r.timestamp_column;
  }
  let data_columns: string[] | null = null;
  if (r.data_columns !== undefined && r.data_columns !== null) {
    const dc = r.data_columns;
    if (!Array.isArray(dc) || dc.length === 0 || !dc.every((x) => typeof x === 'string' && x !== '')) bad(`${rPath}.data_columns must be a non-empty array of column names`);
    else if (new Set(dc).size !== dc.length) bad(`${rPath}.data_columns lists a column more than once`);
    else data_columns = dc as string[];
  }
  if (data_columns && data_columns.includes(timestamp_column ?? READER_DEFAULTS.timestamp_column)) bad(`${rPath}.data_columns must not include the timestamp column`);
  const kPath = `${path}.classifier_config`;
  if (c.classifier_config !== undefined && !isObj(c.classifier_config)) bad(`${kPath} must be an object`);
  const k: Obj = isObj(c.classifier_config) ? c.classifier_config : {};
  const normalize = k.normalize_embeddings;
  if (normalize !== undefined && normalize !== null && typeof normalize !== 'boolean') bad(`${kPath}.normalize_embeddings must be true or false`);
  const classifier_config: ClassifierConfig = {
    n_neighbors: int(k, 'n_neighbors', kPath, 3, 1000, bad) ?? CLASSIFIER_DEFAULTS.n_neighbors,
    metric: oneOf(k, 'metric', kPath, ['cosine', 'euclidean'] as const, CLASSIFIER_DEFAULTS.metric, bad),
    weights: oneOf(k, 'weights', kPath, ['uniform', 'distance'] as const, CLASSIFIER_DEFAULTS.weights, bad),
    normalize_embeddings: typeof normalize === 'boolean' ? normalize : CLASSIFIER_DEFAULTS.normalize_embeddings,
  };
  // With a checkpoint, omitted reader fields stay null: the checkpoint's values apply (docs/batch.md).
  const dflt = <T>(v: T | null, d: T): T | null => (v !== null ? v : withCheckpoint ? null : d);
  const reader_config: ReaderConfig = {
    window_size: dflt(window_size, READER_DEFAULTS.window_size),
    step_size: dflt(step_size, READER_DEFAULTS.step_size),
    timestamp_column: dflt(timestamp_column, READER_DEFAULTS.timestamp_column),
    data_columns,
  };
  return { ...c, reader_config: { ...r, ...reader_config }, classifier_config: { ...k, ...classifier_config }, batch_size: int(c, 'batch_size', path, 1, 65_536, bad) ?? BATCH_SIZE_DEFAULT };
}
