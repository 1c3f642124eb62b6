/**
 * The real `ftnode serve` as a child process, for tests that kill the server with SIGKILL and
 * restart it on the same data directory. The URL is read from the line the server prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { fixtureCatalog, TEST_KEY, type FixturePlan } from './harness.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Writes `<home>/config.yaml` with fixture models and the given settings. */
export function writeServerConfig(home: string, gateDir: string, plans: Record<string, FixturePlan>, settings: Record<string, unknown> = {}): void {
  writeFileSync(join(home, 'config.yaml'), stringify({ ...settings, models: fixtureCatalog(plans, gateDir) }));
}

/** `port` 0 picks a free one; a restart that clients must find again passes the first run's port. */
export function startServerProcess(home: string, env: Record<string, string> = {}, port = 0): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--home', home], {
    env: { ...process.env, FTNODE_BOOTSTRAP_KEY: TEST_KEY, FTNODE_LOG_LEVEL: 'warn', FTNODE_AUTH_FAILURES_PER_MINUTE: '0', FTNODE_REQUESTS_PER_KEY_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve({ child, url: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
}

export function killHard(p: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}
