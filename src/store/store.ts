/**
 * The Store interface: one method per use-case, each atomic (one transaction). SQLite and PostgreSQL
 * implement it; the conformance suite (test/store-conformance.test.ts) runs against both.
 * Every status write is a compare-and-set whose guard comes from domain/status.ts; every write on
 * behalf of an attempt carries its fencing token and is refused once that token has lost its lease.
 */
import type { JobAction, JobStatus } from '../domain/status.js';
import type { Fence } from '../domain/work.js';
import type {
  ApiKeyRecord,
  Attempt,
  Checkpoint,
  EventLevel,
  FileRecord,
  Job,
  JobError,
  JobEvent,
  JobProgress,
  MetricEntry,
  Org,
  WorkerRecord,
} from '../domain/types.js';

export interface NewEvent {
  level: EventLevel;
  type: string;
  message: string;
  data?: Record<string, unknown> | null;
}

export interface ListJobsQuery {
  org_uuid: string;
  statuses?: JobStatus[];
  limit: number; // -1 = all
  offset: number;
}

export type { Fence };

export interface TransitionPatch {
  inference_config_path?: string | null;
  error?: JobError | null;
  progress?: JobProgress | null;
  stop_requested_at?: number;
}

export type CreateJobResult = { created: true; job: Job } | { created: false; job: Job };

export interface ClaimResult {
  job: Job;
  attempt: Attempt;
  resume: Checkpoint | null;
}

export interface LostAttempt {
  attempt: Attempt;
  job: Job; // after the transition
  action: 'requeued' | 'failed' | 'stopped' | 'released';
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  // organizations and keys
  ensureOrg(name: string, now: number): Promise<Org>;
  getOrg(uuid: string): Promise<Org | null>;
  insertApiKey(key: ApiKeyRecord, hash: string): Promise<void>;
  findApiKeyByHash(hash: string): Promise<(ApiKeyRecord & { org: Org; hash: string }) | null>;
  listApiKeys(org_uuid: string): Promise<ApiKeyRecord[]>;
  revokeApiKey(org_uuid: string, id: string, now: number): Promise<boolean>;
  countApiKeys(): Promise<number>;

  // files
  /** Stores a new version of `file_id`; the previous current version (if any) stops being current. */
  insertFileVersion(file: Omit<FileRecord, 'file_index' | 'is_current'>): Promise<FileRecord>;
  getCurrentFile(org_uuid: string, file_id: string): Promise<FileRecord | null>;
  getFileByUid(org_uuid: string, file_uid: string): Promise<FileRecord | null>;
  listCurrentFiles(org_uuid: string): Promise<FileRecord[]>;
  /** Marks the current version deleted; returns it, or null when there is none. */
  deleteCurrentFile(org_uuid: string, file_id: string, now: number): Promise<FileRecord | null>;
  /** Non-current or deleted versions that no non-terminal job snapshotted: their bytes may go. */
  listCollectableFileVersions(limit: number): Promise<FileRecord[]>;
  markFileVersionPurged(file_uid: string): Promise<void>;

  // jobs
  /** Inserts the job (REGISTERED) with its first event, or returns the existing one with that id. */
  createJob(job: Job, event: NewEvent): Promise<CreateJobResult>;
  getJob(org_uuid: string, id: string): Promise<Job | null>;
  getJobByUuid(uuid: string): Promise<Job | null>;
  findJobByIdempotencyKey(org_uuid: string, key: string): Promise<Job | null>;
  listJobs(q: ListJobsQuery): Promise<Job[]>;
  /** User or control-plane transition: CAS from `expected` to the table's target; event in the same write. */
  transition(job_uuid: string, action: JobAction, expected: JobStatus, now: number, event: NewEvent, patch?: TransitionPatch): Promise<Job | null>;
  deleteJob(job_uuid: string): Promise<boolean>;
  countJobsByStatus(): Promise<Record<string, number>>;

  // attempts (worker side, fenced)
  /** Claims the oldest REGISTERED job: attempt + new fencing token + STARTING, atomically. */
  claimJob(worker_id: string, now: number, lease_ms: number): Promise<ClaimResult | null>;
  /** Extends the lease; returns the job's status, or null when the token has lost its lease. */
  heartbeat(fence: Fence, now: number, lease_ms: number): Promise<JobStatus | null>;
  /** Worker transition, refused (null) unless the fence still holds and the status allows it. */
  fencedTransition(fence: Fence, action: JobAction, now: number, event: NewEvent, patch?: TransitionPatch): Promise<Job | null>;
  /** Progress and hyperparameters, fenced; returns false when the fence no longer holds. */
  updateProgress(fence: Fence, now: number, progress: JobProgress, hyperparameters?: Record<string, unknown>): Promise<boolean>;
  /** Inserts the checkpoint row only while the fence holds (at ckpt.created_at) and the job may still checkpoint. */
  commitCheckpoint(fence: Fence, ckpt: Checkpoint): Promise<boolean>;
  /** Ends the attempt (finished) without touching the job status. */
  endAttempt(fence: Fence, now: number): Promise<void>;
  /** Whether the fence still holds at `now` (active attempt, current token, lease not expired). */
  fenceHolds(fence: Fence, now: number): Promise<boolean>;
  getAttempt(id: string): Promise<Attempt | null>;
  /**
   * Attempts whose lease expired at `now`, or held by workers known dead (ids starting with
   * `dead.prefix` but not `dead.except`), become lost; their jobs move per the table (requeue, or
   * FAILED worker_lost past max_attempts). STOPPING jobs are only released: the service finalizes them.
   */
  reapLostAttempts(now: number, max_attempts: number, dead?: { prefix: string; except: string }): Promise<LostAttempt[]>;
  /** STOPPING jobs whose stop was requested before `cutoff` (grace budget spent). */
  listOverdueStopping(cutoff: number): Promise<Job[]>;

  // events, metrics, checkpoints
  appendEvent(job_uuid: string, now: number, event: NewEvent): Promise<JobEvent>;
  listEvents(job_uuid: string, opts: { afterSeq?: number; limit: number; newestFirst?: boolean; offset?: number }): Promise<JobEvent[]>;
  appendMetrics(fence: Fence, job_uuid: string, step: number, values: Record<string, number>, now: number): Promise<boolean>;
  listMetrics(job_uuid: string, limit: number, offset: number): Promise<MetricEntry[]>;
  listCheckpoints(job_uuid: string): Promise<Checkpoint[]>;
  getCheckpoint(job_uuid: string, id: string): Promise<Checkpoint | null>;
  latestCheckpoint(job_uuid: string): Promise<Checkpoint | null>;

  // workers (fleet status)
  upsertWorker(w: WorkerRecord): Promise<void>;
  listWorkers(): Promise<WorkerRecord[]>;
  removeWorker(id: string): Promise<void>;
}
