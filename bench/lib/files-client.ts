/**
 * The Files API client the file benches share (bench/files.ts, bench/s3.ts): a generated source file
 * (every MiB different, with its sha256 and CRC-32C), `ftnode serve` in its own process, a simple
 * multipart upload, a direct upload (initiate → concurrent part PUTs → complete) and a hashed
 * download, all over node:http with no agent so every request is one fresh connection.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Crc32c } from '../../src/blobs/crc32c.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function send(url: string, method: string, headers: Record<string, string | number>, body?: Readable | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body === undefined || typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

export function ok(a: Answer, what: string): Answer {
  if (a.status !== 200) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  return a;
}

/** Writes `size` bytes of a fixed pattern (each MiB stamped with its number, so no two are equal). */
export async function writeSource(path: string, size: number): Promise<{ sha256: string; crc32c: string }> {
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  const h = createHash('sha256');
  const crc = new Crc32c();
  const fh = await open(path, 'w');
  for (let off = 0, n = 0; off < size; off += block.length, n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - off)));
    chunk.writeUInt32LE(n, 0); // every MiB differs
    h.update(chunk);
    crc.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  return { sha256: h.digest('hex'), crc32c: crc.base64() };
}

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** The bench's side of the Files API: one key, one file size, a part concurrency. */
export class FilesClient {
  readonly auth: Record<string, string>;

  constructor(private readonly key: string, private readonly size: number, private readonly concurrency: number) {
    this.auth = { authorization: `Bearer ${key}` };
  }

  /** `ftnode serve` on an ephemeral port with no workers; resolves once it prints its URL. */
  startServer(home: string, env: Record<string, string> = {}, stderr: 'ignore' | 'inherit' = 'inherit'): Promise<{ url: string; pid: number; stop(): void }> {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--home', home, '--workers', '0'], {
      env: { ...process.env, FTNODE_BOOTSTRAP_KEY: this.key, FTNODE_LOG_LEVEL: 'warn', FTNODE_MAX_UPLOAD_BYTES: String(this.size * 2), ...env },
      stdio: ['ignore', 'pipe', stderr],
    });
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve({ url: m[1]!, pid: child.pid!, stop: () => child.kill('SIGTERM') });
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
    });
  }

  async uploadSimple(url: string, src: string, name: string): Promise<void> {
    const boundary = 'ftnodebench';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from(head);
      for await (const c of createReadStream(src, { highWaterMark: 1 << 20 })) yield c as Buffer;
      yield Buffer.from(tail);
    }
    const len = Buffer.byteLength(head) + this.size + Buffer.byteLength(tail);
    ok(await send(`${url}/v0.5/files`, 'POST', { ...this.auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': len }, Readable.from(body())), 'simple upload');
  }

  /** A direct upload; `phases` (if given) gets the seconds of the part PUTs and of the complete. */
  async uploadDirect(url: string, src: string, name: string, crc32c: string, phases?: { parts: number[]; complete: number[] }): Promise<void> {
    const init = JSON.parse(ok(await send(`${url}/v0.5/files/uploads/initiate`, 'POST', { ...this.auth, 'content-type': 'application/json' },
      JSON.stringify({ filename: name, file_type: 'text/plain', num_bytes: this.size })), 'initiate').body);
    const queue = [...init.parts];
    const parts: Array<{ part_number: number; part_token: string }> = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: this.concurrency }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const body = createReadStream(src, { start: p.offset, end: p.offset + p.length - 1, highWaterMark: 1 << 20 });
        const a = ok(await send(p.url, 'PUT', { 'content-length': p.length }, body), `part ${p.part_number}`);
        parts.push({ part_number: p.part_number, part_token: String(a.headers.etag) });
      }
    }));
    const t1 = performance.now();
    phases?.parts.push((t1 - t0) / 1000);
    ok(await send(`${url}/v0.5/files/uploads/${init.upload_id}/complete`, 'POST', { ...this.auth, 'content-type': 'application/json' },
      JSON.stringify({ parts, integrity_checksum: crc32c })), 'complete');
    phases?.complete.push((performance.now() - t1) / 1000);
  }

  /** Streams a download to `dst`, hashing it; rejects on a different sha256. */
  download(url: string, name: string, dst: string, sha256: string, path = `/v0.5/files/download/${name}`): Promise<void> {
    return new Promise((resolve, reject) => {
      request(`${url}${path}`, { headers: this.auth, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`download: HTTP ${res.statusCode}`));
        drainHashed(res, dst, sha256).then(resolve, reject);
      }).on('error', reject).end();
    });
  }
}

/**
 * A download that ftnode answers with a 302 (FTNODE_S3_DOWNLOAD_REDIRECT=1): the redirect, then the
 * presigned GET straight from the bucket, hashed to `dst` like download().
 */
export function downloadByRedirect(url: string, name: string, dst: string, sha256: string, auth: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    request(`${url}/v0.5/files/download/${name}`, { headers: auth, agent: false }, (res) => {
      res.resume();
      const to = res.headers.location;
      if (res.statusCode !== 302 || !to) return reject(new Error(`download by redirect: HTTP ${res.statusCode}`));
      // The presigned URL carries its own signature: no Authorization header goes to the bucket.
      request(to, { agent: false }, (obj) => {
        if (obj.statusCode !== 200) return reject(new Error(`presigned GET: HTTP ${obj.statusCode}`));
        drainHashed(obj, dst, sha256).then(resolve, reject);
      }).on('error', reject).end();
    }).on('error', reject).end();
  });
}

/** Writes a stream to `dst` while hashing it; throws when the sha256 differs. */
export async function drainHashed(body: Readable, dst: string, sha256: string): Promise<void> {
  const h = createHash('sha256');
  body.on('data', (c: Buffer) => h.update(c));
  await pipeline(body, createWriteStream(dst, { highWaterMark: 4 << 20 }));
  if (h.digest('hex') !== sha256) throw new Error('download: sha256 differs');
}
