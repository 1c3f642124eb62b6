/**
 * The worker commands of the CLI on the local SQLite store: `ftnode workers token create|list|revoke`
 * (printed once, listed by prefix, revocable, refused when revoked), and `ftnode worker` usage errors
 * and a refused token, each as one `error <code>: …` line and exit code 1.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/harness.js';
import { CLI } from './helpers/server-process.js';

const home = mkdtempSync(join(tmpdir(), 'ftnode-worker-cli-'));
let t: TestApp | null = null;
after(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

function ftnode(args: string[], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Asynchronous: the server under test runs in this process, so its event loop must keep turning. */
function ftnodeAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code) => resolve({ code, err }));
  });
}

test('workers token create / list / revoke', () => {
  const created = ftnode(['workers', 'token', 'create', '--name', 'gpu-a', '--json', '--home', home]);
  assert.equal(created.code, 0, created.err);
  const { token, id, name } = JSON.parse(created.out) as { token: string; id: string; name: string };
  assert.match(token, /^wk_[A-Za-z0-9]{40}$/);
  assert.equal(name, 'gpu-a');
  const plain = ftnode(['workers', 'token', 'create', '--home', home]);
  assert.match(plain.out, /^wk_[A-Za-z0-9]{40}\n$/);
  const listed = JSON.parse(ftnode(['workers', 'token', 'list', '--json', '--home', home]).out) as Array<{ id: string; prefix: string; revoked_at: number | null }>;
  assert.equal(listed.length, 2);
  assert.ok(!JSON.stringify(listed).includes(token), 'the token itself is never listed');
  assert.equal(listed.find((x) => x.id === id)!.prefix, token.slice(0, 7));
  assert.equal(ftnode(['workers', 'token', 'revoke', id, '--home', home]).code, 0);
  const again = ftnode(['workers', 'token', 'revoke', id, '--home', home]);
  assert.equal(again.code, 1);
  assert.match(again.err, /^error token_not_found: /);
  assert.match(ftnode(['workers', 'token', 'list', '--home', home]).out, new RegExp(`${id}\\t${token.slice(0, 7)}…\\tgpu-a\\trevoked`));
});

test('ftnode worker: usage errors, and a refused token', async () => {
  const noServer = ftnode(['worker', '--home', home], { FTNODE_WORKER_TOKEN: 'wk_x' });
  assert.equal(noServer.code, 1);
  assert.match(noServer.err, /^error usage: .*--server/);
  const noToken = ftnode(['worker', '--server', 'http://127.0.0.1:1', '--home', home]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.err, /^error usage: .*wk_/);
  t = await startTestApp({ overrides: { builtinWorkers: 0 } });
  const refused = await ftnodeAsync(['worker', '--server', t.app.url, '--home', home], { FTNODE_WORKER_TOKEN: 'wk_notatokenofthisdeployment' });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^error unauthorized: /);
});
