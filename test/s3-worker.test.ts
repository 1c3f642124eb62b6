/**
 * The worker API on object storage (real app on s3rver, a hand-driven remote worker over HTTP, a
 * manual clock): the claim's dataset ref is a presigned bucket URL fetched with no token; a
 * checkpoint upload streams into the bucket and is committed only after size and sha256 match (a
 * mismatch leaves no object); after the lease is lost, the zombie's upload is refused and leaves no
 * object either.
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

async function upload(fence: { attempt_id: string; lease_token: number }, report: Record<string, unknown>, bytes: Buffer): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('report', JSON.stringify(report));
  form.append('file', new Blob([bytes]), 'file');
  const res = await fetch(`${t.app.url}/v1/worker/attempts/${fence.attempt_id}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-ftnode-lease-token': String(fence.lease_token) }, body: form });
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
