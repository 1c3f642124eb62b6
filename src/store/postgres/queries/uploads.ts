/**
 * PostgreSQL queries of direct (multipart) uploads (tables of migration 2). Same semantics as
 * sqlite/queries/uploads.ts; where SQLite's single writer
 * orders the decisions, this store locks:
 * - initiate and finish take the file-name advisory lock (steps.ts lockFileName), so "a current file
 *   exists" / "an upload of the name is live" and the insert that follows are one decision;
 * - every write to an existing upload first locks its row (SELECT … FOR UPDATE) and re-reads its
 *   state, so no part is recorded after open → completing and no upload ends twice.
 * Invariants as in SQLite: at most one live (open|completing) upload per (org, name) (partial unique
 * index); an upload that ends loses its part rows in the same transaction.
 */
import type { FileRecord } from '../../../domain/types.js';
import { LIVE_UPLOAD_STATES } from '../../policy.js';
import { partFromRow, uploadFromRow } from '../../rows.js';
import type { BeginUploadResult, BeginCompleteResult, PartRef, PartsRefusal, PartsResult, UploadPart, UploadRecord, UploadState } from '../../store.js';
import { one, type PgDb, type Q, type Row } from '../pg-db.js';
import { inLiterals, insertFileVersionRow, lockFileName } from './steps.js';

/** The partial unique index uploads_live_name's predicate, repeated so the planner can use that index. */
const LIVE = inLiterals('state', LIVE_UPLOAD_STATES);

/** Thrown inside a transaction to roll it back and report why. */
class Refused extends Error {
constructor(readonly result: PartsRefusal) {
  super('refused');
}
}



export async function beginUpload(db: PgDb, u: UploadRecord, resume: boolean): Promise<BeginUploadResult> {
  return db.tx(async (c): Promise<BeginUploadResult> => {
    await lockFileName(c, u.org_uuid, u.file_id);
    const exists = one(await c.query("SELECT 1 FROM files WHERE org_uuid = $1 AND file_id = $2 AND is_current AND status = 'ready'", [u.org_uuid, u.file_id]));
    if (exists) return { kind: 'file_exists' };
    const lr = one(await c.query(`SELECT * FROM uploads WHERE org_uuid = $1 AND file_id = $2 AND ${LIVE} FOR UPDATE`, [u.org_uuid, u.file_id]));
    const live = lr ? uploadFromRow(lr) : null;
    if (live?.state === 'completing') return { kind: 'busy', upload: live };
    if (live && resume && live.num_bytes === u.num_bytes) {
      await touch(c, live.upload_id, u.created_at);
      return { kind: 'resumed', upload: { ...live, updated_at: u.created_at }, parts: await parts(c, live.upload_id) };
    }
    if (live) await endUpload(c, live.upload_id, 'aborted', u.created_at);
    await c.query(
      `INSERT INTO uploads (upload_id, org_uuid, file_id, file_uid, file_type, num_bytes, part_size, num_parts, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [u.upload_id, u.org_uuid, u.file_id, u.file_uid, u.file_type, u.num_bytes, u.part_size, u.num_parts, u.state, u.created_at, u.updated_at],
    );
    return { kind: 'created', upload: u, superseded: live };
  });
}

export async function getUpload(db: PgDb, upload_id: string): Promise<UploadRecord | null> {
  const [r] = await db.read('SELECT * FROM uploads WHERE upload_id = $1', [upload_id]);
  return r ? uploadFromRow(r) : null;
}

export async function getLiveUpload(db: PgDb, org_uuid: string, file_id: string): Promise<UploadRecord | null> {
  const [r] = await db.read(`SELECT * FROM uploads WHERE org_uuid = $1 AND file_id = $2 AND ${LIVE}`, [org_uuid, file_id]);
  return r ? uploadFromRow(r) : null;
}

export async function listUploadParts(db: PgDb, upload_id: string): Promise<UploadPart[]> {
  return (await db.read('SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY part_number', [upload_id])).map(partFromRow);
}

export async function recordUploadPart(db: PgDb, p: UploadPart, now: number): Promise<{ recorded: boolean; replaced: string | null }> {
  return db.tx(async (c) => {
    if ((await lockState(c, p.upload_id)) !== 'open') return { recorded: false, replaced: null };
    const prev = one(await c.query('SELECT staged_name FROM upload_parts WHERE upload_id = $1 AND part_number = $2', [p.upload_id, p.part_number]));
    await c.query(
      `INSERT INTO upload_parts (upload_id, part_number, token, num_bytes, staged_name, crc32c, checkpointed, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET token = excluded.token, num_bytes = excluded.num_bytes,
       staged_name = excluded.staged_name, crc32c = excluded.crc32c, checkpointed = FALSE, created_at = excluded.created_at`,
      [p.upload_id, p.part_number, p.token, p.num_bytes, p.staged_name, p.crc32c, p.created_at],
    );
    await touch(c, p.upload_id, now);
    return { recorded: true, replaced: prev ? String(prev.staged_name) : null };
  });
}

export async function checkpointUploadParts(db: PgDb, upload_id: string, refs: PartRef[], now: number): Promise<PartsResult> {
  return refusable(db, async (c) => {
    await markCheckpointed(c, upload_id, refs);
    await touch(c, upload_id, now);
    return { ok: true, parts: await parts(c, upload_id) };
  });
}

export async function beginCompleteUpload(db: PgDb, upload_id: string, refs: PartRef[], now: number): Promise<BeginCompleteResult> {
  return refusable(db, async (c) => {
    await markCheckpointed(c, upload_id, refs);
    const u = uploadFromRow(one(await c.query('SELECT * FROM uploads WHERE upload_id = $1', [upload_id]))!);
    const all = await parts(c, upload_id);
    const have = new Set(all.filter((p) => p.checkpointed).map((p) => p.part_number));
    const missing: number[] = [];
    for (let n = 0; n < u.num_parts; n++) if (!have.has(n)) missing.push(n);
    if (missing.length > 0) throw new Refused({ ok: false, state: 'open', bad: [], missing });
    const r = await c.query("UPDATE uploads SET state = 'completing', updated_at = $1, complete_token = complete_token + 1 WHERE upload_id = $2 RETURNING complete_token", [now, upload_id]);
    return { ok: true, parts: all, complete_token: Number((r.rows[0] as { complete_token: number | string }).complete_token) };
  });
}

export async function finishUpload(db: PgDb, upload_id: string, complete_token: number, file: Omit<FileRecord, 'file_index' | 'is_current'>, now: number): Promise<FileRecord | null> {
  return db.tx(async (c) => {
    // Name lock before the upload row: the order beginUpload uses, so the two cannot deadlock.
    await lockFileName(c, file.org_uuid, file.file_id);
    if ((await lockState(c, upload_id)) !== 'completing') return null;
    const t = one(await c.query('SELECT complete_token FROM uploads WHERE upload_id = $1', [upload_id]));
    if (Number(t?.complete_token) !== complete_token) return null;
    await endUpload(c, upload_id, 'completed', now);
    return insertFileVersionRow(c, file);
  });
}

export async function reopenUpload(db: PgDb, upload_id: string, complete_token: number, now: number, drop: PartRef[] = []): Promise<void> {
  await db.tx(async (c) => {
    const r = await c.query("UPDATE uploads SET state = 'open', updated_at = $1 WHERE upload_id = $2 AND state = 'completing' AND complete_token = $3", [now, upload_id, complete_token]);
    if (r.rowCount !== 1) return;
    for (const p of drop) await c.query('DELETE FROM upload_parts WHERE upload_id = $1 AND part_number = $2 AND token = $3', [upload_id, p.part_number, p.token]);
  });
}

export async function touchCompletingUpload(db: PgDb, upload_id: string, complete_token: number, now: number): Promise<boolean> {
  const r = await db.tx((c) => c.query("UPDATE uploads SET updated_at = $1 WHERE upload_id = $2 AND state = 'completing' AND complete_token = $3", [now, upload_id, complete_token]));
  return r.rowCount === 1;
}

export async function abortUpload(db: PgDb, upload_id: string, now: number): Promise<UploadState | null> {
  return db.tx(async (c) => {
    const state = await lockState(c, upload_id);
    if (state === 'open') await endUpload(c, upload_id, 'aborted', now);
    return state;
  });
}

export async function expireUploads(db: PgDb, cutoff: number, now: number): Promise<UploadRecord[]> {
  return db.tx(async (c) => {
    // SKIP LOCKED: an upload locked right now is in use, hence not idle; the next sweep re-checks it.
    const rows = (await c.query("SELECT * FROM uploads WHERE state = 'open' AND updated_at < $1 ORDER BY upload_id FOR UPDATE SKIP LOCKED", [cutoff])).rows as Row[];
    const ups = rows.map(uploadFromRow);
    for (const u of ups) await endUpload(c, u.upload_id, 'expired', now);
    return ups;
  });
}

export async function reopenInterruptedUploads(db: PgDb, now: number, staleBefore?: number): Promise<number> {
  const r = await db.tx((c) => c.query("UPDATE uploads SET state = 'open', updated_at = $1 WHERE state = 'completing' AND ($2::bigint IS NULL OR updated_at < $2)", [now, staleBefore ?? null]));
  return r.rowCount ?? 0;
}

export async function listLiveUploadParts(db: PgDb): Promise<Map<string, string[]>> {
  const rows = await db.read(
    `SELECT u.upload_id, p.staged_name FROM uploads u LEFT JOIN upload_parts p ON p.upload_id = u.upload_id
     WHERE u.${LIVE} ORDER BY u.created_at, u.upload_id, p.part_number`,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(String(r.upload_id)) ?? [];
    if (r.staged_name !== null) list.push(String(r.staged_name));
    out.set(String(r.upload_id), list);
  }
  return out;
}

// ---- steps (inside the caller's transaction)
async function parts(c: Q, upload_id: string): Promise<UploadPart[]> {
  return ((await c.query('SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY part_number', [upload_id])).rows as Row[]).map(partFromRow);
}

/** Locks the upload row and returns its state (null: no such upload). */
async function lockState(c: Q, upload_id: string): Promise<UploadState | null> {
  const r = one(await c.query('SELECT state FROM uploads WHERE upload_id = $1 FOR UPDATE', [upload_id]));
  return r ? (r.state as UploadState) : null;
}

async function touch(c: Q, upload_id: string, now: number): Promise<void> {
  await c.query('UPDATE uploads SET updated_at = $1 WHERE upload_id = $2', [now, upload_id]);
}

async function endUpload(c: Q, upload_id: string, state: 'completed' | 'aborted' | 'expired', now: number): Promise<void> {
  await c.query('UPDATE uploads SET state = $1, updated_at = $2 WHERE upload_id = $3', [state, now, upload_id]);
  await c.query('DELETE FROM upload_parts WHERE upload_id = $1', [upload_id]);
}

/** Checks every ref against the open upload's current tokens, then marks them; throws Refused otherwise. */
async function markCheckpointed(c: Q, upload_id: string, refs: PartRef[]): Promise<void> {
  const state = await lockState(c, upload_id);
  if (state !== 'open') throw new Refused({ ok: false, state, bad: [], missing: [] });
  const current = new Map((await parts(c, upload_id)).map((p) => [p.part_number, p.token]));
  const bad = [...new Set(refs.filter((r) => current.get(r.part_number) !== r.token).map((r) => r.part_number))];
  if (bad.length > 0) throw new Refused({ ok: false, state, bad, missing: [] });
  for (const r of refs) await c.query('UPDATE upload_parts SET checkpointed = TRUE WHERE upload_id = $1 AND part_number = $2', [upload_id, r.part_number]);
}

/** Runs `fn` in one transaction; a Refused rolls it back and becomes the result. */
async function refusable<R extends PartsResult | BeginCompleteResult>(db: PgDb, fn: (c: Q) => Promise<R>): Promise<R> {
  try {
    return await db.tx(fn);
  } catch (err) {
    if (err instanceof Refused) return err.result as R;
    throw err;
  }
}
