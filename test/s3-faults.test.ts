/**
 * The object store failing under a request: ftnode on s3rver through a TCP proxy that the test can
 * make reset every connection (RST) once a request has sent some of its body. A direct upload's part
 * PUT whose UploadPart is reset mid-stream, a simple upload whose multipart sink is reset, and one
 * whose single PutObject at the end is reset, answer 503 `storage_unavailable` with Retry-After (not
 * the 400 of a client that hung up, which is what the reset looked like before: the request stream,
 * destroyed by the failed pipeline or ended, made S3's ECONNRESET look like the client's), record
 * nothing, and go through once the store is back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { crc32c, crc32cToBase64 } from '../src/blobs/crc32c.js';
import { AUTH, rawRequest } from './files-helpers.js';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

const MiB = 1 << 20;
let s3: S3Server;
let proxy: ResettingProxy;
let t: TestApp;

/** Forwards TCP to s3rver; while `armed`, a connection that has carried `afterBytes` upstream is reset. */
interface ResettingProxy {
  endpoint: string;
  armed: boolean;
  afterBytes: number;
  resets: number;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<ResettingProxy> {
  const sockets = new Set<Socket>();
  const state: ResettingProxy = { endpoint: '', armed: false, afterBytes: 256 * 1024, resets: 0, close: async () => undefined };
  const server: Server = createServer((down) => {
    const up = connect(Number(target.port), target.hostname);
    sockets.add(down).add(up);
    let sent = 0;
    down.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (state.armed && sent > state.afterBytes) {
        state.resets++;
        down.resetAndDestroy();
        up.resetAndDestroy();
        return;
      }
      up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => down.write(chunk));
    const end = (): void => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return state;
}

const data = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 29 + seed * 11 + (i >> 12)) % 251));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  s3 = await startS3Server();
  proxy = await startProxy(new URL(s3.endpoint));
  const env = s3.env('faults');
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k]; // the SDK's credential chain
  t = await startTestApp({ overrides: { builtinWorkers: 0, blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: proxy.endpoint, s3PathStyle: true } });
});
after(async () => {
  await t?.close();
  await proxy?.close();
  await s3?.stop();
});

test('a part PUT whose UploadPart S3 resets is a 503 storage_unavailable with Retry-After; the part PUT again completes the file', async () => {
  const content = data(9 * MiB + 777, 1); // S3 parts are at least 5 MiB: two parts whatever the part size
  const init = (await t.client.call('POST', '/v0.5/files/uploads/initiate', { filename: 'reset.txt', file_type: 'text/plain', num_bytes: content.length })).body;
  assert.ok(init.num_parts >= 2, `${init.num_parts} parts`);
  const put = (p: { url: string; offset: number; length: number }) =>
    rawRequest(p.url, 'PUT', { 'content-length': p.length }, content.subarray(p.offset, p.offset + p.length));

  proxy.armed = true;
  const failed = await put(init.parts[0]);
  proxy.armed = false;
  assert.ok(proxy.resets > 0, 'the proxy reset a connection');
  assert.equal(failed.status, 503, failed.body.toString());
  const env = JSON.parse(failed.body.toString());
  assert.equal(env.errors[0].code, 'storage_unavailable');
  assert.ok(Number(failed.headers['retry-after']) > 0, 'Retry-After');
  const early = await t.client.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [{ part_number: 0, part_token: 'x'.repeat(32) }] });
  assert.equal(early.status, 400, 'nothing was recorded for the failed part');

  const parts = [];
  for (const p of init.parts) {
    const r = await put(p);
    assert.equal(r.status, 200, r.body.toString());
    parts.push({ part_number: p.part_number, part_token: String(r.headers.etag) });
  }
  const done = await t.client.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts, integrity_checksum: crc32cToBase64(crc32c(content)) });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const d = await rawRequest(`${t.app.url}/v0.5/files/download/reset.txt`, 'GET', AUTH);
  assert.equal(sha(d.body), sha(content));
});

test('a simple upload whose S3 multipart sink is reset is a 503 storage_unavailable; no file is listed; the retry stores it', async () => {
  const content = data(20 * MiB, 2); // past the sink's first 8 MiB part, so UploadPart runs while the body streams
  proxy.armed = true;
  const failed = await t.client.upload('sink.txt', content);
  proxy.armed = false;
  assert.equal(failed.status, 503, JSON.stringify(failed.body));
  assert.equal(failed.body.errors[0].code, 'storage_unavailable');
  assert.equal((await t.client.get('/v0.5/files/metadata/sink.txt')).status, 404, 'nothing listed');
  const ok = await t.client.upload('sink.txt', content);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const d = await rawRequest(`${t.app.url}/v0.5/files/download/sink.txt`, 'GET', AUTH);
  assert.equal(sha(d.body), sha(content));
});

test('a small simple upload whose PutObject at the end is reset is a 503 storage_unavailable; the retry stores it', async () => {
  const content = data(MiB, 3); // under the sink's 8 MiB part: one PutObject once the body has been read
  proxy.armed = true;
  const failed = await t.client.upload('small.txt', content);
  proxy.armed = false;
  assert.equal(failed.status, 503, JSON.stringify(failed.body));
  assert.equal(failed.body.errors[0].code, 'storage_unavailable');
  assert.equal((await t.client.get('/v0.5/files/metadata/small.txt')).status, 404, 'nothing listed');
  assert.equal((await t.client.upload('small.txt', content)).status, 200);
  assert.equal(sha((await rawRequest(`${t.app.url}/v0.5/files/download/small.txt`, 'GET', AUTH)).body), sha(content));
});
