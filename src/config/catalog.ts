/**
 * The model catalog (docs/spec.md#models): model id → trainer. Built-in entries are stand-ins (not
 * Archetype's weights) and say so. Operators add or remap models in the config file under `models:`,
 * e.g. `my-llm: {trainer: external, command: ["python3", "train.py"], kind: text}`.
 */
import type { CatalogEntry } from '../domain/catalog.js';

export type { CatalogEntry };

export const DEFAULT_CATALOG: Record<string, CatalogEntry> = {
  'Newton::c2_4_7b_251215a172f6d7': {
    trainer: 'text-sft',
    kind: 'text',
    stand_in: true,
    description: 'Stand-in for Newton 7B: hashed n-gram softmax classifier over the outputs seen in training',
  },
  'Newton::c2_4_3b_251215dfe6a746': {
    trainer: 'text-sft',
    kind: 'text',
    stand_in: true,
    description: 'Stand-in for Newton 3B: hashed n-gram softmax classifier over the outputs seen in training',
  },
  omega: {
    trainer: 'timeseries',
    kind: 'timeseries',
    stand_in: true,
    description: 'Stand-in for Omega 1.5: frozen MiniRocket-family encoder + head or knn',
  },
  // A batch pipeline (POST /v0.5/batch/jobs, docs/batch.md), not a fine-tunable model: its key is the pipeline_key.
  'machine-state-classification': {
    trainer: 'batch-msc',
    kind: 'batch',
    version: '1',
    stand_in: true,
    description: 'Batch classification of CSV time series with a fine-tuned omega checkpoint (head or knn) or a few-shot knn on the built-in encoder',
  },
};

export { DEFAULT_MODEL_ID as DEFAULT_MODEL } from '../domain/catalog.js';
