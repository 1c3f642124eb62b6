/**
 * Every setting with its default and unit, and loadConfig(): flags > environment (FTNODE_*) >
 * config file (YAML or JSON) > defaults. The only reader of process.env in the service.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CATALOG, type CatalogEntry } from './catalog.js';

export interface Config {
  home: string; // data directory: database + artifacts
  host: string;
  port: number; // 0 = ephemeral (tests)
  databaseFile: string;
  databaseUrl: string | null; // postgres:// or postgresql:// → PostgreSQL (docs/postgres.md); unset or anything else → SQLite at databaseFile
  artifactsDir: string;
  // object storage (docs/scaling.md): every artifact in one bucket instead of artifactsDir
  blobUrl: string | null; // s3://bucket[/prefix] → S3-compatible store; null = local disk at artifactsDir
  s3Endpoint: string | null; // http(s) URL of a non-AWS server (MinIO, Ceph, R2); null = AWS's endpoint for the region
  s3Region: string;
  s3PathStyle: boolean; // bucket in the path (http://host/bucket/key), as most self-hosted servers need
  s3DownloadRedirect: boolean; // file and checkpoint downloads answer 302 to a presigned GET of the object instead of streaming it through the replica
  blobCacheDir: string; // object store only: local copies of objects that trainers and validators read, and scratch folders
  bootstrapKey: string | null; // created on first start when set (like a database root password)
  bootstrapOrg: string;
  builtinWorkers: number; // in-process worker slots; 0 = none (remote workers only)
  leaseMs: number; // an attempt whose heartbeat is older than this is lost
  heartbeatMs: number;
  reaperIntervalMs: number;
  maxAttempts: number; // attempts per job before FAILED worker_lost
  stopGraceMs: number; // how long STOPPING may take before the control plane finalizes
  cancelKillMs: number; // cancel → trainer process gone
  maxUploadBytes: number;
  // direct (multipart) uploads, docs/files.md
  uploadTtlMs: number; // an unfinished upload idle this long is deleted with its parts
  uploadPartBytes: number; // part size offered at initiate (raised when a file would need > 10,000 parts)
  uploadUrlTtlMs: number; // lifetime of a signed part URL
  maxDirectUploadBytes: number;
  publicUrl: string | null; // server root clients reach (behind a proxy): base of signed part URLs and presigned output refs; else the request's Host
  uploadSigningKeyFile: string | null; // HMAC key of part URLs and presigned output refs; null = <home>/upload-signing.key (replicas behind one URL share one file)
  outputRefs: 'auto' | 'relative' | 'presigned'; // `ref` of batch outputs (docs/batch.md): auto = presigned when publicUrl is set, else relative
  outputUrlTtlMs: number; // lifetime of a presigned output ref
  logLevel: string;
  // abuse and exposure (docs/configuration.md, docs/errors.md)
  authFailuresPerMinute: number; // failed authentications per client address per minute before 429 for the rest of it; 0 = no limit
  requestsPerKeyPerMinute: number; // requests per API key per minute before 429; 0 = no limit
  metricsExposure: 'local' | 'token' | 'public' | 'off'; // who may read GET /metrics
  metricsToken: string | null; // bearer token for /metrics when metricsExposure is 'token'
  // several machines (docs/scaling.md)
  databaseSchema: string | null; // PostgreSQL schema for every table (replicas of one deployment share it); null = the server's search_path
  workerClaimWaitMs: number; // how long a remote worker's claim request waits for work (long-poll)
  workerDisconnectGraceMs: number; // a remote worker whose session dropped and that has not registered again within this is recovered at once
  workerServer: string | null; // `ftnode worker`: the control plane's URL(s), comma-separated (tried in turn when one is unreachable)
  workerToken: string | null; // `ftnode worker`: its wk_ token
  workerConcurrency: number; // `ftnode worker`: jobs run at once
  workerCacheDir: string; // `ftnode worker`: downloaded datasets and checkpoints (by sha256) and scratch folders
  workerCacheMaxBytes: number; // `ftnode worker`: cached downloads beyond this are evicted, least recently used first
  workerNode: string | null; // `ftnode worker`: node name in worker ids; null = <hostname>-<hash of the cache dir>
  catalog: Record<string, CatalogEntry>;
  trainerCommand: string[]; // how built-in trainers are started (node + the compiled entry)
}

type Source = Record<string, string | undefined>;

const ENV_KEYS: Record<string, keyof Config> = {
  FTNODE_HOME: 'home',
  FTNODE_HOST: 'host',
  FTNODE_PORT: 'port',
  FTNODE_DATABASE_URL: 'databaseUrl',
  FTNODE_BLOB_URL: 'blobUrl',
  FTNODE_S3_ENDPOINT: 's3Endpoint',
  FTNODE_S3_REGION: 's3Region',
  FTNODE_S3_PATH_STYLE: 's3PathStyle',
  FTNODE_S3_DOWNLOAD_REDIRECT: 's3DownloadRedirect',
  FTNODE_BLOB_CACHE_DIR: 'blobCacheDir',
  FTNODE_BOOTSTRAP_KEY: 'bootstrapKey',
  FTNODE_BOOTSTRAP_ORG: 'bootstrapOrg',
  FTNODE_WORKERS: 'builtinWorkers',
  FTNODE_LEASE_MS: 'leaseMs',
  FTNODE_HEARTBEAT_MS: 'heartbeatMs',
  FTNODE_REAPER_INTERVAL_MS: 'reaperIntervalMs',
  FTNODE_MAX_ATTEMPTS: 'maxAttempts',
  FTNODE_STOP_GRACE_MS: 'stopGraceMs',
  FTNODE_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  FTNODE_UPLOAD_TTL_MS: 'uploadTtlMs',
  FTNODE_PUBLIC_URL: 'publicUrl',
  FTNODE_OUTPUT_REFS: 'outputRefs',
  FTNODE_LOG_LEVEL: 'logLevel',
  FTNODE_AUTH_FAILURES_PER_MINUTE: 'authFailuresPerMinute',
  FTNODE_REQUESTS_PER_KEY_PER_MINUTE: 'requestsPerKeyPerMinute',
  FTNODE_METRICS: 'metricsExposure',
  FTNODE_METRICS_TOKEN: 'metricsToken',
  FTNODE_DATABASE_SCHEMA: 'databaseSchema',
  FTNODE_WORKER_CLAIM_WAIT_MS: 'workerClaimWaitMs',
  FTNODE_WORKER_DISCONNECT_GRACE_MS: 'workerDisconnectGraceMs',
  FTNODE_WORKER_SERVER: 'workerServer',
  FTNODE_WORKER_TOKEN: 'workerToken',
  FTNODE_WORKER_CONCURRENCY: 'workerConcurrency',
  FTNODE_WORKER_CACHE_DIR: 'workerCacheDir',
  FTNODE_WORKER_CACHE_MAX_BYTES: 'workerCacheMaxBytes',
  FTNODE_WORKER_NODE: 'workerNode',
};

const NUMERIC: ReadonlySet<keyof Config> = new Set([
  'port', 'builtinWorkers', 'leaseMs', 'heartbeatMs', 'reaperIntervalMs', 'maxAttempts', 'stopGraceMs',
  'cancelKillMs', 'maxUploadBytes', 'uploadTtlMs', 'uploadPartBytes', 'uploadUrlTtlMs', 'maxDirectUploadBytes', 'outputUrlTtlMs',
  'workerClaimWaitMs', 'workerDisconnectGraceMs', 'workerConcurrency', 'workerCacheMaxBytes',
  'authFailuresPerMinute', 'requestsPerKeyPerMinute',
]);

export const DEFAULT_PORT = 8642;

export interface ConfigOverrides extends Partial<Omit<Config, 'catalog'>> {
  configFile?: string;
  catalog?: Record<string, CatalogEntry>;
}

function defaults(home: string, trainerEntry: string): Config {
  return {
    home,
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    databaseFile: join(home, 'ftnode.db'),
    databaseUrl: null,
    artifactsDir: join(home, 'artifacts'),
    blobUrl: null,
    s3Endpoint: null,
    s3Region: 'us-east-1', // the SDK needs one even where the server ignores it (MinIO, s3rver)
    s3PathStyle: false,
    s3DownloadRedirect: false, // streamed as on disk: clients that cannot reach the bucket keep working
    blobCacheDir: join(home, 'blob-cache'),
    bootstrapKey: null,
    bootstrapOrg: 'default',
    builtinWorkers: 1,
    leaseMs: 30_000, // 10 missed 3 s heartbeats; long enough for a GC pause, short enough to recover in < 1 min
    heartbeatMs: 3_000,
    reaperIntervalMs: 2_000,
    maxAttempts: 3,
    stopGraceMs: 120_000,
    cancelKillMs: 1_000,
    maxUploadBytes: 512_000_000,
    uploadTtlMs: 24 * 3600_000, // a day: long enough to resume an interrupted multi-GB upload the next morning
    uploadPartBytes: 8 * 1024 * 1024, // 8 MiB, Archetype's example part size
    uploadUrlTtlMs: 3600_000, // 1 h: a part URL outlives a slow 8 MiB PUT by far; clients ask for fresh ones
    maxDirectUploadBytes: 250_000_000_000, // 250 GB, Archetype's documented direct-to-cloud limit
    publicUrl: null,
    uploadSigningKeyFile: null,
    outputRefs: 'auto',
    outputUrlTtlMs: 3600_000, // 1 h, as the hosted API's presigned URLs; each listing hands out fresh ones
    logLevel: 'info',
    authFailuresPerMinute: 20, // a person mistyping a key fails a few times; a guesser needs billions
    requestsPerKeyPerMinute: 60_000, // 1,000/s sustained: above any client pipeline measured, below a runaway loop
    metricsExposure: 'local', // loopback clients only: counts of jobs and workers are not for the whole network
    metricsToken: null,
    databaseSchema: null,
    workerClaimWaitMs: 25_000, // under the 30 s idle timeout of common proxies and load balancers
    workerDisconnectGraceMs: 6_000, // raised to 2 heartbeats when those are longer: a live worker registers every heartbeat
    workerServer: null,
    workerToken: null,
    workerConcurrency: 1,
    workerCacheDir: join(home, 'worker-cache'),
    workerCacheMaxBytes: 20_000_000_000, // 20 GB: a few large datasets; the LRU keeps what recent jobs used
    workerNode: null,
    catalog: DEFAULT_CATALOG,
    trainerCommand: [process.execPath, trainerEntry],
  };
}

function coerce(key: keyof Config, raw: unknown): unknown {
  if (key === 's3PathStyle' || key === 's3DownloadRedirect') {
    if (raw === true || raw === 'true' || raw === '1') return true;
    if (raw === false || raw === 'false' || raw === '0') return false;
    throw new Error(`config: ${key === 's3PathStyle' ? 'FTNODE_S3_PATH_STYLE' : 'FTNODE_S3_DOWNLOAD_REDIRECT'} must be true or false, got '${String(raw)}'`);
  }
  if (NUMERIC.has(key)) {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`config: ${String(key)} must be a non-negative number, got '${String(raw)}'`);
    return n;
  }
  return raw;
}

/** Builds the frozen config. `env` defaults to process.env; `trainerEntry` is the compiled trainer main. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Source = process.env, trainerEntry = ''): Readonly<Config> {
  const home = resolve(overrides.home ?? env.FTNODE_HOME ?? '.ftnode');
  const cfg: Config = defaults(home, trainerEntry);
  const file = overrides.configFile ?? env.FTNODE_CONFIG ?? join(home, 'config.yaml');
  if (existsSync(file)) {
    const parsed = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) {
      if (k === 'models' && v && typeof v === 'object') {
        cfg.catalog = { ...cfg.catalog, ...(v as Record<string, CatalogEntry>) };
      } else if (k in cfg) {
        (cfg as unknown as Record<string, unknown>)[k] = coerce(k as keyof Config, v);
      }
    }
  }
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const v = env[envKey];
    if (v !== undefined && v !== '') (cfg as unknown as Record<string, unknown>)[key] = coerce(key, v);
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined && k !== 'configFile') (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  if (!overrides.databaseFile) cfg.databaseFile = join(cfg.home, 'ftnode.db');
  if (!overrides.artifactsDir) cfg.artifactsDir = join(cfg.home, 'artifacts');
  cfg.blobCacheDir = cfg.blobCacheDir === join(home, 'blob-cache') ? join(cfg.home, 'blob-cache') : resolve(cfg.blobCacheDir);
  if (cfg.blobUrl !== null && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(cfg.blobUrl)) throw new Error(`config: FTNODE_BLOB_URL must be s3://bucket or s3://bucket/prefix, got '${cfg.blobUrl}'`);
  cfg.workerCacheDir = cfg.workerCacheDir === join(home, 'worker-cache') ? join(cfg.home, 'worker-cache') : resolve(cfg.workerCacheDir);
  if (!overrides.heartbeatMs && !env.FTNODE_HEARTBEAT_MS) cfg.heartbeatMs = Math.max(50, Math.floor(cfg.leaseMs / 10));
  cfg.workerDisconnectGraceMs = Math.max(cfg.workerDisconnectGraceMs, 2 * cfg.heartbeatMs);
  checkExposure(cfg);
  if (!['auto', 'relative', 'presigned'].includes(cfg.outputRefs)) throw new Error(`config: FTNODE_OUTPUT_REFS must be auto, relative or presigned, got '${String(cfg.outputRefs)}'`);
  // Clients fetch a ref that starts with http(s):// as it is and treat anything else as relative to their base.
  if (cfg.publicUrl !== null && !/^https?:\/\/[^/]/.test(cfg.publicUrl)) throw new Error(`config: FTNODE_PUBLIC_URL must start with http:// or https://, got '${cfg.publicUrl}'`);
  return Object.freeze(cfg);
}

/**
 * API keys are `sk_` + 32 to 200 characters of [A-Za-z0-9_-] (generated ones: 40 base62). A bootstrap
 * key of any other shape is refused at start: a typo such as a missing `sk_` or a pasted quote would
 * otherwise create a key no client sends.
 */
export const API_KEY_FORMAT = /^sk_[A-Za-z0-9_-]{32,200}$/;

function checkExposure(cfg: Config): void {
  if (cfg.bootstrapKey !== null && !API_KEY_FORMAT.test(cfg.bootstrapKey)) {
    throw new Error('config: FTNODE_BOOTSTRAP_KEY must look like sk_ followed by 32 to 200 letters, digits, _ or - (e.g. the key `ftnode keys create` prints)');
  }
  if (!['local', 'token', 'public', 'off'].includes(cfg.metricsExposure)) {
    throw new Error(`config: FTNODE_METRICS must be local, token, public or off, got '${String(cfg.metricsExposure)}'`);
  }
  if (cfg.metricsExposure === 'token' && (!cfg.metricsToken || cfg.metricsToken.length < 16)) {
    throw new Error('config: FTNODE_METRICS=token needs FTNODE_METRICS_TOKEN of at least 16 characters');
  }
}
