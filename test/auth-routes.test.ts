/**
 * Authentication is decided on the matched route, whatever the spelling of the request target: the
 * test walks Fastify's own route table (every route the server registered, hidden ones included) and
 * sends each one without a key as plain, percent-encoded (`/%760.5/…`, `/v0%2E5/…`) and absolute-form
 * (`GET http://x/v0.5/… HTTP/1.1`) targets. Every route but the documented public ones answers 401 in
 * the envelope; signed routes refuse an unsigned request; nothing answers 5xx or 2xx without a key.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { RouteEntry } from '../src/http/auth.js';
import { startTestApp, type TestApp } from './helpers/harness.js';

/** The routes docs/architecture.md lists as public (no API key). */
const DOCUMENTED_PUBLIC = new Set(['/healthz', '/openapi.json', '/metrics', '/', '/assets/:name', '/app/*', '/vendor/:name']);
/** Routes that carry their own signature instead of a key (docs/files.md, docs/batch.md). */
const SIGNED_PREFIXES = ['/v0.5/files/uploads/:upload_id/parts/:part_number', '/v0.5/signed/'];

let t: TestApp;
let port: number;
before(async () => {
  t = await startTestApp();
  port = Number(new URL(t.app.url).port);
});
after(() => t.close());

interface Raw {
  status: number;
  body: string;
}

/** Sends `target` verbatim as the request target (no URL normalisation by a client library). */
function raw(method: string, target: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: target, headers: { 'content-length': '0', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function concrete(url: string): string {
  return url.replace(/:([a-z_]+)/g, (_m, name: string) => (name === 'part_number' ? '1' : `x-${name}`)).replace(/\*$/, 'some-file.txt');
}

/** The spellings a router decodes to the same route. */
function spellings(path: string): Array<[string, string]> {
  const out: Array<[string, string]> = [['plain', path], ['absolute-form', `http://x${path}`]];
  if (/^\/v0\.[56]\//.test(path)) {
    out.push(['%76 for v', `/%76${path.slice(2)}`], ['%2E for the dot', path.replace('.', '%2E')], ['both, lower-case hex', `/%760%2e${path.slice(4)}`]);
  }
  return out;
}

function assertUnauthorized(r: Raw, what: string): void {
  assert.equal(r.status, 401, `${what}: ${r.body}`);
  const body = JSON.parse(r.body) as { errors: Array<Record<string, string>> };
  assert.equal(body.errors[0]!.code, 'unauthorized', what);
  assert.deepEqual(Object.keys(body.errors[0]!).sort(), ['code', 'error_uid', 'message', 'suggestion'], what);
}

describe('every registered route without a key', () => {
  test('the route table classifies every versioned route as keyed unless it is a documented signed route', () => {
    const table: RouteEntry[] = t.app.server.routeTable;
    assert.ok(table.length > 50, `only ${table.length} routes registered`);
    for (const r of table) {
      if (/^\/v0\.[56]\//.test(r.url)) {
        const signed = SIGNED_PREFIXES.some((p) => r.url.startsWith(p));
        assert.equal(r.auth, signed ? 'signed' : 'key', `${r.method} ${r.url}`);
      } else if (r.url.startsWith('/v1/worker/')) assert.equal(r.auth, 'worker', `${r.method} ${r.url}`);
      else assert.ok(DOCUMENTED_PUBLIC.has(r.url) && r.auth === 'public', `${r.method} ${r.url} is public but not documented as such`);
    }
  });

  test('answers 401 under plain, percent-encoded and absolute-form targets (signed routes refuse; public routes are only the documented ones)', async () => {
    let checked = 0;
    for (const r of t.app.server.routeTable as RouteEntry[]) {
      if (r.auth === 'public') continue;
      for (const [how, target] of spellings(concrete(r.url))) {
        const what = `${r.method} ${target} (${how}, route ${r.url})`;
        const res = await raw(r.method, target);
        if (r.auth === 'signed') {
          assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.body}`);
          if (r.method !== 'HEAD') assert.match(res.body, /"errors":\[\{"code":"/, what);
        } else if (r.method === 'HEAD') assert.equal(res.status, 401, what); // no body on HEAD
        else assertUnauthorized(res, what);
        checked++;
      }
    }
    assert.ok(checked > 150, `only ${checked} requests checked`);
  });

  test('an unknown versioned path is a 401 too, in every spelling (no key, no map of the routes)', async () => {
    for (const [how, target] of spellings('/v0.5/no-such-route')) assertUnauthorized(await raw('GET', target), how);
  });

  test('with the key the same spellings reach the handler', async () => {
    const auth = { authorization: `Bearer ${t.client.key}` };
    for (const [how, target] of spellings('/v0.5/fine-tune/models')) {
      const r = await raw('GET', target, auth);
      assert.equal(r.status, 200, `${how}: ${r.body}`);
    }
    for (const [how, target] of spellings('/v0.5/files/metadata')) assert.equal((await raw('GET', target, auth)).status, 200, how);
  });
});
