/**
 * Requests as hostile or sloppy clients send them, byte for byte over raw sockets: multipart bodies
 * that break off, too many fields, no boundary; a JSON body over the limit sent whole before reading;
 * malformed HTTP the parser refuses; bad base64; 20-digit paging values. Each is answered (never a
 * hang), in the error envelope (never 5xx), and leaves nothing: no temp file, no file version.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';

let t: TestApp;
let port: number;
const AUTH = `Authorization: Bearer ${TEST_KEY}\r\n`;

before(async () => {
  t = await startTestApp({ plans: { plain: { steps: 2, evalEvery: 1 } } });
  port = Number(new URL(t.app.url).port);
});
after(() => t.close());

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  /** The error our write of the request ended with (EPIPE: the server stopped reading before it was sent). */
  writeError?: string;
}

/**
 * Writes `bytes` (all of it, before reading: the way Python's http.client sends a body), then reads
 * until the server closes or `wait` is satisfied. `hangUp`: close our side after writing, without the
 * rest of the body.
 */
function send(bytes: Buffer | string, opts: { hangUp?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let answered = false; // a whole answer arrived, or the server closed
    let sent = false; // our write ended (done or failed)
    let writeError: string | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled || !answered || !(sent || opts.hangUp)) return; // like http.client: the answer is read once the body went out
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const text = buf.toString('utf8');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: text.slice(head.length + 4), writeError });
    };
    const timer = setTimeout(() => reject(new Error(`no complete answer within ${opts.timeoutMs ?? 20_000} ms; got: ${buf.toString('utf8').slice(0, 200)}`)), opts.timeoutMs ?? 20_000);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const text = buf.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /content-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (length && Buffer.byteLength(text.slice(end + 4)) >= Number(length[1])) {
        answered = true;
        finish();
      }
    });
    s.on('close', () => {
      answered = true;
      sent = true;
      finish();
    });
    s.on('error', () => undefined); // a reset after the answer is read is fine; no answer fails by timeout
    s.write(bytes, (err) => {
      sent = true;
      if (err) writeError = (err as NodeJS.ErrnoException).code ?? err.message;
      if (opts.hangUp) s.destroy();
      finish();
    });
  });
}

function assertEnvelope(a: RawAnswer, status: number, code: string): void {
  assert.equal(a.status, status, a.headers + '\n' + a.body);
  const body = JSON.parse(a.body) as { errors: Array<Record<string, string>> };
  assert.equal(body.errors[0]!.code, code, a.body);
  assert.deepEqual(Object.keys(body.errors[0]!).sort(), ['code', 'error_uid', 'message', 'suggestion']);
}

const tmpDir = (): string => join(t.home, 'artifacts', '.tmp');
const tmpFiles = (): string[] => {
  try {
    return readdirSync(tmpDir());
  } catch {
    return [];
  }
};

function multipartRequest(body: string, contentType = 'multipart/form-data; boundary=XX', declared = Buffer.byteLength(body)): string {
  return `POST /v0.5/files HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: ${contentType}\r\nContent-Length: ${declared}\r\n\r\n${body}`;
}
const filePart = (name = 'a.txt', content = 'hello world'): string =>
  `--XX\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;

async function fileIds(): Promise<string[]> {
  return ((await t.client.get('/v0.5/files/metadata')).body as Array<{ file_id: string }>).map((f) => f.file_id).sort();
}

describe('multipart bodies that end wrong', () => {
  test('no closing boundary: 400, no temp file, no file', async () => {
    const before = await fileIds();
    assertEnvelope(await send(multipartRequest(filePart('noclose.txt'))), 400, 'invalid_parameter');
    assert.deepEqual(tmpFiles(), []);
    assert.deepEqual(await fileIds(), before);
  });

  test('more than 10 fields before the file: 400 naming the limit', async () => {
    let fields = '';
    for (let i = 0; i < 12; i++) fields += `--XX\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`;
    const a = await send(multipartRequest(`${fields}${filePart('fields.txt')}--XX--\r\n`));
    assertEnvelope(a, 400, 'invalid_parameter');
    assert.match(a.body, /at most 10/);
    assert.deepEqual(tmpFiles(), []);
    assert.ok(!(await fileIds()).includes('fields.txt'));
  });

  test('multipart/form-data without a boundary: 400, not 500', async () => {
    const a = await send(multipartRequest('hello', 'multipart/form-data'));
    assertEnvelope(a, 400, 'invalid_parameter');
    assert.match(a.body, /boundary/);
  });

  test('a client that hangs up mid-file leaves no temp file and no open upload', async () => {
    const before = await fileIds();
    const body = filePart('hangup.txt', 'x'.repeat(200_000));
    await send(multipartRequest(body, undefined, 10_000_000), { hangUp: true }).catch(() => undefined);
    await waitFor('the broken upload to be cleaned up', () => tmpFiles().length === 0);
    assert.deepEqual(await fileIds(), before);
    assert.equal((await t.client.get('/healthz')).status, 200);
  });

  test('the Content-Length promises more than arrives: answered once the peer half-closes, nothing kept', async () => {
    const a = await new Promise<RawAnswer>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (c) => (out += String(c)));
      s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0), headers: out, body: out.slice(out.indexOf('\r\n\r\n') + 4) }));
      s.end(multipartRequest(filePart('short.txt'), undefined, 5000));
    });
    assert.ok(a.status >= 400 && a.status < 500, a.headers);
    assert.match(a.body, /^\{"errors":\[\{"code":"/);
    await waitFor('no temp file', () => tmpFiles().length === 0);
  });
});

describe('a multipart body that closes before its Content-Length', () => {
  test('then the client hangs up: the parser\'s 400 stands, and the file never appears', async () => {
    const before = await fileIds();
    const content = 'whole multipart, short body';
    const body = `${filePart('short-after-close.txt', content)}--XX--\r\n`;
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (c) => (out += String(c)));
    const closed = new Promise((resolve) => s.on('close', resolve));
    s.write(multipartRequest(body, undefined, Buffer.byteLength(body) + 100));
    const staged = (): boolean => tmpFiles().some((f) => statSync(join(tmpDir(), f)).size === content.length);
    await waitFor('the file part staged (or stored)', async () => staged() || (await fileIds()).length > before.length);
    assert.deepEqual(await fileIds(), before, 'not stored while the request is short of its Content-Length');
    s.end();
    await closed;
    assert.match(out, /^HTTP\/1\.1 400 /, out);
    await waitFor('the staged file removed', () => tmpFiles().length === 0); // a store would rename it before this
    assert.deepEqual(await fileIds(), before, 'not stored after the 400');
  });
});

describe('JSON bodies over the 16 MiB limit', () => {
  test('a client that sends the whole body before reading gets the 413 in the envelope', async () => {
    const body = `{"name":"${'a'.repeat(17 * 1024 * 1024)}"}`;
    const a = await send(`POST /v0.5/fine-tune/jobs HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, { timeoutMs: 60_000 });
    assertEnvelope(a, 413, 'invalid_file_size');
  });
  test('a refusal before the body is read (no key, Connection: close) is still read by a client that sends first', async () => {
    const body = `{"name":"${'a'.repeat(8 * 1024 * 1024)}"}`;
    const a = await send(`POST /v0.5/fine-tune/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, { timeoutMs: 60_000 });
    assert.equal(a.writeError, undefined, 'the server stopped reading before the body was sent');
    assertEnvelope(a, 401, 'unauthorized');
  });
  test('headers over 16 KB before an 8 MiB body: the 431 is read by a client that sends first (the close lingers)', async () => {
    const body = 'a'.repeat(8 * 1024 * 1024);
    const a = await send(`POST /v0.5/fine-tune/jobs HTTP/1.1\r\nHost: x\r\n${AUTH}X-Big: ${'h'.repeat(17_000)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { timeoutMs: 60_000 });
    assert.equal(a.writeError, undefined, 'the server reset the connection before the body was sent');
    assertEnvelope(a, 431, 'headers_too_large');
  });
  test('a bad percent-encoding before an 8 MiB body: the 400 is read by a client that sends first', async () => {
    const body = 'a'.repeat(8 * 1024 * 1024);
    const a = await send(`POST /v0.5/fine-tune/jobs/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}Content-Length: ${body.length}\r\n\r\n${body}`, { timeoutMs: 60_000 });
    assert.equal(a.writeError, undefined, 'the server stopped reading before the body was sent');
    assertEnvelope(a, 400, 'invalid_request');
  });
});

describe("the HTTP parser's and the router's own refusals are in the catalogue", () => {
  const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: x\r\n${AUTH}${extra}\r\n`;
  test('bad percent-encoding in the path: 400 invalid_request', async () => assertEnvelope(await send(get('/v0.5/files/metadata/%ZZ')), 400, 'invalid_request'));
  test('an id of 150 characters reaches the route: 404 job_not_found', async () => assertEnvelope(await send(get(`/v0.5/fine-tune/jobs/${'a'.repeat(150)}`)), 404, 'job_not_found'));
  test('a path segment over 512 characters: 414 uri_too_long', async () => assertEnvelope(await send(get(`/v0.5/fine-tune/jobs/${'a'.repeat(600)}`)), 414, 'uri_too_long'));
  test('NUL in the path: a 4xx in the envelope', async () => {
    const a = await send(get('/v0.5/fine-tune/jobs/a%00b'));
    assert.ok(a.status >= 400 && a.status < 500);
    assert.match(a.body, /^\{"errors":\[\{"code":"/);
  });
  test('a Content-Length that is not a number: 400 invalid_request', async () =>
    assertEnvelope(await send(`POST /v0.5/fine-tune/jobs HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: abc\r\n\r\n{}`), 400, 'invalid_request'));
  test('Content-Length together with Transfer-Encoding: 400 invalid_request', async () =>
    assertEnvelope(await send(`POST /v0.5/fine-tune/jobs HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`), 400, 'invalid_request'));
  test('headers over 16 KB: 431 headers_too_large', async () => assertEnvelope(await send(get('/v0.5/fine-tune/jobs', `X-Big: ${'a'.repeat(17_000)}\r\n`)), 431, 'headers_too_large'));
});

describe('strict base64 uploads', () => {
  for (const [what, text] of [['only padding', '===='], ['unpadded', 'aGVsbG8'], ['padding inside', 'aG=s'], ['data after padding', 'aGVsbG8=aGVs']]) {
    test(`${what} (${JSON.stringify(text)}): 400, nothing stored`, async () => {
      const name = `b64-${what.replace(/\W+/g, '-')}.txt`;
      const form = new FormData();
      form.append('file', new Blob([text], { type: 'text/plain' }), name);
      const r = await fetch(`${t.app.url}/v0.5/files/base64`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` }, body: form });
      assert.equal(r.status, 400, await r.clone().text());
      assert.equal(((await r.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'invalid_parameter');
      assert.ok(!(await fileIds()).includes(name));
    });
  }
  test('well-formed padded base64 is stored decoded', async () => {
    const form = new FormData();
    form.append('file', new Blob(['aGVsbG8=\n'], { type: 'text/plain' }), 'b64-ok.txt');
    const r = await fetch(`${t.app.url}/v0.5/files/base64`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` }, body: form });
    assert.equal(r.status, 200);
    assert.equal(await (await fetch(`${t.app.url}/v0.5/files/download/b64-ok.txt`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text(), 'hello');
  });
});

describe('paging values of any size', () => {
  const HUGE = ['99999999999999999999', '9223372036854775808', '2147483648'];
  test('a 20-digit limit or offset is clamped, never a 500, on every list route', async () => {
    assert.equal((await t.client.upload('page.jsonl', '{"x":1}\n')).status, 200);
    const job = (await t.client.call('POST', '/v0.5/fine-tune/jobs', { name: 'p', config: { model: 'fixture-plain', datasets: [{ name: 'train', split: 'train', file_ids: ['page.jsonl'] }] } })).body;
    await t.client.waitStatus(job.id, ['COMPLETED']);
    const routes = ['/v0.5/fine-tune/jobs', `/v0.5/fine-tune/jobs/${job.id}/events`, `/v0.5/fine-tune/jobs/${job.id}/metrics`, '/v0.6/fine_tuning/jobs', `/v0.6/fine_tuning/jobs/${job.id}/events`, '/v0.5/batch/jobs', '/v0.5/files/metadata'];
    for (const route of routes) {
      for (const n of HUGE) {
        for (const q of route.includes('files') ? [`shard_index=${n}`, `max_items_per_shard=${n}`] : [`limit=${n}`, `offset=${n}`]) {
          const r = await t.client.get(`${route}?${q}`);
          assert.equal(r.status, 200, `${route}?${q}: ${JSON.stringify(r.body)}`);
        }
      }
    }
    const batch = (await t.client.get(`/v0.5/batch/jobs?limit=${HUGE[0]}`)).body;
    assert.equal(batch.limit, 2_147_483_647); // the limit in force, not the 20 digits sent
    const all = (await t.client.get(`/v0.5/fine-tune/jobs?limit=${HUGE[0]}`)).body as unknown[];
    assert.equal(all.length, 1);
    assert.deepEqual((await t.client.get(`/v0.5/fine-tune/jobs?offset=${HUGE[0]}`)).body, []);
  });
  test('a repeated limit or a fraction is a 400', async () => {
    for (const q of ['limit=1&limit=2', 'limit=1.5', 'offset=-1', 'limit=0']) {
      const r = await t.client.get(`/v0.5/fine-tune/jobs?${q}`);
      assert.equal(r.status, 400, q);
    }
  });
});
