/**
 * Composition root: builds every component from the config and starts the HTTP server, the
 * in-process worker pool and the periodic control-plane tasks (lease reaper, stop-grace enforcer,
 * file garbage collection). The only place that names concrete classes.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { LocalDiskBlobStore } from '../blobs/local-disk.js';
import { S3BlobStore } from '../blobs/s3.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { loadConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { isTerminal, JOB_STATUSES } from '../domain/status.js';
import { DOWNLOAD_PATHS } from '../api/worker-protocol.js';
import { registerMetrics } from '../http/metrics.js';
import { secureDataDir } from './data-dir.js';
import { registerBatchV05 } from '../http/routes/batch-v05.js';
import { registerWorkerApi } from '../http/routes/worker-api.js';
import { buildServer } from '../http/server.js';
import { AttemptsService } from '../service/attempts/attempts-service.js';
import { AuthService } from '../service/auth-service.js';
import { BatchCreator } from '../service/batch/batch-create.js';
import { OutputLinks } from '../service/batch/batch-links.js';
import { BatchService } from '../service/batch/batch-service.js';
import { Bus } from '../service/bus.js';
import { FilesService } from '../service/files/files-service.js';
import type { UploadsService } from '../service/files/uploads-service.js';
import { Finalizer } from '../service/jobs/finalize.js';
import { FleetService } from '../service/workers/fleet.js';
import { JobCreator } from '../service/jobs/job-create.js';
import { JobsService } from '../service/jobs/jobs-service.js';
import { ServiceEvents } from '../service/events.js';
import type { ServiceCore } from '../service/deps.js';
import { Metrics } from '../service/metrics.js';
import { observeServices } from '../service/metrics-observer.js';
import { Recovery } from '../service/attempts/recovery.js';
import type { TrainerHooks } from '../service/trainer-hooks.js';
import { WorkerApi } from '../service/workers/worker-api.js';
import { WorkerSessions } from '../service/workers/worker-sessions.js';
import { WorkerTokenService } from '../service/workers/worker-tokens.js';
import { PostgresStore } from '../store/postgres/pg-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { StatusFeed } from '../worker/work-source.js';
import { WorkerPool } from '../worker/pool.js';
import { RetryingWorkSource } from '../worker/retrying-source.js';
import { StoreUnavailableError } from '../domain/unavailable.js';
import { builtinTrainerHooks } from './trainer-hooks.js';

export { startRemoteWorker } from '../worker/remote-worker.js';

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
  workerTokens: WorkerTokenService;
  workerApi: WorkerApi;
  metrics: Metrics;
  close(): Promise<void>;
}

export function appConfig(overrides: ConfigOverrides = {}, env: Record<string, string | undefined> = process.env): Readonly<Config> {
  return loadConfig(overrides, env, TRAINER_ENTRY);
}

/** The configured store, migrated: PostgreSQL when databaseUrl is a postgres:// URL, else SQLite in home. */
export async function openStore(config: Readonly<Config>, clock: Clock = systemClock, logger: Logger | false = false): Promise<Store> {
  const store: Store = /^postgres(ql)?:\/\//.test(config.databaseUrl ?? '')
    ? PostgresStore.open(config.databaseUrl!, {
        clock, ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
        onError: (err) => (logger ? logger.warn({ err }, 'postgres connection error') : undefined),
      })
    : SqliteStore.open(config.databaseFile, clock);
  await store.migrate();
  return store;
}

/** The configured blob store: an S3-compatible bucket when blobUrl is set, else local disk. */
export function openBlobStore(config: Readonly<Config>, clock: Clock = systemClock): BlobStore {
  return config.blobUrl
    ? new S3BlobStore({ url: config.blobUrl, endpoint: config.s3Endpoint, region: config.s3Region, forcePathStyle: config.s3PathStyle, cacheDir: config.blobCacheDir, clock })
    : new LocalDiskBlobStore(config.artifactsDir, clock);
}

export async function startApp(config: Readonly<Config>, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger === undefined ? pino({ level: config.logLevel }) : opts.logger;
  secureDataDir(config);
  const store = await openStore(config, clock, logger);
  const blobs = openBlobStore(config, clock);
  const bus = new Bus();
  const hooks = opts.hooks ?? builtinTrainerHooks;
  const auth = new AuthService({ store, clock });
  const signingKeyFile = config.uploadSigningKeyFile ?? join(config.home, 'upload-signing.key'); // part URLs and presigned output refs
  const files = new FilesService({
    store, blobs, clock,
    options: {
      maxUploadBytes: config.maxUploadBytes,
      uploads: {
        partBytes: config.uploadPartBytes, urlTtlMs: config.uploadUrlTtlMs, ttlMs: config.uploadTtlMs, maxBytes: config.maxDirectUploadBytes,
        publicUrl: config.publicUrl, signingKeyFile,
        alone: !(store instanceof PostgresStore), // SQLite: no replica shares this data, every PUT comes here
      },
    },
  });
  if (store instanceof PostgresStore) {
    // Replicas share the artifacts: another live replica's temp files are not garbage, only old ones (1 h).
    await blobs.sweepTemp(3600_000);
    await files.sweepOrphanBlobs(3600_000);
    await files.uploads.recover({ shared: true });
  } else await files.recoverAtBoot(); // temp files of a dead process are garbage; interrupted uploads reopen
  const log = logger || null;
  const events = new ServiceEvents((err) => log?.error({ err }, 'service event listener failed'));
  const core: ServiceCore = { store, blobs, catalog: config.catalog, clock, bus, events, hooks };
  const finalizer = new Finalizer(core);
  const jobs = new JobsService({ ...core, files, finalizer });
  const creator = new JobCreator({ ...core, files });
  const metrics = new Metrics();
  const unobserve = observeServices(events, metrics, log, () => clock.now());
  const attempts = new AttemptsService({ ...core, finalizer, settings: { leaseMs: config.leaseMs } });
  const recovery = new Recovery({ ...core, finalizer, settings: { maxAttempts: config.maxAttempts, stopGraceMs: config.stopGraceMs } });
  const fleet = new FleetService({ ...core, heartbeatMs: config.heartbeatMs });
  const bootstrapKey = await bootstrap(auth, config);

  const outputLinks = new OutputLinks({ clock, options: { mode: config.outputRefs, publicUrl: config.publicUrl, ttlMs: config.outputUrlTtlMs, signingKeyFile } });
  const batch = new BatchService({ ...core, jobs, creator: new BatchCreator({ ...core, files }), links: outputLinks });
  // A database outage is a condition of the deployment, reported by every timer tick: warn, not error.
  const onError = (err: unknown): void => {
    if (!logger) return;
    if (err instanceof StoreUnavailableError) logger.warn({ err: err.message }, 'background task skipped: database unavailable');
    else logger.error({ err }, 'worker error');
  };
  const workerTokens = new WorkerTokenService({ store, clock });
  const workerApi = new WorkerApi({ ...core, attempts, paths: DOWNLOAD_PATHS, settings: { lease_ms: config.leaseMs, heartbeat_ms: config.heartbeatMs, claim_wait_ms: config.workerClaimWaitMs } });
  const sessions = new WorkerSessions({ ...core, recovery, settings: { graceMs: config.workerDisconnectGraceMs, pingMs: 15_000 }, onError });
  const unrelay = store instanceof PostgresStore ? await relayNotifications(store, bus, onError) : () => undefined;
  metricGauges(metrics, store, workerApi, sessions, clock, config.heartbeatMs, files.uploads);
  const extraRoutes = [
    (app: FastifyInstance) => registerBatchV05(app, batch),
    (app: FastifyInstance) => registerWorkerApi(app, { api: workerApi, sessions, tokens: workerTokens }),
    (app: FastifyInstance) => registerMetrics(app, metrics, { exposure: config.metricsExposure, token: config.metricsToken }),
  ];
  // 15 min: a client follows the redirect at once; the margin covers clock skew between replica and bucket.
  const downloadRedirect = config.s3DownloadRedirect ? (key: string, filename: string) => blobs.presignGet(key, 15 * 60_000, new Date(clock.now()), filename) : undefined;
  const server = await buildServer({ auth, jobs, creator, files, fleet, catalog: config.catalog, maxUploadBytes: config.maxUploadBytes, logger, extraRoutes, downloadRedirect,
    rateLimits: { authFailuresPerMinute: config.authFailuresPerMinute, requestsPerKeyPerMinute: config.requestsPerKeyPerMinute }, now: () => clock.now(),
  });
  const address = await server.listen({ host: config.host, port: config.port });
  const url = address.replace('[::1]', 'localhost');

  // One node per data directory; on PostgreSQL replicas may share one home, so the host and port are
  // part of it: a replica's boot recovery must only ever claim its own earlier boots' attempts.
  const nodeKey = store instanceof PostgresStore ? `${config.home}|${hostname()}|${config.port}` : config.home;
  const node = createHash('sha256').update(nodeKey).digest('hex').slice(0, 8);
  const feed: StatusFeed = {
    onStatus: (uuid, fn) => bus.on('job-changed', (j) => j.uuid === uuid && fn(j.status)),
    onWork: (fn) => bus.on('work-queued', fn),
  };
  // Writes of built-in workers ride out a database restart (docs/postgres.md), like remote workers' HTTP retries.
  const workSource = new RetryingWorkSource(attempts, {
    budgetMs: config.leaseMs,
    retryable: (err) => err instanceof StoreUnavailableError && !err.outcomeUnknown,
    onRetry: (op, err, attempt) => log?.warn({ op, attempt, err: (err as Error).message }, 'worker write retried: database unavailable'),
  });
  const pool = config.builtinWorkers > 0
    ? new WorkerPool(workSource, clock, {
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
    timers.push(setInterval(() => void files.sweepOrphanBlobs(3600_000).catch(onError), 3600_000));
    timers.push(setInterval(() => void files.uploads.sweep().catch(onError), Math.max(1_000, Math.min(config.uploadTtlMs, 600_000))));
  }
  for (const t of timers) t.unref();

  return {
    config, server, url, store, files, bus, auth, jobs, attempts, recovery, pool, bootstrapKey, workerTokens, workerApi, metrics,
    async close() {
      for (const t of timers) clearInterval(t);
      await pool?.stop();
      workerApi.close(); // long-polls answer at once and sessions end: workers move to another replica
      sessions.close();
      unrelay();
      await server.close();
      unobserve();
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

/**
 * Several replicas on one PostgreSQL: what another replica changed reaches this replica's bus, so
 * its SSE streams, in-process workers and remote worker sessions see it at once. `ftnode_work` →
 * 'work-queued'; `ftnode_job` → the job reloaded → 'job-changed' (reloads of one job run in NOTIFY
 * order, so a stale read never overtakes a newer one); '' (the LISTEN connection was re-established,
 * notifications may be lost) → 'work-queued' and a reload of every job this replica has seen and not
 * yet seen end.
 */
async function relayNotifications(store: PostgresStore, bus: Bus, onError: (err: unknown) => void): Promise<() => void> {
  const chains = new Map<string, Promise<void>>();
  const active = new Set<string>();
  const reload = (uuid: string): void => {
    const next = (chains.get(uuid) ?? Promise.resolve()).then(async () => {
      const job = await store.getJobByUuid(uuid);
      if (job) bus.emit('job-changed', job);
    }).catch(onError).finally(() => chains.get(uuid) === next && chains.delete(uuid));
    chains.set(uuid, next);
  };
  const offSeen = bus.on('job-changed', (j) => (isTerminal(j.status) ? active.delete(j.uuid) : active.add(j.uuid)));
  const offWork = await store.subscribe('ftnode_work', () => bus.emit('work-queued'));
  const offJob = await store.subscribe('ftnode_job', (uuid) => {
    if (uuid) return reload(uuid);
    for (const u of active) reload(u);
  });
  return () => {
    offSeen();
    offWork();
    offJob();
  };
}

/** Scrape-time gauges: jobs by status and queue depth (the same on every replica), this replica's waiting claims, sessions and direct-upload completes. */
function metricGauges(m: Metrics, store: Store, api: WorkerApi, sessions: WorkerSessions, clock: Clock, heartbeatMs: number, uploads: UploadsService): void {
  const byStatus = (): Promise<Record<string, number>> => store.countJobsByStatus();
  m.gauge('ftnode_jobs', 'Jobs by status (all replicas see the same)', async () => {
    const counts = await byStatus();
    return JOB_STATUSES.filter((s) => s !== 'UNKNOWN').map((s) => [{ status: s }, counts[s] ?? 0]);
  });
  m.gauge('ftnode_queue_depth', 'Jobs waiting for a worker (REGISTERED)', async () => [[{}, (await byStatus()).REGISTERED ?? 0]]);
  m.gauge('ftnode_workers_live', 'Registered workers that reported within 3 heartbeats, by kind', async () => {
    const live = (await store.listWorkers()).filter((w) => clock.now() - w.last_seen_at <= 3 * heartbeatMs);
    return (['builtin', 'remote'] as const).map((k) => [{ kind: k }, live.filter((w) => w.kind === k).length]);
  });
  m.gauge('ftnode_worker_claims_waiting', 'Remote workers long-polling this replica for work', () => [[{}, api.waitingClaims]]);
  m.gauge('ftnode_direct_upload_completes', 'Direct-upload completes this process ran (succeeded or not), by whether they read the bytes back (no: hashed as the parts arrived)', () => [
    [{ read_back: 'no' }, uploads.completes.digested], [{ read_back: 'yes' }, uploads.completes.readBack],
  ]);
  m.gauge('ftnode_worker_sessions', 'Remote worker sessions held open by this replica', () => [[{}, sessions.open]]);
}
