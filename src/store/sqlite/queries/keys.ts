/** SQLite queries of organizations and API keys (hashed; the key itself is never stored). */
import type { ApiKeyRecord, Org } from '../../../domain/types.js';
import { uuid as newUuid } from '../../../lib/ids.js';
import { apiKeyFromRow } from '../../rows.js';
import type { Db } from '../db.js';
import type { Row } from './steps.js';

export function ensureOrg(db: Db, name: string, now: number): Org {
  return db.transaction(() => {
    const row = db.prepare('SELECT * FROM orgs WHERE name = ?').get(name) as Org | undefined;
    if (row) return row;
    const org: Org = { uuid: newUuid(), name, created_at: now };
    db.prepare('INSERT INTO orgs (uuid, name, created_at) VALUES (@uuid, @name, @created_at)').run(org);
    return org;
  }).immediate();
}

export function getOrg(db: Db, uuid: string): Org | null {
  return (db.prepare('SELECT * FROM orgs WHERE uuid = ?').get(uuid) as Org | undefined) ?? null;
}

export function insertApiKey(db: Db, key: ApiKeyRecord, hash: string): void {
  db.prepare('INSERT INTO api_keys (id, org_uuid, name, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(key.id, key.org_uuid, key.name, key.prefix, hash, key.created_at, key.revoked_at);
}

export function findApiKeyByHash(db: Db, hash: string): (ApiKeyRecord & { org: Org; hash: string }) | null {
  const r = db
    .prepare(`SELECT k.*, o.name AS org_name, o.created_at AS org_created_at FROM api_keys k
              JOIN orgs o ON o.uuid = k.org_uuid WHERE k.hash = ? AND k.revoked_at IS NULL`)
    .get(hash) as Row | undefined;
  if (!r) return null;
  return { ...apiKeyFromRow(r), hash: String(r.hash), org: { uuid: String(r.org_uuid), name: String(r.org_name), created_at: Number(r.org_created_at) } };
}

export function listApiKeys(db: Db, org_uuid: string): ApiKeyRecord[] {
  return (db.prepare('SELECT * FROM api_keys WHERE org_uuid = ? ORDER BY created_at').all(org_uuid) as Row[]).map(apiKeyFromRow);
}

export function revokeApiKey(db: Db, org_uuid: string, id: string, now: number): boolean {
  return db.prepare('UPDATE api_keys SET revoked_at = ? WHERE org_uuid = ? AND id = ? AND revoked_at IS NULL').run(now, org_uuid, id).changes === 1;
}

export function countApiKeys(db: Db): number {
  return Number((db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as Row).n);
}
