/**
 * Helpers of the files API tests: raw node:http requests that send their whole body before reading
 * the answer (as the official Python client does), multipart bodies built as streams, deterministic
 * position-dependent test bytes generated chunk by chunk (never the whole file in memory), and an
 * RSS sampler for the "streams, never buffers" checks.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { Crc32c } from '../src/blobs/crc32c.js';
import type { App } from '../src/app/app.js';
import { TEST_KEY } from './helpers/harness.js';

export const AUTH = { authorization: `Bearer ${TEST_KEY}` };

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): any;
}

/** Sends `body` entirely (awaiting the last byte written) and only then reads the response. */
export function rawRequest(url: string, method: string, headers: Record<string, string | number>, body?: Readable | Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) });
      });
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body) || typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

/** A multipart/form-data body with one file part, streamed; `length` is exact, for Content-Length. */
export function multipartBody(fileName: string, type: string, content: Readable | Buffer, contentLength: number, field = 'file') {
  const boundary = `----ftnodetest${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* gen(): AsyncGenerator<Buffer> {
    yield head;
    if (Buffer.isBuffer(content)) yield content;
    else for await (const c of content) yield c as Buffer;
    yield tail;
  }
  return {
    stream: Readable.from(gen(), { objectMode: false }),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + contentLength + tail.length },
  };
}

export async function uploadRaw(url: string, path: string, fileName: string, type: string, content: Readable | Buffer, length: number, auth: Record<string, string> = AUTH): Promise<RawResponse> {
  const body = multipartBody(fileName, type, content, length);
  return rawRequest(url + path, 'POST', { ...auth, ...body.headers }, body.stream);
}

const CHUNK = 64 * 1024;
const BLOCK = (() => {
  // 1 MiB of fixed pseudo-random bytes (xorshift), the raw material of every pattern chunk
  const b = Buffer.alloc(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  return b;
})();

/**
 * Bytes [offset, offset+length) of a deterministic test file (`seed` picks the file): 64 KiB chunks,
 * each stamped with its absolute index and the seed, so swapped or mixed chunks change every hash.
 */
export function patternChunk(seed: number, index: number): Buffer {
  const c = Buffer.from(BLOCK.subarray(((index * 7 + seed * 13) % 16) * CHUNK, ((index * 7 + seed * 13) % 16) * CHUNK + CHUNK));
  c.writeUInt32LE(index, 0);
  c.writeUInt32LE(seed, 4);
  return c;
}

export function patternStream(seed: number, offset: number, length: number, map?: (c: Buffer) => Buffer): Readable {
  if (offset % CHUNK !== 0) throw new Error('pattern ranges start on a 64 KiB boundary');
  async function* gen(): AsyncGenerator<Buffer> {
    let left = length;
    for (let i = offset / CHUNK; left > 0; i++) {
      const c = patternChunk(seed, i).subarray(0, Math.min(CHUNK, left));
      left -= c.length;
      yield map ? map(c) : c;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

/** sha256 (hex) and CRC-32C (base64) of a pattern file, computed without storing it. */
export function patternDigest(seed: number, length: number): { sha256: string; crc32c: string } {
  const h = createHash('sha256');
  const crc = new Crc32c();
  for (let i = 0, left = length; left > 0; i++) {
    const c = patternChunk(seed, i).subarray(0, Math.min(CHUNK, left));
    left -= c.length;
    h.update(c);
    crc.update(c);
  }
  return { sha256: h.digest('hex'), crc32c: crc.base64() };
}

/** Streams a response body through sha256; returns status, digest and byte count. */
export function hashDownload(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; sha256: string; bytes: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const h = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: h.digest('hex'), bytes, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Samples this process's RSS every 20 ms; stop() gives the largest growth over the baseline. */
export function sampleRss(): { stop(): { baseline: number; peak: number; growth: number } } {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return { baseline, peak, growth: peak - baseline };
    },
  };
}

/** A bearer header for a second organization, to check isolation. */
export async function otherOrgAuth(app: App, org = 'other-org'): Promise<Record<string, string>> {
  const { key } = await app.auth.createKey(org, 'test');
  return { authorization: `Bearer ${key}` };
}

export async function orgUuid(app: App): Promise<string> {
  const p = await app.auth.authenticate(AUTH.authorization);
  return p!.org.uuid;
}

/** Base64 text of a byte stream, re-chunked to multiples of 3 bytes so the pieces concatenate. */
export function base64Stream(source: Readable): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let carry = Buffer.alloc(0);
    for await (const chunk of source) {
      const all = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      const whole = all.length - (all.length % 3);
      carry = Buffer.from(all.subarray(whole));
      if (whole > 0) yield Buffer.from(all.subarray(0, whole).toString('base64'));
    }
    if (carry.length) yield Buffer.from(carry.toString('base64'));
  }
  return Readable.from(gen(), { objectMode: false });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
