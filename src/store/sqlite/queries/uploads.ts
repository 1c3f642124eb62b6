/**
 * SQLite queries of direct (multipart) uploads (tables of migration 2). Every method is one
 * IMMEDIATE transaction, so the decisions (initiate vs. resume vs. 409, token checks, open →
 * completing) are never interleaved.
 * Invariants: at most one live (open|completing) upload per (org, name) (a partial unique index);
 * parts are accepted only while their upload is open; an upload that ends loses its part rows in
 * the same write (the service then deletes the part files); finishUpload moves completing →
 * completed and inserts the file version in one write, so a crash leaves either both or neither.
 */
import type { FileRecord } from '../../../domain/types.js';
import { LIVE_UPLOAD_STATES } from '../../policy.js';
import { partFromRow, uploadFromRow } from '../../rows.js';
import type {
  BeginUploadResult, BeginCompleteResult, PartRef, PartsRefusal, PartsResult, UploadPart, UploadRecord, UploadState,
} from '../../store.js';
import type { Db } from '../db.js';
import { inLiterals, insertFileVersionRow, type Row } from './steps.js';

/** Raised inside a transaction to roll it back and report why. */
class Refused extends Error {
  constructor(readonly result: PartsRefusal) {
    super('refused');
  }
}

/** The partial unique index uploads_live_name's predicate, repeated so the planner can use that index. */
const LIVE = inLiterals('state', LIVE_UPLOAD_STATES);

export function beginUpload(db: Db, u: UploadRecord, resume: boolean): BeginUploadResult {
  return db.transaction((): BeginUploadResult => {
    const exists = db.prepare("SELECT 1 FROM files WHERE org_uuid = ? AND file_id = ? AND is_current = 1 AND status = 'ready'").get(u.org_uuid, u.file_id);
    if (exists) return { kind: 'file_exists' };
    const live = liveUpload(db, u.org_uuid, u.file_id);
    if (live?.state === 'completing') return { kind: 'busy', upload: live };
    if (live && resume && live.num_bytes === u.num_bytes) {
      touch(db, live.upload_id, u.created_at);
      return { kind: 'resumed', upload: { ...live, updated_at: u.created_at }, parts: parts(db, live.upload_id) };
    }
    if (live) endUpload(db, live.upload_id, 'aborted', u.created_at);
    db.prepare(`INSERT INTO uploads (upload_id, org_uuid, file_id, file_uid, file_type, num_bytes, part_size, num_parts, state, created_at, updated_at)
                VALUES (@upload_id, @org_uuid, @file_id, @file_uid, @file_type, @num_bytes, @part_size, @num_parts, @state, @created_at, @updated_at)`)
      .run(u);
    return { kind: 'created', upload: u, superseded: live };
  }).immediate();
}

export function getUpload(db: Db, upload_id: string): UploadRecord | null {
  const r = db.prepare('SELECT * FROM uploads WHERE upload_id = ?').get(upload_id) as Row | undefined;
  return r ? uploadFromRow(r) : null;
}

export function getLiveUpload(db: Db, org_uuid: string, file_id: string): UploadRecord | null {
  return liveUpload(db, org_uuid, file_id);
}

export function listUploadParts(db: Db, upload_id: string): UploadPart[] {
  return parts(db, upload_id);
}

export function recordUploadPart(db: Db, p: UploadPart, now: number): { recorded: boolean; replaced: string | null } {
  return db.transaction(() => {
    if (stateOf(db, p.upload_id) !== 'open') return { recorded: false, replaced: null };
    const prev = db.prepare('SELECT staged_name FROM upload_parts WHERE upload_id = ? AND part_number = ?').get(p.upload_id, p.part_number) as Row | undefined;
    db.prepare(`INSERT OR REPLACE INTO upload_parts (upload_id, part_number, token, num_bytes, staged_name, crc32c, checkpointed, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 0, ?)`)
      .run(p.upload_id, p.part_number, p.token, p.num_bytes, p.staged_name, p.crc32c, p.created_at);
    touch(db, p.upload_id, now);
    return { recorded: true, replaced: prev ? String(prev.staged_name) : null };
  }).immediate();
}

export function checkpointUploadParts(db: Db, upload_id: string, refs: PartRef[], now: number): PartsResult {
  return refusable(db, () => {
    markCheckpointed(db, upload_id, refs);
    touch(db, upload_id, now);
    return { ok: true, parts: parts(db, upload_id) };
  });
}

export function beginCompleteUpload(db: Db, upload_id: string, refs: PartRef[], now: number): BeginCompleteResult {
  return refusable(db, () => {
    markCheckpointed(db, upload_id, refs);
    const u = uploadFromRow(db.prepare('SELECT * FROM uploads WHERE upload_id = ?').get(upload_id) as Row);
    const all = parts(db, upload_id);
    const have = new Set(all.filter((p) => p.checkpointed).map((p) => p.part_number));
    const missing: number[] = [];
    for (let n = 0; n < u.num_parts; n++) if (!have.has(n)) missing.push(n);
    if (missing.length > 0) throw new Refused({ ok: false, state: 'open', bad: [], missing });
    db.prepare("UPDATE uploads SET state = 'completing', updated_at = ?, complete_token = complete_token + 1 WHERE upload_id = ?").run(now, upload_id);
    const { complete_token } = db.prepare('SELECT complete_token FROM uploads WHERE upload_id = ?').get(upload_id) as { complete_token: number };
    return { ok: true, parts: all, complete_token };
  });
}

export function finishUpload(db: Db, upload_id: string, complete_token: number, file: Omit<FileRecord, 'file_index' | 'is_current'>, now: number): FileRecord | null {
  return db.transaction(() => {
    if (!completingUnder(db, upload_id, complete_token)) return null;
    endUpload(db, upload_id, 'completed', now);
    return insertFileVersionRow(db, file);
  }).immediate();
}

export function reopenUpload(db: Db, upload_id: string, complete_token: number, now: number, drop: PartRef[] = []): void {
  db.transaction(() => {
    const moved = db.prepare("UPDATE uploads SET state = 'open', updated_at = ? WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").run(now, upload_id, complete_token).changes === 1;
    if (!moved) return;
    const del = db.prepare('DELETE FROM upload_parts WHERE upload_id = ? AND part_number = ? AND token = ?');
    for (const p of drop) del.run(upload_id, p.part_number, p.token);
  }).immediate();
}

export function touchCompletingUpload(db: Db, upload_id: string, complete_token: number, now: number): boolean {
  return db.prepare("UPDATE uploads SET updated_at = ? WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").run(now, upload_id, complete_token).changes === 1;
}

export function abortUpload(db: Db, upload_id: string, now: number): UploadState | null {
  return db.transaction(() => {
    const state = stateOf(db, upload_id);
    if (state === 'open') endUpload(db, upload_id, 'aborted', now);
    return state;
  }).immediate();
}

export function expireUploads(db: Db, cutoff: number, now: number): UploadRecord[] {
  return db.transaction(() => {
    const rows = (db.prepare("SELECT * FROM uploads WHERE state = 'open' AND updated_at < ?").all(cutoff) as Row[]).map(uploadFromRow);
    for (const u of rows) endUpload(db, u.upload_id, 'expired', now);
    return rows;
  }).immediate();
}

export function reopenInterruptedUploads(db: Db, now: number, staleBefore = Number.POSITIVE_INFINITY): number {
  return db.prepare("UPDATE uploads SET state = 'open', updated_at = ? WHERE state = 'completing' AND updated_at < ?").run(now, staleBefore).changes;
}

export function listLiveUploadParts(db: Db): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of db.prepare(`SELECT upload_id FROM uploads WHERE ${LIVE}`).all() as Row[]) out.set(String(r.upload_id), []);
  const rows = db
    .prepare(`SELECT p.upload_id, p.staged_name FROM upload_parts p JOIN uploads u ON u.upload_id = p.upload_id WHERE u.${LIVE}`)
    .all() as Row[];
  for (const r of rows) out.get(String(r.upload_id))!.push(String(r.staged_name));
  return out;
}

// ---- steps (inside the caller's transaction)
function liveUpload(db: Db, org_uuid: string, file_id: string): UploadRecord | null {
  const r = db.prepare(`SELECT * FROM uploads WHERE org_uuid = ? AND file_id = ? AND ${LIVE}`).get(org_uuid, file_id) as Row | undefined;
  return r ? uploadFromRow(r) : null;
}

function completingUnder(db: Db, upload_id: string, complete_token: number): boolean {
  return db.prepare("SELECT 1 FROM uploads WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").get(upload_id, complete_token) !== undefined;
}

function parts(db: Db, upload_id: string): UploadPart[] {
  return (db.prepare('SELECT * FROM upload_parts WHERE upload_id = ? ORDER BY part_number').all(upload_id) as Row[]).map(partFromRow);
}

function stateOf(db: Db, upload_id: string): UploadState | null {
  const r = db.prepare('SELECT state FROM uploads WHERE upload_id = ?').get(upload_id) as Row | undefined;
  return r ? (r.state as UploadState) : null;
}

function touch(db: Db, upload_id: string, now: number): void {
  db.prepare('UPDATE uploads SET updated_at = ? WHERE upload_id = ?').run(now, upload_id);
}

function endUpload(db: Db, upload_id: string, state: 'completed' | 'aborted' | 'expired', now: number): void {
  db.prepare('UPDATE uploads SET state = ?, updated_at = ? WHERE upload_id = ?').run(state, now, upload_id);
  db.prepare('DELETE FROM upload_parts WHERE upload_id = ?').run(upload_id);
}

/** Checks every ref against the open upload's current tokens, then marks them; throws Refused otherwise. */
function markCheckpointed(db: Db, upload_id: string, refs: PartRef[]): void {
  const state = stateOf(db, upload_id);
  if (state !== 'open') throw new Refused({ ok: false, state, bad: [], missing: [] });
  const current = new Map(parts(db, upload_id).map((p) => [p.part_number, p.token]));
  const bad = [...new Set(refs.filter((r) => current.get(r.part_number) !== r.token).map((r) => r.part_number))];
  if (bad.length > 0) throw new Refused({ ok: false, state, bad, missing: [] });
  const mark = db.prepare('UPDATE upload_parts SET checkpointed = 1 WHERE upload_id = ? AND part_number = ?');
  for (const r of refs) mark.run(upload_id, r.part_number);
}

/** Runs `fn` in one IMMEDIATE transaction; a Refused rolls it back and becomes the result. */
function refusable<R extends PartsResult | BeginCompleteResult>(db: Db, fn: () => R): R {
  try {
    return db.transaction(fn).immediate();
  } catch (err) {
    if (err instanceof Refused) return err.result as R;
    throw err;
  }
}
