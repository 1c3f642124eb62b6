/**
 * kill -9 of the real `ftnode serve` while a simple upload and a part PUT are mid-body, then a
 * restart on the same data directory: no partial file is visible, the temporary bytes of the dead
 * process are reclaimed at startup, the half-received part is gone, and the direct upload resumes
 * from its checkpointed part and completes intact.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { crc32c, crc32cToBase64 } from '../src/blobs/crc32c.js';
import { AUTH, rawRequest } from './files-helpers.js';
import { Client, waitFor } from './helpers/harness.js';
import { killHard, startServerProcess, writeServerConfig, type ServerProcess } from './helpers/server-process.js';

const MiB = 1 << 20;
const dirs: string[] = [];
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) await killHard(s);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bytesIn(dir: string): number {
  return existsSync(dir) ? readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0) : 0;
}

/** Sends the headers and `first` bytes of a longer body, then keeps the request hanging. */
function hangingRequest(url: string, method: string, headers: Record<string, string | number>, head: Buffer, first: number): void {
  const req = request(url, { method, headers });
  req.on('error', () => undefined); // the server dies under it
  req.write(head);
  req.write(Buffer.alloc(first, 'h'));
}

test('kill -9 mid-upload, restart: nothing partial visible, temp space reclaimed, the direct upload resumes', async () => {
  const home = mkdtempSync(join(tmpdir(), 'ftnode-files-crash-'));
  dirs.push(home);
  writeServerConfig(home, home, {}, { uploadPartBytes: MiB, builtinWorkers: 0 });
  const first = await startServerProcess(home);
  servers.push(first);
  const c1 = new Client(first.url);

  const content = Buffer.from(Array.from({ length: 3 * MiB }, (_, i) => (i * 7 + (i >> 12)) % 256));
  const init = (await c1.call('POST', '/v0.5/files/uploads/initiate', { filename: 'resumable.bin', file_type: 'application/octet-stream', num_bytes: content.length })).body;
  const p0 = await rawRequest(init.parts[0].url, 'PUT', { 'content-length': MiB }, content.subarray(0, MiB));
  assert.equal(p0.status, 200);
  await c1.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/checkpoint`, { parts: [{ part_number: 0, part_token: p0.headers.etag }] });

  const artifacts = join(home, 'artifacts');
  const partDir = join(artifacts, '.parts', init.upload_id);
  hangingRequest(init.parts[1].url, 'PUT', { 'content-length': MiB }, Buffer.alloc(0), MiB / 2);
  // Parts are written in place into one staging file sized to the whole upload (sparse): its
  // allocated blocks show part 0 plus the half of part 1 that arrived.
  const staging = join(partDir, 'staging');
  await waitFor('half a part on disk', () => existsSync(staging) && statSync(staging).blocks * 512 > MiB);

  const boundary = 'crashboundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="partial.txt"\r\nContent-Type: text/plain\r\n\r\n`);
  hangingRequest(`${first.url}/v0.5/files`, 'POST', { ...AUTH, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 20 * MiB }, head, 4 * MiB);
  await waitFor('simple upload bytes staged', () => bytesIn(join(artifacts, '.tmp')) > MiB);

  await killHard(first);
  assert.ok(bytesIn(join(artifacts, '.tmp')) > 0, 'the dead process left temporary bytes');

  const second = await startServerProcess(home);
  servers.push(second);
  const c2 = new Client(second.url);
  assert.equal(bytesIn(join(artifacts, '.tmp')), 0, 'temp space reclaimed at startup');
  assert.deepEqual(readdirSync(partDir), ['staging'], "the staging file with the recorded part survives (part 1's half is in it, unrecorded)");
  assert.equal((await c2.get('/v0.5/files/metadata/partial.txt')).status, 404);
  assert.equal((await c2.get('/v0.5/files/metadata/resumable.bin')).status, 404);
  assert.equal((await c2.get('/v0.5/files/info')).body.num_files, 0);

  const again = (await c2.call('POST', '/v0.5/files/uploads/initiate', { filename: 'resumable.bin', file_type: 'application/octet-stream', num_bytes: content.length, resume_if_started: true })).body;
  assert.equal(again.upload_id, init.upload_id);
  assert.equal(again.is_resume, true);
  assert.deepEqual(again.parts.map((p: { part_number: number }) => p.part_number), [1, 2]);
  const parts = [];
  for (const p of again.parts) {
    const r = await rawRequest(p.url, 'PUT', { 'content-length': p.length }, content.subarray(p.offset, p.offset + p.length));
    assert.equal(r.status, 200);
    parts.push({ part_number: p.part_number, part_token: r.headers.etag });
  }
  const done = await c2.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts, integrity_checksum: crc32cToBase64(crc32c(content)) });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const d = await rawRequest(`${second.url}/v0.5/files/download/resumable.bin`, 'GET', AUTH);
  assert.equal(createHash('sha256').update(d.body).digest('hex'), createHash('sha256').update(content).digest('hex'));
});
