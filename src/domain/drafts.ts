/**
 * Drafts: a create request as the service takes it, whatever API version it came through. src/api/
 * maps each version's body to one (drafts-v05.ts, drafts-v06.ts, drafts-batch.ts); the service checks
 * and stores it (service/jobs/job-create.ts, service/batch/batch-create.ts). Plain data, no behaviour.
 */
import type { CatalogEntry } from './catalog.js';
import type { ErrorDetail } from './errors.js';
import type { ApiVersion } from './types.js';

/** A fine-tune job to create (v0.5 fine-tune jobs, v0.6 fine_tuning jobs). */
export interface JobDraft {
  org_uuid: string;
  api_version: ApiVersion;
  client_id?: string;
  name: string;
  model: string;
  /** The resolved config echoed in the record. */
  config: Record<string, unknown>;
  datasets: Array<{ name: string; split: 'train' | 'eval'; files: Array<{ file_id: string; label?: string }> }>;
  /** The request as the client sent it: what makes a retry "identical". */
  request: unknown;
  idempotency_key?: string;
  id_prefix: string; // `ftj-` (v0.5) or `ftj_` (v0.6)
  /** The kind of model this API family trains (v0.5: text, v0.6: timeseries); another kind is a 400 naming its endpoint. */
  model_kind: CatalogEntry['kind'];
  /** Problems the mapping already found in the body: reported together with the model and file checks. */
  problems?: ErrorDetail[];
}

/** The ports of the batch pipeline machine-state-classification (docs/batch.md). */
export const PORTS = { inference: 'worker.inference', nShots: 'worker.n_shots', checkpoint: 'worker.fine_tune_checkpoint' } as const;

export interface ReaderConfig { window_size: number | null; step_size: number | null; timestamp_column: string | null; data_columns: string[] | null }
export interface ClassifierConfig { n_neighbors: number; metric: 'cosine' | 'euclidean'; weights: 'uniform' | 'distance'; normalize_embeddings: boolean }
export interface WorkerConfig { reader_config: ReaderConfig; classifier_config: ClassifierConfig; batch_size: number; [extra: string]: unknown }

/** A batch job to create: the body checked and its defaults resolved (api/drafts-batch.ts). */
export interface BatchRequest {
  entry: CatalogEntry;
  name: string | null;
  pipeline_key: string;
  pipeline_version: string;
  inference: Array<{ file_id: string; metadata: Record<string, unknown> }>;
  nShots: Array<{ file_id: string; metadata: Record<string, unknown> }>;
  checkpointId: string | null;
  inputs: Record<string, unknown[]>;
  parallelism: number;
  workerConfig: WorkerConfig;
  /** parameters.* other than worker: recorded as sent. */
  otherParameters: Record<string, unknown>;
}

