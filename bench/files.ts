/**
 * Files API throughput: a 1 GB file uploaded through the simple path (POST /v0.5/files) and the
 * direct path (initiate → 8 concurrent part PUTs → complete with a CRC-32C), and downloaded back
 * (GET /v0.5/files/download, written to disk), each compared with `cp` of the same file on the same
 * disk in the same run. The server is the real `ftnode serve` in its own process; its peak RSS is
 * the kernel's VmHWM. Target: every path ≥ 0.5× cp.
 *   node dist/bench/files.js [--size-mb 1000] [--rounds 3] [--concurrency 8] [--dir /tmp]
 * The source file is written once (page cache warm for every contender alike); each round runs cp,
 * cp+fsync, dd, simple upload, simple download, direct upload, direct download; medians reported.
 * References: `cp` (GNU cp 9 copies inside the kernel with copy_file_range, the target's yardstick),
 * `cp` + fsync (uploads fsync before answering: a 200 means the bytes are durable), `dd bs=1M`
 * (a plain user-space read/write copy), and the floors (bench/lib/files-floor.ts, its own process):
 * a bare node:http server that only streams the body to a file + fsync (upload) or the file to the
 * socket (download), and raw TCP into a file + fsync, both driven by the same client code. Each
 * ftnode row is also given as a ratio to its floor. The server's CPU seconds (user + system, all
 * threads) per operation come from /proc/<pid>/stat; the direct upload is also split into its part
 * PUTs and its complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { sampleMemory } from './lib/proc.js';
import { FilesClient, ok, send, writeSource } from './lib/files-client.js';
import { median, ratio, table } from './lib/stats.js';

const opts = parseArgs({ sizeMb: 1000, rounds: 3, concurrency: 8, dir: '/tmp', json: '' });
const SIZE = opts.sizeMb * 1_000_000;
const KEY = 'sk_bench_files_0123456789abcdefghijklmnopqrstuv';
const AUTH = { authorization: `Bearer ${KEY}` };

const files = new FilesClient(KEY, SIZE, opts.concurrency);

const FLOOR = fileURLToPath(new URL('./lib/files-floor.js', import.meta.url));

function startFloor(dir: string): Promise<{ http: string; tcp: number; pid: number; stop(): void }> {
  const child = spawn(process.execPath, [FLOOR, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /floor http=(\d+) tcp=(\d+)/.exec(out);
      if (m) resolve({ http: `http://127.0.0.1:${m[1]}`, tcp: Number(m[2]), pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`floor server exited (${code}): ${out}`)));
  });
}

/** Raw TCP: the file into a socket, half-close, wait for the one-byte answer (sent after fsync). */
function tcpUpload(port: number, src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      createReadStream(src, { highWaterMark: 1 << 20 }).pipe(sock);
    });
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.on('end', () => (answer === 'k' ? resolve() : reject(new Error(`tcp floor answered '${answer}'`))));
    sock.on('error', reject);
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (100 ticks/s). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

let serverPid = 0;
const cpu: Record<string, number[]> = {};

/** Wall seconds of `fn`; the server's CPU seconds during it go to cpu[name]. */
async function timed(name: string, fn: () => Promise<unknown> | unknown, pid = serverPid): Promise<number> {
  const c0 = pid ? cpuSeconds(pid) : 0;
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  (cpu[name] ??= []).push(pid ? cpuSeconds(pid) - c0 : 0);
  return wall;
}

/** GNU cp 9 copies with copy_file_range(2): inside the kernel, no user-space pass over the bytes. */
function cp(src: string, dst: string, fsync: boolean): void {
  const r = spawnSync('cp', [src, dst]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  if (fsync && spawnSync('sync', [dst]).status !== 0) throw new Error('sync failed');
}

/** A user-space copy (read + write through 1 MiB buffers), the floor any server code sits on. */
function dd(src: string, dst: string): void {
  const r = spawnSync('dd', [`if=${src}`, `of=${dst}`, 'bs=1M', 'status=none']);
  if (r.status !== 0) throw new Error(`dd failed: ${r.stderr}`);
}

const phases: Record<'parts' | 'complete', number[]> = { parts: [], complete: [] };

async function main(): Promise<void> {
  console.log(`files bench: ${machineLine()}`);
  console.log(`size ${SIZE} bytes, ${opts.rounds} rounds, ${opts.concurrency} concurrent part PUTs, dir ${opts.dir}`);
  const work = mkdtempSync(join(opts.dir, 'ftnode-bench-files-'));
  const src = join(work, 'source.txt');
  const dst = join(work, 'copy.txt');
  const digest = await writeSource(src, SIZE);
  const server = await files.startServer(join(work, 'home'));
  serverPid = server.pid;
  const floor = await startFloor(work);
  const mem = sampleMemory(server.pid, 20);
  const clientPeak = { rss: 0 };
  const clientTimer = setInterval(() => (clientPeak.rss = Math.max(clientPeak.rss, process.memoryUsage().rss)), 20);
  const secs: Record<string, number[]> = {
    cp: [], 'cp+fsync': [], 'dd bs=1M': [], 'floor: raw TCP upload': [], 'floor: HTTP upload': [], 'floor: HTTP download': [],
    'simple upload': [], 'simple download': [], 'direct upload': [], 'direct download': [],
  };
  try {
    for (let r = 0; r < opts.rounds; r++) {
      rmSync(dst, { force: true });
      secs.cp!.push(await timed('cp', () => cp(src, dst, false)));
      rmSync(dst, { force: true });
      secs['cp+fsync']!.push(await timed('cp+fsync', () => cp(src, dst, true)));
      rmSync(dst, { force: true });
      secs['dd bs=1M']!.push(await timed('dd bs=1M', () => dd(src, dst)));
      rmSync(dst, { force: true });
      secs['floor: raw TCP upload']!.push(await timed('floor: raw TCP upload', () => tcpUpload(floor.tcp, src), floor.pid));
      secs['floor: HTTP upload']!.push(await timed('floor: HTTP upload', async () => ok(await send(`${floor.http}/upload`, 'POST', { 'content-length': SIZE }, createReadStream(src, { highWaterMark: 1 << 20 })), 'floor upload'), floor.pid));
      secs['floor: HTTP download']!.push(await timed('floor: HTTP download', () => files.download(floor.http, '', dst, digest.sha256, `/download?path=${encodeURIComponent(src)}`), floor.pid));
      rmSync(dst, { force: true });
      secs['simple upload']!.push(await timed('simple upload', () => files.uploadSimple(server.url, src, `simple-${r}.txt`)));
      secs['simple download']!.push(await timed('simple download', () => files.download(server.url, `simple-${r}.txt`, dst, digest.sha256)));
      rmSync(dst, { force: true });
      secs['direct upload']!.push(await timed('direct upload', () => files.uploadDirect(server.url, src, `direct-${r}.txt`, digest.crc32c, phases)));
      secs['direct download']!.push(await timed('direct download', () => files.download(server.url, `direct-${r}.txt`, dst, digest.sha256)));
      rmSync(dst, { force: true });
      for (const n of [`simple-${r}.txt`, `direct-${r}.txt`]) ok(await send(`${server.url}/v0.5/files/delete/${n}`, 'DELETE', AUTH), 'delete');
      console.log(`round ${r + 1}: ${Object.entries(secs).map(([k, v]) => `${k} ${v[r]!.toFixed(2)} s`).join(', ')}`);
    }
  } finally {
    clearInterval(clientTimer);
    server.stop();
    floor.stop();
  }
  const m = mem.stop();
  const cpMed = median(secs.cp!);
  const cpSyncMed = median(secs['cp+fsync']!);
  const floorOf: Record<string, string> = {
    'simple upload': 'floor: HTTP upload', 'direct upload': 'floor: HTTP upload', 'simple download': 'floor: HTTP download', 'direct download': 'floor: HTTP download',
  };
  const results: Record<string, Record<string, number | null>> = {};
  const rows = Object.entries(secs).map(([k, v]) => {
    const s = median(v);
    const reference = k.startsWith('cp') || k.startsWith('dd');
    const vsFloor = floorOf[k] ? median(secs[floorOf[k]!]!) / s : null;
    results[k] = { seconds: s, mb_per_s: SIZE / 1e6 / s, x_cp: cpMed / s, x_cp_fsync: cpSyncMed / s, x_floor: vsFloor, server_cpu_s: reference ? null : median(cpu[k]!) };
    return [k, s.toFixed(2), (SIZE / 1e6 / s).toFixed(0), ratio(cpMed / s), ratio(cpSyncMed / s), vsFloor === null ? '-' : ratio(vsFloor), reference ? '-' : median(cpu[k]!).toFixed(2)];
  });
  console.log(`\n${table([`operation (${SIZE / 1e9} GB)`, 'median s', 'MB/s', '× cp', '× cp+fsync', '× its floor', 'server CPU s'], rows)}`);
  console.log(`\ndirect upload split: part PUTs ${median(phases.parts).toFixed(2)} s, complete ${median(phases.complete).toFixed(2)} s (medians)`);
  console.log(`\nserver peak RSS (VmHWM): ${(m.peakHwmKiB / 1024).toFixed(1)} MiB; bench client peak RSS: ${(clientPeak.rss / 2 ** 20).toFixed(1)} MiB`);
  console.log(`source ${statSync(src).size} bytes, sha256 ${digest.sha256.slice(0, 16)}…, crc32c ${digest.crc32c}`);
  const result = { bench: 'files', options: opts, results, direct_phases_s: { parts: median(phases.parts), complete: median(phases.complete) }, server_peak_rss_mib: m.peakHwmKiB / 1024 };
  console.log(`RESULT ${JSON.stringify(result)}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  rmSync(work, { recursive: true, force: true });
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
