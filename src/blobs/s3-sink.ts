/**
 * A Writable that streams bytes into ONE S3 object under its final key but does not make it visible
 * until complete() is called: parts of PART_BYTES go out as S3 multipart parts while the bytes
 * arrive, and the object exists only after CompleteMultipartUpload (S3 never lists an uncompleted
 * multipart upload as an object). A body shorter than one part stays in memory and is sent by one
 * PutObject at complete(), so small uploads cost one request. abort() drops everything.
 *
 * Memory: at most PART_BYTES × (PARALLEL + 1) per sink (8 MiB × 5 = 40 MiB), whatever the size.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Writable } from 'node:stream';
import { BlobStoreUnavailableError } from '../domain/unavailable.js';

/** 8 MiB parts: above S3's 5 MiB minimum, 1,250 requests per 10 GB; 10,000 parts allow 80 GB per object. */
export const PART_BYTES = 8 * 1024 * 1024;
/** 4 parts in flight: enough to keep one loopback or LAN link busy; more only costs memory. */
const PARALLEL = 4;

export class S3Sink extends Writable {
  private uploadId: string | null = null;
  private readonly etags: string[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly inflight = new Set<Promise<void>>();
  private failure: Error | null = null;
  private finished = false;

  constructor(private readonly client: S3Client, private readonly bucket: string, readonly key: string, private readonly partBytes = PART_BYTES) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.partBytes) return cb();
    this.flushPart().then(() => cb(), (err: Error) => cb(this.failed(err)));
  }

  /** The first failure of S3 itself (a request that failed), as opposed to the source's. */
  get storageFailure(): Error | null {
    return this.failure;
  }

  private failed(err: Error): Error {
    this.failure ??= err;
    return err;
  }

  override _final(cb: (err?: Error | null) => void): void {
    // A tail goes out as the last part only when a multipart upload exists; otherwise it waits for complete().
    const tail = this.uploadId !== null && this.buffered > 0 ? this.flushPart() : Promise.resolve();
    tail.then(() => this.drain()).then(() => {
      this.finished = true;
      cb();
    }, (err: Error) => cb(this.failed(err)));
  }

  private async flushPart(): Promise<void> {
    if (this.failure) throw this.failure;
    const body = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    if (this.uploadId === null) {
      const r = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }));
      this.uploadId = r.UploadId!;
    }
    const n = this.etags.length + 1;
    this.etags.push('');
    const p = this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: n, Body: body, ContentLength: body.length }))
      .then((r) => {
        this.etags[n - 1] = r.ETag!;
      }, (err: Error) => {
        this.failure ??= err;
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    if (this.inflight.size >= PARALLEL) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
  }

  /**
   * Makes the object visible under `key` (call once, after the stream finished without error). A
   * failure here is S3's (the request body was read to its end): BlobStoreUnavailableError, 503.
   */
  async complete(): Promise<void> {
    if (!this.finished) throw new Error('S3Sink.complete() before the stream finished');
    try {
      if (this.uploadId === null) {
        const body = Buffer.concat(this.chunks, this.buffered);
        this.chunks = [];
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body, ContentLength: body.length }));
        return;
      }
      await this.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.bucket, Key: this.key, UploadId: this.uploadId,
        MultipartUpload: { Parts: this.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }));
    } catch (err) {
      throw new BlobStoreUnavailableError(this.uploadId === null ? 'PutObject' : 'CompleteMultipartUpload', err);
    }
  }

  /** Drops the parts sent so far; nothing was ever visible. Servers without AbortMultipartUpload leave them to their own expiry. */
  async abort(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    await Promise.allSettled(this.inflight);
    if (this.uploadId === null) return;
    const id = this.uploadId;
    this.uploadId = null;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: id })).catch(() => undefined);
  }
}
