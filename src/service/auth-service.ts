/**
 * API keys: `sk_` + 40 base62 characters (238 bits), stored only as a sha256 hash. Lookup is by the
 * hash (an index probe), so the plain key never reaches the database or the logs; the final
 * comparison is constant-time. Each key belongs to exactly one organization.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, Org } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { uuid } from '../lib/ids.js';
import type { Store } from '../store/store.js';

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
  constructor(private readonly store: Store, private readonly clock: Clock) {}

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
    const found = await this.store.findApiKeyByHash(hash);
    if (!found) return null;
    // The index probe matched on the hash; the stored hash is then compared in constant time, so the
    // answer time never depends on how many leading characters of a guess were right.
    if (!timingSafeEqual(Buffer.from(found.hash), Buffer.from(hash))) return null;
    return { org: found.org, key_id: found.id };
  }

  listKeys(org_uuid: string): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys(org_uuid);
  }

  revokeKey(org_uuid: string, id: string): Promise<boolean> {
    return this.store.revokeApiKey(org_uuid, id, this.clock.now());
  }

  countKeys(): Promise<number> {
    return this.store.countApiKeys();
  }
}
