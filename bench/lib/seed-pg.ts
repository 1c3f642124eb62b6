/**
 * Seeding the read benchmark's jobs into PostgreSQL (`api-read --pg URL`): the first jobs through
 * the store (exactly what the service writes), the rest as multi-row INSERTs of the same rows, 1,000
 * per statement (one round trip per 1,000 jobs instead of 4 per job).
 */
import pg from 'pg';
import type { Job } from '../../src/domain/types.js';
import { typeId } from '../../src/lib/ids.js';
import { jobToParams } from '../../src/store/rows.js';
import type { Store } from '../../src/store/store.js';

export interface PgSeedInput {
  url: string;
  schema: string;
  store: Store;
  orgName: string;
  total: number;
  viaStore: number;
  makeJob: (i: number, org_uuid: string, files: { train: string; eval: string }) => Job;
  event: (j: Job) => { level: 'info'; type: string; message: string };
}

export async function seedPostgres(o: PgSeedInput): Promise<{ ids: string[]; storeRate: number; rawRate: number }> {
  const client = new pg.Client({ connectionString: o.url });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${o.schema}"`);
    const org_uuid = String((await client.query('SELECT uuid FROM orgs WHERE name = $1', [o.orgName])).rows[0].uuid);
    const files = { train: typeId('fil'), eval: typeId('fil') };
    for (const [i, [uid, name]] of [[files.train, 'sensor-sft-train.jsonl'], [files.eval, 'sensor-sft-eval.jsonl']].entries()) {
      await client.query(
        `INSERT INTO files (file_uid, org_uuid, file_id, file_type, num_bytes, sha256, blob_key, status, is_current, file_index, attributes, created_at)
         VALUES ($1, $2, $3, 'text/plain', 1000, 'x', $4, 'ready', TRUE, $5, '{}', 0)`, [uid, org_uuid, name, `files/${uid}`, i]);
    }
    const ids: string[] = [];
    const s0 = performance.now();
    for (let i = 0; i < o.viaStore; i++) {
      const job = o.makeJob(i, org_uuid, files);
      await o.store.createJob(job, o.event(job));
      ids.push(job.id);
    }
    const storeRate = o.viaStore / ((performance.now() - s0) / 1000);
    const r0 = performance.now();
    for (let i = o.viaStore; i < o.total; i += 1000) {
      const jobs: Job[] = [];
      for (let k = i; k < Math.min(o.total, i + 1000); k++) jobs.push(o.makeJob(k, org_uuid, files));
      const cols = Object.keys(jobToParams(jobs[0]!));
      const values: unknown[] = [];
      const rows = jobs.map((j) => {
        const p = jobToParams(j);
        return `(${cols.map((c) => `$${values.push(p[c])}`).join(', ')})`;
      });
      await client.query(`INSERT INTO jobs (${cols.join(', ')}) VALUES ${rows.join(', ')}`, values);
      const links: unknown[] = [];
      const linkRows = jobs.flatMap((j) => [files.train, files.eval].map((f) => `($${links.push(j.uuid)}, $${links.push(f)})`));
      await client.query(`INSERT INTO job_files (job_uuid, file_uid) VALUES ${linkRows.join(', ')}`, links);
      for (const j of jobs) ids.push(j.id);
    }
    const rawRate = (o.total - o.viaStore) / ((performance.now() - r0) / 1000);
    // VACUUM as autovacuum would after a bulk insert (PostgreSQL ≥ 13 vacuums on inserts): it sets the
    // visibility map, without which every index-only scan (the list keys) also reads the heap.
    await client.query('VACUUM ANALYZE jobs');
    return { ids, storeRate, rawRate };
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
