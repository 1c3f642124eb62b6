/**
 * The Store on PostgreSQL (pg 8): same semantics as SqliteStore, for several replicas sharing one
 * database. Every use-case is one transaction (pg-db.ts retries it as a whole on serialization
 * failures, deadlocks and lost connections). Where SQLite relies on its single writer, this store
 * locks: job rows for status writes (the CAS UPDATE), advisory locks per file name and per org for
 * file versions, per job for event numbers (pg-sql.ts). Worker-side writes live in pg-attempts.ts,
 * direct uploads and file statistics in pg-uploads.ts, worker tokens in pg-workers.ts.
 * Wake-ups: NOTIFY `ftnode_work` (job queued) and `ftnode_job` (status changed) at commit; `subscribe`.
 */
import { allowedFrom, isTerminal, targetOf, type JobAction, type JobStatus } from '../../domain/status.js';
import type { ApiKeyRecord, Checkpoint, FileRecord, Job, JobEvent, JobView, JobViewKey, MetricEntry, Org, WorkerRecord } from '../../domain/types.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { typeId, uuid as newUuid } from '../../lib/ids.js';
import {
  apiKeyFromRow, checkpointFromRow, eventFromRow, fileFromRow, jobFromRow, jobToParams, jobViewFromRow, JOB_VIEW_COLUMNS, metricFromRow, workerFromRow,
} from '../rows.js';
import { fileVersionsGone, type CreateJobResult, type ListJobsQuery, type NewEvent, type Store, type TransitionPatch } from '../store.js';
import { migratePg } from './migrations.js';
import { one, PgDb, type PgOptions, type Q } from './pg-db.js';
import { casStatus, endActiveAttempts, insertFileVersionRow, limitOrAll, notifyStatus, type Channel } from './pg-sql.js';
import { PgListener, type NotifyHandler } from './listener.js';
import { PgWorkers } from './pg-workers.js';

export interface PostgresStoreOptions extends PgOptions {
  clock?: Clock; // stamps schema_migrations.applied_at only; use-cases get `now` from their callers
}

const TERMINAL_SQL = "('COMPLETED','STOPPED','CANCELLED','FAILED')";

export class PostgresStore extends PgWorkers implements Store {
  readonly dialect = 'postgres' as const;
  private readonly listener: PgListener;

  /** Opens a pool on `url`; nothing connects until the first call (migrate() creates the schema). */
  static open(url: string, opts: PostgresStoreOptions = {}): PostgresStore {
    return new PostgresStore(new PgDb(url, opts), opts.clock ?? systemClock);
  }

  constructor(db: PgDb, private readonly clock: Clock = systemClock) {
    super(db);
    this.listener = new PgListener({ ...db.clientConfig(), application_name: `${db.opts.applicationName ?? 'ftnode'}:listen` }, db.opts.onError);
  }

  async migrate(): Promise<void> {
    await migratePg(this.db, this.clock.now());
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.db.close();
  }

  /**
   * Wake-ups from any replica: `ftnode_work` gets the uuid of a job that became REGISTERED (create,
   * requeue), `ftnode_job` the uuid of a job whose status changed; both get '' after a reconnect
   * (re-check everything). Resolves once listening; the returned function unsubscribes.
   */
  subscribe(channel: Channel, fn: NotifyHandler): Promise<() => void> {
    return this.listener.subscribe(this.db.channel(channel), fn);
  }

  // ---- organizations and keys
  async ensureOrg(name: string, now: number): Promise<Org> {
    return this.db.tx(async (c) => {
      await c.query('INSERT INTO orgs (uuid, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [newUuid(), name, now]);
      const r = one(await c.query('SELECT * FROM orgs WHERE name = $1', [name]))!;
      return { uuid: String(r.uuid), name: String(r.name), created_at: Number(r.created_at) };
    });
  }

  async getOrg(uuid: string): Promise<Org | null> {
    const [r] = await this.db.read('SELECT * FROM orgs WHERE uuid = $1', [uuid]);
    return r ? { uuid: String(r.uuid), name: String(r.name), created_at: Number(r.created_at) } : null;
  }

  async insertApiKey(key: ApiKeyRecord, hash: string): Promise<void> {
    await this.db.tx((c) => c.query(
      'INSERT INTO api_keys (id, org_uuid, name, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [key.id, key.org_uuid, key.name, key.prefix, hash, key.created_at, key.revoked_at],
    ));
  }

  async findApiKeyByHash(hash: string): Promise<(ApiKeyRecord & { org: Org; hash: string }) | null> {
    const [r] = await this.db.read(
      `SELECT k.*, o.name AS org_name, o.created_at AS org_created_at FROM api_keys k
       JOIN orgs o ON o.uuid = k.org_uuid WHERE k.hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    if (!r) return null;
    return { ...apiKeyFromRow(r), hash: String(r.hash), org: { uuid: String(r.org_uuid), name: String(r.org_name), created_at: Number(r.org_created_at) } };
  }

  async listApiKeys(org_uuid: string): Promise<ApiKeyRecord[]> {
    return (await this.db.read('SELECT * FROM api_keys WHERE org_uuid = $1 ORDER BY created_at', [org_uuid])).map(apiKeyFromRow);
  }

  async revokeApiKey(org_uuid: string, id: string, now: number): Promise<boolean> {
    const r = await this.db.tx((c) => c.query('UPDATE api_keys SET revoked_at = $1 WHERE org_uuid = $2 AND id = $3 AND revoked_at IS NULL', [now, org_uuid, id]));
    return r.rowCount === 1;
  }

  async countApiKeys(): Promise<number> {
    return Number((await this.db.read('SELECT COUNT(*) AS n FROM api_keys'))[0]!.n);
  }

  // ---- files
  async insertFileVersion(f: Omit<FileRecord, 'file_index' | 'is_current'>): Promise<FileRecord> {
    return this.db.tx((c) => insertFileVersionRow(c, f));
  }

  async getCurrentFile(org_uuid: string, file_id: string): Promise<FileRecord | null> {
    const [r] = await this.db.read("SELECT * FROM files WHERE org_uuid = $1 AND file_id = $2 AND is_current AND status = 'ready'", [org_uuid, file_id]);
    return r ? fileFromRow(r) : null;
  }

  async getFileByUid(org_uuid: string, file_uid: string): Promise<FileRecord | null> {
    const [r] = await this.db.read('SELECT * FROM files WHERE org_uuid = $1 AND file_uid = $2', [org_uuid, file_uid]);
    return r ? fileFromRow(r) : null;
  }

  async listCurrentFiles(org_uuid: string): Promise<FileRecord[]> {
    return (await this.db.read("SELECT * FROM files WHERE org_uuid = $1 AND is_current AND status = 'ready' ORDER BY file_index", [org_uuid])).map(fileFromRow);
  }

  async deleteCurrentFile(org_uuid: string, file_id: string, now: number): Promise<FileRecord | null> {
    return this.db.tx(async (c) => {
      const r = one(await c.query(
        `UPDATE files SET status = 'deleted', is_current = FALSE, deleted_at = $3
         WHERE org_uuid = $1 AND file_id = $2 AND is_current AND status = 'ready' RETURNING *`,
        [org_uuid, file_id, now],
      ));
      return r ? fileFromRow(r) : null;
    });
  }

  async listCollectableFileVersions(limit: number): Promise<FileRecord[]> {
    const rows = await this.db.read(
      `SELECT f.* FROM files f WHERE NOT f.purged AND (NOT f.is_current OR f.status = 'deleted')
       AND NOT EXISTS (SELECT 1 FROM job_files jf JOIN jobs j ON j.uuid = jf.job_uuid
         WHERE jf.file_uid = f.file_uid AND j.status NOT IN ${TERMINAL_SQL})
       LIMIT $1`,
      [limitOrAll(limit)],
    );
    return rows.map(fileFromRow);
  }

  async fileBlobKeysInUse(file_uids: string[]): Promise<Set<string>> {
    if (file_uids.length === 0) return new Set();
    const rows = await this.db.read('SELECT blob_key FROM files WHERE file_uid = ANY($1::text[]) AND NOT purged', [file_uids]);
    return new Set(rows.map((r) => String(r.blob_key)));
  }

  async markFileVersionPurged(file_uid: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      // Lock the row first: a createJob holding it FOR SHARE commits its job_files before we look
      // (READ COMMITTED: the NOT EXISTS below runs on a snapshot taken after the lock is granted).
      const row = one(await c.query('SELECT purged FROM files WHERE file_uid = $1 FOR UPDATE', [file_uid]));
      if (!row || row.purged) return false;
      const r = await c.query(
        `UPDATE files SET purged = TRUE WHERE file_uid = $1 AND (is_current = FALSE OR status = 'deleted')
         AND NOT EXISTS (SELECT 1 FROM job_files jf JOIN jobs j ON j.uuid = jf.job_uuid
           WHERE jf.file_uid = files.file_uid AND j.status NOT IN ('COMPLETED','STOPPED','CANCELLED','FAILED'))`,
        [file_uid],
      );
      return r.rowCount === 1;
    });
  }

  // ---- jobs
  async createJob(job: Job, event: NewEvent): Promise<CreateJobResult> {
    return this.db.tx(async (c): Promise<CreateJobResult> => {
      const existing = await this.findExisting(c, job);
      if (existing) return { created: false, job: existing };
      const uids = [...new Set(job.datasets.flatMap((d) => d.files.map((f) => f.file_uid)))];
      // FOR SHARE: a concurrent garbage collection of these versions waits for this transaction.
      const rows = (await c.query('SELECT file_uid, purged FROM files WHERE file_uid = ANY($1::text[]) FOR SHARE', [uids])).rows as Array<Record<string, unknown>>;
      const gone = rows.filter((r) => r.purged).map((r) => String(r.file_uid));
      if (gone.length > 0) throw fileVersionsGone(gone);
      const p = jobToParams(job);
      const cols = Object.keys(p);
      // ON CONFLICT: a replica inserting the same id or idempotency key concurrently wins; we return its job.
      const ins = await c.query(
        `INSERT INTO jobs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`,
        cols.map((k) => p[k]),
      );
      if (ins.rowCount !== 1) return { created: false, job: (await this.findExisting(c, job))! };
      for (const ds of job.datasets) {
        for (const f of ds.files) await c.query('INSERT INTO job_files (job_uuid, file_uid) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job.uuid, f.file_uid]);
      }
      await this.event(c, job.uuid, job.created_at, event);
      await notifyStatus(c, this.db, job);
      return { created: true, job };
    });
  }

  private async findExisting(c: Q, job: Job): Promise<Job | null> {
    const byId = one(await c.query('SELECT * FROM jobs WHERE org_uuid = $1 AND id = $2', [job.org_uuid, job.id]));
    if (byId) return jobFromRow(byId);
    if (!job.idempotency_key) return null;
    const byKey = one(await c.query('SELECT * FROM jobs WHERE org_uuid = $1 AND idempotency_key = $2', [job.org_uuid, job.idempotency_key]));
    return byKey ? jobFromRow(byKey) : null;
  }

  async getJob(org_uuid: string, id: string): Promise<Job | null> {
    const [r] = await this.db.read('SELECT * FROM jobs WHERE org_uuid = $1 AND id = $2', [org_uuid, id]);
    return r ? jobFromRow(r) : null;
  }

  async getJobByUuid(uuid: string): Promise<Job | null> {
    const [r] = await this.db.read('SELECT * FROM jobs WHERE uuid = $1', [uuid]);
    return r ? jobFromRow(r) : null;
  }

  async findJobByIdempotencyKey(org_uuid: string, key: string): Promise<Job | null> {
    const [r] = await this.db.read('SELECT * FROM jobs WHERE org_uuid = $1 AND idempotency_key = $2', [org_uuid, key]);
    return r ? jobFromRow(r) : null;
  }

  async listJobs(q: ListJobsQuery): Promise<Job[]> {
    return (await this.listPage('*', q)).map(jobFromRow);
  }

  async listJobViewKeys(q: ListJobsQuery): Promise<JobViewKey[]> {
    return (await this.listPage('uuid, row_version', q)).map((r) => ({ uuid: String(r.uuid), row_version: Number(r.row_version) }));
  }

  async getJobViews(org_uuid: string, uuids: string[]): Promise<JobView[]> {
    if (uuids.length === 0) return [];
    // ::text keeps the json columns as the stored text (pg would parse them), byte-identical to SQLite.
    const sql = `SELECT ${JOB_VIEW_COLUMNS}, config::text AS config_json, error::text AS error_json, progress::text AS progress_json
      FROM jobs WHERE org_uuid = $1 AND uuid = ANY($2::text[])`;
    return (await this.db.read(sql, [org_uuid, uuids])).map(jobViewFromRow);
  }

  private async listPage(columns: string, q: ListJobsQuery): Promise<Record<string, unknown>[]> {
    const params: unknown[] = [q.org_uuid];
    let sql = `SELECT ${columns} FROM jobs WHERE org_uuid = $1`;
    if (q.statuses && q.statuses.length > 0) sql += ` AND status = ANY($${params.push(q.statuses)}::text[])`;
    if (q.api_versions && q.api_versions.length > 0) sql += ` AND api_version = ANY($${params.push(q.api_versions)}::text[])`;
    if (q.after) sql += ` AND (created_at, id) < ($${params.push(q.after.created_at)}::bigint, $${params.push(q.after.id)}::text COLLATE "C")`;
    sql += ` ORDER BY created_at DESC, id DESC LIMIT $${params.push(limitOrAll(q.limit))} OFFSET $${params.push(q.offset)}`;
    return this.db.read(sql, params);
  }

  async transition(job_uuid: string, action: JobAction, expected: JobStatus, now: number, event: NewEvent, patch: TransitionPatch = {}): Promise<Job | null> {
    const to = targetOf(action, expected);
    if (!to || !allowedFrom(action).includes(expected)) return null;
    return this.db.tx(async (c) => {
      const row = await casStatus(c, job_uuid, expected, to, now, patch);
      if (!row) return null;
      if (isTerminal(to)) await endActiveAttempts(c, job_uuid, now);
      await this.event(c, job_uuid, now, event);
      const job = jobFromRow(row);
      await notifyStatus(c, this.db, job);
      return job;
    });
  }

  async deleteJob(job_uuid: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const r = await c.query(`DELETE FROM jobs WHERE uuid = $1 AND status IN ${TERMINAL_SQL}`, [job_uuid]);
      if (r.rowCount === 0) return false;
      for (const t of ['events', 'metrics', 'checkpoints', 'attempts', 'job_files']) await c.query(`DELETE FROM ${t} WHERE job_uuid = $1`, [job_uuid]);
      return true;
    });
  }

  async countJobsByStatus(org_uuid?: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const rows = org_uuid === undefined
      ? await this.db.read('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status')
      : await this.db.read('SELECT status, COUNT(*) AS n FROM jobs WHERE org_uuid = $1 GROUP BY status', [org_uuid]);
    for (const r of rows) out[String(r.status)] = Number(r.n);
    return out;
  }

  // ---- events, metrics, checkpoints
  async appendEvent(job_uuid: string, now: number, event: NewEvent): Promise<JobEvent> {
    return this.db.tx((c) => this.event(c, job_uuid, now, event));
  }

  async listEvents(job_uuid: string, o: { afterSeq?: number; limit: number; newestFirst?: boolean; offset?: number }): Promise<JobEvent[]> {
    const order = o.newestFirst ? 'DESC' : 'ASC';
    const rows = await this.db.read(
      `SELECT * FROM events WHERE job_uuid = $1 AND seq > $2 ORDER BY seq ${order} LIMIT $3 OFFSET $4`,
      [job_uuid, o.afterSeq ?? 0, limitOrAll(o.limit), o.offset ?? 0],
    );
    return rows.map(eventFromRow);
  }

  async listMetrics(job_uuid: string, limit: number, offset: number): Promise<MetricEntry[]> {
    const rows = await this.db.read('SELECT * FROM metrics WHERE job_uuid = $1 ORDER BY step ASC, seq ASC LIMIT $2 OFFSET $3', [job_uuid, limitOrAll(limit), offset]);
    return rows.map(metricFromRow);
  }

  async listCheckpoints(job_uuid: string): Promise<Checkpoint[]> {
    return (await this.db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step ASC, created_at ASC', [job_uuid])).map(checkpointFromRow);
  }

  async getCheckpoint(job_uuid: string, id: string): Promise<Checkpoint | null> {
    const [r] = await this.db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 AND id = $2', [job_uuid, id]);
    return r ? checkpointFromRow(r) : null;
  }

  async latestCheckpoint(job_uuid: string): Promise<Checkpoint | null> {
    const [r] = await this.db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step DESC, created_at DESC LIMIT 1', [job_uuid]);
    return r ? checkpointFromRow(r) : null;
  }

  // ---- workers
  async upsertWorker(w: WorkerRecord): Promise<void> {
    await this.db.tx((c) => c.query(
      `INSERT INTO workers (id, node, kind, concurrency, active_jobs, last_seen_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET active_jobs = excluded.active_jobs, last_seen_at = excluded.last_seen_at, concurrency = excluded.concurrency`,
      [w.id, w.node, w.kind, w.concurrency, w.active_jobs, w.last_seen_at, w.started_at],
    ));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.db.read('SELECT * FROM workers ORDER BY started_at')).map(workerFromRow);
  }

  async removeWorker(id: string): Promise<void> {
    await this.db.tx((c) => c.query('DELETE FROM workers WHERE id = $1', [id]));
  }

  protected newEventId(): string {
    return typeId('evt');
  }
}
