/**
 * SQLite queries of file versions (files API v0.5): versioning by name, deletes, the garbage
 * collection of versions no live job needs, and the org's file statistics.
 */
import type { FileRecord } from '../../../domain/types.js';
import { RELEASES_FILES } from '../../policy.js';
import { fileFromRow } from '../../rows.js';
import type { FileStats } from '../../store.js';
import type { Db } from '../db.js';
import { inList, insertFileVersionRow, type Row } from './steps.js';

export function insertFileVersion(db: Db, f: Omit<FileRecord, 'file_index' | 'is_current'>): FileRecord {
  return db.transaction(() => insertFileVersionRow(db, f)).immediate();
}

export function getCurrentFile(db: Db, org_uuid: string, file_id: string): FileRecord | null {
  const r = db.prepare("SELECT * FROM files WHERE org_uuid = ? AND file_id = ? AND is_current = 1 AND status = 'ready'").get(org_uuid, file_id) as Row | undefined;
  return r ? fileFromRow(r) : null;
}

export function getFileByUid(db: Db, org_uuid: string, file_uid: string): FileRecord | null {
  const r = db.prepare('SELECT * FROM files WHERE org_uuid = ? AND file_uid = ?').get(org_uuid, file_uid) as Row | undefined;
  return r ? fileFromRow(r) : null;
}

export function listCurrentFiles(db: Db, org_uuid: string): FileRecord[] {
  return (db.prepare("SELECT * FROM files WHERE org_uuid = ? AND is_current = 1 AND status = 'ready' ORDER BY file_index").all(org_uuid) as Row[]).map(fileFromRow);
}

export function deleteCurrentFile(db: Db, org_uuid: string, file_id: string, now: number): FileRecord | null {
  return db.transaction(() => {
    const r = db.prepare("SELECT * FROM files WHERE org_uuid = ? AND file_id = ? AND is_current = 1 AND status = 'ready'").get(org_uuid, file_id) as Row | undefined;
    if (!r) return null;
    db.prepare("UPDATE files SET status = 'deleted', is_current = 0, deleted_at = ? WHERE file_uid = ?").run(now, r.file_uid);
    return { ...fileFromRow(r), status: 'deleted' as const, is_current: false, deleted_at: now };
  }).immediate();
}

/** `NOT EXISTS` a job that still needs the version (its status is not one that releases files). */
function unpinned(file_uid_sql: string): { sql: string; params: string[] } {
  const released = inList('j.status', RELEASES_FILES);
  return {
    sql: `NOT EXISTS (SELECT 1 FROM job_files jf JOIN jobs j ON j.uuid = jf.job_uuid WHERE jf.file_uid = ${file_uid_sql} AND NOT (${released.sql}))`,
    params: released.params,
  };
}

export function listCollectableFileVersions(db: Db, limit: number): FileRecord[] {
  const free = unpinned('f.file_uid');
  const rows = db
    .prepare(`SELECT f.* FROM files f WHERE f.purged = 0 AND (f.is_current = 0 OR f.status = 'deleted') AND ${free.sql} LIMIT ?`)
    .all(...free.params, limit) as Row[];
  return rows.map(fileFromRow);
}

export function fileBlobKeysInUse(db: Db, file_uids: string[]): Set<string> {
  if (file_uids.length === 0) return new Set();
  const rows = db
    .prepare('SELECT f.blob_key FROM json_each(?) AS k CROSS JOIN files f ON f.file_uid = k.value WHERE f.purged = 0')
    .all(JSON.stringify(file_uids)) as Row[];
  return new Set(rows.map((r) => String(r.blob_key)));
}

export function markFileVersionPurged(db: Db, file_uid: string): boolean {
  const free = unpinned('files.file_uid');
  const r = db
    .prepare(`UPDATE files SET purged = 1 WHERE file_uid = ? AND purged = 0 AND (is_current = 0 OR status = 'deleted') AND ${free.sql}`)
    .run(file_uid, ...free.params);
  return r.changes === 1;
}

export function fileStats(db: Db, org_uuid: string): FileStats {
  const cur = db
    .prepare("SELECT COUNT(*) AS n, COALESCE(SUM(num_bytes), 0) AS b FROM files WHERE org_uuid = ? AND is_current = 1 AND status = 'ready'")
    .get(org_uuid) as Row;
  const last = db.prepare('SELECT MAX(MAX(created_at), COALESCE(MAX(deleted_at), 0)) AS t FROM files WHERE org_uuid = ?').get(org_uuid) as Row;
  return { num_files: Number(cur.n), num_bytes: Number(cur.b), last_updated: last.t === null ? null : Number(last.t) };
}
