/**
 * 1 GB (1,000,000,000 bytes) through ftnode to an S3-protocol server (s3rver, a child process), by a
 * simple upload and by a direct upload (its 120 parts become UploadParts of one multipart upload,
 * PUT 4 at a time, completed with the file's CRC-32C), each downloaded back byte-exact. Light on the
 * test machine's disk: the bytes are generated from a seeded stream and compared by sha256, never
 * held or written whole by the test (the bucket, in a temporary folder, holds them once each).
 * FTNODE_TEST_S3_BIG_MB changes the size (e.g. 64 for a quick run).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashDownload, inParallel, patternDigest, patternStream, rawRequest, uploadRaw } from './files-helpers.js';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

const SIZE = Number(process.env.FTNODE_TEST_S3_BIG_MB ?? 1000) * 1_000_000;
// A liveness bound, not a speed check: 1 GB through three processes on a loaded 2-core machine took
// minutes, past the suite's 3-minute default.
const LONG = { timeout: 30 * 60_000 };
let s3: S3Server;
let t: TestApp;

before(async () => {
  s3 = await startS3Server();
  const env = s3.env('big');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k]; // the SDK's credential chain
  t = await startTestApp({ overrides: { builtinWorkers: 0, maxUploadBytes: 2 * SIZE, blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true } });
});
after(async () => {
  await t?.close();
  await s3?.stop();
});

async function checkDownload(name: string, sha256: string): Promise<void> {
  const d = await hashDownload(`${t.app.url}/v0.5/files/download/${name}`);
  assert.deepEqual([d.status, d.bytes, d.sha256], [200, SIZE, sha256]);
}

test(`simple upload of ${SIZE} bytes to S3 round-trips byte-exact`, LONG, async () => {
  const { sha256 } = patternDigest(11, SIZE);
  const r = await uploadRaw(t.app.url, '/v0.5/files', 's3-big-simple.txt', 'text/plain', patternStream(11, 0, SIZE), SIZE);
  assert.equal(r.status, 200, r.body.toString());
  await checkDownload('s3-big-simple.txt', sha256);
  assert.equal((await t.client.call('DELETE', '/v0.5/files/delete/s3-big-simple.txt')).status, 200); // frees the bucket's copy
});

test(`direct upload of ${SIZE} bytes to S3 (parts as UploadParts, 4 at a time) round-trips byte-exact`, LONG, async () => {
  const { sha256, crc32c } = patternDigest(12, SIZE);
  const init = await t.client.call('POST', '/v0.5/files/uploads/initiate', { filename: 's3-big-direct.txt', file_type: 'text/plain', num_bytes: SIZE });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  assert.equal(init.body.part_size, 8 * 1024 * 1024);
  const parts = await inParallel(init.body.parts as any[], 4, async (p) => {
    const res = await rawRequest(p.url, 'PUT', { 'content-length': p.length }, patternStream(12, p.offset, p.length));
    assert.equal(res.status, 200, res.body.toString());
    return { part_number: p.part_number, part_token: String(res.headers.etag) };
  });
  const done = await t.client.call('POST', `/v0.5/files/uploads/${init.body.upload_id}/complete`, { parts, integrity_checksum: crc32c });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.num_bytes, SIZE);
  assert.equal((await t.client.get('/v0.5/files/metadata/s3-big-direct.txt')).body.file_attributes.sha256, sha256);
  await checkDownload('s3-big-direct.txt', sha256);
});
