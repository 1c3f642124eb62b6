/**
 * Size limits and broken uploads (docs/spec.md#files): an oversize simple or base64 upload is a 413 with
 * exactly one `invalid_file_size` error that reaches a client which sends its whole body before
 * reading (no reset), and stores nothing; a client that disconnects mid-body (simple upload or
 * part PUT) leaves no file, no row and no temporary bytes.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AUTH, multipartBody, patternStream, rawRequest, uploadRaw } from './files-helpers.js';
import { startTestApp, waitFor, type Client, type TestApp } from './helpers/harness.js';

const LIMIT = 1_000_000;
let t: TestApp;
let c: Client;

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 0, maxUploadBytes: LIMIT } });
  c = t.client;
});
after(() => t.close());

const tmpDir = (): string => join(t.home, 'artifacts', '.tmp');
const tmpBytes = (): number => (existsSync(tmpDir()) ? readdirSync(tmpDir()).reduce((s, n) => s + statSync(join(tmpDir(), n)).size, 0) : 0);
const tmpEmpty = (): boolean => !existsSync(tmpDir()) || readdirSync(tmpDir()).length === 0;

/** Committed blobs of every org: a stored upload would add one (renamed out of .tmp first). */
function blobCount(): number {
  const root = join(t.home, 'artifacts', 'files');
  return existsSync(root) ? readdirSync(root).reduce((s, org) => s + readdirSync(join(root, org)).length, 0) : 0;
}

async function assertNothingStored(name: string, blobsBefore: number): Promise<void> {
  await waitFor('no temporary bytes', tmpEmpty);
  assert.equal(blobCount(), blobsBefore, 'no blob committed');
  assert.equal((await c.get(`/v0.5/files/metadata/${name}`)).status, 404);
}

function assertOne413(r: { status: number; json(): any }): void {
  assert.equal(r.status, 413);
  const body = r.json();
  assert.equal(body.errors.length, 1, JSON.stringify(body));
  assert.equal(body.errors[0].code, 'invalid_file_size');
}

describe('413 reaches a client that sends everything before reading', () => {
  test('3 MB over a 1 MB limit: exactly one invalid_file_size, nothing stored, connection usable', async () => {
    const blobs = blobCount();
    const r = await uploadRaw(t.app.url, '/v0.5/files', 'big.txt', 'text/plain', patternStream(1, 0, 3_000_000), 3_000_000);
    assertOne413(r);
    await assertNothingStored('big.txt', blobs);
    assert.equal((await c.get('/v0.5/files/info')).status, 200);
  });

  test('a body far over the limit (declared length) is read through without being written', async () => {
    const blobs = blobCount();
    const r = await uploadRaw(t.app.url, '/v0.5/files', 'huge.txt', 'text/plain', patternStream(2, 0, 24 * 1024 * 1024), 24 * 1024 * 1024);
    assertOne413(r);
    await assertNothingStored('huge.txt', blobs);
  });

  test('chunked (no Content-Length) oversize body: same 413', async () => {
    const blobs = blobCount();
    const body = multipartBody('chunked.txt', 'text/plain', patternStream(3, 0, 2_000_000), 2_000_000);
    const headers = { ...AUTH, 'content-type': body.headers['content-type'], 'transfer-encoding': 'chunked' };
    assertOne413(await rawRequest(`${t.app.url}/v0.5/files`, 'POST', headers, body.stream));
    await assertNothingStored('chunked.txt', blobs);
  });

  test('exactly the limit is accepted; one byte more is not', async () => {
    assert.equal((await uploadRaw(t.app.url, '/v0.5/files', 'edge.txt', 'text/plain', patternStream(4, 0, LIMIT), LIMIT)).status, 200);
    const blobs = blobCount();
    assertOne413(await uploadRaw(t.app.url, '/v0.5/files', 'edge1.txt', 'text/plain', patternStream(4, 0, LIMIT + 1), LIMIT + 1));
    await assertNothingStored('edge1.txt', blobs);
  });

  test('base64: the limit applies to the encoded size', async () => {
    const blobs = blobCount();
    const decoded = Buffer.alloc(900_000, 'd'); // under the limit; its base64 text is 1.2 MB, over it
    const encoded = Buffer.from(decoded.toString('base64'));
    assertOne413(await uploadRaw(t.app.url, '/v0.5/files/base64', 'b64big.txt', 'text/plain', encoded, encoded.length));
    await assertNothingStored('b64big.txt', blobs);
  });
});

/** Starts a request, writes `first` bytes of a `total`-byte body, and returns a way to cut it. */
function startPartial(url: string, headers: Record<string, string | number>, head: Buffer, first: number) {
  const req = request(url, { method: headers['x-method'] ? String(headers['x-method']) : 'POST', headers });
  req.on('error', () => undefined); // the cut itself
  req.write(head);
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 'q');
  const pump = (): void => {
    while (sent < first) {
      sent += chunk.length;
      if (!req.write(chunk)) return void req.once('drain', pump);
    }
  };
  pump();
  return { cut: () => req.destroy() };
}

describe('a client that disconnects mid-body leaves nothing behind', () => {
  test('simple upload: no file, no row, no temporary bytes; the server carries on', async () => {
    const blobs = blobCount();
    const boundary = 'cutboundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\nContent-Type: text/plain\r\n\r\n`);
    const p = startPartial(`${t.app.url}/v0.5/files`, { ...AUTH, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 900_000 }, head, 400_000);
    await waitFor('bytes staged', () => tmpBytes() > 0);
    p.cut();
    await assertNothingStored('cut.txt', blobs);
    assert.equal((await c.upload('after-cut.txt', 'fine')).status, 200);
  });

  test('a body cut after the whole file part (before the closing boundary) stores nothing either', async () => {
    const blobs = blobCount();
    const boundary = 'cutafter';
    const file = Buffer.alloc(300_000, 'f');
    const head = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut-after.txt"\r\nContent-Type: text/plain\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n`),
    ]);
    const p = startPartial(`${t.app.url}/v0.5/files`, { ...AUTH, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + 1000 }, head, 0);
    await waitFor('the file part staged whole', () => tmpBytes() === file.length);
    p.cut();
    await assertNothingStored('cut-after.txt', blobs);
  });

  test('part PUT: no part recorded (its bytes stay in place, unrecorded), so complete names it missing', async () => {
    const init = (await c.call('POST', '/v0.5/files/uploads/initiate', { filename: 'cutpart.txt', file_type: 'text/plain', num_bytes: 800_000 })).body;
    const staging = join(t.home, 'artifacts', '.parts', init.upload_id, 'staging');
    const p = startPartial(init.parts[0].url, { 'x-method': 'PUT', 'content-length': 800_000 }, Buffer.alloc(0), 300_000);
    await waitFor('part bytes written in place', () => existsSync(staging) && statSync(staging).blocks > 0);
    p.cut();
    const r = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [] });
    assert.equal(r.status, 400);
    assert.match(r.body.errors[0].message, /part\(s\) 0 are missing/);
  });
});
