/**
 * 300 MB through each upload path (simple, base64, direct) with the server in this process: the
 * bytes are generated as a stream (never held whole), the download must hash to the same sha256,
 * and the process RSS, sampled every 20 ms during the upload and the download, may grow by less
 * than 64 MB: uploads and downloads stream, they never buffer a file.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { base64Stream, hashDownload, inParallel, patternDigest, patternStream, rawRequest, sampleRss, uploadRaw } from './files-helpers.js';
import { startTestApp, type TestApp } from './helpers/harness.js';

const SIZE = 300_000_000;
const MAX_GROWTH = 64 * 1024 * 1024;
let t: TestApp;

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 0 } });
});
after(() => t.close());

async function checkDownload(name: string, sha256: string): Promise<void> {
  const d = await hashDownload(`${t.app.url}/v0.5/files/download/${name}`);
  assert.equal(d.status, 200);
  assert.equal(d.bytes, SIZE);
  assert.equal(d.sha256, sha256);
}

function report(ctx: TestContext, what: string, s: { baseline: number; peak: number; growth: number }): void {
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  ctx.diagnostic(`${what}: RSS baseline ${mb(s.baseline)} MB, peak ${mb(s.peak)} MB, growth ${mb(s.growth)} MB`);
  assert.ok(s.growth < MAX_GROWTH, `${what}: RSS grew by ${mb(s.growth)} MB (limit 64 MiB)`);
}

test('simple upload of 300 MB streams (RSS growth < 64 MB) and downloads intact', async (ctx) => {
  const { sha256 } = patternDigest(1, SIZE);
  const rss = sampleRss();
  const r = await uploadRaw(t.app.url, '/v0.5/files', 'big-simple.txt', 'text/plain', patternStream(1, 0, SIZE), SIZE);
  assert.equal(r.status, 200, r.body.toString());
  await checkDownload('big-simple.txt', sha256);
  report(ctx, 'simple', rss.stop());
});

test('base64 upload of 300 MB (400 MB encoded) streams and decodes intact', async (ctx) => {
  const { sha256 } = patternDigest(2, SIZE);
  const rss = sampleRss();
  const encodedLength = 4 * Math.ceil(SIZE / 3);
  const r = await uploadRaw(t.app.url, '/v0.5/files/base64', 'big-b64.txt', 'text/plain', base64Stream(patternStream(2, 0, SIZE)), encodedLength);
  assert.equal(r.status, 200, r.body.toString());
  await checkDownload('big-b64.txt', sha256);
  report(ctx, 'base64', rss.stop());
});

test('direct upload of 300 MB (36 parts, 4 at a time, crc32c) streams and assembles intact', async (ctx) => {
  const { sha256, crc32c } = patternDigest(3, SIZE);
  const rss = sampleRss();
  const init = await t.client.call('POST', '/v0.5/files/uploads/initiate', { filename: 'big-direct.txt', file_type: 'text/plain', num_bytes: SIZE });
  assert.equal(init.status, 200);
  const parts = await inParallel(init.body.parts as any[], 4, async (p) => {
    const res = await rawRequest(p.url, 'PUT', { 'content-length': p.length }, patternStream(3, p.offset, p.length));
    assert.equal(res.status, 200, res.body.toString());
    return { part_number: p.part_number, part_token: String(res.headers.etag) };
  });
  const done = await t.client.call('POST', `/v0.5/files/uploads/${init.body.upload_id}/complete`, { parts, integrity_checksum: crc32c });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.num_bytes, SIZE);
  await checkDownload('big-direct.txt', sha256);
  report(ctx, 'direct', rss.stop());
});
