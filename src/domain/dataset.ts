/**
 * The shapes trainers and the service exchange about datasets (both layers import domain, neither
 * imports the other): a problem found in a file, what validation reads, and what prediction takes.
 */

/** A problem found in a dataset: which file, where, what. Config problems use a parenthesised file id. */
export interface DatasetProblem {
  file_id: string;
  line?: number;
  column?: string;
  message: string;
}

/** A job's config and its datasets as local files: what create-time validation reads. */
export interface DatasetInput {
  config: Record<string, unknown>;
  datasets: Array<{ name: string; split: 'train' | 'eval'; files: Array<{ file_id: string; path: string; label?: string }> }>;
}

/** What prediction takes: text examples (SFT) in the dataset's own shape, or CSV files / rows (time series). */
export interface PredictRequest {
  examples?: unknown[];
  files?: Array<{ file_id: string; path: string }>;
  rows?: Array<Record<string, unknown>>;
}
