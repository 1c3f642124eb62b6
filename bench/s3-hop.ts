/**
 * What one streaming hop costs a download on this machine, without ftnode (docs/benchmarks-s3.md):
 * a 1 GB object got by the AWS SDK straight from the S3 test server, against the same object got
 * through a bare Node proxy in its own process (GetObject piped into an http response, nothing
 * else). Rounds alternate which goes first. It is the floor for `bench:s3`'s download ratio: ftnode's
 * download is that proxy plus the API around it.
 *   node dist/bench/s3-hop.js [--size-mb 1000] [--rounds 6] [--dir /tmp]
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fork } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { S3_BUCKET, S3_CREDENTIALS, startS3Server } from '../test/helpers/s3-server.js';
import { parseArgs } from './lib/args.js';
import { drainHashed, writeSource } from './lib/files-client.js';
import { machineLine } from './lib/machine.js';
import { median, ratio } from './lib/stats.js';

const KEY = 'hop/object';
const client = (endpoint: string): S3Client => new S3Client({
  region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});

/** The child: GET / streams the object from the S3 server. */
function proxy(endpoint: string): void {
  const sdk = client(endpoint);
  const server = createServer((_req, res) => {
    sdk.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key: KEY })).then((r) => {
      res.writeHead(200, { 'content-length': String(r.ContentLength) });
      (r.Body as Readable).pipe(res);
    }, () => res.writeHead(502).end());
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
}

async function main(): Promise<void> {
  const opts = parseArgs({ sizeMb: 1000, rounds: 6, dir: '/tmp' });
  console.log(`s3 hop bench: ${machineLine()}`);
  const work = mkdtempSync(join(opts.dir, 'ftnode-bench-hop-'));
  const src = join(work, 'source.bin');
  const dst = join(work, 'copy.bin');
  const digest = await writeSource(src, opts.sizeMb * 1_000_000);
  const s3 = await startS3Server();
  const sdk = client(s3.endpoint);
  const child = fork(fileURLToPath(import.meta.url), ['--proxy', s3.endpoint]);
  try {
    await new Upload({ client: sdk, params: { Bucket: s3.bucket, Key: KEY, Body: createReadStream(src, { highWaterMark: 1 << 20 }) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done();
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    const timed = async (fn: () => Promise<void>): Promise<number> => {
      const t0 = performance.now();
      await fn();
      rmSync(dst, { force: true });
      return (performance.now() - t0) / 1000;
    };
    const direct = (): Promise<number> => timed(async () => drainHashed((await sdk.send(new GetObjectCommand({ Bucket: s3.bucket, Key: KEY }))).Body as Readable, dst, digest.sha256));
    const hop = (): Promise<number> => timed(() => new Promise((resolve, reject) => {
      request(`http://127.0.0.1:${port}/`, { agent: false }, (res) => drainHashed(res, dst, digest.sha256).then(resolve, reject)).on('error', reject).end();
    }));
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      if (r % 2 === 1) {
        b.push(await hop());
        a.push(await direct());
      } else {
        a.push(await direct());
        b.push(await hop());
      }
    }
    console.log(`SDK get ${a.map((x) => x.toFixed(2)).join(' ')} s; through a bare proxy ${b.map((x) => x.toFixed(2)).join(' ')} s`);
    console.log(`per round: ${a.map((x, i) => ratio(x / b[i]!)).join(', ')}; medians: ${ratio(median(a) / median(b))}`);
  } finally {
    child.kill();
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--proxy') proxy(process.argv[3]!);
else main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
