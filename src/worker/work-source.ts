/**
 * What a worker needs from the control plane. The in-process pool uses the AttemptsService directly;
 * a remote worker implements the same interface over HTTP, so the runner below is shared by both.
 */
import type { JobStatus } from '../domain/status.js';
import type { Checkpoint, EventLevel, Job, JobProgress } from '../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport } from '../domain/work.js';

export interface WorkSource {
  readonly leaseMs: number;
  claim(worker_id: string): Promise<ClaimedWork | null>;
  /** Extends the lease; the job's status, or null once the lease is lost (stop at once). */
  heartbeat(fence: Fence): Promise<JobStatus | null>;
  scratchDir(job: Job, attempt_number: number): Promise<string>;
  progress(fence: Fence, job: Job, p: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean>;
  metrics(fence: Fence, job: Job, step: number, values: Record<string, number>): Promise<boolean>;
  event(fence: Fence, job: Job, level: EventLevel, type: string, message: string, data?: Record<string, unknown>): Promise<boolean>;
  advance(fence: Fence, action: 'start_training' | 'finalize', event: { level: EventLevel; type: string; message: string }, progress?: JobProgress): Promise<Job | null>;
  commitCheckpoint(fence: Fence, job: Job, report: CheckpointReport): Promise<Checkpoint | null>;
  /** Batch jobs: verify and commit one output file (fenced); false when refused. */
  commitOutput(fence: Fence, job: Job, report: OutputReport): Promise<boolean>;
  finish(fence: Fence, job_uuid: string): Promise<Job | null>;
  fail(fence: Fence, code: string, message: string): Promise<Job | null>;
}

/** Optional push channel: status changes arrive at once instead of at the next heartbeat. */
export interface StatusFeed {
  onStatus(job_uuid: string, fn: (status: JobStatus) => void): () => void;
  onWork(fn: () => void): () => void;
}
