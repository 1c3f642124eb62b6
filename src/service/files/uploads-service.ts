/**
 * Direct (multipart) uploads (docs/spec.md#files, docs/files.md): initiate → PUT each part to its
 * signed URL (in any order, concurrently) → optional checkpoints → complete, or abort.
 * Invariants:
 * - a part is accepted only through a valid, unexpired signed URL, only while its upload is open,
 *   and only with exactly its expected length; its bytes are written once, in place (blobs.writePart:
 *   its offset of the upload's staging file, or an S3 UploadPart), and it is recorded only after
 *   its bytes and CRC-32C are complete; a re-sent part replaces the earlier one and gets a new token;
 * - complete reads the parts once (sha256, dataset checks, each part's CRC-32C again), or, alone on
 *   its data, uses the digest made as they arrived (upload-digest.ts) and reads nothing; it commits the
 *   object and records the file version (store.finishUpload, one write); a checksum mismatch stores
 *   nothing and leaves the upload open; a part whose bytes changed is dropped and named missing;
 * - an upload idle for `ttlMs` is expired by sweep(), and its part files are deleted;
 * - replicas share the store and the part files: recover(shared) and sweep() reopen only uploads
 *   whose assembler stopped reporting (COMPLETING_STALE_MS) and delete only part data no live upload
 *   needs that is older than ORPHAN_PART_AGE_MS, so a replica starting never breaks another's upload.
 * Assembly lives in uploads-complete.ts; URL signing in uploads-signing.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../blobs/blob-store.js';
import { FtError } from '../../domain/errors.js';
import { isoMicros } from '../../domain/time.js';
import type { Clock } from '../../lib/clock.js';
import { Crc32c } from '../../blobs/crc32c.js';
import { typeId } from '../../lib/ids.js';
import type { PartRef, PartsRefusal, Store, UploadRecord, UploadState } from '../../store/store.js';
import { checkFileName, DIRECT_UPLOAD_TYPES, fileBlobKey, resolveContentType } from './files-rules.js';
import { assembleUpload, COMPLETING_STALE_MS, parseChecksum, type CompleteAnswer } from './uploads-complete.js';
import { UploadDigests, type PartFeed } from './upload-digest.js';
import { PartSigner, loadOrCreateSigningKey, serverRoot } from './uploads-signing.js';
import type { ServiceCore } from '../deps.js';

/** A part file no row names, untouched this long, belongs to no PUT in flight (1 h, like the temp sweep). */
export const ORPHAN_PART_AGE_MS = 3600_000;

export interface UploadsOptions {
  partBytes: number; // offered part size (8 MiB default)
  urlTtlMs: number; // signed URL lifetime
  ttlMs: number; // idle time after which an unfinished upload is expired
  maxBytes: number; // largest direct upload
  publicUrl: string | null; // base of part URLs; null = the Host the client used
  signingKeyFile: string;
  /** Alone on its data (SQLite): every PUT passes through this process, so complete can use the digests made as parts arrive (upload-digest.ts). */
  alone?: boolean;
}

export interface PartUrl {
  part_number: number;
  url: string;
  offset: number;
  length: number;
  expires_at: string;
}

export interface InitiateRequest {
  filename: string;
  file_type?: string;
  num_bytes: number;
  resume_if_started?: boolean;
}

const MAX_PARTS = 10_000; // as S3: a 250 GB file needs parts of at least 25 MB
const MIB = 1024 * 1024;

/** The ETag is sent quoted; clients return it quoted or stripped (the example does strip('"')). */
export function normalizeToken(token: string): string {
  return token.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function listed(nums: number[]): string {
  return nums.length <= 20 ? nums.join(', ') : `${nums.slice(0, 20).join(', ')} and ${nums.length - 20} more`;
}

export class UploadsService {
  private readonly signer: PartSigner;

  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly clock: Clock;
  private readonly opts: UploadsOptions;
  private readonly onFileReplaced: () => void;
  /** Null when replicas share the data: a PUT may land on any of them, so complete reads back. */
  readonly digests: UploadDigests | null;
  /** Completes by this process, by whether the bytes were read back (metrics). */
  readonly completes = { digested: 0, readBack: 0 };

  constructor(d: Pick<ServiceCore, 'store' | 'blobs' | 'clock'> & { options: UploadsOptions; onFileReplaced: () => void }) {
    ({ store: this.store, blobs: this.blobs, clock: this.clock, options: this.opts, onFileReplaced: this.onFileReplaced } = d);
    this.signer = new PartSigner(loadOrCreateSigningKey(this.opts.signingKeyFile));
    this.digests = this.opts.alone ? new UploadDigests() : null;
  }

  get publicUrl(): string | null {
    return this.opts.publicUrl;
  }

  async initiate(org_uuid: string, req: InitiateRequest, baseUrl: string): Promise<Record<string, unknown>> {
    checkFileName(req.filename);
    const file_type = resolveContentType(req.filename, req.file_type);
    if (!DIRECT_UPLOAD_TYPES.includes(file_type)) {
      throw new FtError('invalid_file_type', `content type '${file_type}' is not accepted; use one of ${DIRECT_UPLOAD_TYPES.join(', ')}`);
    }
    if (req.num_bytes > this.opts.maxBytes) {
      throw new FtError('invalid_file_size', `num_bytes ${req.num_bytes} is over the ${this.opts.maxBytes}-byte limit for direct uploads`);
    }
    const now = this.clock.now();
    // S3 refuses non-last parts under 5 MiB (blobs.minPartBytes), so a smaller configured size is raised there.
    const base = Math.max(this.opts.partBytes, this.blobs.minPartBytes);
    const part_size = req.num_bytes <= base * MAX_PARTS ? base : Math.ceil(req.num_bytes / MAX_PARTS / MIB) * MIB;
    const fresh: UploadRecord = {
      upload_id: typeId('upl'), org_uuid, file_id: req.filename, file_uid: typeId('fil'), file_type, num_bytes: req.num_bytes,
      part_size, num_parts: Math.max(1, Math.ceil(req.num_bytes / part_size)), state: 'open', created_at: now, updated_at: now,
    };
    const r = await this.store.beginUpload(fresh, req.resume_if_started === true);
    if (r.kind === 'file_exists') {
      throw new FtError('file_already_exists', `file '${req.filename}' already exists; delete it first or upload under another name`);
    }
    if (r.kind === 'busy') throw this.stateError(r.upload.upload_id, 'completing');
    let numbers: number[];
    if (r.kind === 'resumed') {
      const done = new Set(r.parts.filter((p) => p.checkpointed).map((p) => p.part_number));
      numbers = [...Array(r.upload.num_parts).keys()].filter((n) => !done.has(n));
    } else {
      if (r.superseded) await this.dropParts(r.superseded.upload_id);
      try {
        await this.blobs.openParts(r.upload.upload_id, { key: fileBlobKey(org_uuid, r.upload.file_uid), numBytes: r.upload.num_bytes, partSize: r.upload.part_size });
      } catch (err) {
        await this.store.abortUpload(r.upload.upload_id, this.clock.now()); // no PUT could join it
        throw err;
      }
      numbers = [...Array(r.upload.num_parts).keys()];
    }
    const u = r.upload;
    return {
      upload_id: u.upload_id, file_uid: u.file_uid, file_name: u.file_id, total_bytes: u.num_bytes, num_parts: u.num_parts,
      part_size: u.part_size, is_resume: r.kind === 'resumed', parts: this.urls(u, numbers, baseUrl), integrity_algorithm: 'crc32c',
    };
  }

  async partUrls(org_uuid: string, upload_id: string, part_numbers: number[], baseUrl: string): Promise<{ parts: PartUrl[] }> {
    const u = await this.own(org_uuid, upload_id);
    if (u.state !== 'open') throw this.stateError(upload_id, u.state);
    const out = part_numbers.filter((n) => n < 0 || n >= u.num_parts);
    if (out.length > 0) throw new FtError('invalid_parameter', `part_numbers ${listed(out)} are out of range: this upload has parts 0..${u.num_parts - 1}`);
    return { parts: this.urls(u, part_numbers, baseUrl) };
  }

  /** A PUT to a signed part URL (no bearer key: the signature is the credential). Returns the token. */
  async putPart(upload_id: string, part: number, q: { expires?: unknown; sig?: unknown }, source: Readable, contentLength: number | undefined): Promise<string> {
    const verdict = this.signer.verify(upload_id, part, q.expires, q.sig, this.clock.now());
    if (verdict !== 'ok') {
      const why = verdict === 'expired' ? 'has expired; ask for a fresh one with POST .../parts/urls' : 'has an invalid signature';
      throw new FtError('unauthorized', `this part URL ${why}`).in('permission');
    }
    const u = await this.store.getUpload(upload_id);
    if (!u) throw new FtError('upload_not_found', `upload '${upload_id}' not found`);
    if (u.state !== 'open') throw this.stateError(upload_id, u.state);
    const expected = Math.min(u.part_size, u.num_bytes - part * u.part_size);
    if (part >= u.num_parts || expected < 0) throw new FtError('invalid_parameter', `part ${part} is out of range: this upload has parts 0..${u.num_parts - 1}`);
    if (contentLength !== undefined && contentLength !== expected) {
      throw new FtError('invalid_parameter', `part ${part} must be exactly ${expected} bytes; Content-Length says ${contentLength}`);
    }
    const crc = new Crc32c(); // combined at complete: no second pass over the file for the checksum
    const feed = this.digests?.begin(u, part) ?? null;
    let token: string | null = null;
    try {
      token = await this.writeAndRecord(u, part, expected, source, crc, feed, contentLength !== undefined);
      return token;
    } finally {
      if (token === null) feed?.failed();
    }
  }

  private async writeAndRecord(u: UploadRecord, part: number, expected: number, source: Readable, crc: Crc32c, feed: PartFeed | null, lengthDeclared: boolean): Promise<string> {
    const upload_id = u.upload_id;
    const tap = feed ? (c: Buffer): void => {
      crc.update(c);
      feed.chunk(c);
    } : (c: Buffer): void => void crc.update(c);
    let staged;
    try {
      staged = await this.blobs.writePart(upload_id, source, { number: part, partSize: u.part_size, length: expected, numBytes: u.num_bytes, tap, holdUntilComplete: !lengthDeclared });
    } catch (err) {
      // On S3 a PUT of an upload that ended meanwhile fails in UploadPart (its multipart upload was aborted): say so, as the record would.
      const state = (await this.store.getUpload(upload_id))?.state ?? 'aborted';
      if (state !== 'open') throw this.stateError(upload_id, state);
      throw err;
    }
    if (staged.overLimit || staged.size !== expected) {
      // Nothing is recorded. Bytes already written in place belong to no recorded part (complete
      // re-checks every recorded part's CRC-32C), so there is nothing to delete.
      throw new FtError('invalid_parameter', `part ${part} must be exactly ${expected} bytes; received ${staged.overLimit ? 'more' : staged.size}`);
    }
    const token = randomBytes(16).toString('hex');
    const now = this.clock.now();
    const r = await this.store.recordUploadPart({
      upload_id, part_number: part, token, num_bytes: expected, staged_name: staged.name, crc32c: crc.value(), checkpointed: false, created_at: now,
    }, now);
    if (!r.recorded) {
      // The upload ended (aborted, superseded, expired, completed) while this part streamed in.
      const state = (await this.store.getUpload(upload_id))?.state ?? 'aborted';
      if (state !== 'open' && state !== 'completing') await this.dropParts(upload_id); // what this PUT may have re-created
      throw this.stateError(upload_id, state);
    }
    feed?.recorded(token);
    return token;
  }

  async checkpoint(org_uuid: string, upload_id: string, parts: Array<{ part_number: number; part_token: string }>): Promise<{ num_checkpointed: number }> {
    const u = await this.own(org_uuid, upload_id);
    const refs = this.refs(parts);
    const r = await this.store.checkpointUploadParts(upload_id, refs, this.clock.now());
    if (!r.ok) throw this.partsError(u, r);
    return { num_checkpointed: new Set(refs.map((p) => p.part_number)).size };
  }

  async complete(org_uuid: string, upload_id: string, body: { parts?: Array<{ part_number: number; part_token: string }>; integrity_checksum?: string | null }): Promise<CompleteAnswer> {
    const u = await this.own(org_uuid, upload_id);
    if (u.state !== 'open') throw this.stateError(upload_id, u.state);
    parseChecksum(body.integrity_checksum ?? null); // a malformed checksum is a 400 before anything moves
    const r = await this.store.beginCompleteUpload(upload_id, this.refs(body.parts ?? []), this.clock.now());
    if (!r.ok) throw this.partsError(u, r);
    const digest = this.digests?.take(upload_id, u.num_bytes, r.parts) ?? null;
    return assembleUpload({ store: this.store, blobs: this.blobs, clock: this.clock, completes: this.completes }, u, r.parts, r.complete_token, body.integrity_checksum ?? null, digest)
      .then((answer) => {
        this.digests?.forget(upload_id);
        return answer;
      })
      .finally(() => this.onFileReplaced());
  }

  async abort(org_uuid: string, upload_id: string): Promise<Record<string, unknown>> {
    const u = await this.own(org_uuid, upload_id);
    const before = await this.store.abortUpload(upload_id, this.clock.now());
    if (before === 'completed' || before === 'completing') throw this.stateError(upload_id, before);
    await this.dropParts(upload_id);
    return { is_valid: true, upload_id, file_name: u.file_id, upload_status: before === 'expired' ? 'expired' : 'aborted' };
  }

  /** Expires uploads idle for longer than the TTL; returns how many. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    await this.store.reopenInterruptedUploads(now, now - COMPLETING_STALE_MS); // its assembler died or hung
    const expired = await this.store.expireUploads(now - this.opts.ttlMs, now);
    for (const u of expired) await this.dropParts(u.upload_id);
    return expired.length;
  }

  /** An upload ended without a file version: its part data and its digest go. */
  private async dropParts(upload_id: string): Promise<void> {
    this.digests?.forget(upload_id);
    await this.blobs.deleteParts(upload_id);
  }

  /**
   * Startup. Alone on its data (SQLite): every completing upload died with the last process (→ open)
   * and every part file no row names is garbage. Shared with live replicas (PostgreSQL): only
   * completing uploads whose assembler stopped reporting, and only orphan part files older than
   * ORPHAN_PART_AGE_MS (a part arriving at another replica right now has a file and no row yet).
   */
  async recover(opts: { shared: boolean } = { shared: false }): Promise<void> {
    const now = this.clock.now();
    await this.store.reopenInterruptedUploads(now, opts.shared ? now - COMPLETING_STALE_MS : undefined);
    await this.blobs.sweepParts(await this.store.listLiveUploadParts(), opts.shared ? ORPHAN_PART_AGE_MS : 0);
    await this.sweep();
  }

  private urls(u: UploadRecord, numbers: number[], baseUrl: string): PartUrl[] {
    const expires = Math.floor((this.clock.now() + this.opts.urlTtlMs) / 1000);
    const base = serverRoot(this.opts.publicUrl, baseUrl);
    const byNumber = new Map<number, PartUrl>(); // a duplicate number shares one URL
    return numbers.map((n) => {
      let p = byNumber.get(n);
      if (!p) {
        const offset = n * u.part_size;
        const url = `${base}/v0.5/files/uploads/${encodeURIComponent(u.upload_id)}/parts/${n}?expires=${expires}&sig=${this.signer.sign(u.upload_id, n, expires)}`;
        p = { part_number: n, url, offset, length: Math.min(u.part_size, u.num_bytes - offset), expires_at: isoMicros(expires * 1000) };
        byNumber.set(n, p);
      }
      return p;
    });
  }

  private async own(org_uuid: string, upload_id: string): Promise<UploadRecord> {
    const u = await this.store.getUpload(upload_id);
    if (!u || u.org_uuid !== org_uuid) throw new FtError('upload_not_found', `upload '${upload_id}' not found`);
    return u;
  }

  private refs(parts: Array<{ part_number: number; part_token: string }>): PartRef[] {
    return parts.map((p) => ({ part_number: p.part_number, token: normalizeToken(p.part_token) }));
  }

  private partsError(u: UploadRecord, r: PartsRefusal): FtError {
    if (r.state !== 'open') return this.stateError(u.upload_id, r.state ?? 'aborted');
    if (r.bad.length > 0) {
      return new FtError('invalid_parameter', `part_token of part(s) ${listed(r.bad)} does not match the last PUT of that part; send the ETag that PUT answered`);
    }
    return new FtError('invalid_parameter', `part(s) ${listed(r.missing)} are missing: PUT them and list them with their part_token (or checkpoint them), then complete again`);
  }

  private stateError(upload_id: string, state: UploadState): FtError {
    const what: Record<UploadState, string> = {
      open: 'is open', completing: 'is being completed', completed: 'is already completed',
      aborted: 'was aborted; start a new upload', expired: 'expired unfinished; start a new upload',
    };
    const err = new FtError('invalid_state_transition', `upload '${upload_id}' ${what[state]}`);
    err.details[0]!.suggestion = 'An upload that has ended takes no more requests; initiate a new one if needed.'; // not the jobs wording
    return err;
  }
}
