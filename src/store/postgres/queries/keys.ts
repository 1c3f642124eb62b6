/** PostgreSQL queries of organizations and API keys (hashed; the key itself is never stored). */
import type { ApiKeyRecord, Org } from '../../../domain/types.js';
import { uuid as newUuid } from '../../../lib/ids.js';
import { apiKeyFromRow } from '../../rows.js';
import { one, type PgDb } from '../pg-db.js';

export async function ensureOrg(db: PgDb, name: string, now: number): Promise<Org> {
  return db.tx(async (c) => {
    await c.query('INSERT INTO orgs (uuid, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [newUuid(), name, now]);
    const r = one(await c.query('SELECT * FROM orgs WHERE name = $1', [name]))!;
    return { uuid: String(r.uuid), name: String(r.name), created_at: Number(r.created_at) };
  });
}

export async function getOrg(db: PgDb, uuid: string): Promise<Org | null> {
  const [r] = await db.read('SELECT * FROM orgs WHERE uuid = $1', [uuid]);
  return r ? { uuid: String(r.uuid), name: String(r.name), created_at: Number(r.created_at) } : null;
}

export async function insertApiKey(db: PgDb, key: ApiKeyRecord, hash: string): Promise<void> {
  await db.tx((c) => c.query(
    'INSERT INTO api_keys (id, org_uuid, name, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [key.id, key.org_uuid, key.name, key.prefix, hash, key.created_at, key.revoked_at],
  ));
}

export async function findApiKeyByHash(db: PgDb, hash: string): Promise<(ApiKeyRecord & { org: Org; hash: string }) | null> {
  const [r] = await db.read(
    `SELECT k.*, o.name AS org_name, o.created_at AS org_created_at FROM api_keys k
     JOIN orgs o ON o.uuid = k.org_uuid WHERE k.hash = $1 AND k.revoked_at IS NULL`,
    [hash],
  );
  if (!r) return null;
  return { ...apiKeyFromRow(r), hash: String(r.hash), org: { uuid: String(r.org_uuid), name: String(r.org_name), created_at: Number(r.org_created_at) } };
}

export async function listApiKeys(db: PgDb, org_uuid: string): Promise<ApiKeyRecord[]> {
  return (await db.read('SELECT * FROM api_keys WHERE org_uuid = $1 ORDER BY created_at', [org_uuid])).map(apiKeyFromRow);
}

export async function revokeApiKey(db: PgDb, org_uuid: string, id: string, now: number): Promise<boolean> {
  const r = await db.tx((c) => c.query('UPDATE api_keys SET revoked_at = $1 WHERE org_uuid = $2 AND id = $3 AND revoked_at IS NULL', [now, org_uuid, id]));
  return r.rowCount === 1;
}

export async function countApiKeys(db: PgDb): Promise<number> {
  return Number((await db.read('SELECT COUNT(*) AS n FROM api_keys'))[0]!.n);
}
