/**
 * The client's route table against the server's own OpenAPI document: every route the client calls
 * exists in /openapi.json with the same method (parameter names aside), so the client cannot drift from
 * the server. Routes the server documents that the client does not call are listed as a diagnostic.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FtClient, pathShape, ROUTES, type Route } from '../src/client/index.js';
import { startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

let t: TestApp;
let paths: Record<string, Record<string, unknown>>;

before(async () => {
  t = await startTestApp();
  paths = ((await (await fetch(`${t.app.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }).paths;
});
after(() => t?.close());

const documented = (): Array<{ method: string; path: string }> =>
  Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m)).map((m) => ({ method: m.toUpperCase(), path })));

test('every client route is in the served OpenAPI document with the same method', () => {
  const doc = new Set(documented().map((r) => `${r.method} ${pathShape(r.path)}`));
  const missing = Object.entries(ROUTES as Record<string, Route>).filter(([, r]) => !doc.has(`${r.method} ${pathShape(r.path)}`)).map(([name, r]) => `${name}: ${r.method} ${r.path}`);
  assert.deepEqual(missing, [], `client routes the server does not document:\n${missing.join('\n')}`);
});

test('routes the server documents but the client does not call (diagnostic)', (ctx) => {
  const client = new Set(Object.values(ROUTES as Record<string, Route>).map((r) => `${r.method} ${pathShape(r.path)}`));
  const uncovered = documented().filter((r) => !client.has(`${r.method} ${pathShape(r.path)}`));
  for (const r of uncovered) ctx.diagnostic(`not in the client: ${r.method} ${r.path}`);
  assert.ok(Array.isArray(uncovered));
});

test('supports() reads the same document (parameter names aside)', async () => {
  const client = new FtClient({ endpoint: `${t.app.url}/v0.5`, apiKey: TEST_KEY });
  assert.equal(await client.supports('getJob'), true);
  assert.equal(await client.supports('fileMetadata'), true, 'a {file_id} parameter matches the server wildcard');
  assert.equal(await client.supports('initiateUpload'), Boolean(paths['/v0.5/files/uploads/initiate']?.post));
});
