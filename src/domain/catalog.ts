/** A model catalog entry (contract §5): which trainer serves a model id. */
export interface CatalogEntry {
  /** `text-sft` and `timeseries` are built in; `external` runs `command` (any trainer-protocol speaker). */
  trainer: string;
  command?: string[];
  /** Extra environment for an external trainer process. */
  env?: Record<string, string>;
  /** Which request shape and dataset format the model takes. */
  kind: 'text' | 'timeseries';
  description?: string;
  stand_in?: boolean;
}

export type Catalog = Readonly<Record<string, CatalogEntry>>;

/** The model a v0.5 create uses when `config.model` is absent (what Archetype's examples use). */
export const DEFAULT_MODEL_ID = 'Newton::c2_4_7b_251215a172f6d7';
