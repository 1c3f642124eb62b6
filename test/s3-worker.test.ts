/**
 * The worker API on object storage (real app on s3rver, a hand-driven remote worker over HTTP, a
 * manual clock): the claim's dataset ref is a presigned bucket URL fetched with no token; a
 * checkpoint upload streams into the bucket and is committed only after size and sha256 match (a
 * mismatch leaves no object); after the lease is lost, the zombie's upload is refused and leaves no
 * object either. A batch job's outputs take the same path: streamed into the bucket under a new key
 * per upload, verified, recorded under the fence; a retry is not stored twice, a zombie's output is
 * neither listed nor stored, and a later attempt's output of the same name never overwrites the
 * committed object.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { S3BlobStore } from '../src/blobs/s3.js';
import { ManualClock } from '../src/lib/clock.js';
import { jobBody, startTestApp, type TestApp } from './helpers/harness.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3-server.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const DATA = '{"x":1}\n{"x":2}\n';
let s3: S3Server;
let t: TestApp;
let token = '';
const clock = new ManualClock(1_800_000_000_000);

before(async () => {
  s3 = await startS3Server();
  const env = s3.env('worker');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k];
  t = await startTestApp({
    plans: { plain: { steps: 4, evalEvery: 2 } },
    overrides: { builtinWorkers: 0, blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true },
    app: { clock, reaperTimer: false },
  });
  token = (await t.app.workerTokens.create('s3')).token;
});
after(async () => {
  await t?.close();
  await s3?.stop();
});

const call = async (path: string, body: unknown): Promise<any> => (await fetch(`${t.app.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();

async function upload(fence: { attempt_id: string; lease_token: number }, report: Record<string, unknown>, bytes: Buffer, kind: 'checkpoints' | 'outputs' = 'checkpoints'): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('report', JSON.stringify(report));
  form.append('file', new Blob([bytes]), 'file');
  const res = await fetch(`${t.app.url}/v1/worker/attempts/${fence.attempt_id}/${kind}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-ftnode-lease-token': String(fence.lease_token) }, body: form });
  return { status: res.status, body: await res.json() };
}

test('presigned dataset refs; checkpoints streamed into the bucket, verified, fenced', async () => {
  const bucket = new S3BlobStore({ url: s3.env('worker').FTNODE_BLOB_URL!, endpoint: s3.endpoint, forcePathStyle: true, cacheDir: `${t.home}/check`, credentials: S3_CREDENTIALS });
  assert.equal((await t.client.upload('data.jsonl', DATA)).status, 200);
  assert.equal((await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id: 'w-s3' }))).status, 201);
  const { work } = await call('/v1/worker/claim', { worker_id: 'remote:n1:0a0b:0', wait_ms: 0 });
  const ref = work.datasets[0].files[0].ref;
  assert.ok(ref.url.startsWith(`${s3.endpoint}/ftnode-test/worker/files/`), ref.url);
  const dl = await fetch(ref.url); // as the worker does: as it is, no token
  assert.equal(sha(Buffer.from(await dl.arrayBuffer())), ref.sha256);
  const fence = work.fence;
  assert.equal((await call('/v1/worker/advance', { fence, action: 'start_training', event: { level: 'info', type: 'training_started', message: 'up' } })).job.status, 'RUNNING');

  const bytes = Buffer.alloc(9 * 1024 * 1024, 7); // two S3 parts
  const report = { step: 2, name: 'step_2', size: bytes.length, sha256: sha(bytes), metrics: { loss: 0.5 }, meta: {} };
  const bad = await upload(fence, { ...report, sha256: sha('other') }, bytes);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errors[0].code, 'checksum_mismatch');
  assert.deepEqual(await bucket.listKeys('checkpoints', 0), [], 'a mismatching upload leaves no object');
  const ok = await upload(fence, report, bytes);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const keys = await bucket.listKeys('checkpoints', 0);
  assert.equal(keys.length, 1);
  assert.equal(await bucket.size(keys[0]!), bytes.length);

  clock.advance(30_001); // the worker went silent past its lease
  assert.equal((await t.app.recovery.tick()).requeued, 1);
  const late = Buffer.from('zombie bytes');
  assert.deepEqual((await upload(fence, { ...report, step: 4, size: late.length, sha256: sha(late) }, late)).body, { checkpoint: null });
  assert.deepEqual(await bucket.listKeys('checkpoints', 0), keys, "the zombie's upload left no object");
});

test('batch outputs from a remote worker: streamed into the bucket under a new key, verified, fenced; never overwritten', async () => {
  const bucket = new S3BlobStore({ url: s3.env('worker').FTNODE_BLOB_URL!, endpoint: s3.endpoint, forcePathStyle: true, cacheDir: `${t.home}/check-out`, credentials: S3_CREDENTIALS });
  assert.equal((await t.client.call('PUT', '/v0.5/fine-tune/jobs/w-s3/cancel')).status, 200); // the first test's job, re-queued: out of the way
  const csv = `timestamp,a\n${Array.from({ length: 128 }, (_, i) => `${i},${i % 7}`).join('\n')}\n`; // one window of the default 128 rows
  assert.equal((await t.client.upload('line.csv', csv, 'text/csv')).status, 200);
  assert.equal((await t.client.upload('idle.csv', csv, 'text/csv')).status, 200);
  assert.equal((await t.client.upload('busy.csv', csv, 'text/csv')).status, 200);
  const b = await t.client.call('POST', '/v0.5/batch/jobs', {
    name: 's3-out', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: { 'worker.inference': [{ file_id: 'line.csv' }], 'worker.n_shots': [{ file_id: 'idle.csv', metadata: { class: 'idle' } }, { file_id: 'busy.csv', metadata: { class: 'busy' } }] },
    parameters: { worker: { parallelism: 1 } },
  });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  const { work } = await call('/v1/worker/claim', { worker_id: 'remote:n2:0a0c:0', wait_ms: 0 });
  assert.equal(work.job.id, b.body.id);
  const fence = work.fence;
  assert.equal((await call('/v1/worker/advance', { fence, action: 'start_training', event: { level: 'info', type: 'training_started', message: 'up' } })).job.status, 'RUNNING');
  const prefix = `outputs/${work.job.uuid}`;
  const bytes = Buffer.alloc(9 * 1024 * 1024, 3); // two S3 parts
  const report = { filename: 'line.predictions.csv', size: bytes.length, sha256: sha(bytes), input_file_id: 'line.csv' };
  const bad = await upload(fence, { ...report, sha256: sha('other') }, bytes, 'outputs');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errors[0].code, 'checksum_mismatch');
  assert.deepEqual(await bucket.listKeys(prefix, 0), [], 'a mismatching output leaves no object');
  assert.deepEqual((await upload(fence, report, bytes, 'outputs')).body, { ok: true });
  assert.deepEqual((await upload(fence, report, bytes, 'outputs')).body, { ok: true }, 'a retried upload (its answer lost) is answered ok');
  const keys = await bucket.listKeys(prefix, 0);
  assert.equal(keys.length, 1, `one object for the upload and its retry: ${keys.join(' ')}`);
  assert.match(keys[0]!, new RegExp(`^${prefix}/out_[0-9a-z]{26}/line\\.predictions\\.csv$`));
  const listed = (await t.client.get(`/v0.5/batch/jobs/${b.body.id}/outputs`)).body.outputs;
  assert.equal(listed.length, 1);
  const direct = Buffer.from(await (await fetch(listed[0].data.ref)).arrayBuffer());
  assert.equal(sha(direct), report.sha256, 'the presigned ref serves the committed bytes');

  clock.advance(30_001); // the worker went silent past its lease: the job is re-queued
  assert.equal((await t.app.recovery.tick()).requeued, 1);
  const zombie = Buffer.from('zombie output\n');
  const late = await upload(fence, { ...report, size: zombie.length, sha256: sha(zombie) }, zombie, 'outputs');
  assert.deepEqual(late.body, { ok: false }, "the zombie's output is refused");
  assert.deepEqual(await bucket.listKeys(prefix, 0), keys, "the zombie's output left no object");
  // The next attempt commits the same name again: a new object; the first one is not written over.
  const next = (await call('/v1/worker/claim', { worker_id: 'remote:n2:0a0d:0', wait_ms: 0 })).work;
  assert.equal(next.job.id, b.body.id);
  assert.equal((await call('/v1/worker/advance', { fence: next.fence, action: 'start_training', event: { level: 'info', type: 'training_started', message: 'again' } })).job.status, 'RUNNING');
  const again = Buffer.from('second attempt\n');
  assert.deepEqual((await upload(next.fence, { ...report, size: again.length, sha256: sha(again) }, again, 'outputs')).body, { ok: true });
  const all = await bucket.listKeys(prefix, 0);
  assert.equal(all.length, 2);
  let first = Buffer.alloc(0);
  for await (const chunk of (await bucket.openRead(keys[0]!))!) first = Buffer.concat([first, chunk as Buffer]);
  assert.equal(sha(first), report.sha256, 'the committed object is unchanged');
  const api = await t.client.get(`/v0.5/batch/jobs/${b.body.id}/outputs/line.predictions.csv`);
  assert.equal(api.body, 'second attempt\n', 'the last commit of a name is the one listed');
});
