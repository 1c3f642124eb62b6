/** SQLite queries of a job's history: events (per-job gapless seq), metrics and checkpoint rows. */
import type { Checkpoint, JobEvent, MetricEntry } from '../../../domain/types.js';
import { checkpointFromRow, eventFromRow, metricFromRow } from '../../rows.js';
import type { NewEvent } from '../../store.js';
import type { Db } from '../db.js';
import { insertEvent, type Row } from './steps.js';

export function appendEvent(db: Db, job_uuid: string, now: number, event: NewEvent): JobEvent {
  return db.transaction(() => insertEvent(db, job_uuid, now, event)).immediate();
}

export function listEvents(db: Db, job_uuid: string, o: { afterSeq?: number; limit: number; newestFirst?: boolean; offset?: number }): JobEvent[] {
  const order = o.newestFirst ? 'DESC' : 'ASC';
  const rows = db
    .prepare(`SELECT * FROM events WHERE job_uuid = ? AND seq > ? ORDER BY seq ${order} LIMIT ? OFFSET ?`)
    .all(job_uuid, o.afterSeq ?? 0, o.limit < 0 ? -1 : o.limit, o.offset ?? 0) as Row[];
  return rows.map(eventFromRow);
}

export function listMetrics(db: Db, job_uuid: string, limit: number, offset: number): MetricEntry[] {
  const rows = db.prepare('SELECT * FROM metrics WHERE job_uuid = ? ORDER BY step ASC, seq ASC LIMIT ? OFFSET ?').all(job_uuid, limit < 0 ? -1 : limit, offset) as Row[];
  return rows.map(metricFromRow);
}

export function listCheckpoints(db: Db, job_uuid: string): Checkpoint[] {
  return (db.prepare('SELECT * FROM checkpoints WHERE job_uuid = ? ORDER BY step ASC, created_at ASC').all(job_uuid) as Row[]).map(checkpointFromRow);
}

export function getCheckpoint(db: Db, job_uuid: string, id: string): Checkpoint | null {
  const r = db.prepare('SELECT * FROM checkpoints WHERE job_uuid = ? AND id = ?').get(job_uuid, id) as Row | undefined;
  return r ? checkpointFromRow(r) : null;
}

export function latestCheckpoint(db: Db, job_uuid: string): Checkpoint | null {
  const r = db.prepare('SELECT * FROM checkpoints WHERE job_uuid = ? ORDER BY step DESC, created_at DESC LIMIT 1').get(job_uuid) as Row | undefined;
  return r ? checkpointFromRow(r) : null;
}
