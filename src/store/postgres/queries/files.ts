/**
 * PostgreSQL queries of file versions (files API v0.5): versioning by name (locks in steps.ts),
 * deletes, the garbage collection of versions no live job needs, and the org's file statistics.
 */
import type { FileRecord } from '../../../domain/types.js';
import { RELEASES_FILES } from '../../policy.js';
import { fileFromRow } from '../../rows.js';
import type { FileStats } from '../../store.js';
import { one, type PgDb } from '../pg-db.js';
import { inList, insertFileVersionRow, limitOrAll } from './steps.js';

/** `NOT EXISTS` a job that still needs the version (its status is not one that releases files). */
function unpinned(file_uid_sql: string, params: unknown[]): string {
  return `NOT EXISTS (SELECT 1 FROM job_files jf JOIN jobs j ON j.uuid = jf.job_uuid
    WHERE jf.file_uid = ${file_uid_sql} AND NOT (${inList('j.status', RELEASES_FILES, params)}))`;
}

export async function insertFileVersion(db: PgDb, f: Omit<FileRecord, 'file_index' | 'is_current'>): Promise<FileRecord> {
  return db.tx((c) => insertFileVersionRow(c, f));
}

export async function getCurrentFile(db: PgDb, org_uuid: string, file_id: string): Promise<FileRecord | null> {
  const [r] = await db.read("SELECT * FROM files WHERE org_uuid = $1 AND file_id = $2 AND is_current AND status = 'ready'", [org_uuid, file_id]);
  return r ? fileFromRow(r) : null;
}

export async function getFileByUid(db: PgDb, org_uuid: string, file_uid: string): Promise<FileRecord | null> {
  const [r] = await db.read('SELECT * FROM files WHERE org_uuid = $1 AND file_uid = $2', [org_uuid, file_uid]);
  return r ? fileFromRow(r) : null;
}

export async function listCurrentFiles(db: PgDb, org_uuid: string): Promise<FileRecord[]> {
  return (await db.read("SELECT * FROM files WHERE org_uuid = $1 AND is_current AND status = 'ready' ORDER BY file_index", [org_uuid])).map(fileFromRow);
}

export async function deleteCurrentFile(db: PgDb, org_uuid: string, file_id: string, now: number): Promise<FileRecord | null> {
  return db.tx(async (c) => {
    const r = one(await c.query(
      `UPDATE files SET status = 'deleted', is_current = FALSE, deleted_at = $3
       WHERE org_uuid = $1 AND file_id = $2 AND is_current AND status = 'ready' RETURNING *`,
      [org_uuid, file_id, now],
    ));
    return r ? fileFromRow(r) : null;
  });
}

export async function listCollectableFileVersions(db: PgDb, limit: number): Promise<FileRecord[]> {
  const params: unknown[] = [];
  const free = unpinned('f.file_uid', params);
  const rows = await db.read(
    `SELECT f.* FROM files f WHERE NOT f.purged AND (NOT f.is_current OR f.status = 'deleted') AND ${free} LIMIT $${params.push(limitOrAll(limit))}`,
    params,
  );
  return rows.map(fileFromRow);
}

export async function fileBlobKeysInUse(db: PgDb, file_uids: string[]): Promise<Set<string>> {
  if (file_uids.length === 0) return new Set();
  const rows = await db.read('SELECT blob_key FROM files WHERE file_uid = ANY($1::text[]) AND NOT purged', [file_uids]);
  return new Set(rows.map((r) => String(r.blob_key)));
}

export async function markFileVersionPurged(db: PgDb, file_uid: string): Promise<boolean> {
  return db.tx(async (c) => {
    // Lock the row first: a createJob holding it FOR SHARE commits its job_files before we look
    // (READ COMMITTED: the NOT EXISTS below runs on a snapshot taken after the lock is granted).
    const row = one(await c.query('SELECT purged FROM files WHERE file_uid = $1 FOR UPDATE', [file_uid]));
    if (!row || row.purged) return false;
    const params: unknown[] = [file_uid];
    const free = unpinned('files.file_uid', params);
    const r = await c.query(`UPDATE files SET purged = TRUE WHERE file_uid = $1 AND (is_current = FALSE OR status = 'deleted') AND ${free}`, params);
    return r.rowCount === 1;
  });
}

export async function fileStats(db: PgDb, org_uuid: string): Promise<FileStats> {
  const [cur] = await db.read("SELECT COUNT(*) AS n, COALESCE(SUM(num_bytes), 0) AS b FROM files WHERE org_uuid = $1 AND is_current AND status = 'ready'", [org_uuid]);
  // SQLite's MAX(a, b) is NULL when a is (no file at all); GREATEST would ignore the NULL.
  const [last] = await db.read(
    'SELECT CASE WHEN MAX(created_at) IS NULL THEN NULL ELSE GREATEST(MAX(created_at), COALESCE(MAX(deleted_at), 0)) END AS t FROM files WHERE org_uuid = $1',
    [org_uuid],
  );
  return { num_files: Number(cur!.n), num_bytes: Number(cur!.b), last_updated: last!.t === null ? null : Number(last!.t) };
}
