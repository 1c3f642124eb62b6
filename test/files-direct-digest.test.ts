/**
 * Direct uploads completed from the digest made as the parts arrived (a process alone on its data:
 * SQLite), on local disk and on S3: nothing is read back at complete, and the file version's sha256,
 * dataset attributes and bytes are those of the same content uploaded simply. A re-sent part, and a
 * replica sharing its data (PostgreSQL), complete by reading back. Counted by
 * `ftnode_direct_upload_completes{read_back}`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { randomHex } from '../src/lib/ids.js';
import { crc32c, crc32cToBase64 } from '../src/blobs/crc32c.js';
import { hashDownload, rawRequest } from './files-helpers.js';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { dropPgSchema } from './helpers/test-store.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

const MiB = 1 << 20;
const PG_URL = process.env.FTNODE_TEST_PG_URL;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** JSON Lines of about `bytes` bytes, with one line that is not JSON (the dataset checks must find it). */
function jsonl(bytes: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const line = i === 777 ? '{not json\n' : `{"i":${i},"pad":"${'x'.repeat(i % 97)}"}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join(''));
}

const apps: TestApp[] = [];
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const a of apps) await a.close();
  for (const c of cleanups) await c();
});

async function readBacks(t: TestApp): Promise<{ no: number; yes: number }> {
  const text = await (await fetch(`${t.app.url}/metrics`)).text();
  const count = (v: string): number => Number(new RegExp(`^ftnode_direct_upload_completes\\{read_back="${v}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { no: count('no'), yes: count('yes') };
}

/** A direct upload of `content`: parts PUT in `order` (all at once), then complete with the CRC-32C. */
async function directUpload(t: TestApp, name: string, content: Buffer, order?: (n: number) => number[], resend: number[] = []): Promise<void> {
  const init = await t.client.call('POST', '/v0.5/files/uploads/initiate', { filename: name, num_bytes: content.length });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const parts = init.body.parts as Array<{ part_number: number; url: string; offset: number; length: number }>;
  const sent = (order ? order(parts.length) : parts.map((p) => p.part_number)).map((n) => parts[n]!);
  const put = async (p: (typeof parts)[number]): Promise<{ part_number: number; part_token: string }> => {
    const r = await rawRequest(p.url, 'PUT', { 'content-length': p.length }, content.subarray(p.offset, p.offset + p.length));
    assert.equal(r.status, 200, r.body.toString());
    return { part_number: p.part_number, part_token: String(r.headers.etag) };
  };
  const tokens = await Promise.all(sent.map(put));
  for (const n of resend) tokens[tokens.findIndex((x) => x.part_number === n)] = await put(parts[n]!);
  const done = await t.client.call('POST', `/v0.5/files/uploads/${init.body.upload_id}/complete`, { parts: tokens, integrity_checksum: crc32cToBase64(crc32c(content)) });
  assert.equal(done.status, 200, JSON.stringify(done.body));
}

/** The direct upload's version matches a simple upload of the same bytes: sha256, attributes, the bytes. */
async function assertSameAsSimple(t: TestApp, direct: string, content: Buffer): Promise<void> {
  const simple = `simple-${direct}`;
  assert.equal((await t.client.upload(simple, content)).status, 200);
  const [d, s] = [(await t.client.get(`/v0.5/files/metadata/${direct}`)).body, (await t.client.get(`/v0.5/files/metadata/${simple}`)).body];
  assert.equal(d.file_attributes.sha256, sha(content));
  assert.equal(d.num_bytes, content.length);
  assert.deepEqual(d.file_attributes, s.file_attributes, 'the same dataset checks as a simple upload');
  const dl = await hashDownload(`${t.app.url}/v0.5/files/download/${direct}`);
  assert.deepEqual([dl.status, dl.sha256, dl.bytes], [200, sha(content), content.length]);
}

for (const backend of ['local disk', 'S3'] as const) {
  describe(`alone on its data (SQLite), ${backend}`, () => {
    let t: TestApp;
    const partBytes = backend === 'S3' ? 5 * MiB : MiB; // S3's smallest part
    const content = jsonl(4 * partBytes + 12345);

    test('setup', async () => {
      let s3: S3Server | null = null;
      if (backend === 'S3') {
        s3 = await startS3Server();
        const env = s3.env('digest');
        for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k];
        cleanups.push(() => s3!.stop());
      }
      const s3Settings = s3 ? { blobUrl: s3.env('digest').FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true } : {};
      t = await startTestApp({ overrides: { builtinWorkers: 0, uploadPartBytes: partBytes, ...s3Settings } });
      apps.push(t);
    });

    test('parts out of order and at once: complete reads nothing back, and the version is what a simple upload makes', async () => {
      await directUpload(t, 'shuffled.jsonl', content, (n) => [...Array(n).keys()].map((i) => (i * 3) % n).reverse());
      assert.deepEqual(await readBacks(t), { no: 1, yes: 0 });
      await assertSameAsSimple(t, 'shuffled.jsonl', content);
      const meta = (await t.client.get('/v0.5/files/metadata/shuffled.jsonl')).body;
      assert.equal(meta.file_attributes.first_invalid_line, 778, JSON.stringify(meta.file_attributes)); // 1-based: line index 777
    });

    test('a part sent twice: complete reads the bytes back, with the same result', async () => {
      await directUpload(t, 'resent.jsonl', content, undefined, [2]);
      assert.deepEqual(await readBacks(t), { no: 1, yes: 1 });
      await assertSameAsSimple(t, 'resent.jsonl', content);
    });
  });
}

describe('a replica sharing its data (PostgreSQL): complete always reads back', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set' }, () => {
  test('a direct upload in order still gets the sha256 of its bytes, read back', async () => {
    const schema = `dig_${randomHex(12)}`;
    cleanups.push(() => dropPgSchema(PG_URL!, schema));
    const t = await startTestApp({ overrides: { builtinWorkers: 0, uploadPartBytes: MiB, databaseUrl: PG_URL!, databaseSchema: schema } });
    apps.push(t);
    const content = jsonl(3 * MiB + 999);
    await directUpload(t, 'shared.jsonl', content);
    assert.deepEqual(await readBacks(t), { no: 0, yes: 1 });
    await assertSameAsSimple(t, 'shared.jsonl', content);
  });
});
