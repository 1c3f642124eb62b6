/**
 * Direct (multipart) uploads at the HTTP level: initiate → signed part PUTs (out of order,
 * concurrent, no bearer) → checkpoint → complete with CRC-32C; resume, supersede, abort, expiry of
 * URLs (manual clock) and of idle uploads, part URL tampering and reuse, wrong part sizes, and org
 * isolation on every route.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32c, crc32cToBase64 } from '../src/blobs/crc32c.js';
import { ManualClock } from '../src/lib/clock.js';
import { AUTH, otherOrgAuth, rawRequest } from './files-helpers.js';
import { Client, startTestApp, type TestApp } from './helpers/harness.js';

const MiB = 1 << 20;
let t: TestApp;
let c: Client;
const clock = new ManualClock(Date.parse('2026-05-01T00:00:00.000Z'));

before(async () => {
  t = await startTestApp({ app: { clock, reaperTimer: false }, overrides: { builtinWorkers: 0, uploadPartBytes: MiB, uploadTtlMs: 3600_000, uploadUrlTtlMs: 600_000 } });
  c = t.client;
});
after(() => t.close());

const data = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 10)) % 251));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const partsDir = (id: string): string => join(t.home, 'artifacts', '.parts', id);

async function initiate(filename: string, num_bytes: number, extra: Record<string, unknown> = {}, client = c) {
  return client.call('POST', '/v0.5/files/uploads/initiate', { filename, file_type: 'text/plain', num_bytes, ...extra });
}
function put(url: string, body: Buffer, headers: Record<string, string> = {}) {
  return rawRequest(url, 'PUT', { 'content-length': body.length, ...headers }, body);
}
async function putAll(init: any, content: Buffer, order?: number[]): Promise<Array<{ part_number: number; part_token: string }>> {
  const parts = order ? order.map((i) => init.parts[i]) : init.parts;
  const res = await Promise.all(parts.map((p: any) => put(p.url, content.subarray(p.offset, p.offset + p.length))));
  return res.map((r, i) => {
    assert.equal(r.status, 200, r.body.toString());
    return { part_number: parts[i].part_number, part_token: String(r.headers.etag) };
  });
}

describe('happy path', () => {
  test('initiate shape, parts out of order and concurrently, quoted and unquoted tokens, crc32c verified', async () => {
    const content = data(3 * MiB + 12345, 1);
    const init = await initiate('direct.txt', content.length);
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const b = init.body;
    assert.deepEqual(Object.keys(b).sort(), ['file_name', 'file_uid', 'integrity_algorithm', 'is_resume', 'num_parts', 'part_size', 'parts', 'total_bytes', 'upload_id']);
    assert.equal(b.file_name, 'direct.txt');
    assert.equal(b.total_bytes, content.length);
    assert.equal(b.part_size, MiB);
    assert.equal(b.num_parts, 4);
    assert.equal(b.is_resume, false);
    assert.equal(b.integrity_algorithm, 'crc32c');
    assert.match(b.upload_id, /^upl_/);
    assert.deepEqual(b.parts.map((p: any) => [p.part_number, p.offset, p.length]), [[0, 0, MiB], [1, MiB, MiB], [2, 2 * MiB, MiB], [3, 3 * MiB, 12345]]);
    assert.match(b.parts[0].expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const tokens = await putAll(b, content, [3, 1, 0, 2]);
    assert.match(tokens[0]!.part_token, /^"[0-9a-f]{32}"$/, 'the ETag is quoted');
    const mixed = tokens.map((p, i) => (i % 2 ? { ...p, part_token: p.part_token.replace(/"/g, '') } : p));
    const done = await c.call('POST', `/v0.5/files/uploads/${b.upload_id}/complete`, { parts: mixed, integrity_checksum: crc32cToBase64(crc32c(content)) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body, { file_uid: b.file_uid, file_name: 'direct.txt', num_bytes: content.length, file_status: 'Registered', file_attributes: { metadata_status: 'not_extracted' } });
    const d = await rawRequest(`${t.app.url}/v0.5/files/download/direct.txt`, 'GET', AUTH);
    assert.equal(sha(d.body), sha(content));
    assert.equal((await c.get('/v0.5/files/metadata/direct.txt')).body.file_attributes.sha256, sha(content));
    assert.ok(!existsSync(partsDir(b.upload_id)), 'part files removed after complete');
  });

  test('JSONL as application/x-ndjson is accepted by initiate; a zero-byte file has one empty part', async () => {
    const body = Buffer.from('{"a":1}\n{"b":2}\n');
    const init = (await c.call('POST', '/v0.5/files/uploads/initiate', { filename: 'nd.jsonl', file_type: 'application/x-ndjson', num_bytes: body.length })).body;
    const parts = await putAll(init, body);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts })).status, 200);
    const meta = (await c.get('/v0.5/files/metadata/nd.jsonl')).body;
    assert.equal(meta.file_type, 'application/x-ndjson');
    assert.equal(meta.file_attributes.num_lines, 2);
    const empty = (await initiate('empty.txt', 0)).body;
    assert.equal(empty.num_parts, 1);
    assert.equal(empty.parts[0].length, 0);
    const ep = await putAll(empty, Buffer.alloc(0));
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${empty.upload_id}/complete`, { parts: ep })).body.num_bytes, 0);
  });
});

describe('integrity', () => {
  test('a wrong crc32c is 400 checksum_mismatch, stores nothing, and the upload can complete after', async () => {
    const content = data(MiB + 5, 2);
    const init = (await initiate('crc.txt', content.length)).body;
    const parts = await putAll(init, content);
    const bad = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts, integrity_checksum: 'AAAAAA==' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors.length, 1);
    assert.equal(bad.body.errors[0].code, 'checksum_mismatch');
    assert.equal((await c.get('/v0.5/files/metadata/crc.txt')).status, 404);
    assert.equal(readdirSync(join(t.home, 'artifacts', '.tmp')).length, 0, 'no staged bytes left');
    const good = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [], integrity_checksum: crc32cToBase64(crc32c(content)) });
    assert.equal(good.status, 200, JSON.stringify(good.body));
  });

  test('a malformed checksum is 400 invalid_parameter before anything moves', async () => {
    const init = (await initiate('crcfmt.txt', 3)).body;
    const parts = await putAll(init, Buffer.from('abc'));
    for (const cs of ['abc', 'AAAAAAAA', '4waSgw=']) {
      const r = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts, integrity_checksum: cs });
      assert.equal(r.status, 400, cs);
      assert.equal(r.body.errors[0].code, 'invalid_parameter');
    }
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts })).status, 200);
  });
});

describe('names, resume and supersede', () => {
  test('initiate for an existing name: 409 file_already_exists (also with resume_if_started)', async () => {
    await c.upload('exists.txt', 'x');
    for (const extra of [{}, { resume_if_started: true }]) {
      const r = await initiate('exists.txt', 10, extra);
      assert.equal(r.status, 409);
      assert.equal(r.body.errors[0].code, 'file_already_exists');
    }
  });

  test('resume_if_started returns the unfinished upload with URLs only for parts not checkpointed', async () => {
    const content = data(3 * MiB, 3);
    const first = (await initiate('resume.txt', content.length)).body;
    const early = await putAll({ parts: first.parts.slice(0, 2) }, content);
    const cp = await c.call('POST', `/v0.5/files/uploads/${first.upload_id}/parts/checkpoint`, { parts: [early[0]] });
    assert.deepEqual(cp.body, { num_checkpointed: 1 });
    const again = (await initiate('resume.txt', content.length, { resume_if_started: true })).body;
    assert.equal(again.upload_id, first.upload_id);
    assert.equal(again.file_uid, first.file_uid);
    assert.equal(again.is_resume, true);
    assert.deepEqual(again.parts.map((p: any) => p.part_number), [1, 2]);
    const rest = await putAll(again, content);
    const done = await c.call('POST', `/v0.5/files/uploads/${first.upload_id}/complete`, { parts: rest });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(sha((await rawRequest(`${t.app.url}/v0.5/files/download/resume.txt`, 'GET', AUTH)).body), sha(content));
  });

  test('a new initiate without resume supersedes the unfinished upload of that name', async () => {
    const old = (await initiate('super.txt', 10)).body;
    await putAll(old, data(10, 4));
    assert.ok(existsSync(partsDir(old.upload_id)));
    const fresh = (await initiate('super.txt', 10)).body;
    assert.notEqual(fresh.upload_id, old.upload_id);
    assert.equal(fresh.is_resume, false);
    assert.ok(!existsSync(partsDir(old.upload_id)), 'superseded parts deleted');
    assert.equal((await put(old.parts[0].url, data(10, 4))).status, 409);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${old.upload_id}/complete`, { parts: [] })).status, 409);
  });

  test('unsafe names, unknown types and oversize num_bytes are refused at initiate', async () => {
    for (const f of ['../x.txt', 'a/b.txt', '..', 'x'.repeat(256)]) assert.equal((await initiate(f, 1)).body.errors[0].code, 'invalid_parameter', f);
    assert.equal((await c.call('POST', '/v0.5/files/uploads/initiate', { filename: 'a.gif', file_type: 'image/gif', num_bytes: 1 })).body.errors[0].code, 'invalid_file_type');
    const big = await initiate('huge.txt', 300_000_000_000);
    assert.equal(big.status, 413);
    assert.equal(big.body.errors[0].code, 'invalid_file_size');
    const miss = await c.call('POST', '/v0.5/files/uploads/initiate', { filename: 'a.txt' });
    assert.equal(miss.status, 400);
    assert.equal(miss.body.errors[0].code, 'missing_parameter');
  });
});

describe('parts', () => {
  test('parts/urls keeps the order, duplicates share one URL, out-of-range numbers are 400', async () => {
    const init = (await initiate('urls.txt', 3 * MiB)).body;
    const r = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/urls`, { part_numbers: [2, 0, 2] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.parts.map((p: any) => p.part_number), [2, 0, 2]);
    assert.equal(r.body.parts[0].url, r.body.parts[2].url);
    assert.equal(r.body.parts[0].offset, 2 * MiB);
    const bad = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/urls`, { part_numbers: [0, 3] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /3/);
  });

  test('a part must be exactly its length: short, long (chunked) and mis-declared bodies are 400 and stored nowhere', async () => {
    const init = (await initiate('sizes.txt', 100)).body;
    const url = init.parts[0].url;
    assert.equal((await put(url, data(99, 5))).status, 400);
    assert.equal((await put(url, data(101, 5))).status, 400);
    const chunked = await rawRequest(url, 'PUT', { 'transfer-encoding': 'chunked' }, data(150, 5));
    assert.equal(chunked.status, 400);
    assert.match(chunked.json().errors[0].message, /exactly 100 bytes/);
    assert.deepEqual(existsSync(partsDir(init.upload_id)) ? readdirSync(partsDir(init.upload_id)) : [], []);
    const ok = await rawRequest(url, 'PUT', { 'transfer-encoding': 'chunked' }, data(100, 5));
    assert.equal(ok.status, 200);
  });

  test('a chunked re-PUT of a recorded part that runs short is 400 and leaves the recorded bytes as they were', async () => {
    const content = data(100, 6);
    const init = (await initiate('held.txt', 100)).body;
    const [first] = await putAll(init, content);
    const staging = join(partsDir(init.upload_id), 'staging');
    const before = { bytes: readFileSync(staging), mtime: statSync(staging).mtimeMs };
    const short = await rawRequest(init.parts[0].url, 'PUT', { 'transfer-encoding': 'chunked' }, data(60, 7));
    assert.equal(short.status, 400);
    assert.match(short.json().errors[0].message, /exactly 100 bytes; received 60/);
    assert.ok(readFileSync(staging).equals(before.bytes), 'the recorded part was not overwritten');
    assert.equal(statSync(staging).mtimeMs, before.mtime, 'nothing was written');
    const done = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [first], integrity_checksum: crc32cToBase64(crc32c(content)) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(sha((await rawRequest(`${t.app.url}/v0.5/files/download/held.txt`, 'GET', AUTH)).body), sha(content));
  });

  test('a re-sent part replaces the earlier one: the old token no longer completes', async () => {
    const init = (await initiate('resend.txt', 4)).body;
    const [first] = await putAll(init, Buffer.from('aaaa'));
    const [second] = await putAll(init, Buffer.from('bbbb'));
    const stale = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [first] });
    assert.equal(stale.status, 400);
    assert.match(stale.body.errors[0].message, /part_token/);
    assert.equal(readdirSync(partsDir(init.upload_id)).length, 1, 'the replaced part file is gone');
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [second] })).status, 200);
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/resend.txt`, 'GET', AUTH)).body.toString(), 'bbbb');
  });

  test('checkpoint is all or nothing; complete lists the missing parts', async () => {
    const content = data(2 * MiB + 1, 6);
    const init = (await initiate('cp.txt', content.length)).body;
    const parts = await putAll({ parts: init.parts.slice(0, 2) }, content);
    const bad = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/checkpoint`, { parts: [parts[0], { part_number: 1, part_token: 'nope' }] });
    assert.equal(bad.status, 400);
    const missing = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [] });
    assert.equal(missing.status, 400);
    assert.match(missing.body.errors[0].message, /part\(s\) 0, 1, 2 are missing/);
    assert.deepEqual((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/checkpoint`, { parts })).body, { num_checkpointed: 2 });
    const third = await putAll({ parts: [init.parts[2]] }, content);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: third })).status, 200);
  });
});

describe('abort', () => {
  test('abort deletes the parts; PUT and complete then 409; abort after complete 409', async () => {
    const init = (await initiate('abort.txt', 10)).body;
    await putAll(init, data(10, 7));
    const r = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/abort`);
    assert.equal(r.status, 200);
    assert.equal(r.body.upload_status, 'aborted');
    assert.ok(!existsSync(partsDir(init.upload_id)));
    assert.equal((await put(init.parts[0].url, data(10, 7))).status, 409);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [] })).status, 409);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/abort`, {})).status, 200, 'repeated abort is harmless');
    const done = (await initiate('abort2.txt', 1)).body;
    const p = await putAll(done, Buffer.from('z'));
    await c.call('POST', `/v0.5/files/uploads/${done.upload_id}/complete`, { parts: p });
    const late = await c.call('POST', `/v0.5/files/uploads/${done.upload_id}/abort`);
    assert.equal(late.status, 409);
    assert.equal(late.body.errors[0].code, 'invalid_state_transition');
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${done.upload_id}/complete`, { parts: p })).status, 409);
    assert.equal((await c.call('POST', '/v0.5/files/uploads/upl_doesnotexist/abort')).body.errors[0].code, 'upload_not_found');
  });
});

describe('signed part URLs', () => {
  test('no bearer needed; tampering with sig, expiry, part number or upload id is 403; reuse on another upload refused', async () => {
    const a = (await initiate('sig-a.txt', 2 * MiB)).body;
    const b = (await initiate('sig-b.txt', 2 * MiB)).body;
    const body = data(MiB, 8);
    const u = new URL(a.parts[0].url);
    const variants: Array<[string, string]> = [];
    const sig = u.searchParams.get('sig')!;
    const alt = (s: string): string => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const withParam = (k: string, v: string) => {
      const x = new URL(u);
      x.searchParams.set(k, v);
      return x.toString();
    };
    variants.push(['changed sig', withParam('sig', alt(sig))]);
    variants.push(['later expiry', withParam('expires', String(Number(u.searchParams.get('expires')) + 3600))]);
    variants.push(['no sig', u.toString().replace(/&sig=[^&]+/, '')]);
    variants.push(['other part number', u.toString().replace('/parts/0?', '/parts/1?')]);
    variants.push(['same URL on another upload', u.toString().replace(a.upload_id, b.upload_id)]);
    for (const [what, url] of variants) {
      const r = await put(url, body);
      assert.equal(r.status, 403, what);
      assert.equal(r.json().errors[0].code, 'unauthorized', what);
    }
    const ok = await put(u.toString(), body);
    assert.equal(ok.status, 200);
  });

  test('an expired URL is 403; parts/urls hands out a fresh one that works', async () => {
    const init = (await initiate('expiry.txt', 5)).body;
    clock.advance(600_000 + 1000); // past the 10-minute URL lifetime
    const r = await put(init.parts[0].url, data(5, 9));
    assert.equal(r.status, 403);
    assert.match(r.json().errors[0].message, /expired/);
    const fresh = (await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/parts/urls`, { part_numbers: [0] })).body.parts[0];
    assert.equal((await put(fresh.url, data(5, 9))).status, 200);
  });

  test('an upload idle longer than the TTL is expired by the sweep and its parts deleted', async () => {
    const init = (await initiate('idle.txt', 10)).body;
    await putAll(init, data(10, 10));
    clock.advance(3600_000 - 1);
    await t.app.files.uploads.sweep(); // (older uploads of this file's other tests may expire here)
    assert.ok(existsSync(partsDir(init.upload_id)), 'not idle long enough yet');
    clock.advance(2);
    assert.ok((await t.app.files.uploads.sweep()) >= 1);
    assert.ok(!existsSync(partsDir(init.upload_id)));
    const r = await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts: [] });
    assert.equal(r.status, 409);
    assert.match(r.body.errors[0].message, /expired/);
    const again = await initiate('idle.txt', 10, { resume_if_started: true });
    assert.equal(again.body.is_resume, false, 'nothing left to resume');
  });
});

describe('organizations', () => {
  test("another org gets 404 upload_not_found on every route of this org's upload; initiate needs the key", async () => {
    const init = (await initiate('iso.txt', 10)).body;
    const parts = await putAll(init, data(10, 11));
    const other = new Client(t.app.url, (await otherOrgAuth(t.app, 'direct-other')).authorization.slice(7));
    for (const [p, body] of [['parts/urls', { part_numbers: [0] }], ['parts/checkpoint', { parts }], ['complete', { parts }], ['abort', {}]] as const) {
      const r = await other.call('POST', `/v0.5/files/uploads/${init.upload_id}/${p}`, body);
      assert.equal(r.status, 404, p);
      assert.equal(r.body.errors[0].code, 'upload_not_found', p);
    }
    assert.equal((await initiate('iso.txt', 10, {}, other)).status, 200, 'names are per organization');
    assert.equal((await new Client(t.app.url, null).call('POST', '/v0.5/files/uploads/initiate', { filename: 'x.txt', num_bytes: 1 })).status, 401);
    assert.equal((await c.call('POST', `/v0.5/files/uploads/${init.upload_id}/complete`, { parts })).status, 200);
  });
});
