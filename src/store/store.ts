/**
 * The Store interface: one method per use-case, each atomic (one transaction). SQLite and PostgreSQL
 * implement it. test/store-conformance.test.ts runs the same cases on both and fails when a method
 * of this interface is called by none of them (docs/testing.md).
 * Every status write is a compare-and-set on the status it read (`WHERE status = <read>`), guarded by
 * the table's `status IN (allowedFrom(action))` (planned in policy.ts); every write on behalf of an attempt
 * carries its fencing token and is refused once that token has lost its lease.
 */
import { FtError } from '../domain/errors.js';
import type { JobAction, JobStatus } from '../domain/status.js';
import type { Fence } from '../domain/work.js';
import type {
  ApiKeyRecord,
  ApiVersion,
  Attempt,
  Checkpoint,
  EventLevel,
  FileRecord,
  Job,
  JobError,
  JobEvent,
  JobProgress,
  JobView,
  JobViewKey,
  MetricEntry,
  Org,
  WorkerRecord,
  WorkerTokenRecord,
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
  /** Only jobs of these API families (batch jobs never appear in fine-tune lists); absent = all. */
  api_versions?: ApiVersion[];
  limit: number; // -1 = all
  offset: number;
  /**
   * Keyset cursor: only jobs that come after this one in the list order (newest first: created
   * earlier, or at the same instant with a smaller id). A page costs O(limit) at any depth, where
   * `offset` walks every skipped row.
   */
  after?: { created_at: number; id: string };
}

export type { Fence };

/** createJob's answer when a snapshotted file version was purged (replaced and collected) meanwhile. */
export function fileVersionsGone(file_uids: string[]): FtError {
  return new FtError('file_not_found', `file version(s) ${file_uids.join(', ')} were replaced and removed while the job was being created; retry`).in('request');
}

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

// ---- direct uploads and the files API v0.5 (docs/files.md); implemented in sqlite/queries/uploads.ts, postgres/queries/uploads.ts
/** open → completing → completed; open → aborted | expired; completing → open when assembly fails. */
export type UploadState = 'open' | 'completing' | 'completed' | 'aborted' | 'expired';

export interface UploadRecord {
  upload_id: string;
  org_uuid: string;
  file_id: string;
  file_uid: string; // reserved at initiate, used by the file version that complete creates
  file_type: string;
  num_bytes: number;
  part_size: number;
  num_parts: number;
  state: UploadState;
  created_at: number;
  updated_at: number; // last activity; the expiry sweep counts idle time from here
}

export interface UploadPart {
  upload_id: string;
  part_number: number;
  token: string; // the ETag handed to the client; a re-sent part gets a new one
  num_bytes: number;
  staged_name: string; // the part's file in the blob store's part group of the upload
  crc32c: number | null; // of the part's bytes, computed while they arrived
  checkpointed: boolean;
  created_at: number;
}

export interface PartRef {
  part_number: number;
  token: string;
}

export type BeginUploadResult =
  | { kind: 'created'; upload: UploadRecord; superseded: UploadRecord | null }
  | { kind: 'resumed'; upload: UploadRecord; parts: UploadPart[] }
  | { kind: 'file_exists' }
  | { kind: 'busy'; upload: UploadRecord };

/** ok, or why not: the upload is not open (state), tokens that do not match (bad), parts absent (missing). */
export type PartsRefusal = { ok: false; state: UploadState | null; bad: number[]; missing: number[] };
export type PartsResult = { ok: true; parts: UploadPart[] } | PartsRefusal;
/** complete_token fences this completion: finish, reopen and the heartbeat must name it. */
export type BeginCompleteResult = { ok: true; parts: UploadPart[]; complete_token: number } | PartsRefusal;

export interface FileStats {
  num_files: number;
  num_bytes: number;
  last_updated: number | null; // ms of the newest upload or delete in the org
}

// ---- worker tokens (docs/scaling.md); sqlite/queries/tokens.ts, postgres/queries/tokens.ts
export type { WorkerTokenRecord } from '../domain/types.js'; // the record lives in domain/ so http/ can name it

export interface WorkerTokenStore {
  insertWorkerToken(t: WorkerTokenRecord, hash: string): Promise<void>;
  /** The active (not revoked) token with this hash, or null. */
  findWorkerTokenByHash(hash: string): Promise<(WorkerTokenRecord & { hash: string }) | null>;
  listWorkerTokens(): Promise<WorkerTokenRecord[]>;
  /** Revokes an active token; false when there is no active token with that id. */
  revokeWorkerToken(id: string, now: number): Promise<boolean>;
}

export interface Store extends WorkerTokenStore {
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
  /** Of these versions, the blob keys that an unpurged row still names (the orphan-blob sweep keeps those). */
  fileBlobKeysInUse(file_uids: string[]): Promise<Set<string>>;
  /**
   * Claims a collectable version for deletion, re-checked in the same transaction: true only when it
   * is not current (or deleted), not purged yet and no non-terminal job uses it. Delete its bytes only
   * after a true. createJob refuses purged versions, so a job never snapshots bytes that are going.
   */
  markFileVersionPurged(file_uid: string): Promise<boolean>;

  // jobs
  /** Inserts the job (REGISTERED) with its first event, or returns the existing one with that id. */
  createJob(job: Job, event: NewEvent): Promise<CreateJobResult>;
  getJob(org_uuid: string, id: string): Promise<Job | null>;
  getJobByUuid(uuid: string): Promise<Job | null>;
  findJobByIdempotencyKey(org_uuid: string, key: string): Promise<Job | null>;
  listJobs(q: ListJobsQuery): Promise<Job[]>;
  /** The same page as listJobs, as keys only (uuid + row_version, read from the list index). */
  listJobViewKeys(q: ListJobsQuery): Promise<JobViewKey[]>;
  /** These jobs of the org as JobViews (the record's columns, JSON columns as stored text), any order. */
  getJobViews(org_uuid: string, uuids: string[]): Promise<JobView[]>;
  /** User or control-plane transition: CAS from `expected` to the table's target; event in the same write. */
  transition(job_uuid: string, action: JobAction, expected: JobStatus, now: number, event: NewEvent, patch?: TransitionPatch): Promise<Job | null>;
  deleteJob(job_uuid: string): Promise<boolean>;
  /** Jobs per status: of one organization, or (no argument: operator metrics) of all. */
  countJobsByStatus(org_uuid?: string): Promise<Record<string, number>>;

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
  /** Appends the event only while the fence holds (at `now`) and the job may still write (a batch output's commit record). */
  appendFencedEvent(fence: Fence, now: number, event: NewEvent): Promise<boolean>;
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

  // files API v0.5 and direct uploads (<dialect>/queries/uploads.ts, files.ts)
  fileStats(org_uuid: string): Promise<FileStats>;
  /**
   * Initiate, atomically: file_exists when the name has a current file; busy when an upload of the
   * name is completing; resumed (resume=true, same num_bytes) returns the open upload of the name;
   * otherwise any open upload of the name is superseded (aborted) and `u` is inserted.
   */
  beginUpload(u: UploadRecord, resume: boolean): Promise<BeginUploadResult>;
  getUpload(upload_id: string): Promise<UploadRecord | null>;
  /** The open or completing upload of a name, if any. */
  getLiveUpload(org_uuid: string, file_id: string): Promise<UploadRecord | null>;
  listUploadParts(upload_id: string): Promise<UploadPart[]>;
  /** Records (or replaces) a part while the upload is open; `replaced` names the superseded part file. */
  recordUploadPart(part: UploadPart, now: number): Promise<{ recorded: boolean; replaced: string | null }>;
  /** Marks parts checkpointed when every token matches the part's current one; all or nothing. */
  checkpointUploadParts(upload_id: string, refs: PartRef[], now: number): Promise<PartsResult>;
  /** open → completing, once every part is checkpointed or named here with its current token. */
  beginCompleteUpload(upload_id: string, refs: PartRef[], now: number): Promise<BeginCompleteResult>;
  /**
   * completing → completed plus the new file version, in one write; null when not completing under
   * this complete_token (a stalled assembler whose upload was reopened and completed again).
   */
  finishUpload(upload_id: string, complete_token: number, file: Omit<FileRecord, 'file_index' | 'is_current'>, now: number): Promise<FileRecord | null>;
  /**
   * completing → open (assembly failed or the checksum did not match); the parts stay, except those
   * in `drop` (part number and token: their bytes changed after they were recorded), which are
   * forgotten in the same transaction. Fenced like finishUpload.
   */
  reopenUpload(upload_id: string, complete_token: number, now: number, drop?: PartRef[]): Promise<void>;
  /** The assembler's heartbeat: updated_at = now while still completing under this token; false otherwise. */
  touchCompletingUpload(upload_id: string, complete_token: number, now: number): Promise<boolean>;
  /** open → aborted; returns the state before (null: no such upload). */
  abortUpload(upload_id: string, now: number): Promise<UploadState | null>;
  /** Open uploads idle since before `cutoff` → expired; returned so their part files can go. */
  expireUploads(cutoff: number, now: number): Promise<UploadRecord[]>;
  /**
   * Uploads left completing by a dead process → open; with `staleBefore`, only those whose assembler
   * last reported before it (other replicas may be assembling the rest). Returns how many.
   */
  reopenInterruptedUploads(now: number, staleBefore?: number): Promise<number>;
  /** The part files every open upload still needs, by upload id (startup reconciliation). */
  listLiveUploadParts(): Promise<Map<string, string[]>>;

  // workers (fleet status)
  upsertWorker(w: WorkerRecord): Promise<void>;
  listWorkers(): Promise<WorkerRecord[]>;
  removeWorker(id: string): Promise<void>;
}
