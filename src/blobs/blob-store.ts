/**
 * Bytes: uploaded files, checkpoints, inference configs. Keys are relative paths such as
 * `files/<org>/<file_uid>`. Every write lands in a temporary name first and becomes visible only by
 * an atomic commit after its size and sha256 are known (and, for imports, verified), so a reader never
 * sees a partial object: a rename on local disk (local-disk.ts), CompleteMultipartUpload on S3 (s3.ts).
 * test/blobs-conformance.test.ts runs the same checks on both and fails when one of these methods is
 * called by none of them.
 */
import type { Readable, Transform } from 'node:stream';

export interface BlobInfo {
  size: number;
  sha256: string;
}

export interface BlobStore {
  /**
   * True on object storage: uploads are best streamed straight in (a local scratch file would be a
   * second write); false on local disk, where a scratch file on the same filesystem is renamed in.
   */
  readonly streamsUploads: boolean;
  /** Streams `source` into `key`; rejects (and leaves nothing) on error or past `maxBytes`. */
  writeStream(key: string, source: Readable, opts?: { maxBytes?: number }): Promise<BlobInfo>;
  writeBuffer(key: string, data: Buffer | string): Promise<BlobInfo>;
  /** Moves a finished local file into `key` after checking it matches `expect` (size and sha256). */
  importFile(srcPath: string, key: string, expect: BlobInfo): Promise<void>;
  /** Undoes importFile: moves the bytes of `key` back to `destPath` (its record could not be written; a retry imports again). */
  returnFile(key: string, destPath: string): Promise<void>;
  readStream(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Deletes every key under a prefix (a job's checkpoints). */
  deletePrefix(prefix: string): Promise<void>;
  /** A local path for in-process readers (trainers, validators); remote stores download to a cache first. */
  localPath(key: string): Promise<string>;
  /** A URL anyone holding it may GET for `ttlMs` from `now` (S3 presigned GET; `now` from the injected clock); null where the store has none (local disk). */
  presignGet(key: string, ttlMs: number, now?: Date): Promise<string | null>;
  /** The URI recorded in records (`file://…` locally, `s3://…` on object storage). */
  uri(key: string): string;
  /** A private scratch folder on the same filesystem (so finished files can be renamed in). */
  scratchDir(name: string): Promise<string>;
  /** Removes temporary files older than `olderThanMs` (left by a crash mid-upload). */
  sweepTemp(olderThanMs: number): Promise<number>;

  // ---- streamed uploads (files API): stage, check, then commit or discard
  /**
   * Streams `source` into a temporary object without committing it. Past `maxBytes` the bytes are
   * dropped but the source is still read to its end (`overLimit` is then true), so an HTTP body is
   * always consumed and the client can read the answer. Rejects (leaving nothing) if the source fails.
   */
  stage(source: Readable, opts?: StageOptions): Promise<StagedBlob>;
  /** Opens `key` for reading before any byte is sent, so a missing object fails early (null). */
  openRead(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
  /** Streams one part of a direct upload into the part group `group` (same rules as stage). */
  writePart(group: string, source: Readable, opts: { maxBytes: number; label: string; tap?: (chunk: Buffer) => void }): Promise<StagedPart>;
  /** Stages the named parts of a group, concatenated in order, as one temporary object (tap and sha256 as in stage). */
  stageParts(group: string, names: string[], opts?: StageOptions): Promise<StagedBlob>;
  /** Deletes the named parts, or the whole group when `names` is omitted. */
  deleteParts(group: string, names?: string[]): Promise<void>;
  /** Keys under `prefix` whose bytes were last written at least `minAgeMs` ago (orphan sweeps). */
  listKeys(prefix: string, minAgeMs: number): Promise<string[]>;
  /** Every part group on disk with the names of its parts last written at least `minAgeMs` ago (startup reconciliation). */
  listPartGroups(minAgeMs?: number): Promise<Map<string, string[]>>;
}

export interface StageOptions {
  maxBytes?: number;
  /** Sees every accepted chunk in order (checksums, dataset checks); the chunk is valid only during the call. */
  tap?: (chunk: Buffer) => void;
  /** sha256 costs ~0.6 ms per MB; parts skip it (the assembled file is hashed once). */
  hash?: boolean;
  /** A transform between the source and the meter (base64 decoding); errors travel both ways. */
  through?: Transform;
  /**
   * The key commit() will be called with, when known before the bytes arrive: object stores then
   * stream straight into that key and commit is their complete step (no copy afterwards).
   */
  key?: string;
}

/** A finished temporary object: commit() makes it visible under a key (atomic rename), or discard(). */
export interface StagedBlob extends BlobInfo {
  readonly overLimit: boolean;
  commit(key: string): Promise<void>;
  discard(): Promise<void>;
}

export interface StagedPart {
  name: string;
  size: number;
  overLimit: boolean;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

export class BlobMismatchError extends Error {}
