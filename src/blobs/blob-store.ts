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
  /**
   * A URL anyone holding it may GET for `ttlMs` from `now` (S3 presigned GET; `now` from the injected
   * clock); null where the store has none (local disk). `filename`: the object is served as an
   * attachment of that name (Content-Disposition).
   */
  presignGet(key: string, ttlMs: number, now?: Date, filename?: string): Promise<string | null>;
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
  // ---- direct uploads: one part group per upload (docs/files.md "Storage backends")
  /**
   * Parts of a non-last direct-upload part may not be smaller than this (S3: 5 MiB; local disk: 1),
   * so initiate never offers a part size the backend would refuse at complete.
   */
  readonly minPartBytes: number;
  /**
   * Prepares the part group of an upload whose object will be `spec.key`. S3: CreateMultipartUpload
   * under that key, its id kept in the group's marker object so every replica's PUTs join it; local
   * disk: nothing (the staging file is made by the first byte of a part).
   */
  openParts(group: string, spec: PartsSpec): Promise<void>;
  /**
   * Writes part `number` (0-based) of a group IN PLACE, once: local disk at `number × partSize` of
   * the group's one staging file (pwrite), S3 as UploadPart `number + 1` of the group's multipart
   * upload (a re-sent number replaces the earlier one). Same stream rules as stage (past `length`
   * bytes are dropped, the source is still read). `name` is what the part's row records.
   */
  writePart(group: string, source: Readable, opts: PartWrite): Promise<StagedPart>;
  /**
   * Makes the group's parts, in order, the object `opts.key`, reading every byte once through
   * sha256, `opts.tap` and a re-check of each part's CRC-32C (where known). `broken` lists the parts
   * whose bytes no longer match their record (a re-sent part that broke off, two racing PUTs of one
   * part, a staging file or multipart upload that is gone): nothing is committed then, and those
   * parts must be sent again. Otherwise `staged` is committed with commit(opts.key) or discarded.
   * `verified`: the caller hashed the parts' bytes as they were written and knows no other write
   * touched them since (upload-digest.ts); nothing is read then, and `staged` carries that size and sha256.
   */
  stageParts(group: string, parts: PartSpec[], opts: StageOptions & { key: string; verified?: BlobInfo }): Promise<{ staged: StagedBlob | null; broken: number[] }>;
  /** Deletes a group's part data (local: the folder; S3: aborts the multipart upload, deletes the marker). */
  deleteParts(group: string): Promise<void>;
  /**
   * Deletes part data no live upload needs: groups not in `live` and, inside a live group, data no
   * recorded part names (`live` maps upload ids to their rows' part names); with `minAgeMs`, only
   * what was last written at least that long ago (a PUT in flight elsewhere keeps its bytes fresh).
   */
  sweepParts(live: Map<string, string[]>, minAgeMs: number): Promise<void>;
  /** Keys under `prefix` whose bytes were last written at least `minAgeMs` ago (orphan sweeps). */
  listKeys(prefix: string, minAgeMs: number): Promise<string[]>;
  /** Every part group with the names of its data last written at least `minAgeMs` ago (tests, sweeps). */
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

export interface PartWrite {
  number: number;
  partSize: number;
  /** This part's bytes (`partSize`, or less for the last part). */
  length: number;
  /** The whole file's size (the local staging file is sized to it at its first byte). */
  numBytes: number;
  tap?: (chunk: Buffer) => void;
  /**
   * The body's length was not declared (chunked): keep its bytes until exactly `length` have
   * arrived, and write nothing if it runs short or long, so a refused PUT changes nothing stored
   * (local disk would otherwise overwrite a recorded part in place; an S3 UploadPart that does not
   * complete never replaces the part anyway). A store may stream in place when it cannot hold more.
   */
  holdUntilComplete?: boolean;
}

export interface PartsSpec {
  key: string;
  numBytes: number;
  partSize: number;
}

/** One recorded part as stageParts needs it: where it sits and what its bytes must checksum to. */
export interface PartSpec {
  number: number;
  name: string;
  numBytes: number;
  crc32c: number | null;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

export class BlobMismatchError extends Error {}
