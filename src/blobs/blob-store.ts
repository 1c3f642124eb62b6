/**
 * Bytes: uploaded files, checkpoints, inference configs. Keys are relative paths such as
 * `files/<org>/<file_uid>`. Every write lands in a temporary name first and becomes visible only by
 * an atomic rename after its size and sha256 are known (and, for imports, verified), so a reader never
 * sees a partial object. A local-disk store today; an S3-compatible one slots in behind this interface.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  size: number;
  sha256: string;
}

export interface BlobStore {
  /** Streams `source` into `key`; rejects (and leaves nothing) on error or past `maxBytes`. */
  writeStream(key: string, source: Readable, opts?: { maxBytes?: number }): Promise<BlobInfo>;
  writeBuffer(key: string, data: Buffer | string): Promise<BlobInfo>;
  /** Moves a finished local file into `key` after checking it matches `expect` (size and sha256). */
  importFile(srcPath: string, key: string, expect: BlobInfo): Promise<void>;
  readStream(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Deletes every key under a prefix (a job's checkpoints). */
  deletePrefix(prefix: string): Promise<void>;
  /** A local path for in-process readers (trainers); remote stores download to a cache first. */
  localPath(key: string): string;
  /** The URI recorded in records (`file://…` locally, `s3://…` on object storage). */
  uri(key: string): string;
  /** A private scratch folder on the same filesystem (so finished files can be renamed in). */
  scratchDir(name: string): Promise<string>;
  /** Removes temporary files older than `olderThanMs` (left by a crash mid-upload). */
  sweepTemp(olderThanMs: number): Promise<number>;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

export class BlobMismatchError extends Error {}
