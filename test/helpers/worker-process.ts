/**
 * The real `ftnode worker` as a child process (a remote worker pulling from a control plane over
 * HTTP), for tests that stop, kill, pause (SIGSTOP) and restart workers. Ready once it printed its
 * "connected" line. Each worker gets its own cache folder (one per worker process, docs/scaling.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './server-process.js';

export interface WorkerProcess {
  child: ChildProcess;
  node: string;
  cacheDir: string;
  output: () => string;
  /** Graceful: SIGTERM, resolves on exit. */
  stop(): Promise<void>;
  /** SIGKILL, resolves on exit. */
  kill(): Promise<void>;
}

export interface WorkerProcessOptions {
  concurrency?: number;
  /** Reuse a cache folder (a restart of the same worker: same node name). */
  cacheDir?: string;
  env?: Record<string, string>;
}

export function startWorkerProcess(server: string, token: string, o: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const cacheDir = o.cacheDir ?? mkdtempSync(join(tmpdir(), 'ftnode-worker-'));
  const child = spawn(process.execPath, [CLI, 'worker', '--server', server, '--cache-dir', cacheDir, '--home', cacheDir, '--concurrency', String(o.concurrency ?? 1)], {
    env: { ...process.env, FTNODE_WORKER_TOKEN: token, FTNODE_LOG_LEVEL: 'warn', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const m = /ftnode worker (\S+) connected/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      resolve({ child, node: m[1]!, cacheDir, output: () => out, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before connecting:\n${out}`)));
  });
}
