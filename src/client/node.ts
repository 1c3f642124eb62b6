/**
 * Node-only helpers on top of FtClient: a simple upload streamed from disk with byte progress (the
 * multipart body is built by hand so a 500 MB file is never held in memory), the content type the
 * official client would send for a name, and downloads streamed to disk with a sha256 check
 * (written to `<file>.part`, renamed only when the digest matches).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FtClient } from './client.js';
import { ApiError } from './errors.js';
import { ROUTES } from './routes.js';
import type { FileRef } from './types.js';

export type Progress = (done: number, total: number) => void;

/** The official Python client's mapping (docs/spec.md#files): JSON/JSONL/text as text/plain. */
const TYPES: Record<string, string> = {
  '.json': 'text/plain', '.jsonl': 'text/plain', '.txt': 'text/plain', '.text': 'text/plain', '.yaml': 'text/plain', '.yml': 'text/plain',
  '.csv': 'text/csv', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4',
};

export function contentTypeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** POST /v0.5/files from a path, streamed, reporting bytes of the file sent so far. */
export async function simpleUpload(client: FtClient, path: string, o: { name?: string; onProgress?: Progress; signal?: AbortSignal } = {}): Promise<FileRef> {
  const name = o.name ?? basename(path);
  const size = (await stat(path)).size;
  const boundary = `----ftnode${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const safeName = name.replace(/[\r\n"]/g, '_');
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\nContent-Type: ${contentTypeOf(name)}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  let sent = 0;
  async function* body(): AsyncGenerator<Buffer> {
    yield head;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      sent += (chunk as Buffer).length;
      o.onProgress?.(sent, size);
      yield chunk as Buffer;
    }
    yield tail;
  }
  const res = await client.fetchOk(client.url(ROUTES.uploadFile), {
    method: 'POST',
    headers: { ...client.authHeaders(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream<Uint8Array>,
    duplex: 'half',
    signal: o.signal,
  } as RequestInit);
  return (await res.json()) as FileRef;
}

export interface SavedDownload {
  path: string;
  num_bytes: number;
  sha256: string;
}

/**
 * Streams a download response to `outPath`. When `expectedSha256` is given (or the response carries
 * `x-checksum-sha256`), a mismatch deletes the partial file and throws ApiError `checksum_mismatch`.
 */
export async function saveDownload(res: Response, outPath: string, o: { expectedSha256?: string; onProgress?: Progress } = {}): Promise<SavedDownload> {
  if (!res.body) throw ApiError.local('download_failed', 'the response has no body');
  const total = Number(res.headers.get('content-length') ?? 0);
  const expected = (o.expectedSha256 ?? res.headers.get('x-checksum-sha256') ?? '').toLowerCase() || null;
  const hash = createHash('sha256');
  const tmp = `${outPath}.part`;
  let bytes = 0;
  const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  source.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    o.onProgress?.(bytes, total);
  });
  try {
    await pipeline(source, createWriteStream(tmp));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const sha256 = hash.digest('hex');
  if (expected && sha256 !== expected) {
    await rm(tmp, { force: true });
    throw ApiError.local('checksum_mismatch', `downloaded ${bytes} bytes with sha256 ${sha256}, expected ${expected}; nothing was saved`);
  }
  await rename(tmp, outPath);
  return { path: outPath, num_bytes: bytes, sha256 };
}
