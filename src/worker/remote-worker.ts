/**
 * A remote worker process's assembly (`ftnode worker`, docs/scaling.md): the same WorkerPool and
 * JobRunner as the in-process worker, over a RemoteWorkSource (HTTP), a RemoteSession (status pushes
 * and presence) and a RemoteCache (verified downloads). Worker ids are `remote:<node>:<boot>:<slot>`
 * (the server files them under the token: `remote:<token id>:<node>:<boot>:<slot>`); the node is
 * stable across restarts, so a restarted worker's session recovers its dead boot's attempts at once.
 * One cache folder per worker process: the default node name is derived from it.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { systemClock } from '../lib/clock.js';
import { workerPath } from '../api/worker-protocol.js';
import type { WorkerInfo } from '../domain/work.js';
import { WorkerPool } from './pool.js';
import { RemoteCache } from './remote-cache.js';
import { WorkerAuthError, WorkerHttp } from './remote-http.js';
import { RemoteSession } from './remote-session.js';
import { RemoteWorkSource } from './remote-source.js';
import type { StatusFeed } from './work-source.js';

export interface RemoteWorkerOptions {
  /** Control-plane base URLs (replicas); tried in turn when one is unreachable. */
  urls: string[];
  token: string;
  concurrency: number;
  cacheDir: string;
  cacheMaxBytes: number;
  node: string | null;
  trainerCommand: string[];
  env: Record<string, string | undefined>;
  log: Logger;
  /** The token was refused (revoked): the process should stop. */
  onFatal?: (err: Error) => void;
}

export interface RemoteWorker {
  node: string;
  info: WorkerInfo;
  pool: WorkerPool;
  session: RemoteSession;
  /** Graceful: claims stop, running trainers are killed, the control plane recovers the attempts at once. */
  stop(): Promise<void>;
}

/** `<hostname>-<6 hex of the cache folder>`: stable across restarts, distinct per cache folder. */
export function defaultNode(cacheDir: string): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48) || 'host';
  return `${host}-${createHash('sha256').update(resolve(cacheDir)).digest('hex').slice(0, 6)}`;
}

export async function startRemoteWorker(o: RemoteWorkerOptions): Promise<RemoteWorker> {
  const closed = new AbortController();
  const http = new WorkerHttp(o.urls.map((u) => u.replace(/\/+$/, '')), o.token, closed.signal);
  const info = await http.json<WorkerInfo>(workerPath('info')); // waits (retrying) for a control plane that is still starting
  const node = o.node ?? defaultNode(o.cacheDir);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(node)) throw new Error(`node name '${node}' must be 1-64 of [A-Za-z0-9._-]`);
  const workDir = join(o.cacheDir, 'work');
  await rm(workDir, { recursive: true, force: true }); // scratch of an earlier boot of this worker (one process per cache folder)
  let fatal = false;
  const source = new RemoteWorkSource(http, { cache: new RemoteCache(o.cacheDir, o.cacheMaxBytes), info, workDir, log: o.log, onFatal: (err) => onError(err) });
  const onError = (err: unknown): void => {
    if (err instanceof WorkerAuthError) {
      if (!fatal) o.onFatal?.(err);
      fatal = true;
      return;
    }
    o.log.warn({ err }, 'worker error');
  };
  let session: RemoteSession | null = null;
  const feed: StatusFeed = { onStatus: (uuid, fn) => session!.onStatus(uuid, fn), onWork: () => () => undefined };
  const pool = new WorkerPool(source, systemClock, {
    // Trainers (possibly third-party scripts) never see the worker's credential.
    node, kind: 'remote', concurrency: o.concurrency, heartbeatMs: info.heartbeat_ms, builtinCommand: o.trainerCommand, env: { ...o.env, FTNODE_WORKER_TOKEN: undefined },
    progressWriteMs: 250, onRegister: (w) => source.register(w), onUnregister: (id) => source.unregister(id), onError,
  }, feed);
  session = new RemoteSession(http, pool.deadPrefixes.except, (err) => o.log.debug({ err }, 'session stream broke; reconnecting'));
  session.start();
  pool.start();
  return {
    node, info, pool, session,
    async stop() {
      source.close();
      await pool.stop();
      await session!.end();
      closed.abort();
    },
  };
}
