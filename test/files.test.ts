/**
 * Files API v0.5 at the HTTP level (docs/spec.md#files): simple and base64 uploads, replace semantics and
 * racing uploads, info, metadata with shards, streamed download with Range, delete, content types,
 * unsafe names, dataset checks, bytes kept while a job needs them, and org isolation on every route.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/lib/clock.js';
import { AUTH, hashDownload, orgUuid, otherOrgAuth, rawRequest, uploadRaw } from './files-helpers.js';
import { Client, jobBody, startTestApp, waitFor, type TestApp } from './helpers/harness.js';

let t: TestApp;
let c: Client;
const clock = new ManualClock(Date.parse('2026-03-01T12:00:00.000Z'));
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  t = await startTestApp({ app: { clock }, overrides: { builtinWorkers: 0 }, plans: { hold: { steps: 2 } } });
  c = t.client;
});
after(() => t.close());

async function b64Upload(name: string, text: string, type = 'text/plain', auth: Record<string, string> = AUTH) {
  return uploadRaw(t.app.url, '/v0.5/files/base64', name, type, Buffer.from(text), Buffer.byteLength(text), auth);
}
const blobPath = async (uid: string): Promise<string> => join(t.home, 'artifacts', 'files', await orgUuid(t.app), uid);

describe('simple upload', () => {
  test('upload → metadata → download: same bytes, documented shapes', async () => {
    const content = Buffer.from('{"messages":[]}\n{"messages":[1]}\n');
    const r = await c.upload('train.jsonl', content, 'text/plain');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['file_id', 'file_uid', 'is_valid']);
    assert.equal(r.body.is_valid, true);
    assert.equal(r.body.file_id, 'train.jsonl');
    assert.match(r.body.file_uid, /^fil_[0-9a-z]{26}$/);
    const m = await c.get('/v0.5/files/metadata/train.jsonl');
    assert.equal(m.status, 200);
    assert.equal(m.body.is_valid, true);
    assert.equal(m.body.file_uid, r.body.file_uid);
    assert.equal(m.body.num_bytes, content.length);
    assert.equal(m.body.file_type, 'text/plain');
    assert.equal(m.body.file_attributes.sha256, sha(content));
    for (const k of ['file_status', 'ingested', 'file_index', 'file_tags', 'file_attributes']) assert.ok(k in m.body, k);
    const d = await rawRequest(`${t.app.url}/v0.5/files/download/train.jsonl`, 'GET', AUTH);
    assert.equal(d.status, 200);
    assert.equal(d.headers['content-type'], 'application/octet-stream');
    assert.equal(d.headers['content-length'], String(content.length));
    assert.deepEqual(d.body, content);
  });

  test('a second upload of a name replaces it: new file_uid, new bytes, one listing entry, old bytes collected', async () => {
    const first = await c.upload('replace.txt', 'one');
    const second = await c.upload('replace.txt', 'two!');
    assert.equal(second.status, 200);
    assert.notEqual(second.body.file_uid, first.body.file_uid);
    const d = await rawRequest(`${t.app.url}/v0.5/files/download/replace.txt`, 'GET', AUTH);
    assert.equal(d.body.toString(), 'two!');
    const list = (await c.get('/v0.5/files/metadata')).body.filter((f: any) => f.file_id === 'replace.txt');
    assert.equal(list.length, 1);
    const old = await blobPath(first.body.file_uid);
    await waitFor('old version bytes collected', () => !existsSync(old));
  });

  test('racing uploads of one name both succeed; the last commit wins whole, bytes never mix', async () => {
    const a = Buffer.alloc(3_000_000, 'a');
    const b = Buffer.alloc(2_000_000, 'b');
    const [ra, rb] = await Promise.all([c.upload('race.txt', a), c.upload('race.txt', b)]);
    assert.equal(ra.status, 200);
    assert.equal(rb.status, 200);
    const m = (await c.get('/v0.5/files/metadata/race.txt')).body;
    assert.ok([ra.body.file_uid, rb.body.file_uid].includes(m.file_uid));
    const d = await hashDownload(`${t.app.url}/v0.5/files/download/race.txt`);
    const winner = m.file_uid === ra.body.file_uid ? a : b;
    assert.equal(d.sha256, sha(winner));
    assert.equal(m.num_bytes, winner.length);
    assert.equal(m.file_attributes.sha256, sha(winner));
  });

  test('missing file part, wrong field name and a non-multipart body are 400s', async () => {
    const form = new FormData();
    form.append('document', new Blob(['x']), 'x.txt');
    const res = await fetch(`${t.app.url}/v0.5/files`, { method: 'POST', headers: AUTH, body: form });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).errors[0].code, 'missing_parameter');
    const twice = new FormData();
    twice.append('file', new Blob(['first']), 'twice.txt');
    twice.append('file', new Blob(['second']), 'twice.txt');
    twice.append('other', new Blob(['third']), 'other.txt');
    const r2 = await fetch(`${t.app.url}/v0.5/files`, { method: 'POST', headers: AUTH, body: twice });
    assert.equal(r2.status, 200, 'extra file parts are read and ignored');
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/twice.txt`, 'GET', AUTH)).body.toString(), 'first');
    const json = await c.call('POST', '/v0.5/files', { file: 'x' });
    assert.equal(json.status, 400);
  });
});

describe('base64 upload', () => {
  test('the part holds base64 text; the part filename is the real name; bytes decode exactly', async () => {
    const bin = Buffer.from(Array.from({ length: 3001 }, (_, i) => (i * 37) % 256));
    const text = bin.toString('base64').replace(/(.{76})/g, '$1\r\n'); // MIME line wrapping
    const r = await b64Upload('blob.csv', text, 'text/csv');
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.json().file_id, 'blob.csv');
    const d = await rawRequest(`${t.app.url}/v0.5/files/download/blob.csv`, 'GET', AUTH);
    assert.deepEqual(d.body, bin);
    assert.equal((await c.get('/v0.5/files/metadata/blob.csv')).body.num_bytes, bin.length);
  });

  test('invalid base64 is a 400 and stores nothing', async () => {
    for (const bad of ['not base64 at all!', 'QUJD=QUJD', 'QUJDR']) {
      const r = await b64Upload('bad64.txt', bad);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json().errors[0].code, 'invalid_parameter');
    }
    assert.equal((await c.get('/v0.5/files/metadata/bad64.txt')).status, 404);
  });
});

describe('info and metadata', () => {
  test('info counts current files and bytes; last_updated is unix seconds (float) of the last change', async () => {
    clock.set(Date.parse('2026-03-02T08:00:00.250Z'));
    await c.upload('info-probe.txt', '12345');
    const info = (await c.get('/v0.5/files/info')).body;
    assert.deepEqual(Object.keys(info).sort(), ['last_updated', 'num_bytes', 'num_files', 'num_ingested']);
    assert.equal(info.last_updated, Date.parse('2026-03-02T08:00:00.250Z') / 1000);
    const list = (await c.get('/v0.5/files/metadata')).body;
    assert.equal(info.num_files, list.length);
    assert.equal(info.num_ingested, list.length);
    assert.equal(info.num_bytes, list.reduce((s: number, f: any) => s + f.num_bytes, 0));
  });

  test('list is a bare array; shard_index / max_items_per_shard slice it; -1 means all', async () => {
    const all = (await c.get('/v0.5/files/metadata')).body;
    assert.ok(Array.isArray(all) && all.length >= 4);
    const ids = all.map((f: any) => f.file_id);
    const q = async (s: string) => (await c.get(`/v0.5/files/metadata?${s}`)).body.map((f: any) => f.file_id);
    assert.deepEqual(await q('shard_index=-1&max_items_per_shard=-1'), ids);
    assert.deepEqual(await q('shard_index=0&max_items_per_shard=2'), ids.slice(0, 2));
    assert.deepEqual(await q('shard_index=1&max_items_per_shard=2'), ids.slice(2, 4));
    assert.deepEqual(await q('shard_index=-1&max_items_per_shard=2'), ids);
    assert.deepEqual(await q('shard_index=0'), ids);
    assert.deepEqual(await q('shard_index=1'), []);
    assert.deepEqual(await q('shard_index=999&max_items_per_shard=5'), []);
  });

  test('bad shard values are 400s, every problem reported', async () => {
    for (const s of ['shard_index=abc', 'shard_index=-2', 'max_items_per_shard=0', 'max_items_per_shard=1.5', 'shard_index=1&shard_index=2']) {
      const r = await c.get(`/v0.5/files/metadata?${s}`);
      assert.equal(r.status, 400, s);
      assert.equal(r.body.errors[0].code, 'invalid_parameter');
    }
    const two = await c.get('/v0.5/files/metadata?shard_index=x&max_items_per_shard=y');
    assert.equal(two.body.errors.length, 2);
  });

  test('unknown file: 404 file_not_found on metadata, download and delete', async () => {
    for (const [m, p] of [['GET', '/v0.5/files/metadata/nope.txt'], ['GET', '/v0.5/files/download/nope.txt'], ['DELETE', '/v0.5/files/delete/nope.txt']]) {
      const r = await c.call(m!, p!);
      assert.equal(r.status, 404, p);
      assert.equal(r.body.errors[0].code, 'file_not_found');
    }
  });
});

describe('download ranges', () => {
  const body = Buffer.from('0123456789abcdefghij');
  before(async () => {
    await c.upload('range.txt', body);
  });
  const get = (range?: string) => rawRequest(`${t.app.url}/v0.5/files/download/range.txt`, 'GET', range ? { ...AUTH, range } : AUTH);

  test('206 with Content-Range for first-last, open-ended and suffix ranges', async () => {
    for (const [range, start, end] of [['bytes=0-3', 0, 3], ['bytes=5-', 5, 19], ['bytes=-4', 16, 19], ['bytes=10-999', 10, 19]] as const) {
      const r = await get(range);
      assert.equal(r.status, 206, range);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/20`);
      assert.equal(r.headers['content-length'], String(end - start + 1));
      assert.deepEqual(r.body, body.subarray(start, end + 1));
    }
  });

  test('416 with Content-Range */size when unsatisfiable; a malformed header is ignored', async () => {
    for (const range of ['bytes=20-', 'bytes=100-200', 'bytes=-0']) {
      const r = await get(range);
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], 'bytes */20');
      assert.ok(r.json().errors[0].code);
    }
    for (const range of ['items=0-1', 'bytes=5-2', 'bytes=0-1,4-5']) {
      const r = await get(range);
      assert.equal(r.status, 200, range);
      assert.deepEqual(r.body, body);
    }
    assert.equal((await get()).headers['accept-ranges'], 'bytes');
  });
});

describe('delete', () => {
  test('answers {is_valid, file_id, file_uid}; the file leaves the listing and its bytes go', async () => {
    const up = await c.upload('gone.txt', 'bye');
    const path = await blobPath(up.body.file_uid);
    assert.ok(existsSync(path));
    const r = await c.call('DELETE', '/v0.5/files/delete/gone.txt');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { is_valid: true, file_id: 'gone.txt', file_uid: up.body.file_uid });
    assert.equal((await c.get('/v0.5/files/metadata/gone.txt')).status, 404);
    assert.ok(!(await c.get('/v0.5/files/metadata')).body.some((f: any) => f.file_id === 'gone.txt'));
    await waitFor('deleted bytes collected', () => !existsSync(path));
    assert.equal((await c.call('DELETE', '/v0.5/files/delete/gone.txt')).status, 404);
  });

  test('a file a non-terminal job uses keeps its bytes (deleted or replaced) until the job ends', async () => {
    const up = await c.upload('jobdata.jsonl', '{"x":1}\n');
    const path = await blobPath(up.body.file_uid);
    const job = await c.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-hold', 'jobdata.jsonl', { id: 'gc-hold-job' }));
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.status, 'REGISTERED'); // no workers: stays queued, not terminal
    assert.equal((await c.call('DELETE', '/v0.5/files/delete/jobdata.jsonl')).status, 200);
    await c.upload('jobdata.jsonl', 'replacement'); // a new version under the name changes nothing for the job
    await t.app.files.collectGarbage();
    assert.ok(existsSync(path), 'bytes of a version a queued job uses must stay');
    assert.equal((await c.call('PUT', '/v0.5/fine-tune/jobs/gc-hold-job/cancel')).status, 200);
    await t.app.files.collectGarbage();
    assert.ok(!existsSync(path), 'collected once the job ended');
  });
});

describe('content types and names', () => {
  test('JSONL as application/x-ndjson is refused with invalid_file_type; as text/plain accepted', async () => {
    const r = await c.upload('d.jsonl', '{}\n', 'application/x-ndjson');
    assert.equal(r.status, 400);
    assert.equal(r.body.errors[0].code, 'invalid_file_type');
    assert.equal((await c.upload('d.jsonl', '{}\n', 'text/plain')).status, 200);
    assert.equal((await c.upload('pic.gif', 'GIF89a', 'image/gif')).body.errors[0].code, 'invalid_file_type');
  });

  test('application/octet-stream is resolved from the extension (curl default)', async () => {
    assert.equal((await c.upload('oct.jsonl', '{}\n', 'application/octet-stream')).status, 200);
    assert.equal((await c.get('/v0.5/files/metadata/oct.jsonl')).body.file_type, 'text/plain');
    assert.equal((await c.upload('oct.bin', 'x', 'application/octet-stream')).body.errors[0].code, 'invalid_file_type');
  });

  test('unsafe names are refused and store nothing; a 255-byte name works on every route', async () => {
    const before = (await c.get('/v0.5/files/info')).body.num_files;
    for (const name of ['../escape.txt', 'dir/file.txt', 'dir\\file.txt', '..', 'a..b.txt', `${'n'.repeat(252)}.txt`]) {
      const r = await uploadRaw(t.app.url, '/v0.5/files', name, 'text/plain', Buffer.from('x'), 1);
      assert.equal(r.status, 400, name);
      assert.equal(r.json().errors[0].code, 'invalid_parameter', name);
    }
    assert.equal((await c.get('/v0.5/files/info')).body.num_files, before);
    const long = `${'l'.repeat(251)}.txt`;
    assert.equal((await c.upload(long, 'x')).status, 200);
    assert.equal((await c.get(`/v0.5/files/metadata/${long}`)).status, 200);
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/${long}`, 'GET', AUTH)).status, 200);
    const spaced = 'my data (v2).csv';
    assert.equal((await c.upload(spaced, 'a\n1\n', 'text/csv')).status, 200);
    assert.equal((await c.get(`/v0.5/files/metadata/${encodeURIComponent(spaced)}`)).body.file_id, spaced);
  });
});

describe('dataset checks recorded in file_attributes', () => {
  test('CSV: header columns, column count, rows, first row with a wrong column count (quotes respected)', async () => {
    const csv = 'id,"name, full",score\r\n1,"a, b",3\r\n2,"multi\nline",4\r\n\r\n3,x\r\n4,y,5\r\n5,z,6';
    await c.upload('check.csv', csv, 'text/csv');
    const a = (await c.get('/v0.5/files/metadata/check.csv')).body.file_attributes;
    assert.equal(a.format, 'csv');
    assert.deepEqual(a.columns, ['id', 'name, full', 'score']);
    assert.equal(a.num_columns, 3);
    assert.equal(a.num_rows, 5);
    assert.equal(a.first_bad_row, 3);
    assert.equal(a.first_bad_row_columns, 2);
  });

  test('JSONL: line count and the first line that is not JSON', async () => {
    await c.upload('check.jsonl', '{"a":1}\n\n[2]\n{broken\n{"b":3}\n', 'text/plain');
    const a = (await c.get('/v0.5/files/metadata/check.jsonl')).body.file_attributes;
    assert.equal(a.format, 'jsonl');
    assert.equal(a.num_lines, 4);
    assert.equal(a.first_invalid_line, 4);
    assert.match(a.first_invalid_error, /JSON/);
    await c.upload('good.jsonl', '{"a":1}\n{"b":2}', 'text/plain');
    const g = (await c.get('/v0.5/files/metadata/good.jsonl')).body.file_attributes;
    assert.equal(g.num_lines, 2);
    assert.equal(g.first_invalid_line, null);
  });
});

describe('organizations are isolated on every route', () => {
  test("another org sees none of this org's files, and its own uploads are separate", async () => {
    await c.upload('shared-name.txt', 'mine');
    const other = await otherOrgAuth(t.app);
    const oc = new Client(t.app.url, other.authorization.slice('Bearer '.length));
    assert.equal((await oc.get('/v0.5/files/metadata/shared-name.txt')).status, 404);
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/shared-name.txt`, 'GET', other)).status, 404);
    assert.equal((await oc.call('DELETE', '/v0.5/files/delete/shared-name.txt')).status, 404);
    assert.deepEqual((await oc.get('/v0.5/files/metadata')).body, []);
    assert.equal((await oc.get('/v0.5/files/info')).body.num_files, 0);
    assert.equal((await oc.upload('shared-name.txt', 'theirs')).status, 200);
    assert.equal((await b64Upload('b64-other.txt', Buffer.from('x').toString('base64'), 'text/plain', other)).status, 200);
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/shared-name.txt`, 'GET', AUTH)).body.toString(), 'mine');
    assert.equal((await rawRequest(`${t.app.url}/v0.5/files/download/shared-name.txt`, 'GET', other)).body.toString(), 'theirs');
    assert.equal((await c.get('/v0.5/files/metadata/b64-other.txt')).status, 404);
  });

  test('every files route needs the bearer key', async () => {
    const anon = new Client(t.app.url, null);
    for (const [m, p] of [['GET', '/v0.5/files/info'], ['GET', '/v0.5/files/metadata'], ['GET', '/v0.5/files/metadata/x'], ['GET', '/v0.5/files/download/x'],
      ['DELETE', '/v0.5/files/delete/x'], ['POST', '/v0.5/files'], ['POST', '/v0.5/files/base64']]) {
      assert.equal((await anon.call(m!, p!)).status, 401, `${m} ${p}`);
    }
  });
});
