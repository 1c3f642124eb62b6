/**
 * Downloads by redirect on object storage (FTNODE_S3_DOWNLOAD_REDIRECT, docs/files.md): one ftnode
 * process on s3rver (a child process) with the setting on. A file download and a checkpoint download
 * answer 302 to a presigned GET of the bucket object (served as an attachment of the same name);
 * ftnode's own client follows it (without sending its API key to the bucket) and gets the exact
 * bytes, a Range request gets the exact slice, and the CLI's download path verifies the checkpoint's
 * sha256. Errors (an unknown file, a range outside the file) are still answered by the API itself.
 * The setting is off by default and parsed strictly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FtClient } from '../src/client/index.js';
import { saveDownload } from '../src/client/node.js';
import { loadConfig } from '../src/config/config.js';
import { jobBody, startTestApp, type TestApp } from './helpers/harness.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

let s3: S3Server;
let t: TestApp;
const out = mkdtempSync(join(tmpdir(), 'ftnode-redirect-'));
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  s3 = await startS3Server();
  const env = s3.env('redirect');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k];
  t = await startTestApp({
    plans: { plain: { steps: 4, evalEvery: 2 } },
    overrides: { builtinWorkers: 1, blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true, s3DownloadRedirect: true },
  });
});
after(async () => {
  await t?.close();
  await s3?.stop();
  rmSync(out, { recursive: true, force: true });
});

test('the setting: off by default, 1/true/0/false, anything else refused', () => {
  const home = mkdtempSync(join(tmpdir(), 'ftnode-redirect-cfg-'));
  try {
    assert.equal(loadConfig({ home }, {}).s3DownloadRedirect, false);
    assert.equal(loadConfig({ home }, { FTNODE_S3_DOWNLOAD_REDIRECT: '1' }).s3DownloadRedirect, true);
    assert.equal(loadConfig({ home }, { FTNODE_S3_DOWNLOAD_REDIRECT: 'false' }).s3DownloadRedirect, false);
    assert.throws(() => loadConfig({ home }, { FTNODE_S3_DOWNLOAD_REDIRECT: 'yes' }), /FTNODE_S3_DOWNLOAD_REDIRECT must be true or false/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('file contents: 302 to a presigned bucket GET; the client follows it, bytes and ranges exact', async () => {
  const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => `row ${i}\n`).join(''));
  assert.equal((await t.client.upload('rows é.txt', body)).status, 200);
  const path = `/v0.5/files/download/${encodeURIComponent('rows é.txt')}`;
  const raw = await fetch(`${t.app.url}${path}`, { headers: { authorization: `Bearer ${t.client.key}` }, redirect: 'manual' });
  assert.equal(raw.status, 302);
  const location = raw.headers.get('location')!;
  assert.ok(location.startsWith(`${s3.endpoint}/ftnode-test/redirect/files/`), location);
  assert.match(location, /X-Amz-Expires=900/);
  const direct = await fetch(location); // anyone holding the URL, no key
  assert.equal(direct.status, 200);
  assert.match(direct.headers.get('content-disposition') ?? '', /^attachment; filename="rows _.txt"; filename\*=UTF-8''rows%20%C3%A9\.txt$/);
  assert.equal(sha(Buffer.from(await direct.arrayBuffer())), sha(body));

  const client = new FtClient({ endpoint: t.app.url, apiKey: t.client.key! });
  const saved = await saveDownload(await client.downloadFile('rows é.txt'), join(out, 'rows.txt'), { expectedSha256: sha(body) });
  assert.deepEqual([saved.num_bytes, saved.sha256], [body.length, sha(body)]);
  assert.deepEqual(readFileSync(join(out, 'rows.txt')), body);

  const ranged = await fetch(`${t.app.url}${path}`, { headers: { authorization: `Bearer ${t.client.key}`, range: 'bytes=100-1099' } });
  assert.equal(ranged.status, 206);
  assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), body.subarray(100, 1100));

  const outside = await fetch(`${t.app.url}${path}`, { headers: { authorization: `Bearer ${t.client.key}`, range: `bytes=${body.length + 10}-` }, redirect: 'manual' });
  assert.equal(outside.status, 416, 'an unsatisfiable range is answered by the API, not redirected');
  assert.equal((await fetch(`${t.app.url}/v0.5/files/download/nope.txt`, { headers: { authorization: `Bearer ${t.client.key}` }, redirect: 'manual' })).status, 404);
  assert.equal((await fetch(`${t.app.url}${path}`, { redirect: 'manual' })).status, 401, 'no key, no redirect');
});

test('checkpoint downloads: 302 with the sha256; the CLI download path follows it and verifies the bytes', async () => {
  assert.equal((await t.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  assert.equal((await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id: 'redir' }))).status, 201);
  assert.equal((await t.client.waitStatus('redir', ['COMPLETED', 'FAILED'])).status, 'COMPLETED');
  const ckpts = (await t.client.get('/v0.5/fine-tune/jobs/redir/checkpoints')).body.data as Array<{ id: string; sha256: string; num_bytes: number }>;
  assert.equal(ckpts.length, 2);
  const client = new FtClient({ endpoint: t.app.url, apiKey: t.client.key! });
  for (const c of ckpts) {
    const raw = await fetch(`${t.app.url}/v0.5/fine-tune/jobs/redir/checkpoints/${c.id}/download`, { headers: { authorization: `Bearer ${t.client.key}` }, redirect: 'manual' });
    assert.equal(raw.status, 302);
    assert.equal(raw.headers.get('x-checksum-sha256'), c.sha256);
    assert.ok(raw.headers.get('location')!.startsWith(`${s3.endpoint}/ftnode-test/redirect/checkpoints/`));
    const saved = await saveDownload(await client.downloadCheckpoint('redir', c.id), join(out, `${c.id}.ckpt`), { expectedSha256: c.sha256 });
    assert.deepEqual([saved.num_bytes, saved.sha256], [c.num_bytes, c.sha256]);
  }
});
