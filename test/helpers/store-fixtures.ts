/**
 * The one fixture factory of the store tests: records with defaults, built and stored through the
 * Store interface only (never a driver), so the same fixture means the same rows on SQLite and
 * PostgreSQL. Every builder takes overrides; ids are unique per Fixtures instance, so a case can
 * make as many of each as it needs. Time starts at T0 and moves only when a case says so.
 */
import type { ApiKeyRecord, Checkpoint, FileRecord, Job, Org, WorkerRecord, WorkerTokenRecord } from '../../src/domain/types.js';
import { uuid } from '../../src/lib/ids.js';
import type { ClaimResult, Fence, NewEvent, Store, UploadPart, UploadRecord } from '../../src/store/store.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');
/** A lease of 1 s: cases move time past it explicitly. */
export const LEASE = 1_000;
export const ev: NewEvent = { level: 'info', type: 'test', message: 'test' };

export type NewFile = Omit<FileRecord, 'file_index' | 'is_current'>;
export interface Claimed extends ClaimResult {
  fence: Fence;
}

export class Fixtures {
  private n = 0;
  constructor(readonly s: Store) {}

  /** A fresh suffix: `name` followed by a counter. */
  id(name: string): string {
    return `${name}${++this.n}`;
  }

  // ---- organizations and keys
  org(name = this.id('org'), now = T0): Promise<Org> {
    return this.s.ensureOrg(name, now);
  }

  async apiKey(org_uuid: string, over: Partial<ApiKeyRecord> = {}, hash = this.id('keyhash')): Promise<{ record: ApiKeyRecord; hash: string }> {
    const record: ApiKeyRecord = { id: this.id('key_'), org_uuid, name: 'k', prefix: 'sk_abcd', created_at: T0, revoked_at: null, ...over };
    await this.s.insertApiKey(record, hash);
    return { record, hash };
  }

  // ---- files
  fileRecord(over: Partial<NewFile> = {}): NewFile {
    const file_uid = over.file_uid ?? this.id('fil_');
    return {
      file_uid, org_uuid: 'o', file_id: 'data.csv', file_type: 'text/csv', num_bytes: 10, sha256: 'x'.repeat(64),
      blob_key: `files/${file_uid}`, status: 'ready', attributes: {}, created_at: T0, deleted_at: null, ...over,
    };
  }

  file(over: Partial<NewFile> = {}): Promise<FileRecord> {
    return this.s.insertFileVersion(this.fileRecord(over));
  }

  // ---- jobs
  jobRecord(over: Partial<Job> = {}): Job {
    const id = over.id ?? this.id('job');
    const created = over.created_at ?? T0;
    return {
      uuid: uuid(), org_uuid: 'o', id, name: id, api_version: 'v0.5', model: 'm', status: 'REGISTERED', config: { a: 1 },
      datasets: [{ name: 'd', split: 'train', files: [{ file_id: 'f', file_uid: 'fil_x' }] }], request_hash: 'h', idempotency_key: null,
      created_at: created, updated_at: created, inference_config_path: null, error: null, progress: null, attempts: 0,
      current_attempt_id: null, stop_requested_at: null, hyperparameters: null, ...over,
    };
  }

  /** A REGISTERED job (stored with its first event). */
  async job(over: Partial<Job> = {}, event: NewEvent = ev): Promise<Job> {
    return (await this.s.createJob(this.jobRecord(over), event)).job;
  }

  // ---- attempts
  /** Claims the oldest REGISTERED job (fails the case when there is none). */
  async claim(worker_id = 'w', now = T0, lease_ms = LEASE): Promise<Claimed> {
    const c = await this.s.claimJob(worker_id, now, lease_ms);
    if (!c) throw new Error('fixture: nothing to claim');
    return { ...c, fence: { attempt_id: c.attempt.id, lease_token: c.attempt.lease_token } };
  }

  /** A new job, claimed and moved to RUNNING at `now`. */
  async running(over: Partial<Job> = {}, now = T0): Promise<Claimed> {
    await this.job({ created_at: now, ...over });
    const c = await this.claim('w', now);
    const job = await this.s.fencedTransition(c.fence, 'start_training', now, ev);
    if (!job) throw new Error('fixture: start_training refused');
    return { ...c, job };
  }

  checkpoint(job_uuid: string, fence: Fence, step: number, at: number, over: Partial<Checkpoint> = {}): Checkpoint {
    return {
      id: this.id('ckp_'), job_uuid, attempt_id: fence.attempt_id, step, name: `step_${step}`, blob_key: `ckpt/${step}`, num_bytes: 1,
      sha256: 'x', metrics: { loss: 1 / step }, meta: { format: 't' }, created_at: at, ...over,
    };
  }

  // ---- direct uploads
  uploadRecord(over: Partial<UploadRecord> = {}): UploadRecord {
    const upload_id = over.upload_id ?? this.id('upl_');
    const num_parts = over.num_parts ?? 3;
    const part_size = over.part_size ?? 10;
    return {
      upload_id, org_uuid: 'o', file_id: 'big.bin', file_uid: `fil_${upload_id}`, file_type: 'application/octet-stream',
      num_bytes: num_parts * part_size, part_size, num_parts, state: 'open', created_at: T0, updated_at: T0, ...over,
    };
  }

  /** A new open upload (beginUpload without resume; fails the case unless it was created). */
  async upload(over: Partial<UploadRecord> = {}): Promise<UploadRecord> {
    const r = await this.s.beginUpload(this.uploadRecord(over), false);
    if (r.kind !== 'created') throw new Error(`fixture: upload not created (${r.kind})`);
    return r.upload;
  }

  part(upload_id: string, part_number: number, token: string, at = T0, over: Partial<UploadPart> = {}): UploadPart {
    return {
      upload_id, part_number, token, num_bytes: 10, staged_name: `${upload_id}.${part_number}.${token}`, crc32c: 0xfedcba98,
      checkpointed: false, created_at: at, ...over,
    };
  }

  /** Records a part at `at` (fails the case unless recorded). */
  async putPart(upload_id: string, part_number: number, token: string, at = T0): Promise<UploadPart> {
    const p = this.part(upload_id, part_number, token, at);
    if (!(await this.s.recordUploadPart(p, at)).recorded) throw new Error('fixture: part not recorded');
    return p;
  }

  /** The file version an upload's completion creates. */
  uploadedFile(u: UploadRecord, at: number): NewFile {
    return this.fileRecord({ file_uid: u.file_uid, org_uuid: u.org_uuid, file_id: u.file_id, file_type: u.file_type, num_bytes: u.num_bytes, created_at: at });
  }

  // ---- workers
  async workerToken(over: Partial<WorkerTokenRecord> = {}, hash = this.id('wkhash')): Promise<{ record: WorkerTokenRecord; hash: string }> {
    const record: WorkerTokenRecord = { id: this.id('wkt_'), name: 'gpu', prefix: 'wk_abcd', created_at: T0, revoked_at: null, ...over };
    await this.s.insertWorkerToken(record, hash);
    return { record, hash };
  }

  worker(over: Partial<WorkerRecord> = {}): WorkerRecord {
    return { id: this.id('builtin:n:boot:'), node: 'n', kind: 'builtin', concurrency: 1, active_jobs: 0, last_seen_at: T0, started_at: T0, ...over };
  }
}
