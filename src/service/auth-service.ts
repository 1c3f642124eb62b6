/**
 * API keys: `sk_` + 40 base62 characters (238 bits), stored only as a sha256 hash. Lookup is by the
 * hash (an index probe), so the plain key never reaches the database or the logs; the final
 * comparison is constant-time. Each key belongs to exactly one organization.
 * A found key is remembered for KEY_CACHE_MS (at most KEY_CACHE_MAX keys): on PostgreSQL the key
 * lookup was one of the two queries of every GET, and half its cost. A revoke through this service
 * forgets the key at once; on every other replica (and after `ftnode keys revoke`, which writes the
 * store directly) a revoked key is refused within KEY_CACHE_MS. Misses are never cached.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, Org } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { uuid } from '../lib/ids.js';
import type { Store } from '../store/store.js';
import type { ServiceCore } from './deps.js';

/** Revocation reaches every replica within this (docs/scaling.md); the cache lifetime, on the injected clock. */
export const KEY_CACHE_MS = 1_000;
/** Keys remembered at once; past it the oldest is forgotten (100 bytes each: ~1 MB at most). */
const KEY_CACHE_MAX = 10_000;

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateApiKey(): string {
  const bytes = randomBytes(40);
  let out = 'sk_';
  for (const b of bytes) out += BASE62[b % 62]; // 256 % 62 bias is < 2%, irrelevant at 238 bits
  return out;
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export interface Principal {
  org: Org;
  key_id: string;
}

export class AuthService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  private readonly store: Store;
  private readonly clock: Clock;

  constructor(d: Pick<ServiceCore, 'store' | 'clock'>) {
    ({ store: this.store, clock: this.clock } = d);
  }

  async createKey(orgName: string, name = 'default', plain = generateApiKey()): Promise<{ key: string; record: ApiKeyRecord; org: Org }> {
    const org = await this.store.ensureOrg(orgName, this.clock.now());
    const record: ApiKeyRecord = { id: `key_${uuid().slice(0, 8)}`, org_uuid: org.uuid, name, prefix: plain.slice(0, 7), created_at: this.clock.now(), revoked_at: null };
    await this.store.insertApiKey(record, hashApiKey(plain));
    return { key: plain, record, org };
  }

  /** The principal for an `Authorization` header value, or null (→ 401). */
  async authenticate(header: string | undefined): Promise<Principal | null> {
    if (!header) return null;
    const m = /^Bearer\s+(\S+)\s*$/.exec(header);
    if (!m) return null;
    const hash = hashApiKey(m[1]!);
    const now = this.clock.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal; // keyed by the full sha256: no partial match
    const found = await this.store.findApiKeyByHash(hash);
    // The index probe matched on the hash; the stored hash is then compared in constant time, so the
    // answer time never depends on how many leading characters of a guess were right.
    if (!found || !timingSafeEqual(Buffer.from(found.hash), Buffer.from(hash))) {
      this.cache.delete(hash);
      return null;
    }
    const principal: Principal = { org: found.org, key_id: found.id };
    this.cache.delete(hash); // re-inserted last: Map order is then oldest first
    if (this.cache.size >= KEY_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, { principal, until: now + KEY_CACHE_MS });
    return principal;
  }

  listKeys(org_uuid: string): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys(org_uuid);
  }

  async revokeKey(org_uuid: string, id: string): Promise<boolean> {
    const ok = await this.store.revokeApiKey(org_uuid, id, this.clock.now());
    for (const [hash, e] of this.cache) if (e.principal.key_id === id && e.principal.org.uuid === org_uuid) this.cache.delete(hash);
    return ok;
  }

  countKeys(): Promise<number> {
    return this.store.countApiKeys();
  }
}
