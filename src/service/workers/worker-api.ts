/**
 * The worker API's use-cases (docs/scaling.md): what a remote worker may do, on top of the same
 * AttemptsService the in-process pool calls, so both kinds of workers obey one set of rules.
 * - Claims long-poll (worker-claims.ts) and return the work with download refs (URL + size + sha256)
 *   instead of local paths; server-side worker ids are `remote:<token id>:<node>:<boot>:<slot>`, so a
 *   token can only ever act on (and recover) attempts of its own workers.
 * - Every write and download is fenced (attempt + lease token); the job is derived from the attempt,
 *   never taken from the request, so a valid fence cannot write into another job.
 * - Checkpoint and output uploads go through AttemptsService (size + sha256 verified, fenced record):
 *   on object storage streamed straight into the bucket under a new key (commit*Stream), on local
 *   disk spooled to a scratch file that is renamed in (commitCheckpoint / commitOutput).
 */
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobMismatchError } from '../../blobs/blob-store.js';
import { FtError } from '../../domain/errors.js';
import type { Checkpoint, Job } from '../../domain/types.js';
import type { CheckpointReport, ClaimedWork, Fence, OutputReport, RemoteRef, RemoteWork, WorkerInfo } from '../../domain/work.js';
import { randomHex } from '../../lib/ids.js';
import type { AttemptsService } from '../attempts/attempts-service.js';
import { listCommittedOutputs } from '../batch/batch-outputs.js';
import type { ServiceCore } from '../deps.js';
import { ClaimWaiters } from './worker-claims.js';

/** 1 h: a worker starts its downloads right after the claim; a retry after that claims again and gets fresh URLs. */
const PRESIGNED_REF_TTL_MS = 3600_000;

export type { RemoteRef, RemoteWork, WorkerInfo };

export interface WorkerApiSettings extends WorkerInfo {}

/** A download the route streams: bytes plus the size and sha256 the worker checks them against. */
export interface Download {
  stream: Readable;
  size: number;
  sha256: string;
}

/** The bytes that arrived are not the ones the worker reported: a 400 the worker logs (its trainer is told "not committed"). */
function mismatch(err: unknown): never {
  if (err instanceof BlobMismatchError) throw new FtError('checksum_mismatch', `the uploaded file does not match its report: ${err.message}`);
  throw err;
}

/** The request broke off while the fence was checked: nothing is stored (Node 20's pipeline never settles on a source destroyed before it is attached). */
function destroyedBody(): never {
  throw new FtError('invalid_parameter', 'the upload ended before its file part could be stored: nothing was stored');
}

const CLIENT_ID = /^remote:([A-Za-z0-9._-]{1,64}):([0-9a-f]{1,32}):(\d{1,4})$/;
const CLIENT_PREFIX = /^remote:([A-Za-z0-9._-]{1,64}):(?:([0-9a-f]{1,32}):)?$/;
const JOB_CACHE = 4_096; // attempts whose job is remembered: ~ all attempts running at once, with room

/** The worker API paths of download refs (the protocol table's, api/worker-protocol.ts, passed in by the composition root). */
export interface DownloadPaths {
  datasetFile(attempt_id: string, file_uid: string): string;
  checkpointFile(attempt_id: string, checkpoint_id: string): string;
  resourceCheckpoint(attempt_id: string): string;
}

export interface WorkerApiDeps extends Pick<ServiceCore, 'store' | 'blobs' | 'clock' | 'bus' | 'events'> {
  attempts: AttemptsService;
  settings: WorkerApiSettings;
  paths: DownloadPaths;
}

/** What a fenced AttemptsService method takes between the fence and its other arguments (the protocol table's `job`). */
export type JobArgument = 'record' | 'uuid' | null;

/** AttemptsService.fail reports its own refusals (attemptFailed), for in-process workers too: not counted twice here. */
const SELF_REPORTED = new Set(['fail']);

export class WorkerApi {
  private readonly waiters: ClaimWaiters;
  private readonly jobs = new Map<string, Job>(); // attempt id → its job (the relation never changes)
  private readonly store: WorkerApiDeps['store'];
  private readonly blobs: WorkerApiDeps['blobs'];
  private readonly clock: WorkerApiDeps['clock'];
  private readonly attempts: AttemptsService;
  readonly settings: WorkerApiSettings;

  constructor(private readonly d: WorkerApiDeps) {
    ({ store: this.store, blobs: this.blobs, clock: this.clock, attempts: this.attempts, settings: this.settings } = d);
    this.waiters = new ClaimWaiters(d.bus);
  }

  info(): WorkerInfo {
    return { lease_ms: this.settings.lease_ms, heartbeat_ms: this.settings.heartbeat_ms, claim_wait_ms: this.settings.claim_wait_ms };
  }

  /** `remote:<node>:<boot>:<slot>` from the worker → `remote:<token id>:<node>:<boot>:<slot>`, or null. */
  static workerId(tokenId: string, clientId: string): string | null {
    return CLIENT_ID.test(clientId) ? `remote:${tokenId}:${clientId.slice('remote:'.length)}` : null;
  }

  /** `remote:<node>:` or `remote:<node>:<boot>:` → the same prefix under the token, or null. */
  static workerPrefix(tokenId: string, clientPrefix: string): string | null {
    return CLIENT_PREFIX.test(clientPrefix) ? `remote:${tokenId}:${clientPrefix.slice('remote:'.length)}` : null;
  }

  get waitingClaims(): number {
    return this.waiters.waiting;
  }

  /** Long-poll: a claim now, or the first job queued within `waitMs`; null when none came. */
  async claim(worker_id: string, waitMs: number, signal: AbortSignal): Promise<RemoteWork | null> {
    const wait = Math.max(0, Math.min(waitMs, this.settings.claim_wait_ms));
    const work = await this.waiters.run(() => this.attempts.claim(worker_id, false), performance.now() + wait, signal);
    return work && this.toRemote(work);
  }

  private async toRemote(w: ClaimedWork): Promise<RemoteWork> {
    const a = w.fence.attempt_id;
    this.remember(a, w.job);
    const datasets: RemoteWork['datasets'] = [];
    for (const [i, ds] of w.datasets.entries()) {
      const files = [];
      for (const [j, f] of ds.files.entries()) {
        const uid = w.job.datasets[i]!.files[j]!.file_uid; // AttemptsService.claim keeps the snapshot's order
        const rec = (await this.store.getFileByUid(w.job.org_uuid, uid))!;
        const url = (await this.presigned(rec.blob_key)) ?? this.d.paths.datasetFile(a, uid);
        files.push({ file_id: f.file_id, ...(f.label !== undefined ? { label: f.label } : {}), ref: { url, size: rec.num_bytes, sha256: rec.sha256 } });
      }
      datasets.push({ name: ds.name, split: ds.split, files });
    }
    let resume: RemoteWork['resume'] = null;
    if (w.resume) {
      const c = (await this.store.getCheckpoint(w.job.uuid, w.resume.checkpoint_id))!;
      const url = (await this.presigned(c.blob_key)) ?? this.d.paths.checkpointFile(a, c.id);
      resume = { checkpoint_id: c.id, step: c.step, ref: { url, size: c.num_bytes, sha256: c.sha256 } };
    }
    const out: RemoteWork = { job: w.job, fence: w.fence, attempt_number: w.attempt_number, entry: w.entry, datasets, resume };
    if (w.resources) {
      const { checkpoint, committed_outputs } = w.resources;
      out.resources = { ...(committed_outputs ? { committed_outputs } : {}) };
      if (checkpoint) {
        const ref = w.job.config.checkpoint as { job_uuid: string; checkpoint_id: string };
        const c = (await this.store.getCheckpoint(ref.job_uuid, checkpoint.checkpoint_id))!; // batchResources just found it
        const url = (await this.presigned(c.blob_key)) ?? this.d.paths.resourceCheckpoint(a);
        out.resources.checkpoint = { checkpoint_id: checkpoint.checkpoint_id, sha256: checkpoint.sha256, ref: { url, size: c.num_bytes, sha256: checkpoint.sha256 } };
      }
    }
    return out;
  }

  /**
   * On object storage a worker downloads straight from the bucket (presigned GET, valid for the
   * lease's worth of retries: 1 h), so no byte of a dataset passes through the control plane; null on
   * local disk, where the ref is the API path.
   */
  private presigned(key: string): Promise<string | null> {
    return this.blobs.presignGet(key, PRESIGNED_REF_TTL_MS);
  }

  private remember(attempt_id: string, job: Job): void {
    if (this.jobs.size >= JOB_CACHE) this.jobs.delete(this.jobs.keys().next().value!); // oldest first
    this.jobs.set(attempt_id, job);
  }

  /** The job of an attempt (cached: only its uuid, org and snapshot are used, which never change). */
  async jobOf(attempt_id: string): Promise<Job | null> {
    const hit = this.jobs.get(attempt_id);
    if (hit) return hit;
    const attempt = await this.store.getAttempt(attempt_id);
    const job = attempt && (await this.store.getJobByUuid(attempt.job_uuid));
    if (job) this.remember(attempt_id, job);
    return job ?? null;
  }

  async holds(fence: Fence): Promise<Job | null> {
    if (!(await this.store.fenceHolds(fence, this.clock.now()))) return null;
    return this.jobOf(fence.attempt_id);
  }

  private refused<T extends null | false>(op: string, fence: Fence, value: T): T {
    this.d.events.emit('writeRefused', { op, attempt_id: fence.attempt_id });
    return value;
  }

  /**
   * A fenced call of the protocol table (api/worker-protocol.ts) on the AttemptsService method of the
   * same name: `job` 'record' passes the attempt's job (none: refused), 'uuid' its uuid after checking
   * the fence up front (the call ends the attempt: a zombie must not even write the inference config
   * blob). A refusal (`refused`: false or null, as the table says) is a normal answer, and counted (writeRefused).
   */
  async fenced(name: string, job: JobArgument, fence: Fence, args: unknown[], refused: false | null): Promise<unknown> {
    const method = (this.attempts as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') throw new Error(`the AttemptsService has no fenced method '${name}'`);
    const call = (...a: unknown[]): Promise<unknown> => (method as (...x: unknown[]) => Promise<unknown>).apply(this.attempts, [fence, ...a]);
    let result: unknown;
    if (job === 'record') {
      const j = await this.jobOf(fence.attempt_id);
      result = j ? await call(j, ...args) : refused;
    } else if (job === 'uuid') {
      const j = await this.holds(fence);
      result = j ? await call(j.uuid, ...args) : refused;
    } else result = await call(...args);
    if (result === refused && !SELF_REPORTED.has(name)) this.d.events.emit('writeRefused', { op: name, attempt_id: fence.attempt_id });
    return result;
  }

  /** A dataset file of the attempt's job; null when the fence does not hold or the file is not the job's. */
  async datasetFile(fence: Fence, file_uid: string): Promise<Download | null> {
    const job = await this.holds(fence);
    if (!job || !job.datasets.some((d) => d.files.some((f) => f.file_uid === file_uid))) return null;
    const rec = await this.store.getFileByUid(job.org_uuid, file_uid);
    const stream = rec && (await this.blobs.openRead(rec.blob_key));
    return stream ? { stream, size: rec.num_bytes, sha256: rec.sha256 } : null;
  }

  /** A committed checkpoint of the attempt's own job (the resume point). */
  async checkpointFile(fence: Fence, checkpoint_id: string): Promise<Download | null> {
    const job = await this.holds(fence);
    const c = job && (await this.store.getCheckpoint(job.uuid, checkpoint_id));
    return c ? this.download(c) : null;
  }

  /** A batch job's attached fine-tune checkpoint (job.config.checkpoint, docs/batch.md). */
  async resourceCheckpoint(fence: Fence): Promise<Download | null> {
    const job = await this.holds(fence);
    const ref = job?.config.checkpoint as { job_uuid: string; checkpoint_id: string } | null | undefined;
    const c = ref && (await this.store.getCheckpoint(ref.job_uuid, ref.checkpoint_id));
    return c ? this.download(c) : null;
  }

  private async download(c: Checkpoint): Promise<Download | null> {
    const stream = await this.blobs.openRead(c.blob_key);
    return stream ? { stream, size: c.num_bytes, sha256: c.sha256 } : null;
  }

  /**
   * A checkpoint upload: refused (null) at once when the fence no longer holds; a retried upload of
   * one the server already committed (the answer was lost) returns that one instead of a duplicate.
   */
  async commitCheckpoint(fence: Fence, report: Omit<CheckpointReport, 'path'>, body: Readable): Promise<Checkpoint | null> {
    const job = await this.holds(fence);
    if (!job) return this.refused('checkpoint', fence, null);
    const same = (await this.store.listCheckpoints(job.uuid)).find((c) => c.attempt_id === fence.attempt_id && c.step === report.step && c.sha256 === report.sha256);
    if (same) return same;
    if (this.blobs.streamsUploads) {
      if (body.destroyed) return destroyedBody();
      return this.attempts.commitCheckpointStream(fence, job, report, body).catch(mismatch);
    }
    return this.spooled(body, (path) => this.attempts.commitCheckpoint(fence, job, { ...report, path }).catch(mismatch));
  }

  /** As commitCheckpoint: on object storage streamed straight into the bucket; a retried upload of one already committed is not stored again. */
  async commitOutput(fence: Fence, report: Omit<OutputReport, 'path'>, body: Readable): Promise<boolean> {
    const job = await this.holds(fence);
    if (!job) return this.refused('output', fence, false);
    const same = (await listCommittedOutputs(this.store, job.uuid)).find((o) => o.attempt_id === fence.attempt_id && o.filename === report.filename && o.sha256 === report.sha256);
    if (same) return true;
    if (this.blobs.streamsUploads) {
      if (body.destroyed) return destroyedBody();
      return this.attempts.commitOutputStream(fence, job, report, body).catch(mismatch);
    }
    return this.spooled(body, (path) => this.attempts.commitOutput(fence, job, { ...report, path }).catch(mismatch));
  }

  /**
   * Streams `body` into a scratch file (same filesystem as the artifacts: the commit is a rename), runs `fn`, removes what is left.
   * A body already destroyed (the request broke off while the fence was checked) is refused: Node 20's
   * pipeline never settles on a source destroyed before it is attached, so the request hung and its
   * scratch file stayed (found by the route fuzzer, docs/testing.md).
   */
  private async spooled<T>(body: Readable, fn: (path: string) => Promise<T>): Promise<T> {
    const dir = await this.blobs.scratchDir(`remote-uploads/${randomHex(16)}`);
    try {
      const path = join(dir, 'upload');
      if (body.destroyed) return destroyedBody();
      await pipeline(body, createWriteStream(path));
      return await fn(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Fleet registration of a remote worker slot; `last_seen_at` is stamped here (worker hosts' clocks may be off). */
  register(id: string, w: { node: string; concurrency?: number; active_jobs?: number; started_at?: number }): Promise<void> {
    const now = this.clock.now();
    return this.store.upsertWorker({ id, node: String(w.node), kind: 'remote', concurrency: Number(w.concurrency ?? 1), active_jobs: Number(w.active_jobs ?? 0), last_seen_at: now, started_at: Number(w.started_at ?? now) });
  }

  unregister(id: string): Promise<void> {
    return this.store.removeWorker(id);
  }

  /** Every waiting claim answers null now (shutdown). */
  close(): void {
    this.waiters.close();
  }
}
