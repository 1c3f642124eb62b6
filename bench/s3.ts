/**
 * Object storage throughput (docs/benchmarks-s3.md): a 1 GB file through `ftnode serve` on an
 * S3-protocol server (s3rver, its own process) against the AWS SDK putting and getting the same
 * bytes directly to that server in the same run (goal ≥ 0.8×); a direct upload against a simple
 * upload on local disk (goal ≥ 0.9×); the S3 server process's peak RSS (VmHWM) during 4 concurrent
 * 1 GB simple uploads.
 *   node dist/bench/s3.js [--size-mb 1000] [--rounds 1] [--concurrency 8] [--dir /tmp]
 * The SDK side uses lib-storage's Upload with the same part size (8 MiB) and parallelism (4) as
 * ftnode's writer, and a streamed GetObject; both sides hash what they download.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Crc32c } from '../src/lib/crc32c.js';
import { S3_CREDENTIALS, startS3Server } from '../test/helpers/s3-server.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { sampleMemory } from './lib/proc.js';
import { median, ratio, table } from './lib/stats.js';

const opts = parseArgs({ sizeMb: 1000, rounds: 1, concurrency: 8, dir: '/tmp', json: '' });
const SIZE = opts.sizeMb * 1_000_000;
const KEY = 'sk_bench_s3_0123456789abcdefghijklmnopqrstuvwx';
const AUTH = { authorization: `Bearer ${KEY}` };
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function send(url: string, method: string, headers: Record<string, string | number>, body?: Readable | string): Promise<Answer> {
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

function ok(a: Answer, what: string): Answer {
  if (a.status !== 200) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  return a;
}

async function writeSource(path: string): Promise<{ sha256: string; crc32c: string }> {
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  const h = createHash('sha256');
  const crc = new Crc32c();
  const fh = await open(path, 'w');
  for (let off = 0, n = 0; off < SIZE; off += block.length, n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, SIZE - off)));
    chunk.writeUInt32LE(n, 0);
    h.update(chunk);
    crc.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  return { sha256: h.digest('hex'), crc32c: crc.base64() };
}

function startServer(home: string, env: Record<string, string>): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--home', home, '--workers', '0'], {
    env: { ...process.env, FTNODE_BOOTSTRAP_KEY: KEY, FTNODE_LOG_LEVEL: 'warn', FTNODE_MAX_UPLOAD_BYTES: String(SIZE * 2), ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
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

async function uploadSimple(url: string, src: string, name: string): Promise<void> {
  const boundary = 'ftnodebench';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(head);
    for await (const c of createReadStream(src, { highWaterMark: 1 << 20 })) yield c as Buffer;
    yield Buffer.from(tail);
  }
  const len = Buffer.byteLength(head) + SIZE + Buffer.byteLength(tail);
  ok(await send(`${url}/v0.5/files`, 'POST', { ...AUTH, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': len }, Readable.from(body())), 'simple upload');
}

async function uploadDirect(url: string, src: string, name: string, crc32c: string): Promise<void> {
  const init = JSON.parse(ok(await send(`${url}/v0.5/files/uploads/initiate`, 'POST', { ...AUTH, 'content-type': 'application/json' },
    JSON.stringify({ filename: name, file_type: 'text/plain', num_bytes: SIZE })), 'initiate').body);
  const queue = [...init.parts];
  const parts: Array<{ part_number: number; part_token: string }> = [];
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const body = createReadStream(src, { start: p.offset, end: p.offset + p.length - 1, highWaterMark: 1 << 20 });
      const a = ok(await send(p.url, 'PUT', { 'content-length': p.length }, body), `part ${p.part_number}`);
      parts.push({ part_number: p.part_number, part_token: String(a.headers.etag) });
    }
  }));
  ok(await send(`${url}/v0.5/files/uploads/${init.upload_id}/complete`, 'POST', { ...AUTH, 'content-type': 'application/json' },
    JSON.stringify({ parts, integrity_checksum: crc32c })), 'complete');
}

/** Streams a download to `dst`, hashing it; rejects on a different sha256. */
async function drain(body: Readable, dst: string, sha256: string): Promise<void> {
  const h = createHash('sha256');
  body.on('data', (c: Buffer) => h.update(c));
  await pipeline(body, createWriteStream(dst, { highWaterMark: 4 << 20 }));
  if (h.digest('hex') !== sha256) throw new Error('download: sha256 differs');
}

function download(url: string, name: string, dst: string, sha256: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(`${url}/v0.5/files/download/${name}`, { headers: AUTH, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download: HTTP ${res.statusCode}`));
      drain(res, dst, sha256).then(resolve, reject);
    }).on('error', reject).end();
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  console.log(`s3 bench: ${machineLine()}`);
  console.log(`size ${SIZE} bytes, ${opts.rounds} rounds, ${opts.concurrency} concurrent part PUTs, dir ${opts.dir}`);
  const work = mkdtempSync(join(opts.dir, 'ftnode-bench-s3-'));
  const src = join(work, 'source.txt');
  const dst = join(work, 'copy.txt');
  const digest = await writeSource(src);
  const s3 = await startS3Server();
  const sdk = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const onS3 = await startServer(join(work, 'home-s3'), s3.env('bench'));
  const onDisk = await startServer(join(work, 'home-disk'), {});
  const secs: Record<string, number[]> = { 'SDK put': [], 'ftnode simple upload (S3)': [], 'SDK get': [], 'ftnode download (S3)': [], 'simple upload (disk)': [], 'direct upload (disk)': [] };
  let rss = { peakHwmKiB: 0, peakRssKiB: 0, samples: 0 };
  try {
    for (let r = 0; r < opts.rounds; r++) {
      secs['SDK put']!.push(await timed(() => new Upload({ client: sdk, params: { Bucket: s3.bucket, Key: `sdk/${r}`, Body: createReadStream(src, { highWaterMark: 1 << 20 }) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done()));
      secs['ftnode simple upload (S3)']!.push(await timed(() => uploadSimple(onS3.url, src, `s3-${r}.txt`)));
      secs['SDK get']!.push(await timed(async () => drain((await sdk.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `sdk/${r}` }))).Body as Readable, dst, digest.sha256)));
      rmSync(dst, { force: true });
      secs['ftnode download (S3)']!.push(await timed(() => download(onS3.url, `s3-${r}.txt`, dst, digest.sha256)));
      rmSync(dst, { force: true });
      secs['simple upload (disk)']!.push(await timed(() => uploadSimple(onDisk.url, src, `disk-s-${r}.txt`)));
      secs['direct upload (disk)']!.push(await timed(() => uploadDirect(onDisk.url, src, `disk-d-${r}.txt`, digest.crc32c)));
      for (const [u, n] of [[onS3.url, `s3-${r}.txt`], [onDisk.url, `disk-s-${r}.txt`], [onDisk.url, `disk-d-${r}.txt`]] as const) ok(await send(`${u}/v0.5/files/delete/${n}`, 'DELETE', AUTH), 'delete');
      console.log(`round ${r + 1}: ${Object.entries(secs).map(([k, v]) => `${k} ${v[r]!.toFixed(2)} s`).join(', ')}`);
    }
    // Peak memory of the ftnode process while 4 uploads of the full size stream into the bucket at once.
    const mem = sampleMemory(onS3.pid, 20);
    const t = await timed(() => Promise.all([0, 1, 2, 3].map((i) => uploadSimple(onS3.url, src, `conc-${i}.txt`))));
    rss = mem.stop();
    console.log(`4 concurrent uploads: ${t.toFixed(2)} s, server peak RSS ${(rss.peakHwmKiB / 1024).toFixed(0)} MiB`);
  } finally {
    onS3.stop();
    onDisk.stop();
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const mb = (s: number): string => (SIZE / 1e6 / s).toFixed(0);
  const m = Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, median(v)]));
  console.log(table(['path', 'median s', 'MB/s'], Object.entries(m).map(([k, v]) => [k, v.toFixed(2), mb(v)])));
  const up = m['SDK put']! / m['ftnode simple upload (S3)']!;
  const down = m['SDK get']! / m['ftnode download (S3)']!;
  const direct = m['simple upload (disk)']! / m['direct upload (disk)']!;
  console.log(`upload through ftnode vs SDK direct: ${ratio(up)} (goal >= 0.8x)`);
  console.log(`download through ftnode vs SDK direct: ${ratio(down)} (goal >= 0.8x)`);
  console.log(`direct vs simple upload on local disk: ${ratio(direct)} (goal >= 0.9x)`);
  console.log(`server peak RSS, 4 concurrent ${opts.sizeMb} MB uploads to S3: ${(rss.peakHwmKiB / 1024).toFixed(0)} MiB`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
