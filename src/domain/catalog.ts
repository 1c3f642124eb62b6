/** A model catalog entry (docs/spec.md#models): which trainer serves a model id. */
export interface CatalogEntry {
  /** `text-sft` and `timeseries` are built in; `external` runs `command` (any trainer-protocol speaker). */
  trainer: string;
  command?: string[];
  /** Extra environment for an external trainer process. */
  env?: Record<string, string>;
  /**
   * External trainers: the command also answers the protocol's `predict` request
   * (docs/trainer-protocol.md, "Predict"), so POST …/predict runs it on the server with the checkpoint.
   */
  predict?: boolean;
  /**
   * Which request shape and dataset format the model takes. 'batch': a batch pipeline of
   * POST /v0.5/batch/jobs (the catalog key is the pipeline_key; docs/batch.md), not a fine-tunable model.
   */
  kind: 'text' | 'timeseries' | 'batch';
  /** Batch pipelines: the published pipeline_version (default '1'). */
  version?: string;
  description?: string;
  stand_in?: boolean;
}

export type Catalog = Readonly<Record<string, CatalogEntry>>;

/** Where jobs of a model of this kind are created. */
export function createEndpointFor(kind: CatalogEntry['kind']): string {
  return kind === 'timeseries' ? 'POST /v0.6/fine_tuning/jobs' : kind === 'batch' ? 'POST /v0.5/batch/jobs' : 'POST /v0.5/fine-tune/jobs';
}

/** The model a v0.5 create uses when `config.model` is absent (what Archetype's examples use). */
export const DEFAULT_MODEL_ID = 'Newton::c2_4_7b_251215a172f6d7';
