/**
 * The CLI's admin commands (`ftnode keys …`, `ftnode workers token …`) against the configured store
 * (PostgreSQL when FTNODE_DATABASE_URL is set, else the data directory's SQLite file, which WAL lets
 * them write while a server runs). Each call opens the store, does one thing and closes it, so the
 * CLI names no service, store or clock (docs/architecture.md: cli may import client, api and app).
 */
import type { ConfigOverrides } from '../config/config.js';
import type { ApiKeyRecord, Org, WorkerTokenRecord } from '../domain/types.js';
import { systemClock } from '../lib/clock.js';
import { AuthService } from '../service/auth-service.js';
import { WorkerTokenService } from '../service/workers/worker-tokens.js';
import type { Store } from '../store/store.js';
import { collectOrphans, type GcReport } from '../service/blob-gc.js';
import { appConfig, openBlobStore, openStore } from './app.js';

export type { ConfigOverrides };

async function withStore<T>(overrides: ConfigOverrides, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(appConfig(overrides));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A new API key for an organization (created if new); the plain key is returned once, stored hashed. */
export function createApiKey(overrides: ConfigOverrides, org: string, name?: string): Promise<{ key: string; record: ApiKeyRecord; org: Org }> {
  return withStore(overrides, (store) => new AuthService({ store, clock: systemClock }).createKey(org, name));
}

/** An organization's keys (prefixes only), revoked ones included. */
export function listApiKeys(overrides: ConfigOverrides, org: string): Promise<ApiKeyRecord[]> {
  return withStore(overrides, async (store) => new AuthService({ store, clock: systemClock }).listKeys((await store.ensureOrg(org, systemClock.now())).uuid));
}

/** Revokes one of an organization's keys; false when it has no active key with that id. */
export function revokeApiKey(overrides: ConfigOverrides, org: string, id: string): Promise<boolean> {
  return withStore(overrides, async (store) => new AuthService({ store, clock: systemClock }).revokeKey((await store.ensureOrg(org, systemClock.now())).uuid, id));
}

/** A new worker token (printed once by the CLI, stored hashed). */
export function createWorkerToken(overrides: ConfigOverrides, name?: string): Promise<{ token: string; record: WorkerTokenRecord }> {
  return withStore(overrides, (store) => new WorkerTokenService({ store, clock: systemClock }).create(name));
}

export function listWorkerTokens(overrides: ConfigOverrides): Promise<WorkerTokenRecord[]> {
  return withStore(overrides, (store) => new WorkerTokenService({ store, clock: systemClock }).list());
}

/** Revokes a worker token; false when there is no active token with that id. */
export function revokeWorkerToken(overrides: ConfigOverrides, id: string): Promise<boolean> {
  return withStore(overrides, (store) => new WorkerTokenService({ store, clock: systemClock }).revoke(id));
}

/** `ftnode gc`: the blob store's objects that no record names, older than `minAgeMs` (service/blob-gc.ts); deleted unless dryRun. */
export function collectOrphanBlobs(overrides: ConfigOverrides, o: { dryRun: boolean; minAgeMs: number }): Promise<GcReport> {
  return withStore(overrides, (store) => collectOrphans(store, openBlobStore(appConfig(overrides)), o));
}
