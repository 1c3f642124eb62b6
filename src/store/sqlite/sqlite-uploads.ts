/**
 * SQLite half of the Store for the files API v0.5: org file statistics and direct (multipart)
 * uploads (tables of migration 2). Every method is one IMMEDIATE transaction, so the decisions
 * (initiate vs. resume vs. 409, token checks, open → completing) are never interleaved.
 * Invariants: at most one live (open|completing) upload per (org, name) (a partial unique index);
 * parts are accepted only while their upload is open; an upload that ends loses its part rows in
 * the same write (the service then deletes the part files); finishUpload moves completing →
 * completed and inserts the file version in one write, so a crash leaves either both or neither.
 */
import type { FileRecord } from '../../domain/types.js';
import type {
  BeginUploadResult, FileStats, BeginCompleteResult, PartRef, PartsRefusal, PartsResult, UploadPart, UploadRecord, UploadState,
} from '../store.js';
import { SqliteAttempts } from './sqlite-attempts.js';

type Row = Record<string, unknown>;

function uploadFromRow(r: Row): UploadRecord {
  return {
    upload_id: String(r.upload_id),
    org_uuid: String(r.org_uuid),
    file_id: String(r.file_id),
    file_uid: String(r.file_uid),
    file_type: String(r.file_type),
    num_bytes: Number(r.num_bytes),
    part_size: Number(r.part_size),
    num_parts: Number(r.num_parts),
    state: r.state as UploadState,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

function partFromRow(r: Row): UploadPart {
  return {
    upload_id: String(r.upload_id),
    part_number: Number(r.part_number),
    token: String(r.token),
    num_bytes: Number(r.num_bytes),
    staged_name: String(r.staged_name),
    crc32c: r.crc32c === null || r.crc32c === undefined ? null : Number(r.crc32c),
    checkpointed: Number(r.checkpointed) === 1,
    created_at: Number(r.created_at),
  };
}

/** Raised inside a transaction to roll it back and report why. */
class Refused extends Error {
  constructor(readonly result: PartsRefusal) {
    super('refused');
  }
}

export abstract class SqliteUploads extends SqliteAttempts {
  /** The versioning insert of SqliteStore.insertFileVersion, callable inside a transaction. */
  protected abstract insertFileVersionRow(f: Omit<FileRecord, 'file_index' | 'is_current'>): FileRecord;

  async fileStats(org_uuid: string): Promise<FileStats> {
    const cur = this.db
      .prepare("SELECT COUNT(*) AS n, COALESCE(SUM(num_bytes), 0) AS b FROM files WHERE org_uuid = ? AND is_current = 1 AND status = 'ready'")
      .get(org_uuid) as Row;
    const last = this.db
      .prepare('SELECT MAX(MAX(created_at), COALESCE(MAX(deleted_at), 0)) AS t FROM files WHERE org_uuid = ?')
      .get(org_uuid) as Row;
    return { num_files: Number(cur.n), num_bytes: Number(cur.b), last_updated: last.t === null ? null : Number(last.t) };
  }

  async beginUpload(u: UploadRecord, resume: boolean): Promise<BeginUploadResult> {
    return this.db.transaction((): BeginUploadResult => {
      const exists = this.db.prepare("SELECT 1 FROM files WHERE org_uuid = ? AND file_id = ? AND is_current = 1 AND status = 'ready'").get(u.org_uuid, u.file_id);
      if (exists) return { kind: 'file_exists' };
      const live = this.liveUpload(u.org_uuid, u.file_id);
      if (live?.state === 'completing') return { kind: 'busy', upload: live };
      if (live && resume && live.num_bytes === u.num_bytes) {
        this.db.prepare('UPDATE uploads SET updated_at = ? WHERE upload_id = ?').run(u.created_at, live.upload_id);
        return { kind: 'resumed', upload: { ...live, updated_at: u.created_at }, parts: this.parts(live.upload_id) };
      }
      if (live) this.endUpload(live.upload_id, 'aborted', u.created_at);
      this.db
        .prepare(`INSERT INTO uploads (upload_id, org_uuid, file_id, file_uid, file_type, num_bytes, part_size, num_parts, state, created_at, updated_at)
                  VALUES (@upload_id, @org_uuid, @file_id, @file_uid, @file_type, @num_bytes, @part_size, @num_parts, @state, @created_at, @updated_at)`)
        .run(u);
      return { kind: 'created', upload: u, superseded: live };
    }).immediate();
  }

  async getUpload(upload_id: string): Promise<UploadRecord | null> {
    const r = this.db.prepare('SELECT * FROM uploads WHERE upload_id = ?').get(upload_id) as Row | undefined;
    return r ? uploadFromRow(r) : null;
  }

  async getLiveUpload(org_uuid: string, file_id: string): Promise<UploadRecord | null> {
    return this.liveUpload(org_uuid, file_id);
  }

  async listUploadParts(upload_id: string): Promise<UploadPart[]> {
    return this.parts(upload_id);
  }

  async recordUploadPart(p: UploadPart, now: number): Promise<{ recorded: boolean; replaced: string | null }> {
    return this.db.transaction(() => {
      if (this.stateOf(p.upload_id) !== 'open') return { recorded: false, replaced: null };
      const prev = this.db.prepare('SELECT staged_name FROM upload_parts WHERE upload_id = ? AND part_number = ?').get(p.upload_id, p.part_number) as Row | undefined;
      this.db
        .prepare(`INSERT OR REPLACE INTO upload_parts (upload_id, part_number, token, num_bytes, staged_name, crc32c, checkpointed, created_at)
                  VALUES (?, ?, ?, ?, ?, ?, 0, ?)`)
        .run(p.upload_id, p.part_number, p.token, p.num_bytes, p.staged_name, p.crc32c, p.created_at);
      this.touch(p.upload_id, now);
      return { recorded: true, replaced: prev ? String(prev.staged_name) : null };
    }).immediate();
  }

  async checkpointUploadParts(upload_id: string, refs: PartRef[], now: number): Promise<PartsResult> {
    return this.refusable(() => {
      this.markCheckpointed(upload_id, refs);
      this.touch(upload_id, now);
      return { ok: true, parts: this.parts(upload_id) };
    });
  }

  async beginCompleteUpload(upload_id: string, refs: PartRef[], now: number): Promise<BeginCompleteResult> {
    return this.refusable(() => {
      this.markCheckpointed(upload_id, refs);
      const u = uploadFromRow(this.db.prepare('SELECT * FROM uploads WHERE upload_id = ?').get(upload_id) as Row);
      const parts = this.parts(upload_id);
      const have = new Set(parts.filter((p) => p.checkpointed).map((p) => p.part_number));
      const missing: number[] = [];
      for (let n = 0; n < u.num_parts; n++) if (!have.has(n)) missing.push(n);
      if (missing.length > 0) throw new Refused({ ok: false, state: 'open', bad: [], missing });
      this.db.prepare("UPDATE uploads SET state = 'completing', updated_at = ?, complete_token = complete_token + 1 WHERE upload_id = ?").run(now, upload_id);
      const { complete_token } = this.db.prepare('SELECT complete_token FROM uploads WHERE upload_id = ?').get(upload_id) as { complete_token: number };
      return { ok: true, parts, complete_token };
    });
  }

  async finishUpload(upload_id: string, complete_token: number, file: Omit<FileRecord, 'file_index' | 'is_current'>, now: number): Promise<FileRecord | null> {
    return this.db.transaction(() => {
      if (!this.completingUnder(upload_id, complete_token)) return null;
      this.endUpload(upload_id, 'completed', now);
      return this.insertFileVersionRow(file);
    }).immediate();
  }

  async reopenUpload(upload_id: string, complete_token: number, now: number, drop: PartRef[] = []): Promise<void> {
    this.db.transaction(() => {
      const moved = this.db.prepare("UPDATE uploads SET state = 'open', updated_at = ? WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").run(now, upload_id, complete_token).changes === 1;
      if (!moved) return;
      const del = this.db.prepare('DELETE FROM upload_parts WHERE upload_id = ? AND part_number = ? AND token = ?');
      for (const p of drop) del.run(upload_id, p.part_number, p.token);
    }).immediate();
  }

  async touchCompletingUpload(upload_id: string, complete_token: number, now: number): Promise<boolean> {
    return this.db.prepare("UPDATE uploads SET updated_at = ? WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").run(now, upload_id, complete_token).changes === 1;
  }

  private completingUnder(upload_id: string, complete_token: number): boolean {
    return this.db.prepare("SELECT 1 FROM uploads WHERE upload_id = ? AND state = 'completing' AND complete_token = ?").get(upload_id, complete_token) !== undefined;
  }

  async abortUpload(upload_id: string, now: number): Promise<UploadState | null> {
    return this.db.transaction(() => {
      const state = this.stateOf(upload_id);
      if (state === 'open') this.endUpload(upload_id, 'aborted', now);
      return state;
    }).immediate();
  }

  async expireUploads(cutoff: number, now: number): Promise<UploadRecord[]> {
    return this.db.transaction(() => {
      const rows = (this.db.prepare("SELECT * FROM uploads WHERE state = 'open' AND updated_at < ?").all(cutoff) as Row[]).map(uploadFromRow);
      for (const u of rows) this.endUpload(u.upload_id, 'expired', now);
      return rows;
    }).immediate();
  }

  async reopenInterruptedUploads(now: number, staleBefore = Number.POSITIVE_INFINITY): Promise<number> {
    return this.db.prepare("UPDATE uploads SET state = 'open', updated_at = ? WHERE state = 'completing' AND updated_at < ?").run(now, staleBefore).changes;
  }

  async listLiveUploadParts(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const r of this.db.prepare("SELECT upload_id FROM uploads WHERE state IN ('open', 'completing')").all() as Row[]) out.set(String(r.upload_id), []);
    const rows = this.db
      .prepare("SELECT p.upload_id, p.staged_name FROM upload_parts p JOIN uploads u ON u.upload_id = p.upload_id WHERE u.state IN ('open', 'completing')")
      .all() as Row[];
    for (const r of rows) out.get(String(r.upload_id))!.push(String(r.staged_name));
    return out;
  }

  // ---- helpers (called inside transactions)
  private liveUpload(org_uuid: string, file_id: string): UploadRecord | null {
    const r = this.db.prepare("SELECT * FROM uploads WHERE org_uuid = ? AND file_id = ? AND state IN ('open', 'completing')").get(org_uuid, file_id) as Row | undefined;
    return r ? uploadFromRow(r) : null;
  }

  private parts(upload_id: string): UploadPart[] {
    return (this.db.prepare('SELECT * FROM upload_parts WHERE upload_id = ? ORDER BY part_number').all(upload_id) as Row[]).map(partFromRow);
  }

  private stateOf(upload_id: string): UploadState | null {
    const r = this.db.prepare('SELECT state FROM uploads WHERE upload_id = ?').get(upload_id) as Row | undefined;
    return r ? (r.state as UploadState) : null;
  }

  private touch(upload_id: string, now: number): void {
    this.db.prepare('UPDATE uploads SET updated_at = ? WHERE upload_id = ?').run(now, upload_id);
  }

  private endUpload(upload_id: string, state: 'completed' | 'aborted' | 'expired', now: number): void {
    this.db.prepare('UPDATE uploads SET state = ?, updated_at = ? WHERE upload_id = ?').run(state, now, upload_id);
    this.db.prepare('DELETE FROM upload_parts WHERE upload_id = ?').run(upload_id);
  }

  /** Checks every ref against the open upload's current tokens, then marks them; throws Refused otherwise. */
  private markCheckpointed(upload_id: string, refs: PartRef[]): void {
    const state = this.stateOf(upload_id);
    if (state !== 'open') throw new Refused({ ok: false, state, bad: [], missing: [] });
    const current = new Map(this.parts(upload_id).map((p) => [p.part_number, p.token]));
    const bad = [...new Set(refs.filter((r) => current.get(r.part_number) !== r.token).map((r) => r.part_number))];
    if (bad.length > 0) throw new Refused({ ok: false, state, bad, missing: [] });
    const mark = this.db.prepare('UPDATE upload_parts SET checkpointed = 1 WHERE upload_id = ? AND part_number = ?');
    for (const r of refs) mark.run(upload_id, r.part_number);
  }

  /** Runs `fn` in one IMMEDIATE transaction; a Refused rolls it back and becomes the result. */
  private refusable<R extends PartsResult | BeginCompleteResult>(fn: () => R): Promise<R> {
    try {
      return Promise.resolve(this.db.transaction(fn).immediate());
    } catch (err) {
      if (err instanceof Refused) return Promise.resolve(err.result as R);
      return Promise.reject(err);
    }
  }
}
