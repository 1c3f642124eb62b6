/**
 * One ftnode process on an S3-protocol server (s3rver, a child process), SQLite, in-process workers:
 * the public API behaves as on local disk while every artifact lives in the bucket. A fine-tune job's
 * checkpoints, inference config and predictions-free downloads; file ranges and deletion (the
 * object goes once no job uses it); a few-shot batch job whose output refs are presigned GETs of the
 * bucket (absolute, no key) with the same bytes as the API's download.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { S3BlobStore } from '../src/blobs/s3.js';
import { writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { jobBody, startTestApp, waitFor, type TestApp } from './helpers/harness.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3-server.js';

let s3: S3Server;
let t: TestApp;
let bucket: S3BlobStore;
const BATCH = '/v0.5/batch/jobs';
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  s3 = await startS3Server();
  const env = s3.env('app');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k]; // the SDK's credential chain
  t = await startTestApp({
    plans: { plain: { steps: 4, evalEvery: 2 } },
    overrides: { builtinWorkers: 2, blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true },
  });
  bucket = new S3BlobStore({ url: env.FTNODE_BLOB_URL!, endpoint: s3.endpoint, forcePathStyle: true, cacheDir: `${t.home}/check-cache`, credentials: S3_CREDENTIALS });
});
after(async () => {
  await t?.close();
  await s3?.stop();
});

test('files: upload, range download, delete removes the object from the bucket', async () => {
  const body = 'line one\nline two\n';
  const up = await t.client.upload('notes.txt', body);
  assert.equal(up.status, 200);
  const keys = await bucket.listKeys('files', 0);
  assert.equal(keys.length, 1, 'one object for the version');
  const r = await fetch(`${t.app.url}/v0.5/files/download/notes.txt`, { headers: { authorization: `Bearer ${t.client.key}`, range: 'bytes=5-7' } });
  assert.equal(r.status, 206);
  assert.equal(await r.text(), 'one');
  assert.equal((await t.client.call('DELETE', '/v0.5/files/delete/notes.txt')).status, 200);
  await waitFor('the deleted version purged from the bucket', async () => (await bucket.listKeys('files', 0)).length === 0);
});

test('a fine-tune job: checkpoints and the inference config in the bucket, downloads equal to the objects', async () => {
  assert.equal((await t.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  assert.equal((await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id: 's3-plain' }))).status, 201);
  assert.equal((await t.client.waitStatus('s3-plain', ['COMPLETED', 'FAILED'])).status, 'COMPLETED');
  const ckpts = (await t.client.get('/v0.5/fine-tune/jobs/s3-plain/checkpoints')).body.data as Array<{ id: string }>;
  assert.equal(ckpts.length, 2);
  const stored = await bucket.listKeys('checkpoints', 0);
  assert.equal(stored.length, 2);
  for (const c of ckpts) {
    const r = await fetch(`${t.app.url}/v0.5/fine-tune/jobs/s3-plain/checkpoints/${c.id}/download`, { headers: { authorization: `Bearer ${t.client.key}` } });
    assert.equal(r.status, 200);
    const bytes = Buffer.from(await r.arrayBuffer());
    const match = [];
    for (const k of stored) if (sha(Buffer.concat(await (await bucket.openRead(k))!.toArray())) === sha(bytes)) match.push(k);
    assert.equal(match.length, 1, `checkpoint ${c.id} is one of the bucket's objects`);
  }
  const job = await t.client.job('s3-plain');
  assert.match(job.inference_config_path, /^s3:\/\/ftnode-test\/app\/.*inference-configs\//);
  const cfg = await fetch(`${t.app.url}/v0.5/fine-tune/jobs/s3-plain/inference-config`, { headers: { authorization: `Bearer ${t.client.key}` } });
  assert.equal(cfg.status, 200);
  assert.match(await cfg.text(), /uri: s3:\/\/ftnode-test\/app\/checkpoints\//);
});

test('batch outputs: refs are presigned GETs of the bucket, fetched with no key, equal to the API download', async () => {
  const files: SynthFiles = await writeSynthetic(2, 400, 2);
  for (const f of [...files.train, ...files.val]) assert.equal((await t.client.upload(f.file_id, await readFile(f.path), 'text/csv')).status, 200);
  const r = await t.client.call('POST', BATCH, {
    name: 's3-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: { 'worker.inference': files.val.map((f) => ({ file_id: f.file_id })), 'worker.n_shots': files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } })) },
    parameters: { worker: { parallelism: 1, config: { reader_config: { window_size: 32, step_size: 8 } } } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const done = await waitFor('batch done', async () => {
    const j = (await t.client.get(`${BATCH}/${r.body.id}`)).body;
    return ['COMPLETED', 'FAILED'].includes(j.status) ? j : null;
  }, 120_000);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  const outs = (await t.client.get(`${BATCH}/${r.body.id}/outputs`)).body.outputs as Array<{ data: { filename: string; ref: string; num_bytes: number } }>;
  assert.equal(outs.length, 2);
  for (const { data: o } of outs) {
    assert.ok(o.ref.startsWith(`${s3.endpoint}/ftnode-test/app/outputs/`), o.ref);
    assert.match(o.ref, /X-Amz-Expires=3600/);
    const direct = await fetch(o.ref); // as a client fetches an absolute ref: as it is, no key
    assert.equal(direct.status, 200);
    const text = await direct.text();
    assert.equal(Buffer.byteLength(text), o.num_bytes);
    const api = await t.client.get(`/v0.5/batch/jobs/${r.body.id}/outputs/${o.filename}`);
    assert.equal(api.body, text);
    assert.match(text, /^timestamp,Prediction,class0,class1\n/);
  }
});
