/**
 * The same lifecycle scenarios as test/lifecycle.test.ts and test/lifecycle-remote.test.ts, on the
 * recommended multi-host topology (skipped without FTNODE_TEST_PG_URL): PostgreSQL + an S3-protocol
 * server + two `ftnode serve` replicas with separate homes (no shared folder) + two remote
 * `ftnode worker` processes. Requests go to either replica (the client fails over between them);
 * stop and cancel sent to one reach a trainer whose worker holds its session on the other
 * (LISTEN/NOTIFY); datasets come from presigned bucket URLs and checkpoints go into the bucket.
 * Pausing the workers is a graceful stop of both processes; resuming starts them again. A few-shot
 * batch job's outputs are uploaded by a worker straight into the bucket (nothing spooled on a
 * replica) and listed with presigned refs that serve the exact bytes. Afterwards
 * every committed checkpoint is in the bucket with its recorded size and sha256, and neither home
 * holds an artifact.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { writeSynthetic } from '../src/trainers/timeseries/test-helpers.js';
import { Gates, waitFor } from './helpers/harness.js';
import { LIFECYCLE_PLANS, lifecycleScenarios } from './helpers/lifecycle-scenarios.js';
import { S3Cluster } from './helpers/s3-cluster.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;

describe('lifecycle on PostgreSQL + S3, two replicas with separate homes, two remote workers', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set' }, () => {
  const topo = PG_URL ? new S3Cluster({ pgUrl: PG_URL, name: 'lcs3', plans: LIFECYCLE_PLANS }) : null;
  let gates: Gates;

  before(async () => {
    await topo!.start();
    gates = new Gates(topo!.gateDir);
    assert.equal((await topo!.cluster.client().upload('data.jsonl', '{"x":1}\n')).status, 200);
  });
  after(() => topo?.stop());

  lifecycleScenarios(() => ({
    client: topo!.cluster.client(),
    gates,
    pauseWorkers: async () => {
      for (let i = 0; i < topo!.cluster.workers.length; i++) await topo!.cluster.stopWorker(i);
    },
    resumeWorkers: async () => {
      for (let i = 0; i < topo!.cluster.workers.length; i++) await topo!.cluster.startWorker(i);
    },
  }));

  test('a batch job on a remote worker: its outputs go straight into the bucket, listed with presigned refs, bytes exact', async () => {
    const client = topo!.cluster.client();
    const files = await writeSynthetic(2, 400, 2);
    for (const f of [...files.train, ...files.val]) assert.equal((await client.upload(f.file_id, await readFile(f.path), 'text/csv')).status, 200);
    const r = await client.call('POST', '/v0.5/batch/jobs', {
      name: 's3-topology-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
      inputs: { 'worker.inference': files.val.map((f) => ({ file_id: f.file_id })), 'worker.n_shots': files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } })) },
      parameters: { worker: { parallelism: 1, config: { reader_config: { window_size: 32, step_size: 8 } } } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const done = await waitFor('batch done', async () => {
      const j = (await client.get(`/v0.5/batch/jobs/${r.body.id}`)).body;
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    }, 120_000);
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
    const outs = (await client.get(`/v0.5/batch/jobs/${r.body.id}/outputs`)).body.outputs as Array<{ data: { filename: string; ref: string; num_bytes: number; sha256: string } }>;
    assert.equal(outs.length, files.val.length);
    for (const { data: o } of outs) {
      assert.ok(o.ref.startsWith(`${topo!.s3.endpoint}/${topo!.s3.bucket}/${topo!.prefix}/outputs/`), o.ref);
      const bytes = Buffer.from(await (await fetch(o.ref)).arrayBuffer());
      assert.deepEqual([bytes.length, createHash('sha256').update(bytes).digest('hex')], [o.num_bytes, o.sha256]);
    }
    // Nothing was spooled on a replica on the way (the upload streamed into the bucket).
    for (const h of topo!.homes) assert.equal(existsSync(join(h, 'blob-cache', 'work', 'remote-uploads')), false, `${h} spooled an upload`);
  });

  test('every committed checkpoint is in the bucket as recorded; no artifact in either home', async () => {
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      await db.query(`SET search_path TO "${topo!.schema}"`);
      const ckpts = (await db.query('SELECT id, blob_key, num_bytes, sha256 FROM checkpoints')).rows;
      assert.ok(ckpts.length >= 4, `${ckpts.length} checkpoints`);
      for (const c of ckpts) assert.deepEqual(await topo!.objectInfo(c.blob_key), { size: Number(c.num_bytes), sha256: c.sha256 }, `checkpoint ${c.id}`);
      const configs = (await db.query('SELECT id, inference_config_path FROM jobs WHERE inference_config_path IS NOT NULL')).rows;
      assert.ok(configs.length >= 2);
      for (const j of configs) assert.notEqual(await topo!.objectInfo(topo!.keyOf(j.inference_config_path)), null, `${j.id}: inference config in the bucket`);
    } finally {
      await db.end();
    }
    assert.deepEqual(topo!.artifactsInHomes(), []);
  });
});
