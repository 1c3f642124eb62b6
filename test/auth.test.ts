/**
 * Authentication and tenancy at the HTTP level (docs/spec.md#wire-conventions): the 401 envelope for every malformed,
 * wrong or revoked key; another organization's job and files answer 404 (never 403) on every route,
 * and cannot be referenced in a create; /healthz and /openapi.json need no key, and the OpenAPI
 * document lists the v0.5 paths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, jobBody, startTestApp, TEST_KEY, type ApiResponse, type TestApp } from './helpers/harness.js';

const JOBS = '/v0.5/fine-tune/jobs';
let t: TestApp;
let other: Client;
let job: any;
let ckptId: string;

before(async () => {
  t = await startTestApp({ plans: { plain: { steps: 4, evalEvery: 2 } } });
  other = new Client(t.app.url, (await t.app.auth.createKey('other-org')).key);
  assert.equal((await t.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
  const r = await t.client.call('POST', JOBS, jobBody('fixture-plain', 'data.jsonl', { id: 'org-a-job' }));
  assert.equal(r.status, 201);
  job = await t.client.waitStatus(r.body.id, ['COMPLETED', 'FAILED']);
  assert.equal(job.status, 'COMPLETED');
  ckptId = (await t.client.get(`${JOBS}/${job.id}/checkpoints`)).body.data[0].id;
});
after(() => t.close());

function assertError(r: ApiResponse, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.errors.length, 1);
  const [e] = r.body.errors;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'error_uid', 'message', 'suggestion']);
  assert.equal(e.code, code);
  assert.match(e.error_uid, /^err-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
}

async function withAuth(authorization: string | null, path = JOBS, method = 'GET'): Promise<ApiResponse> {
  const res = await fetch(t.app.url + path, { method, headers: authorization === null ? {} : { authorization } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

describe('401', () => {
  test('no header, wrong key, `Bearer:` form, missing `Bearer` word, other schemes', async () => {
    for (const h of [null, '', 'Bearer sk_wrong_key', `Bearer: ${TEST_KEY}`, TEST_KEY, `Basic ${TEST_KEY}`, 'Bearer', 'Bearer ', `Bearer ${TEST_KEY}x`, `Bearer ${TEST_KEY.slice(0, -1)}`]) {
      assertError(await withAuth(h), 401, 'unauthorized');
    }
    assert.equal((await withAuth(`Bearer ${TEST_KEY}`)).status, 200);
  });

  test('every versioned route needs a key, including unknown ones and writes', async () => {
    for (const [method, path] of [['POST', JOBS], ['GET', `${JOBS}/${job.id}`], ['PUT', `${JOBS}/${job.id}/cancel`], ['DELETE', `${JOBS}/${job.id}`], ['GET', '/v0.5/files/metadata/data.jsonl'], ['GET', '/v0.5/nothing-here']] as const) {
      assertError(await withAuth(null, path, method), 401, 'unauthorized');
    }
    assert.equal((await t.client.job(job.id)).status, 'COMPLETED', 'an unauthenticated DELETE changed nothing');
  });

  test('a revoked key → 401; other keys of the org keep working', async () => {
    const { key, record, org } = await t.app.auth.createKey('default', 'to-revoke');
    const c = new Client(t.app.url, key);
    const ok = await c.get(`${JOBS}/${job.id}`);
    assert.equal(ok.status, 200, 'the new key belongs to the same org as the test key');
    assert.equal(await t.app.auth.revokeKey(org.uuid, record.id), true);
    assertError(await c.get(`${JOBS}/${job.id}`), 401, 'unauthorized');
    assert.equal((await t.client.get(`${JOBS}/${job.id}`)).status, 200);
  });
});

describe('another organization', () => {
  test('gets 404 on every route of the first org\'s job, which stays intact', async () => {
    const base = `${JOBS}/${job.id}`;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', base], ['PUT', `${base}/stop`], ['PUT', `${base}/cancel`], ['GET', `${base}/metrics`], ['GET', `${base}/events`],
      ['GET', `${base}/checkpoints`], ['GET', `${base}/checkpoints/${ckptId}/download`], ['GET', `${base}/inference-config`],
      ['POST', `${base}/predict`, { examples: ['hello'] }], ['DELETE', base],
    ];
    for (const [method, path, body] of calls) {
      const r = await other.call(method, path, body);
      assert.equal(r.status, 404, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.notEqual(r.status, 403);
      assert.equal(r.body.errors[0].code, 'job_not_found', `${method} ${path}`);
    }
    const sse = await fetch(t.app.url + `${base}/events`, { headers: { authorization: `Bearer ${other.key}`, accept: 'text/event-stream' } });
    assert.equal(sse.status, 404);
    assert.equal(((await sse.json()) as any).errors[0].code, 'job_not_found');
    const mine = await t.client.job(job.id);
    assert.equal(mine.status, 'COMPLETED');
    assert.deepEqual(mine, job, 'nothing changed');
    assert.equal((await t.client.get(`${base}/checkpoints/${ckptId}/download`)).status, 200);
  });

  test('its job list does not show the first org\'s jobs', async () => {
    assert.deepEqual((await other.get(JOBS)).body, []);
    assert.ok((await t.client.get(JOBS)).body.some((j: any) => j.id === job.id));
  });

  test('gets 404 for the first org\'s file metadata', async () => {
    assert.equal((await t.client.get('/v0.5/files/metadata/data.jsonl')).status, 200);
    const r = await other.get('/v0.5/files/metadata/data.jsonl');
    assertError(r, 404, 'file_not_found');
  });

  test('cannot reference the first org\'s file in a create: 400 listing the missing id', async () => {
    const r = await other.call('POST', JOBS, jobBody('fixture-plain', 'data.jsonl'));
    assertError(r, 400, 'file_not_found');
    assert.match(r.body.errors[0].message, /data\.jsonl/);
    assert.deepEqual((await other.get(JOBS)).body, []);
  });

  test('may use the same client id as the first org: ids are unique per organization', async () => {
    assert.equal((await other.upload('data.jsonl', '{"y":2}\n')).status, 200);
    const r = await other.call('POST', JOBS, jobBody('fixture-plain', 'data.jsonl', { id: job.id }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.notEqual(r.body.uuid, job.uuid);
    assert.notEqual(r.body.org_uuid, job.org_uuid);
    assert.equal((await other.call('PUT', `${JOBS}/${job.id}/cancel`)).body.status, 'CANCELLED');
    assert.equal((await t.client.job(job.id)).status, 'COMPLETED', 'the first org\'s job of the same id is untouched');
  });
});

describe('public routes', () => {
  test('/healthz needs no key', async () => {
    const r = await withAuth(null, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true });
  });

  test('/openapi.json needs no key and is an OpenAPI 3 document listing the v0.5 paths', async () => {
    const r = await withAuth(null, '/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.body;
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    const expect: Array<[string, string[]]> = [
      [JOBS, ['get', 'post']], [`${JOBS}/{job_id}`, ['get', 'delete']], [`${JOBS}/{job_id}/stop`, ['put']], [`${JOBS}/{job_id}/cancel`, ['put']],
      [`${JOBS}/{job_id}/metrics`, ['get']], [`${JOBS}/{job_id}/events`, ['get']], [`${JOBS}/{job_id}/checkpoints`, ['get']], ['/v0.5/files', ['post']],
    ];
    for (const [p, methods] of expect) {
      assert.ok(paths[p], `missing path ${p} in ${Object.keys(paths).join(', ')}`);
      for (const m of methods) assert.ok(paths[p]![m], `missing ${m} ${p}`);
    }
    assert.ok(!Object.keys(paths).some((p) => p.includes(':')), 'path parameters in OpenAPI form');
    assert.ok(doc.components.securitySchemes.bearer, 'bearer security scheme declared');
    assert.ok((paths[JOBS]!.post as any).requestBody, 'the create body schema is documented');
  });
});
