/**
 * BlobStore on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, GCS's S3 interface), configured by
 * `FTNODE_BLOB_URL=s3://bucket/prefix`. Layout under the prefix: `<key>` for committed objects,
 * `.tmp/` for staged objects whose final key was not known yet, `.parts/<group>/upload` naming the
 * multipart upload a direct upload's parts join (UploadPart per part PUT). Invariants:
 * - an object is named only when complete: writes stream into a multipart upload under the final
 *   key (s3-sink.ts) and CompleteMultipartUpload, the one step that makes it visible, runs only after
 *   the size, sha256 and checks are known; a crash before it leaves no listed object;
 * - nothing is held whole in memory (at most a few 8 MiB parts per write);
 * - trainers and validators read local files, so localPath() downloads an object once into
 *   `<cacheDir>/objects/` (keys are never rewritten: every version has its own key).
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobStoreUnavailableError } from '../domain/unavailable.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { BlobMismatchError, BlobTooLargeError, type BlobInfo, type BlobStore, type PartSpec, type PartWrite, type PartsSpec, type StageOptions, type StagedBlob, type StagedPart } from './blob-store.js';
import { hashFile } from './local-disk.js';
import { PartsChecker } from './parts-check.js';
import { S3Sink } from './s3-sink.js';

/** The object in a part group naming its multipart upload. */
const PARTS_MARKER = 'upload';

interface PartsMarker {
  key: string; // full key of the object the parts become
  uploadId: string;
}

export interface S3Settings {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string;
  endpoint?: string | null;
  region?: string;
  forcePathStyle?: boolean;
  /** Local folder for downloaded objects (trainers read files) and scratch folders. */
  cacheDir: string;
  /** Explicit credentials (tests, benches); else the SDK's standard chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Names temporary objects and dates the sweeps (object times are the server's wall clock). */
  clock?: Clock;
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`not an s3://bucket[/prefix] URL: '${url}'`);
  const p = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1]!, prefix: p ? `${p}/` : '' };
}

const isMissing = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266), as the API's own downloads answer. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export class S3BlobStore implements BlobStore {
  readonly streamsUploads = true;
  /** S3 refuses to complete a multipart upload whose non-last part is under 5 MiB (EntityTooSmall). */
  readonly minPartBytes = 5 * 1024 * 1024;
  readonly client: S3Client;
  private readonly clock: Clock;
  private readonly markers = new Map<string, PartsMarker>();
  readonly bucket: string;
  readonly prefix: string;
  private readonly cacheDir: string;

  constructor(s: S3Settings) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(s.url));
    this.cacheDir = resolve(s.cacheDir);
    this.clock = s.clock ?? systemClock;
    this.client = new S3Client({
      region: s.region ?? 'us-east-1',
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.forcePathStyle ?? false,
      ...(s.credentials ? { credentials: s.credentials } : {}),
      // Checksums are ours (sha256 per object, crc32c per part): the SDK's default CRC32 trailers
      // are not understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    // SigV4 signs a Buffer body's sha256 (one more full pass over every byte, ~0.6 s per GB here,
    // beside our own sha256 of the file); a streamed body is already sent unsigned. Declaring the
    // payload unsigned keeps Buffer bodies, which the SDK can replay when it retries a part.
    this.client.middlewareStack.add((next) => async (args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown };
      if (req.headers && req.body !== undefined && !('x-amz-content-sha256' in req.headers)) req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    }, { step: 'build', name: 'ftnodeUnsignedPayload' });
  }

  private full(key: string): string {
    if (key.startsWith('.') || key.startsWith('/') || key.split('/').includes('..') || key === '') throw new Error(`blob key outside the store: ${key}`);
    return this.prefix + key;
  }

  private tmpKey(): string {
    return `${this.prefix}.tmp/${this.clock.now()}-${randomBytes(8).toString('hex')}`;
  }

  /** Streams `source` into a sink under `fullKey` through a meter; the object is not visible yet. */
  private async streamInto(fullKey: string, source: Readable, opts: StageOptions): Promise<{ sink: S3Sink; size: number; sha256: string; overLimit: boolean }> {
    const hash = opts.hash === false ? null : createHash('sha256');
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    let size = 0;
    let over = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (over || size + chunk.length > limit) {
          over = true; // keep reading so the HTTP client can read the answer; drop the bytes
          return cb();
        }
        size += chunk.length;
        hash?.update(chunk);
        opts.tap?.(chunk);
        cb(null, chunk);
      },
    });
    if (source.destroyed) throw Object.assign(new Error('the upload stream was closed before it could be stored'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const sink = new S3Sink(this.client, this.bucket, fullKey);
    try {
      if (opts.through) await pipeline(source, opts.through, meter, sink);
      else await pipeline(source, meter, sink);
    } catch (err) {
      await sink.abort();
      // The pipeline destroyed the request stream too: say the store failed, not the client.
      throw sink.storageFailure ? new BlobStoreUnavailableError('an upload to S3', sink.storageFailure) : err;
    }
    if (over) await sink.abort();
    return { sink, size, sha256: hash ? hash.digest('hex') : '', overLimit: over };
  }

  async writeStream(key: string, source: Readable, opts: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const r = await this.streamInto(this.full(key), source, { maxBytes: opts.maxBytes });
    if (r.overLimit) throw new BlobTooLargeError(opts.maxBytes!);
    await r.sink.complete();
    return { size: r.size, sha256: r.sha256 };
  }

  async writeBuffer(key: string, data: Buffer | string): Promise<BlobInfo> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    await new Upload({ client: this.client, params: { Bucket: this.bucket, Key: this.full(key), Body: buf } }).done();
    return { size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  }

  /** Verifies the local file, uploads it (lib-storage: multipart past 5 MiB, visible only when complete), then removes the local copy. */
  async importFile(srcPath: string, key: string, expect: BlobInfo): Promise<void> {
    const actual = await hashFile(srcPath);
    if (actual.size !== expect.size || actual.sha256 !== expect.sha256) {
      throw new BlobMismatchError(`expected ${expect.size} bytes sha256 ${expect.sha256}, found ${actual.size} bytes sha256 ${actual.sha256}`);
    }
    const up = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: this.full(key), Body: createReadStream(srcPath) }, partSize: 8 * 1024 * 1024, queueSize: 4 });
    await up.done();
    await unlink(srcPath).catch(() => undefined);
  }

  async returnFile(key: string, destPath: string): Promise<void> {
    const body = await this.openRead(key);
    if (!body) throw new Error(`blob ${key} is missing`);
    await pipeline(body, createWriteStream(destPath));
    await this.delete(key);
  }

  readStream(key: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough();
    this.openRead(key, range).then((s) => {
      if (!s) out.destroy(Object.assign(new Error(`ENOENT: no object ${key}`), { code: 'ENOENT' }));
      else pipeline(s, out).catch((err: Error) => out.destroy(err));
    }, (err: Error) => out.destroy(err));
    return out;
  }

  async openRead(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return r.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }))).ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.deleteFull([this.full(key)]);
  }

  private async deleteFull(keys: string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys; a missing key is not an error on S3.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      if (batch.length === 1) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: batch[0] }));
      else await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    }
  }

  /** Full keys and write times under a full-key prefix (ListObjectsV2, 1,000 a page). */
  private async listFull(fullPrefix: string): Promise<Array<{ key: string; mtime: number }>> {
    const out: Array<{ key: string; mtime: number }> = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: fullPrefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) out.push({ key: o.Key!, mtime: o.LastModified?.getTime() ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.deleteFull((await this.listFull(`${this.full(prefix)}/`)).map((o) => o.key));
  }

  async localPath(key: string): Promise<string> {
    const dest = join(this.cacheDir, 'objects', ...this.full(key).split('/'));
    if (!dest.startsWith(this.cacheDir + sep)) throw new Error(`blob key outside the store: ${key}`);
    if (await stat(dest).then(() => true, () => false)) return dest;
    const body = await this.openRead(key);
    if (!body) return dest; // readers report the missing file as they do on disk
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipeline(body, createWriteStream(tmp));
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return dest;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.full(key)}`;
  }

  async presignGet(key: string, ttlMs: number, signingDate?: Date, filename?: string): Promise<string | null> {
    // The signature carries its own start time and lifetime; the server refuses it afterwards (403).
    const seconds = Math.max(1, Math.min(604_800, Math.round(ttlMs / 1000))); // SigV4 allows 1 s to 7 days
    const disposition = filename === undefined ? {} : { ResponseContentDisposition: attachment(filename) };
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key), ...disposition }), { expiresIn: seconds, ...(signingDate ? { signingDate } : {}) });
  }

  async listKeys(prefix: string, minAgeMs: number): Promise<string[]> {
    const cutoff = this.clock.now() - minAgeMs; // object times are the server's wall clock, as mtimes are on disk
    return (await this.listFull(`${this.full(prefix)}/`))
      .filter((o) => minAgeMs <= 0 || o.mtime <= cutoff)
      .map((o) => o.key.slice(this.prefix.length));
  }

  async scratchDir(name: string): Promise<string> {
    const dir = join(this.cacheDir, 'work', name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async sweepTemp(olderThanMs: number): Promise<number> {
    const cutoff = this.clock.now() - olderThanMs;
    const old = (await this.listFull(`${this.prefix}.tmp/`)).filter((o) => olderThanMs <= 0 || o.mtime < cutoff).map((o) => o.key);
    await this.deleteFull(old);
    let removed = old.length;
    // Local downloads interrupted by a crash (`*.part` in the cache).
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.part') && (olderThanMs <= 0 || ((await stat(p).catch(() => null))?.mtimeMs ?? Infinity) < cutoff)) {
          await rm(p, { force: true });
          removed++;
        }
      }
    };
    await walk(join(this.cacheDir, 'objects'));
    return removed;
  }

  // ---- streamed uploads
  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    return this.staged(await this.streamInto(opts.key ? this.full(opts.key) : this.tmpKey(), source, opts), opts.key);
  }

  /**
   * With the final key known up front the commit is S3's CompleteMultipartUpload (no copy); without
   * it the object completes under `.tmp/` and commit copies it server-side (no byte through us).
   */
  private staged(r: { sink: S3Sink; size: number; sha256: string; overLimit: boolean }, finalKey?: string): StagedBlob {
    let done = r.overLimit;
    let tmpVisible = false;
    const sinkKey = r.sink.key;
    return {
      size: r.size,
      sha256: r.sha256,
      overLimit: r.overLimit,
      commit: async (key: string) => {
        if (done) throw new Error('staged blob already committed or discarded');
        done = true;
        if (finalKey !== undefined) {
          if (key !== finalKey) throw new Error(`staged for ${finalKey}, committed as ${key}`);
          return r.sink.complete();
        }
        try {
          await r.sink.complete();
          tmpVisible = true;
          await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.full(key), CopySource: `${this.bucket}/${encodeURI(sinkKey)}` }));
        } finally {
          if (tmpVisible) await this.deleteFull([sinkKey]).catch(() => undefined); // else the sweep takes it
        }
      },
      discard: async () => {
        if (done) return;
        done = true;
        await r.sink.abort();
      },
    };
  }

  /** The marker of a part group: the multipart upload its parts join (written at initiate, read by any replica). */
  private markerKey(group: string): string {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(group)) throw new Error(`bad part group name: ${group}`);
    return `${this.prefix}.parts/${group}/${PARTS_MARKER}`;
  }

  private async marker(group: string): Promise<PartsMarker | null> {
    const hit = this.markers.get(group);
    if (hit) return hit;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.markerKey(group) }));
      const m = JSON.parse(await (r.Body as { transformToString(): Promise<string> }).transformToString()) as PartsMarker;
      this.markers.set(group, m);
      return m;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async openParts(group: string, spec: PartsSpec): Promise<void> {
    const key = this.full(spec.key);
    const r = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const m: PartsMarker = { key, uploadId: r.UploadId! };
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.markerKey(group), Body: JSON.stringify(m), ContentType: 'application/json' }));
    this.markers.set(group, m);
  }

  /**
   * UploadPart `number + 1`, streamed (nothing buffered beyond the stream's 1 MiB): the request's
   * Content-Length is the part's length, so a body that runs short or long aborts the request
   * instead of storing a wrong part; UploadPart of a number already sent replaces it. The name
   * recorded is S3's ETag of the part, which CompleteMultipartUpload lists.
   */
  async writePart(group: string, source: Readable, opts: PartWrite): Promise<StagedPart> {
    const m = await this.marker(group);
    if (!m) throw new Error(`direct upload ${group} has no multipart upload (it ended, or began before this version)`);
    if (source.destroyed) throw Object.assign(new Error('the upload stream was closed before it could be stored'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const limit = opts.length;
    const tap = opts.tap;
    let size = 0;
    let over = false;
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const ac = new AbortController();
    let failed: Error | null = null;
    const send = this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: m.key, UploadId: m.uploadId, PartNumber: opts.number + 1, Body: body, ContentLength: limit }), { abortSignal: ac.signal });
    send.catch((err: Error) => {
      failed ??= err;
      body.destroy();
      this.markers.delete(group); // another replica may have renewed the multipart upload: read the marker again next time
    });
    const meter = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        // UploadPart failed: read the rest of the part (at most one part size) and drop it, so the
        // client gets the 503 below instead of a reset connection.
        if (failed) return cb();
        if (over || size + chunk.length > limit) {
          over = true; // keep reading so the HTTP client can read the answer; drop the bytes
          return cb();
        }
        size += chunk.length;
        tap?.(chunk);
        if (body.write(chunk)) return cb();
        const go = (): void => {
          body.off('drain', go);
          body.off('close', go);
          cb();
        };
        body.on('drain', go);
        body.on('close', go);
      },
    });
    const stop = async (): Promise<void> => {
      ac.abort();
      body.destroy();
      await send.catch(() => undefined);
    };
    try {
      await pipeline(source, meter);
    } catch (err) {
      await stop();
      throw err;
    }
    // UploadPart failed (S3 reset the connection, or answered 5xx): a failure of the store (503),
    // which must not read as the client's (its ECONNRESET once looked like a client hanging up).
    if (failed) {
      await stop();
      throw new BlobStoreUnavailableError(`UploadPart ${opts.number + 1}`, failed);
    }
    if (over || size !== limit) {
      await stop();
      return { name: '', size, overLimit: over };
    }
    body.end();
    // Every byte was read: a failure now is S3's alone (and the ended request stream, destroyed by
    // then, would again make its ECONNRESET look like the client's).
    const r = await send.catch((err: unknown) => {
      throw new BlobStoreUnavailableError(`UploadPart ${opts.number + 1}`, err);
    });
    return { name: r.ETag ?? '', size, overLimit: false };
  }

  /**
   * CompleteMultipartUpload of the recorded parts (their ETags), then one GetObject read through the
   * checks. S3 removes the parts on completion, so a read that finds a broken part (or a multipart
   * upload that is gone) deletes the object and opens a fresh multipart upload: every part is then
   * broken and must be sent again. A completed, checked object that no row names yet (a failure
   * after this) stays: the next complete finds it, and it dies with the upload or by the orphan sweep.
   */
  async stageParts(group: string, parts: PartSpec[], opts: StageOptions & { key: string; verified?: BlobInfo }): Promise<{ staged: StagedBlob | null; broken: number[] }> {
    const all = parts.map((p) => p.number);
    const m = await this.marker(group);
    if (!m || m.key !== this.full(opts.key)) throw new Error(`direct upload ${group} has no multipart upload for ${opts.key}`);
    let verified = opts.verified ?? null;
    try {
      await this.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.bucket, Key: m.key, UploadId: m.uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ ETag: p.name, PartNumber: p.number + 1 })) },
      }));
    } catch (err) {
      verified = null; // whatever is there now was not made from these parts by this call: read it
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      if (status < 400 || status >= 500) throw err; // the network or the server: try again later, parts kept
      // NoSuchUpload: a completion before this one (an assembler that stalled) may have made the
      // object; InvalidPart: a stored part is not the one recorded. Either way read what is there.
      if ((await this.size(opts.key)) === null) {
        await this.renewParts(group, m);
        return { staged: null, broken: all };
      }
    }
    // Verified: the object is exactly the recorded parts (completed by their ETags just now), whose
    // bytes the caller hashed as they went out; the read back, a full GET, is skipped.
    const res = verified ? { size: verified.size, sha256: verified.sha256, broken: [] as number[] } : await this.readBack(m.key, parts, opts);
    if (res.broken.length > 0) {
      await this.deleteFull([m.key]);
      await this.renewParts(group, m);
      return { staged: null, broken: all };
    }
    return {
      broken: [],
      staged: {
        size: res.size, sha256: res.sha256, overLimit: false,
        commit: async (key: string) => {
          if (key !== opts.key) throw new Error(`staged for ${opts.key}, committed as ${key}`); // already visible: nothing to do
        },
        discard: async () => undefined,
      },
    };
  }

  /** The completed object read once through sha256, the caller's tap and each part's CRC-32C. */
  private async readBack(fullKey: string, parts: PartSpec[], opts: StageOptions): Promise<{ size: number; sha256: string; broken: number[] }> {
    const check = new PartsChecker(parts, opts.hash !== false, opts.tap);
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    for await (const chunk of r.Body as Readable) check.update(chunk as Buffer);
    return check.result();
  }

  /** A fresh multipart upload under the same key, for parts sent again. */
  private async renewParts(group: string, m: PartsMarker): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: m.key, UploadId: m.uploadId })).catch(() => undefined);
    this.markers.delete(group);
    await this.openParts(group, { key: m.key.slice(this.prefix.length), numBytes: 0, partSize: 0 });
  }

  async deleteParts(group: string): Promise<void> {
    const m = await this.marker(group);
    this.markers.delete(group);
    // s3rver has no AbortMultipartUpload; real servers drop the stored parts here.
    if (m) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: m.key, UploadId: m.uploadId })).catch(() => undefined);
    await this.deleteFull((await this.listFull(`${this.prefix}.parts/${group}/`)).map((o) => o.key));
  }

  async sweepParts(live: Map<string, string[]>, minAgeMs: number): Promise<void> {
    for (const [group, names] of await this.listPartGroups(minAgeMs)) {
      if (!live.has(group) && (minAgeMs <= 0 || names.includes(PARTS_MARKER))) await this.deleteParts(group);
    }
  }

  async listPartGroups(minAgeMs = 0): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const cutoff = this.clock.now() - minAgeMs;
    const base = `${this.prefix}.parts/`;
    for (const o of await this.listFull(base)) {
      const [group, name] = o.key.slice(base.length).split('/');
      if (!group || !name) continue;
      if (!out.has(group)) out.set(group, []);
      if (minAgeMs <= 0 || o.mtime <= cutoff) out.get(group)!.push(name);
    }
    return out;
  }
}
