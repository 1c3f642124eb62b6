/**
 * The trainer protocol, version 1: how a worker talks to a trainer process, in any language.
 * Newline-delimited JSON over stdio (docs/trainer-protocol.md is the prose version of this file).
 *
 *   worker → trainer (stdin):  one `start` line first, then at most one `stop` line, and
 *                              `checkpoint_result` acknowledgements. stdin closing means the worker
 *                              is gone: the trainer must exit at once (no orphan keeps training).
 *   trainer → worker (stdout): TrainerMessage lines. Lines that are not JSON objects are kept as logs.
 *   stderr:                    free text, kept as log events (the last 4 KiB go into a failure message).
 *   exit code:                 0 done (completed or stopped on request), 2 invalid dataset,
 *                              3 invalid configuration, anything else (or a signal) a crash.
 *   cancel:                    SIGKILL to the trainer's process group; nothing it writes afterwards counts.
 */

export const PROTOCOL_VERSION = 1;

export const EXIT_OK = 0;
export const EXIT_INVALID_DATASET = 2;
export const EXIT_INVALID_CONFIG = 3;

export interface TrainerFile {
  file_id: string;
  /** Absolute path of the exact bytes snapshotted at job create (read-only). */
  path: string;
  /** One class per file for time-series datasets (v0.6 `label`). */
  label?: string;
}

export interface TrainerDataset {
  name: string;
  split: 'train' | 'eval';
  files: TrainerFile[];
}

export interface ResumePoint {
  checkpoint_id: string;
  step: number;
  /** Absolute path of the committed checkpoint file (read-only). */
  path: string;
}

export interface TrainerSpec {
  protocol: number;
  job_id: string;
  attempt: number;
  model: string;
  /** Catalog trainer name, e.g. `text-sft` or `timeseries`. */
  trainer: string;
  /** The job's resolved config (v0.5 `config`, or the v0.6 body). */
  config: Record<string, unknown>;
  datasets: TrainerDataset[];
  /** A private, writable folder for this attempt: checkpoint files are written here. */
  work_dir: string;
  resume: ResumePoint | null;
  seed: number;
  /**
   * Batch jobs only (absent otherwise): the fine-tune checkpoint attached to the job (read-only,
   * resolved at claim) and the outputs earlier attempts already committed (a resumed attempt skips
   * their inputs). docs/batch.md.
   */
  resources?: TrainerResources;
}

export interface TrainerResources {
  checkpoint?: { checkpoint_id: string; path: string; sha256: string };
  committed_outputs?: Array<{ filename: string; input_file_id: string }>;
}

export type WorkerToTrainer =
  | { type: 'start'; spec: TrainerSpec }
  | { type: 'stop' }
  | { type: 'checkpoint_result'; step: number; committed: boolean; checkpoint_id: string | null };

export type TrainerMessage =
  | { type: 'hello'; protocol: number; trainer: string }
  | { type: 'hyperparameters'; values: Record<string, number | string | boolean> }
  | { type: 'progress'; step: number; total_steps: number; epoch?: number; phase?: string }
  | { type: 'metrics'; step: number; values: Record<string, number> }
  | { type: 'eval_start'; step: number }
  /**
   * `step` is on the same axis as progress and metrics (one x axis for every curve); an `epoch` key
   * in `metrics` is recorded as the entry's epoch field, not as a metric.
   */
  | { type: 'eval_end'; step: number; metrics: Record<string, number> }
  /**
   * Optional: the trainer ends its loop early (no improvement for `patience` evaluations). The job's
   * total_steps becomes `step` (so "step N of M" and the remaining time say so) and an
   * `early_stopped` event is recorded; finalization follows as usual.
   */
  | { type: 'early_stop'; step: number; epoch?: number; message: string }
  /** A complete checkpoint file in work_dir; the worker verifies size + sha256, then commits it. */
  | {
      type: 'checkpoint'; step: number; path: string; sha256: string; size: number; metrics: Record<string, number>; name?: string;
      /** Facts for the inference config: labels, reader/window settings, checkpoint format. */
      meta?: Record<string, unknown>;
    }
  /**
   * A complete batch output file in work_dir (batch jobs): the worker verifies size + sha256 and
   * commits it under a new key in `outputs/<job uuid>/` (fenced: nothing is committed after a cancel).
   */
  | { type: 'output'; filename: string; path: string; size: number; sha256: string; input_file_id: string }
  /** The training loop is over; what follows is the final evaluation (job → FINALIZING). */
  | { type: 'finalizing' }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'error'; code: 'invalid_dataset' | 'invalid_config' | 'trainer_error'; message: string }
  | { type: 'done'; reason: 'completed' | 'stopped'; step: number; metrics?: Record<string, number> };

export function isTrainerMessage(v: unknown): v is TrainerMessage {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}
