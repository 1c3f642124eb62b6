/**
 * A small ftnode deployment of real processes for tests and benchmarks of the scale-out path:
 * N `ftnode serve` replicas on one PostgreSQL schema sharing one home (artifacts, config, signing
 * key) or each with its own (object storage: s3-cluster.ts), each on a fixed port so a restarted replica comes back at the same URL, and M `ftnode worker`
 * processes pointed at every replica, each with its own cache folder kept across restarts (same node:
 * a restarted worker recovers its previous run's attempts at once). Any process can be SIGKILLed and
 * restarted. A client that fails over between the replicas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, TEST_KEY, type ApiResponse } from './harness.js';
import { CLI } from './server-process.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Replica {
  port: number;
  url: string;
  child: ChildProcess | null;
}

export interface ClusterOptions {
  pgUrl: string;
  schema: string;
  /** Shared home: config.yaml (write it first), artifacts, signing key. */
  home: string;
  /** One home per replica instead (object storage, no shared folder): replica i uses homes[i]. */
  homes?: string[];
  replicas: number;
  workers: number;
  workerConcurrency?: number;
  /** FTNODE_* settings for every process (lease, heartbeat, reaper…). */
  env?: Record<string, string>;
}

export class Cluster {
  readonly replicas: Replica[] = [];
  readonly workers: Array<{ cacheDir: string; proc: WorkerProcess | null }> = [];
  token = '';
  private readonly env: Record<string, string>;

  constructor(readonly o: ClusterOptions) {
    this.env = { FTNODE_DATABASE_URL: o.pgUrl, FTNODE_DATABASE_SCHEMA: o.schema, FTNODE_WORKERS: '0', FTNODE_BOOTSTRAP_KEY: TEST_KEY, FTNODE_LOG_LEVEL: 'warn', FTNODE_AUTH_FAILURES_PER_MINUTE: '0', FTNODE_REQUESTS_PER_KEY_PER_MINUTE: '0', ...o.env };
  }

  get urls(): string[] {
    return this.replicas.map((r) => r.url);
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.o.replicas; i++) {
      const port = await freePort();
      this.replicas.push({ port, url: `http://127.0.0.1:${port}`, child: null });
      await this.startReplica(i); // one at a time: the first migrates and bootstraps the key
    }
    const out = await run([CLI, 'workers', 'token', 'create', '--name', 'cluster', '--json', '--home', this.o.homes?.[0] ?? this.o.home], { ...process.env, ...this.env });
    this.token = (JSON.parse(out) as { token: string }).token;
    for (let i = 0; i < this.o.workers; i++) {
      this.workers.push({ cacheDir: mkdtempSync(join(tmpdir(), 'ftnode-cluster-worker-')), proc: null });
      await this.startWorker(i);
    }
  }

  async startReplica(i: number): Promise<void> {
    const r = this.replicas[i]!;
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(r.port), '--home', this.o.homes?.[i] ?? this.o.home], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (/listening on /.test(out)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`replica ${i} exited with ${code} before listening:\n${out}`)));
    });
  }

  async startWorker(i: number): Promise<void> {
    const w = this.workers[i]!;
    w.proc = await startWorkerProcess(this.urls.join(','), this.token, { cacheDir: w.cacheDir, concurrency: this.o.workerConcurrency ?? 1, env: this.env });
  }

  async killReplica(i: number): Promise<void> {
    const r = this.replicas[i]!;
    const c = r.child;
    r.child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async killWorker(i: number): Promise<void> {
    const w = this.workers[i]!;
    await w.proc?.kill();
    w.proc = null;
  }

  /** Graceful: SIGTERM (the worker says goodbye; its attempts are recovered at once). */
  async stopWorker(i: number): Promise<void> {
    const w = this.workers[i]!;
    await w.proc?.stop();
    w.proc = null;
  }

  /** Every process killed (workers first, so nothing is left training). */
  async stop(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) await this.killWorker(i);
    for (let i = 0; i < this.replicas.length; i++) await this.killReplica(i);
  }

  client(): FailoverClient {
    return new FailoverClient(this.urls);
  }
}

/** The harness Client, trying each replica in turn while one refuses connections. */
export class FailoverClient extends Client {
  constructor(readonly urls: string[]) {
    super(urls[0]!);
  }

  override async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    let last: unknown;
    for (let round = 0; round < 50; round++) {
      for (const url of this.urls) {
        try {
          return await new Client(url).call<T>(method, path, body, headers);
        } catch (err) {
          last = err; // this replica is down (being restarted): the next one
        }
      }
      await new Promise((r) => setTimeout(r, 100)); // all down at once: wait for a restart
    }
    throw last;
  }
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))));
  });
}
