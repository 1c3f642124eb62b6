/**
 * Remote workers' tokens (docs/scaling.md): `wk_` + 40 base62 characters (238 bits), stored only as a
 * sha256 hash, in their own table. A worker token opens the worker API (/v1/worker/...) and nothing
 * else; a user API key never opens the worker API. Revocation takes effect within CACHE_MS on every
 * replica (the positive lookup cache below), and a revoked worker's attempts are lost by lease expiry.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { randomHex } from '../../lib/ids.js';
import type { Store, WorkerTokenRecord } from '../../store/store.js';
import type { ServiceCore } from '../deps.js';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A worker makes ~1 request per heartbeat (3 s) per job plus one per trainer message: caching a hit for 1 s saves most lookups and bounds revocation delay. */
const CACHE_MS = 1_000;

export function generateWorkerToken(): string {
  const bytes = randomBytes(40);
  let out = 'wk_';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class WorkerTokenService {
  private readonly cache = new Map<string, { record: WorkerTokenRecord; until: number }>();

  private readonly store: Store;
  private readonly clock: Clock;

  constructor(d: Pick<ServiceCore, 'store' | 'clock'>) {
    ({ store: this.store, clock: this.clock } = d);
  }

  async create(name = 'worker', plain = generateWorkerToken()): Promise<{ token: string; record: WorkerTokenRecord }> {
    if (!plain.startsWith('wk_')) throw new Error("a worker token starts with 'wk_'");
    const record: WorkerTokenRecord = { id: `wkt_${randomHex(8)}`, name, prefix: plain.slice(0, 7), created_at: this.clock.now(), revoked_at: null };
    await this.store.insertWorkerToken(record, hashToken(plain));
    return { token: plain, record };
  }

  /** The token record for an `Authorization: Bearer wk_…` header value, or null (→ 401). */
  async authenticate(header: string | undefined): Promise<WorkerTokenRecord | null> {
    const m = header ? /^Bearer\s+(wk_\S+)\s*$/.exec(header) : null;
    if (!m) return null;
    const hash = hashToken(m[1]!);
    const now = performance.now(); // a cache lifetime, not domain time
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.record;
    const found = await this.store.findWorkerTokenByHash(hash);
    // Looked up by hash (an index probe); compared again in constant time, as API keys are.
    if (!found || !timingSafeEqual(Buffer.from(found.hash), Buffer.from(hash))) {
      this.cache.delete(hash);
      return null;
    }
    const { hash: _h, ...record } = found;
    if (this.cache.size > 1_000) this.cache.clear(); // a handful of tokens in practice; never unbounded
    this.cache.set(hash, { record, until: now + CACHE_MS });
    return record;
  }

  list(): Promise<WorkerTokenRecord[]> {
    return this.store.listWorkerTokens();
  }

  async revoke(id: string): Promise<boolean> {
    const ok = await this.store.revokeWorkerToken(id, this.clock.now());
    this.cache.clear(); // this replica at once; the others within CACHE_MS
    return ok;
  }
}
