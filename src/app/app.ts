/**
 * Composition root: builds every component from the config and starts the HTTP server, the
 * in-process worker pool and the periodic control-plane tasks (lease reaper, stop-grace enforcer,
 * file garbage collection). The only place that names concrete classes.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { LocalDiskBlobStore } from '../blobs/local-disk.js';
import { loadConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { registerBatchV05 } from '../http/routes/batch-v05.js';
import { buildServer } from '../http/server.js';
import { AttemptsService } from '../service/attempts-service.js';
import { AuthService } from '../service/auth-service.js';
import { BatchCreator } from '../service/batch-create.js';
import { BatchService } from '../service/batch-service.js';
import { Bus } from '../service/bus.js';
import { FilesService } from '../service/files-service.js';
import { Finalizer } from '../service/finalize.js';
import { FleetService } from '../service/fleet.js';
import { JobCreator } from '../service/job-create.js';
import { JobsService } from '../service/jobs-service.js';
import { Recovery } from '../service/recovery.js';
import type { TrainerHooks } from '../service/trainer-hooks.js';
import { PostgresStore } from '../store/postgres/pg-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { StatusFeed } from '../worker/work-source.js';
import { WorkerPool } from '../worker/pool.js';
import { builtinTrainerHooks } from './trainer-hooks.js';

export const TRAINER_ENTRY = fileURLToPath(new URL('../trainers/main.js', import.meta.url));

export interface AppOptions {
  clock?: Clock;
  logger?: Logger | false;
  hooks?: TrainerHooks;
  /** Tests drive the reaper themselves (with a manual clock) instead of the timer. */
  reaperTimer?: boolean;
}

export interface App {
  config: Readonly<Config>;
  server: FastifyInstance;
  url: string;
  store: Store;
  files: FilesService;
  bus: Bus;
  auth: AuthService;
  jobs: JobsService;
  attempts: AttemptsService;
  recovery: Recovery;
  pool: WorkerPool | null;
  bootstrapKey: string | null;
  close(): Promise<void>;
}

export function appConfig(overrides: ConfigOverrides = {}, env: Record<string, string | undefined> = process.env): Readonly<Config> {
  return loadConfig(overrides, env, TRAINER_ENTRY);
}

export async function startApp(config: Readonly<Config>, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger === undefined ? pino({ level: config.logLevel }) : opts.logger;
  const store: Store = /^postgres(ql)?:\/\//.test(config.databaseUrl ?? '')
    ? PostgresStore.open(config.databaseUrl!, { clock, onError: (err) => (logger ? logger.warn({ err }, 'postgres connection error') : undefined) })
    : SqliteStore.open(config.databaseFile);
  await store.migrate();
  const blobs = new LocalDiskBlobStore(config.artifactsDir);
  const bus = new Bus();
  const hooks = opts.hooks ?? builtinTrainerHooks;
  const auth = new AuthService(store, clock);
  const files = new FilesService(store, blobs, clock, {
    maxUploadBytes: config.maxUploadBytes,
    uploads: {
      partBytes: config.uploadPartBytes, urlTtlMs: config.uploadUrlTtlMs, ttlMs: config.uploadTtlMs, maxBytes: config.maxDirectUploadBytes,
      publicUrl: config.publicUrl, signingKeyFile: config.uploadSigningKeyFile ?? join(config.home, 'upload-signing.key'),
    },
  });
  await files.recoverAtBoot(); // temp files of a dead process are garbage; interrupted uploads reopen
  const finalizer = new Finalizer(store, blobs, config.catalog, clock);
  const jobs = new JobsService(store, blobs, files, hooks, config.catalog, clock, bus);
  const creator = new JobCreator(store, files, hooks, config.catalog, clock, bus);
  const attempts = new AttemptsService(store, blobs, config.catalog, finalizer, clock, bus, { leaseMs: config.leaseMs });
  const recovery = new Recovery(store, finalizer, clock, bus, { maxAttempts: config.maxAttempts, stopGraceMs: config.stopGraceMs });
  const fleet = new FleetService(store, clock, config.heartbeatMs);
  const bootstrapKey = await bootstrap(auth, config);

  const batch = new BatchService(store, blobs, jobs, new BatchCreator(store, blobs, files, hooks, config.catalog, clock, bus));
  const extraRoutes = [(app: FastifyInstance) => registerBatchV05(app, batch)];
  const server = await buildServer({ auth, jobs, creator, files, fleet, catalog: config.catalog, maxUploadBytes: config.maxUploadBytes, logger, extraRoutes });
  const address = await server.listen({ host: config.host, port: config.port });
  const url = address.replace('[::1]', 'localhost');

  const node = createHash('sha256').update(config.home).digest('hex').slice(0, 8); // one node per data directory
  const feed: StatusFeed = {
    onStatus: (uuid, fn) => bus.on('job-changed', (j) => j.uuid === uuid && fn(j.status)),
    onWork: (fn) => bus.on('work-queued', fn),
  };
  const onError = (err: unknown): void => (logger ? logger.error({ err }, 'worker error') : undefined);
  const pool = config.builtinWorkers > 0
    ? new WorkerPool(attempts, clock, {
        node, kind: 'builtin', concurrency: config.builtinWorkers, heartbeatMs: config.heartbeatMs,
        builtinCommand: config.trainerCommand, env: process.env, progressWriteMs: 250,
        onRegister: (w) => store.upsertWorker(w), onUnregister: (id) => store.removeWorker(id), onError,
      }, feed)
    : null;
  // Attempts of this node's earlier boots died with it: recover them now, not a lease later.
  if (pool) await recovery.tick(pool.deadPrefixes);
  pool?.start();

  const timers: NodeJS.Timeout[] = [];
  if (opts.reaperTimer !== false) {
    timers.push(setInterval(() => void recovery.tick().catch(onError), config.reaperIntervalMs));
    timers.push(setInterval(() => void files.collectGarbage().catch(onError), 60_000));
    timers.push(setInterval(() => void blobs.sweepTemp(24 * 3600_000).catch(onError), 3600_000));
    timers.push(setInterval(() => void files.uploads.sweep().catch(onError), Math.max(1_000, Math.min(config.uploadTtlMs, 600_000))));
  }
  for (const t of timers) t.unref();

  return {
    config, server, url, store, files, bus, auth, jobs, attempts, recovery, pool, bootstrapKey,
    async close() {
      for (const t of timers) clearInterval(t);
      await pool?.stop();
      await server.close();
      await store.close();
    },
  };
}

/** First start: an org and an API key (FTNODE_BOOTSTRAP_KEY when set, else a generated one). */
async function bootstrap(auth: AuthService, config: Readonly<Config>): Promise<string | null> {
  if (config.bootstrapKey) {
    const known = await auth.authenticate(`Bearer ${config.bootstrapKey}`);
    if (!known) await auth.createKey(config.bootstrapOrg, 'bootstrap', config.bootstrapKey);
    return null; // the operator chose it; never print it
  }
  if ((await auth.countKeys()) > 0) return null;
  return (await auth.createKey(config.bootstrapOrg, 'bootstrap')).key;
}
