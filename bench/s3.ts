/**
 * Object storage throughput (docs/benchmarks-s3.md): a 1 GB file through `ftnode serve` on an
 * S3-protocol server (s3rver, its own process) against the AWS SDK putting and getting the same
 * bytes directly to that server in the same run (goal ≥ 0.8×), by a simple and by a direct upload
 * (its parts become UploadParts of one multipart upload); a direct upload against a simple upload
 * on local disk (goal ≥ 0.9×); a download answered by a 302 to a presigned GET (a third server with
 * FTNODE_S3_DOWNLOAD_REDIRECT=1) against the same SDK get; the ftnode server process's peak RSS (VmHWM) during 4 concurrent
 * 1 GB uploads to S3 (simple, then direct).
 *   node dist/bench/s3.js [--size-mb 1000] [--rounds 1] [--concurrency 8] [--dir /tmp]
 * The SDK side uses lib-storage's Upload with the same part size (8 MiB) and parallelism (4) as
 * ftnode's writer, and a streamed GetObject; both sides hash what they download.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3_CREDENTIALS, startS3Server } from '../test/helpers/s3-server.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { sampleMemory } from './lib/proc.js';
import { FilesClient, downloadByRedirect, drainHashed, ok, send, writeSource } from './lib/files-client.js';
import { median, ratio, table } from './lib/stats.js';

const opts = parseArgs({ sizeMb: 1000, rounds: 1, concurrency: 8, dir: '/tmp', json: '' });
const SIZE = opts.sizeMb * 1_000_000;
const KEY = 'sk_bench_s3_0123456789abcdefghijklmnopqrstuvwx';
const AUTH = { authorization: `Bearer ${KEY}` };

const files = new FilesClient(KEY, SIZE, opts.concurrency);

/**
 * Each step starts with no dirty pages left by the one before (sync, not timed): s3rver writes about
 * 3 GB per round, and its writeback throttled whichever step came next (direct on disk measured
 * 0.67x of simple right after the S3 steps, 0.92-0.98x alone).
 */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  execFileSync('sync');
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
  const digest = await writeSource(src, SIZE);
  const s3 = await startS3Server();
  const sdk = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const onS3 = await files.startServer(join(work, 'home-s3'), s3.env('bench'), 'ignore');
  const onDisk = await files.startServer(join(work, 'home-disk'), {}, 'ignore');
  const onS3Redirect = await files.startServer(join(work, 'home-s3-redirect'), { ...s3.env('bench-redirect'), FTNODE_S3_DOWNLOAD_REDIRECT: '1' }, 'ignore');
  const secs: Record<string, number[]> = {
    'SDK put': [], 'ftnode simple upload (S3)': [], 'ftnode direct upload (S3)': [], 'SDK get': [], 'ftnode download (S3)': [], 'ftnode download by redirect (S3)': [], 'simple upload (disk)': [], 'direct upload (disk)': [],
  };
  const phases = { s3: { parts: [] as number[], complete: [] as number[] }, disk: { parts: [] as number[], complete: [] as number[] } };
  let rss = { peakHwmKiB: 0, peakRssKiB: 0, samples: 0 };
  let rssDirect = { peakHwmKiB: 0, peakRssKiB: 0, samples: 0 };
  try {
    await files.uploadSimple(onS3Redirect.url, src, 'redirect.txt'); // the object its downloads redirect to (not timed)
    for (let r = 0; r < opts.rounds; r++) {
      // Pairs that are compared swap places every other round: the disk here is rate-limited in
      // bursts (the same 1 GB simple upload took 2.7 s, then 5.8 s a minute later), and the first
      // of two steps would otherwise always get the fuller bucket.
      const swap = r % 2 === 1;
      const sdkPut = async (): Promise<void> => void secs['SDK put']!.push(await timed(() => new Upload({ client: sdk, params: { Bucket: s3.bucket, Key: `sdk/${r}`, Body: createReadStream(src, { highWaterMark: 1 << 20 }) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done()));
      const s3Simple = async (): Promise<void> => void secs['ftnode simple upload (S3)']!.push(await timed(() => files.uploadSimple(onS3.url, src, `s3-${r}.txt`)));
      for (const step of swap ? [s3Simple, sdkPut] : [sdkPut, s3Simple]) await step();
      secs['ftnode direct upload (S3)']!.push(await timed(() => files.uploadDirect(onS3.url, src, `s3-d-${r}.txt`, digest.crc32c, phases.s3)));
      const sdkGet = async (): Promise<void> => {
        secs['SDK get']!.push(await timed(async () => drainHashed((await sdk.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `sdk/${r}` }))).Body as Readable, dst, digest.sha256)));
        rmSync(dst, { force: true });
      };
      const s3Download = async (): Promise<void> => {
        secs['ftnode download (S3)']!.push(await timed(() => files.download(onS3.url, `s3-${r}.txt`, dst, digest.sha256)));
        rmSync(dst, { force: true });
      };
      const s3Redirect = async (): Promise<void> => {
        secs['ftnode download by redirect (S3)']!.push(await timed(() => downloadByRedirect(onS3Redirect.url, 'redirect.txt', dst, digest.sha256, AUTH)));
        rmSync(dst, { force: true });
      };
      for (const step of swap ? [s3Redirect, s3Download, sdkGet] : [sdkGet, s3Download, s3Redirect]) await step();
      const diskSimple = async (): Promise<void> => void secs['simple upload (disk)']!.push(await timed(() => files.uploadSimple(onDisk.url, src, `disk-s-${r}.txt`)));
      const diskDirect = async (): Promise<void> => void secs['direct upload (disk)']!.push(await timed(() => files.uploadDirect(onDisk.url, src, `disk-d-${r}.txt`, digest.crc32c, phases.disk)));
      for (const step of swap ? [diskDirect, diskSimple] : [diskSimple, diskDirect]) await step();
      for (const [u, n] of [[onS3.url, `s3-${r}.txt`], [onS3.url, `s3-d-${r}.txt`], [onDisk.url, `disk-s-${r}.txt`], [onDisk.url, `disk-d-${r}.txt`]] as const) ok(await send(`${u}/v0.5/files/delete/${n}`, 'DELETE', AUTH), 'delete');
      console.log(`round ${r + 1}: ${Object.entries(secs).map(([k, v]) => `${k} ${v[r]!.toFixed(2)} s`).join(', ')}`);
    }
    // Peak memory of the ftnode process while 4 uploads of the full size stream into the bucket at once.
    const mem = sampleMemory(onS3.pid, 20);
    const t = await timed(() => Promise.all([0, 1, 2, 3].map((i) => files.uploadSimple(onS3.url, src, `conc-${i}.txt`))));
    rss = mem.stop();
    console.log(`4 concurrent uploads: ${t.toFixed(2)} s, server peak RSS ${(rss.peakHwmKiB / 1024).toFixed(0)} MiB`);
    for (let i = 0; i < 4; i++) ok(await send(`${onS3.url}/v0.5/files/delete/conc-${i}.txt`, 'DELETE', AUTH), 'delete');
    // VmHWM never goes down: the direct figure is the peak over both runs, and says more only if higher.
    const memD = sampleMemory(onS3.pid, 20);
    const td = await timed(() => Promise.all([0, 1, 2, 3].map((i) => files.uploadDirect(onS3.url, src, `conc-d-${i}.txt`, digest.crc32c))));
    rssDirect = memD.stop();
    console.log(`4 concurrent direct uploads: ${td.toFixed(2)} s, server peak RSS ${(rssDirect.peakHwmKiB / 1024).toFixed(0)} MiB`);
  } finally {
    onS3.stop();
    onDisk.stop();
    onS3Redirect.stop();
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const mb = (s: number): string => (SIZE / 1e6 / s).toFixed(0);
  const m = Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, median(v)]));
  console.log(table(['path', 'median s', 'MB/s'], Object.entries(m).map(([k, v]) => [k, v.toFixed(2), mb(v)])));
  const up = m['SDK put']! / m['ftnode simple upload (S3)']!;
  const upDirect = m['SDK put']! / m['ftnode direct upload (S3)']!;
  const down = m['SDK get']! / m['ftnode download (S3)']!;
  const downRedirect = m['SDK get']! / m['ftnode download by redirect (S3)']!;
  const direct = m['simple upload (disk)']! / m['direct upload (disk)']!;
  console.log(`upload through ftnode vs SDK direct: ${ratio(up)} (goal >= 0.8x)`);
  console.log(`direct upload through ftnode vs SDK direct: ${ratio(upDirect)} (goal >= 0.8x)`);
  console.log(`download through ftnode vs SDK direct: ${ratio(down)} (goal >= 0.8x)`);
  console.log(`download by redirect (FTNODE_S3_DOWNLOAD_REDIRECT=1) vs SDK direct: ${ratio(downRedirect)} (goal >= 0.8x)`);
  console.log(`direct upload split (medians): S3 part PUTs ${median(phases.s3.parts).toFixed(2)} s + complete ${median(phases.s3.complete).toFixed(2)} s; disk ${median(phases.disk.parts).toFixed(2)} s + ${median(phases.disk.complete).toFixed(2)} s`);
  console.log(`direct vs simple upload on local disk: ${ratio(direct)} (goal >= 0.9x)`);
  const perRound = (num: string, den: string): string => secs[num]!.map((v, i) => ratio(v / secs[den]![i]!)).join(', ');
  console.log(`per round (odd rounds swap the order of each pair): upload vs SDK put ${perRound('SDK put', 'ftnode simple upload (S3)')}; ` +
    `download vs SDK get ${perRound('SDK get', 'ftnode download (S3)')}; by redirect ${perRound('SDK get', 'ftnode download by redirect (S3)')}; direct vs simple on disk ${perRound('simple upload (disk)', 'direct upload (disk)')}; ` +
    `direct to S3 vs SDK put ${perRound('SDK put', 'ftnode direct upload (S3)')}`);
  console.log(`server peak RSS, 4 concurrent ${opts.sizeMb} MB uploads to S3: simple ${(rss.peakHwmKiB / 1024).toFixed(0)} MiB, then direct ${(rssDirect.peakHwmKiB / 1024).toFixed(0)} MiB`);
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
