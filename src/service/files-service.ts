/**
 * Uploaded files (contract §4): `file_id` is the base name, every stored version gets a new
 * `file_uid`, a simple upload of an existing name replaces it (last commit wins, bytes never mix
 * because each version streams to its own blob). Jobs snapshot `file_uid`s, so a replaced or deleted
 * version keeps its bytes until no non-terminal job needs them (collectGarbage).
 */
import type { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobStore } from '../blobs/blob-store.js';
import { FtError } from '../domain/errors.js';
import type { FileRecord } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { typeId } from '../lib/ids.js';
import type { Store } from '../store/store.js';

/** Content types POST /v0.5/files accepts (archetype-api.md §4.3); JSONL arrives as text/plain. */
export const SIMPLE_UPLOAD_TYPES = ['image/jpeg', 'image/png', 'video/mp4', 'text/plain', 'text/csv', 'application/json'];

const BY_EXTENSION: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4', '.csv': 'text/csv',
  '.json': 'text/plain', '.jsonl': 'text/plain', '.txt': 'text/plain', '.text': 'text/plain', '.yaml': 'text/plain', '.yml': 'text/plain',
};

/** Refuses names with a path separator, `..`, a NUL, control characters or more than 255 bytes. */
export function checkFileName(name: string): void {
  if (!name || Buffer.byteLength(name) > 255 || /[/\\\0]/.test(name) || name === '.' || name.includes('..') || /[\x00-\x1f]/.test(name)) {
    throw new FtError('invalid_parameter', `file name '${name.slice(0, 300)}' is not allowed: no path separators, '..', NUL or control characters, at most 255 bytes`);
  }
}

/**
 * The stored content type. A generic `application/octet-stream` part (what curl sends for an unknown
 * extension such as .jsonl) is resolved from the extension, as the official client would have sent it.
 */
export function resolveContentType(name: string, declared: string | undefined): string {
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && type !== 'application/octet-stream') return type;
  const ext = name.slice(name.lastIndexOf('.')).toLowerCase();
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}

export class FilesService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly maxUploadBytes: number,
  ) {}

  /** Simple upload: streams `source` to a new version of `fileName`, replacing the current one. */
  async upload(org_uuid: string, fileName: string, declaredType: string | undefined, source: Readable): Promise<FileRecord> {
    checkFileName(fileName);
    const fileType = resolveContentType(fileName, declaredType);
    if (!SIMPLE_UPLOAD_TYPES.includes(fileType)) {
      source.resume(); // drain so the client can read the answer (contract §4)
      throw new FtError('invalid_file_type', `content type '${fileType}' is not accepted; use one of ${SIMPLE_UPLOAD_TYPES.join(', ')}`);
    }
    const file_uid = typeId('fil');
    const blob_key = `files/${org_uuid}/${file_uid}`;
    let info;
    try {
      info = await this.blobs.writeStream(blob_key, source, { maxBytes: this.maxUploadBytes });
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        source.resume();
        throw new FtError('invalid_file_size', `file is larger than the ${this.maxUploadBytes}-byte limit for simple uploads`);
      }
      throw err;
    }
    if ((source as Readable & { truncated?: boolean }).truncated) {
      await this.blobs.delete(blob_key);
      throw new FtError('invalid_file_size', `file is larger than the ${this.maxUploadBytes}-byte limit for simple uploads`);
    }
    return this.store.insertFileVersion({
      file_uid, org_uuid, file_id: fileName, file_type: fileType, num_bytes: info.size, sha256: info.sha256, blob_key,
      status: 'ready', attributes: {}, created_at: this.clock.now(), deleted_at: null,
    });
  }

  async get(org_uuid: string, file_id: string): Promise<FileRecord> {
    const f = await this.store.getCurrentFile(org_uuid, file_id);
    if (!f) throw new FtError('file_not_found', `file '${file_id}' not found`);
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

  localPath(f: FileRecord): string {
    return this.blobs.localPath(f.blob_key);
  }

  /** Deletes the bytes of versions that are superseded or deleted and used by no active job. */
  async collectGarbage(): Promise<number> {
    const versions = await this.store.listCollectableFileVersions(1000);
    for (const v of versions) {
      await this.blobs.delete(v.blob_key);
      await this.store.markFileVersionPurged(v.file_uid);
    }
    return versions.length;
  }
}
