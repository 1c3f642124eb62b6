/**
 * A direct upload's sha256 and dataset checks computed while its parts arrive, so that complete need
 * not read the whole object back: 1 GB took 0.9 s to re-read from local disk, and a full GET of
 * 4.5 s from the S3 test server. Used only by a process alone on its data (SQLite): every PUT of an
 * upload then passes through it, so a part's bytes are exactly those of the one PUT seen for it.
 * Rules:
 * - the part at `next` is hashed as it streams; a later part is copied into memory until the parts
 *   before it are hashed (at most MAX_BUFFERED_BYTES held by the process across uploads);
 * - a second PUT of a part (a re-send, a race), a PUT that fails or is not recorded, a buffer past
 *   the limit, or a complete that used or refused the digest spoils it for good: complete then reads
 *   the bytes back, as a replica sharing its data always does;
 * - complete uses a digest only when it hashed every part, in order, each under its recorded token.
 * A restart forgets every digest (complete reads back then). Tested in test/files-direct-digest.test.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import type { UploadPart, UploadRecord } from '../../store/store.js';
import { inspectorFor, type Inspector } from './files-inspect.js';

/**
 * 256 MiB: eight 8 MiB parts in flight for each of four uploads at once, with room for the parts
 * that finish before the one ahead of them. Past it the upload that asked is read back at complete.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

/** What a part PUT reports to its upload's digest. */
export interface PartFeed {
  chunk(c: Buffer): void;
  /** The part's row was written with `token`. */
  recorded(token: string): void;
  /** The PUT failed or was refused: its bytes belong to no recorded part. */
  failed(): void;
}

/** A digest that covers the whole upload: what complete would have read. */
export interface UploadDigestResult {
  size: number;
  sha256: string;
  attributes: Record<string, unknown>;
}

interface PartState {
  chunks: Buffer[] | null; // null: hashed as it streams
  bytes: number; // bytes held in `chunks`
  token: string | null; // set when recorded
}

class UploadDigest {
  readonly sha: Hash = createHash('sha256');
  next = 0; // the first part not hashed yet
  size = 0; // bytes hashed
  spoiled = false;
  readonly parts = new Map<number, PartState>(); // every part a PUT was seen for
  constructor(readonly inspector: Inspector | null) {}

  hash(c: Buffer): void {
    this.sha.update(c);
    this.inspector?.update(c);
    this.size += c.length;
  }
}

export class UploadDigests {
  private readonly byUpload = new Map<string, UploadDigest>();
  private buffered = 0;

  constructor(private readonly maxBuffered = MAX_BUFFERED_BYTES) {}

  /** Bytes held for parts that arrived ahead of their turn (tests, metrics). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** A PUT of `part` starts: the feed for its bytes, or null when this upload's digest is spoiled. */
  begin(u: UploadRecord, part: number): PartFeed | null {
    let d = this.byUpload.get(u.upload_id);
    if (!d) this.byUpload.set(u.upload_id, (d = new UploadDigest(inspectorFor(u.file_id, u.file_type))));
    if (d.spoiled) return null;
    if (d.parts.has(part)) {
      this.spoil(d); // a second PUT of one part: which bytes are in place is no longer known here
      return null;
    }
    const st: PartState = { chunks: part === d.next ? null : [], bytes: 0, token: null };
    d.parts.set(part, st);
    return {
      chunk: (c) => {
        if (d.spoiled) return;
        if (st.chunks === null) return d.hash(c);
        st.chunks.push(Buffer.from(c)); // a copy: the stream may reuse its buffer after the call
        st.bytes += c.length;
        this.buffered += c.length;
        if (this.buffered > this.maxBuffered) this.spoil(d);
      },
      recorded: (token) => {
        if (d.spoiled) return;
        st.token = token;
        this.advance(d);
      },
      failed: () => this.spoil(d),
    };
  }

  /**
   * At complete: the digest if it covers exactly the recorded `parts` (every part hashed, in order,
   * under its recorded token), else null. Either way the digest is spent: a later complete of this
   * upload reads back.
   */
  take(upload_id: string, numBytes: number, parts: UploadPart[]): UploadDigestResult | null {
    const d = this.byUpload.get(upload_id);
    if (!d || d.spoiled) return null;
    const covers = d.next === parts.length && d.size === numBytes &&
      parts.every((p) => d.parts.get(p.part_number)?.token === p.token && p.part_number < d.next);
    this.spoil(d);
    return covers ? { size: d.size, sha256: d.sha.digest('hex'), attributes: d.inspector?.result() ?? {} } : null;
  }

  /** The upload ended (completed, aborted, expired, superseded): drop what is kept for it. */
  forget(upload_id: string): void {
    const d = this.byUpload.get(upload_id);
    if (d) this.spoil(d);
    this.byUpload.delete(upload_id);
  }

  /** Hashes recorded parts in order from `next`; the first one still streaming is hashed from here on as it streams. */
  private advance(d: UploadDigest): void {
    for (let st = d.parts.get(d.next); st && !d.spoiled; st = d.parts.get(d.next)) {
      if (st.chunks) {
        for (const c of st.chunks) d.hash(c);
        this.buffered -= st.bytes;
        st.chunks = null;
        st.bytes = 0;
      }
      if (st.token === null) return; // still streaming: its next bytes go straight to the hash
      d.next++;
    }
  }

  private spoil(d: UploadDigest): void {
    d.spoiled = true;
    for (const st of d.parts.values()) {
      this.buffered -= st.bytes;
      st.chunks = null;
      st.bytes = 0;
    }
  }
}
