/** PostgreSQL queries of a job's history: events (per-job gapless seq, steps.ts), metrics and checkpoint rows. */
import type { Checkpoint, JobEvent, MetricEntry } from '../../../domain/types.js';
import { checkpointFromRow, eventFromRow, metricFromRow } from '../../rows.js';
import type { NewEvent } from '../../store.js';
import type { PgDb } from '../pg-db.js';
import { insertEvent, limitOrAll } from './steps.js';

export async function appendEvent(db: PgDb, job_uuid: string, now: number, event: NewEvent): Promise<JobEvent> {
  return db.tx((c) => insertEvent(c, job_uuid, now, event));
}

export async function listEvents(db: PgDb, job_uuid: string, o: { afterSeq?: number; limit: number; newestFirst?: boolean; offset?: number }): Promise<JobEvent[]> {
  const order = o.newestFirst ? 'DESC' : 'ASC';
  const rows = await db.read(
    `SELECT * FROM events WHERE job_uuid = $1 AND seq > $2 ORDER BY seq ${order} LIMIT $3 OFFSET $4`,
    [job_uuid, o.afterSeq ?? 0, limitOrAll(o.limit), o.offset ?? 0],
  );
  return rows.map(eventFromRow);
}

export async function listMetrics(db: PgDb, job_uuid: string, limit: number, offset: number): Promise<MetricEntry[]> {
  const rows = await db.read('SELECT * FROM metrics WHERE job_uuid = $1 ORDER BY step ASC, seq ASC LIMIT $2 OFFSET $3', [job_uuid, limitOrAll(limit), offset]);
  return rows.map(metricFromRow);
}

export async function listCheckpoints(db: PgDb, job_uuid: string): Promise<Checkpoint[]> {
  return (await db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step ASC, created_at ASC', [job_uuid])).map(checkpointFromRow);
}

export async function getCheckpoint(db: PgDb, job_uuid: string, id: string): Promise<Checkpoint | null> {
  const [r] = await db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 AND id = $2', [job_uuid, id]);
  return r ? checkpointFromRow(r) : null;
}

export async function latestCheckpoint(db: PgDb, job_uuid: string): Promise<Checkpoint | null> {
  const [r] = await db.read('SELECT * FROM checkpoints WHERE job_uuid = $1 ORDER BY step DESC, created_at DESC LIMIT 1', [job_uuid]);
  return r ? checkpointFromRow(r) : null;
}
