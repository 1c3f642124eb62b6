/**
 * What a worker needs from the control plane. The in-process pool uses the AttemptsService directly;
 * a remote worker implements the same interface over HTTP, so the runner below is shared by both.
 * The fenced calls (heartbeat, progress, metrics, event, advance, finish, fail) are the worker
 * protocol's table (api/worker-protocol.ts, FencedMethods): heartbeat extends the lease and answers
 * the job's status, or null once the lease is lost (stop at once); the writes answer false/null when
 * refused. Claims, scratch folders and the two file commits have shapes of their own.
 */
import type { FencedMethods } from '../api/worker-protocol.js';
import type { JobStatus } from '../domain/status.js';
import type { Checkpoint, Job } from '../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport } from '../domain/work.js';

export interface WorkSource extends FencedMethods {
  readonly leaseMs: number;
  claim(worker_id: string): Promise<ClaimedWork | null>;
  scratchDir(job: Job, attempt_number: number): Promise<string>;
  commitCheckpoint(fence: Fence, job: Job, report: CheckpointReport): Promise<Checkpoint | null>;
  /** Batch jobs: verify and commit one output file (fenced); false when refused. */
  commitOutput(fence: Fence, job: Job, report: OutputReport): Promise<boolean>;
}

/** Optional push channel: status changes arrive at once instead of at the next heartbeat. */
export interface StatusFeed {
  onStatus(job_uuid: string, fn: (status: JobStatus) => void): () => void;
  onWork(fn: () => void): () => void;
}
