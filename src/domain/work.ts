/**
 * What a worker holds while it runs a job: the claimed job, its fence (attempt + lease token),
 * the catalog entry to run, the datasets as local paths and where to resume from.
 */
import type { CatalogEntry } from './catalog.js';
import type { Job } from './types.js';

/** A fenced write's credentials: the attempt and the token it was given at claim. */
export interface Fence {
  attempt_id: string;
  lease_token: number;
}

export interface ClaimedWork {
  job: Job;
  fence: Fence;
  attempt_number: number;
  entry: CatalogEntry;
  datasets: Array<{ name: string; split: 'train' | 'eval'; files: Array<{ file_id: string; path: string; label?: string }> }>;
  resume: { checkpoint_id: string; step: number; path: string } | null;
  /** Batch jobs only (docs/batch.md): the attached checkpoint and the outputs earlier attempts committed. */
  resources?: WorkResources;
}

export interface WorkResources {
  checkpoint?: { checkpoint_id: string; path: string; sha256: string };
  committed_outputs?: Array<{ filename: string; input_file_id: string }>;
}

/** A batch output file reported by a trainer (`output` message), to verify and commit. */
/** A plain output file name: no separator, no leading dot, at most 255 bytes (what a trainer may report). */
export const OUTPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export interface OutputReport {
  filename: string;
  /** Absolute path of the finished file in the attempt's scratch folder. */
  path: string;
  size: number;
  sha256: string;
  input_file_id: string;
}

export interface CheckpointReport {
  step: number;
  name: string;
  /** Absolute path of the finished file in the attempt's scratch folder. */
  path: string;
  size: number;
  sha256: string;
  metrics: Record<string, number>;
  meta: Record<string, unknown>;
}

/** Where a remote worker downloads a file: a worker-API path (or a presigned URL), with what to verify. */
export interface RemoteRef {
  url: string;
  size: number;
  sha256: string;
}

/** ClaimedWork on the wire (the worker API's claim reply): files as refs; the worker turns them into local paths. */
export interface RemoteWork {
  job: Job;
  fence: Fence;
  attempt_number: number;
  entry: CatalogEntry;
  datasets: Array<{ name: string; split: 'train' | 'eval'; files: Array<{ file_id: string; label?: string; ref: RemoteRef }> }>;
  resume: { checkpoint_id: string; step: number; ref: RemoteRef } | null;
  resources?: { checkpoint?: { checkpoint_id: string; sha256: string; ref: RemoteRef }; committed_outputs?: Array<{ filename: string; input_file_id: string }> };
}

/** The worker API's settings as a worker reads them at start (GET /v1/worker/info). */
export interface WorkerInfo {
  lease_ms: number;
  heartbeat_ms: number;
  claim_wait_ms: number;
}

/** One line of a worker session stream (GET /v1/worker/session, newline-delimited JSON). */
export interface SessionLine {
  type: 'hello' | 'status' | 'ping';
  job_uuid?: string;
  attempt_id?: string;
  status?: string;
}
