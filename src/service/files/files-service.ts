/**
 * Uploaded files (docs/spec.md#files): `file_id` is the base name, every stored version gets a new
 * `file_uid`, a simple or base64 upload of an existing name replaces it (last commit wins, bytes
 * never mix because each version streams to its own blob). Jobs snapshot `file_uid`s, so a replaced
 * or deleted version keeps its bytes until no non-terminal job needs them (collectGarbage).
 * An upload is staged, checked (size limit, base64 validity), committed by an atomic rename and only
 * then recorded: a failed or oversize upload leaves no row and no bytes. Direct (multipart) uploads
 * live in uploads-service.ts; dataset checks in files-inspect.ts.
 */
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../blobs/blob-store.js';
import { FtError } from '../../domain/errors.js';
import type { FileRecord } from '../../domain/types.js';
import type { Clock } from '../../lib/clock.js';
import { typeId } from '../../lib/ids.js';
import type { Store } from '../../store/store.js';
import { Base64Decoder } from './files-base64.js';
import { inspectorFor } from './files-inspect.js';
import { checkFileName, fileBlobKey, fileUidOfBlobKey, resolveContentType, SIMPLE_UPLOAD_TYPES, tooLarge } from './files-rules.js';
import { UploadsService, type UploadsOptions } from './uploads-service.js';
import type { ServiceCore } from '../deps.js';

export interface FilesOptions {
  maxUploadBytes: number; // simple and base64 uploads (base64: counted on the encoded text)
  uploads: UploadsOptions;
}

/** A multipart file stream: busboy sets `truncated` when the part went past its size limit. */
export type UploadSource = Readable & { truncated?: boolean };

/** A received, checked upload that is not visible yet. */
export interface PendingFile {
  record(): Promise<FileRecord>;
  discard(): Promise<void>;
}

export class FilesService {
  readonly uploads: UploadsService;
  readonly maxUploadBytes: number;
  private gcRun: Promise<void> | null = null;
  private gcAgain = false;

  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly clock: Clock;

  constructor(d: Pick<ServiceCore, 'store' | 'blobs' | 'clock'> & { options: FilesOptions }) {
    ({ store: this.store, blobs: this.blobs, clock: this.clock } = d);
    this.maxUploadBytes = d.options.maxUploadBytes;
    this.uploads = new UploadsService({ ...d, options: d.options.uploads, onFileReplaced: () => this.scheduleGarbage() });
  }

  /** Simple or base64 upload: streams `source` to a new version of `fileName`, replacing the current one. */
  async upload(org_uuid: string, fileName: string, declaredType: string | undefined, source: UploadSource, encoding: 'raw' | 'base64' = 'raw'): Promise<FileRecord> {
    return (await this.receive(org_uuid, fileName, declaredType, source, encoding)).record();
  }

  /**
   * Streams and checks an upload without making it visible: record() commits the bytes and writes
   * the row (the caller does so once the whole request has arrived), discard() drops them.
   */
  async receive(org_uuid: string, fileName: string, declaredType: string | undefined, source: UploadSource, encoding: 'raw' | 'base64'): Promise<PendingFile> {
    checkFileName(fileName);
    const file_type = resolveContentType(fileName, declaredType);
    if (!SIMPLE_UPLOAD_TYPES.includes(file_type)) {
      throw new FtError('invalid_file_type', `content type '${file_type}' is not accepted here; use one of ${SIMPLE_UPLOAD_TYPES.join(', ')} (JSON Lines as text/plain), or a direct upload`);
    }
    const inspector = inspectorFor(fileName, file_type);
    const decoder = encoding === 'base64' ? new Base64Decoder() : undefined;
    // The id comes first so an object store streams straight into the version's key (no copy at commit).
    const file_uid = typeId('fil');
    const blob_key = fileBlobKey(org_uuid, file_uid);
    const staged = await this.blobs.stage(source, { maxBytes: this.maxUploadBytes, through: decoder, tap: inspector ? (c) => inspector.update(c) : undefined, key: blob_key });
    if (staged.overLimit || source.truncated === true) {
      await staged.discard();
      throw tooLarge(this.maxUploadBytes, encoding === 'base64' ? 'the base64 text' : 'file');
    }
    if (decoder?.error) {
      await staged.discard();
      throw new FtError('invalid_parameter', `the part of '${fileName}' is not valid base64: ${decoder.error}`);
    }
    return {
      discard: () => staged.discard(),
      record: async () => {
        await staged.commit(blob_key);
        let rec: FileRecord;
        try {
          rec = await this.store.insertFileVersion({
            file_uid, org_uuid, file_id: fileName, file_type, num_bytes: staged.size, sha256: staged.sha256, blob_key,
            status: 'ready', attributes: inspector?.result() ?? {}, created_at: this.clock.now(), deleted_at: null,
          });
        } catch (err) {
          await this.blobs.delete(blob_key);
          throw err;
        }
        this.scheduleGarbage(); // the version it replaced may be collectable now
        return rec;
      },
    };
  }

  async get(org_uuid: string, file_id: string): Promise<FileRecord> {
    const f = await this.store.getCurrentFile(org_uuid, file_id);
    if (!f) throw new FtError('file_not_found', `file '${file_id}' not found`);
    return f;
  }

  /** The current version for a download: 400 while only an unfinished direct upload holds the name. */
  async getForDownload(org_uuid: string, file_id: string): Promise<FileRecord> {
    const f = await this.store.getCurrentFile(org_uuid, file_id);
    if (f) return f;
    if (await this.store.getLiveUpload(org_uuid, file_id)) {
      throw new FtError('invalid_parameter', `file '${file_id}' is still uploading; complete the upload first`);
    }
    throw new FtError('file_not_found', `file '${file_id}' not found`);
  }

  /** The bytes of a version (a range is inclusive); opened before any byte is sent. */
  async openBytes(f: FileRecord, range?: { start: number; end: number }): Promise<Readable> {
    const stream = await this.blobs.openRead(f.blob_key, range);
    if (!stream) throw new FtError('invalid_parameter', `the bytes of file '${f.file_id}' are missing (file corrupt); upload it again`);
    return stream;
  }

  async info(org_uuid: string): Promise<{ num_files: number; num_bytes: number; num_ingested: number; last_updated: number }> {
    const s = await this.store.fileStats(org_uuid);
    // every stored file is usable at once, so ingested = stored; last_updated: unix seconds (float)
    return { num_files: s.num_files, num_bytes: s.num_bytes, num_ingested: s.num_files, last_updated: (s.last_updated ?? 0) / 1000 };
  }

  /**
   * Current files in upload order, sharded: `max` -1 means one shard holding everything; `shard` -1
   * means every shard. Shard i of size k is items [i·k, (i+1)·k).
   */
  async list(org_uuid: string, shard: number, max: number): Promise<FileRecord[]> {
    const all = await this.store.listCurrentFiles(org_uuid);
    if (shard === -1) return all;
    if (max === -1) return shard === 0 ? all : [];
    return all.slice(shard * max, (shard + 1) * max);
  }

  async delete(org_uuid: string, file_id: string): Promise<FileRecord> {
    const f = await this.store.deleteCurrentFile(org_uuid, file_id, this.clock.now());
    if (!f) throw new FtError('file_not_found', `file '${file_id}' not found`);
    this.scheduleGarbage();
    return f;
  }

  /** Current versions for a list of ids; every missing id is reported in one error (contract: one 400). */
  async resolveMany(org_uuid: string, file_ids: string[]): Promise<Map<string, FileRecord>> {
    const found = new Map<string, FileRecord>();
    const missing: string[] = [];
    for (const id of new Set(file_ids)) {
      const f = await this.store.getCurrentFile(org_uuid, id);
      if (f) found.set(id, f);
      else missing.push(id);
    }
    if (missing.length > 0) {
      throw FtError.many(missing.map((id) => ({ code: 'file_not_found' as const, message: `file '${id}' not found in this organization` })));
    }
    return found;
  }

  localPath(f: FileRecord): Promise<string> {
    return this.blobs.localPath(f.blob_key);
  }

  /** Deletes the bytes of versions that are superseded or deleted and used by no active job. */
  async collectGarbage(): Promise<number> {
    const versions = await this.store.listCollectableFileVersions(1000);
    let purged = 0;
    for (const v of versions) {
      // Claim first, delete after: a job created in between keeps the version (and its bytes).
      if (!(await this.store.markFileVersionPurged(v.file_uid))) continue;
      await this.blobs.delete(v.blob_key);
      purged++;
    }
    return purged;
  }

  /**
   * Blobs under `files/` that no unpurged row names and that are older than `minAgeMs`: a crash
   * between a blob's commit (rename) and its row's insert, or between a version's purge mark and the
   * delete of its bytes. The age spares a commit in flight (its bytes were written just before the
   * rename). Returns how many were deleted.
   */
  async sweepOrphanBlobs(minAgeMs: number): Promise<number> {
    const keys = await this.blobs.listKeys('files', minAgeMs);
    // A direct upload being completed on S3 has its object before its row, and that object's time
    // is the multipart upload's start (hours ago for a big file): the versions of live uploads are spared.
    const live = new Set<string>();
    if (keys.length > 0) {
      for (const id of (await this.store.listLiveUploadParts()).keys()) {
        const u = await this.store.getUpload(id);
        if (u) live.add(u.file_uid);
      }
    }
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const inUse = await this.store.fileBlobKeysInUse([...new Set(batch.map(fileUidOfBlobKey))]);
      for (const k of batch) {
        if (inUse.has(k) || live.has(fileUidOfBlobKey(k))) continue;
        await this.blobs.delete(k);
        deleted++;
      }
    }
    return deleted;
  }

  /** Startup, alone on the data: temp files and orphan blobs of a dead process are garbage; interrupted direct uploads are reconciled. */
  async recoverAtBoot(): Promise<void> {
    await this.blobs.sweepTemp(0);
    await this.sweepOrphanBlobs(0);
    await this.uploads.recover();
  }

  /** Runs collectGarbage in the background after a replace or delete; concurrent requests coalesce. */
  private scheduleGarbage(): void {
    if (this.gcRun) {
      this.gcAgain = true;
      return;
    }
    this.gcRun = (async () => {
      do {
        this.gcAgain = false;
        await this.collectGarbage().catch(() => 0); // the periodic sweep in app.ts logs persistent failures
      } while (this.gcAgain);
    })().finally(() => {
      this.gcRun = null;
    });
  }
}
