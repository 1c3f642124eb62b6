/**
 * A throwaway PostgreSQL 15 cluster of the test's own, for tests that crash and restart the database
 * (the shared test server must never be stopped). initdb into a temp folder, listen on 127.0.0.1 on a
 * free port with the unix socket in the same folder, fsync off (synchronous_commit on: nothing committed is lost). `crash()` is `pg_ctl stop -m
 * immediate` (SIGQUIT: every backend dies at once, no checkpoint; the next start runs crash recovery),
 * `start()` brings it back on the same port and data directory. PostgreSQL refuses to run as root:
 * as root every binary runs as the `postgres` OS user (runuser), and the folder is chowned to it.
 */
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster.js';

const run = promisify(execFile);
export const PG_BIN = process.env.FTNODE_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));

/** Why a private cluster cannot be started here, or null when it can. */
export function privatePgUnavailable(): string | null {
  for (const b of ['initdb', 'pg_ctl', 'postgres']) {
    try {
      accessSync(join(PG_BIN, b), constants.X_OK);
    } catch {
      return `PostgreSQL binaries not found (${join(PG_BIN, b)}; set FTNODE_TEST_PG_BIN)`;
    }
  }
  if (userInfo().uid === 0 && !RUNUSER) return 'running as root without runuser: PostgreSQL refuses to run as root';
  if (userInfo().uid === 0 && !postgresUser()) return "running as root and there is no 'postgres' OS user to run PostgreSQL as";
  return null;
}

function postgresUser(): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export class PrivatePg {
  readonly dir: string;
  readonly data: string;
  readonly log: string;
  port = 0;
  private readonly asRoot = userInfo().uid === 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'ftnode-private-pg-'));
    this.data = join(this.dir, 'data');
    this.log = join(this.dir, 'postgres.log');
    if (this.asRoot) {
      const u = postgresUser()!;
      chownSync(this.dir, u.uid, u.gid);
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb (once) and start; later calls start the same cluster again on the same port. */
  async start(): Promise<void> {
    if (!existsSync(join(this.data, 'PG_VERSION'))) {
      await this.bin('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
      this.port = await freePort();
    }
    const opts = [
      '-c listen_addresses=127.0.0.1', `-p ${this.port}`, `-c unix_socket_directories=${this.dir}`,
      // fsync off: a crash of PostgreSQL (not of the OS) loses nothing written to the OS. synchronous_commit
      // stays on: with it off, an immediate shutdown loses the last commits, which no real crash test wants.
      '-c fsync=off', '-c max_connections=60',
    ].join(' ');
    await this.bin('pg_ctl', ['-D', this.data, '-l', this.log, '-o', opts, '-w', '-t', '60', 'start']);
  }

  /** A crash: every backend killed at once (immediate shutdown: no checkpoint; the next start recovers). */
  async crash(): Promise<void> {
    await this.bin('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
  }

  /** The server log (for failure messages). */
  logText(): string {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the server if it runs and removes everything. */
  async destroy(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid'))) await this.crash().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async bin(name: string, args: string[]): Promise<string> {
    const exe = join(PG_BIN, name);
    const [cmd, argv] = this.asRoot ? [RUNUSER!, ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    try {
      return (await run(cmd, argv, { cwd: this.dir, timeout: 90_000 })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${this.logText().slice(-2000)}`);
    }
  }
}
