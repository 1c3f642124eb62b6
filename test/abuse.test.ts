/**
 * Tenancy, abuse and data at rest: the fleet status counts only the caller's jobs; failed
 * authentications are rate limited per client address (a locked-out address is refused even with a
 * right key, another address is not); requests per key are limited; /metrics follows its exposure
 * setting; the data directory is 0700 and its files 0600; a malformed bootstrap key stops the start;
 * a trainer killed by a signal ftnode did not send fails `trainer_killed`, not retried.
 * Client addresses other than 127.0.0.1 are other loopback addresses (127.0.0.2, 127.0.0.3).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { appConfig } from '../src/app/app.js';
import { jobBody, startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

const apps: TestApp[] = [];
after(async () => {
  for (const a of apps) await a.close();
});
async function app(o: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(o);
  apps.push(t);
  return t;
}

/** GET from a chosen loopback source address. */
function getFrom(t: TestApp, from: string, path: string, key: string | null): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const url = new URL(t.app.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, localAddress: from, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += String(c)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: /^[[{]/.test(text) ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tenancy', () => {
  test('GET /v0.5/fine-tune/status counts only the caller\'s jobs', async () => {
    const t = await app({ plans: { plain: { steps: 1, evalEvery: 1 } } });
    assert.equal((await t.client.upload('d.jsonl', '{"x":1}\n')).status, 200);
    for (let i = 0; i < 3; i++) {
      const j = (await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'd.jsonl'))).body;
      await t.client.waitStatus(j.id, ['COMPLETED']);
    }
    const mine = (await t.client.get('/v0.5/fine-tune/status')).body;
    assert.deepEqual(mine.jobs_by_status, { COMPLETED: 3 });
    const otherKey = (await t.app.auth.createKey('other-org')).key;
    const theirs = await getFrom(t, '127.0.0.1', '/v0.5/fine-tune/status', otherKey);
    assert.equal(theirs.status, 200);
    assert.deepEqual(theirs.body.jobs_by_status, {});
    assert.equal(theirs.body.queue_depth, 0);
    assert.equal(theirs.body.active_jobs, 0);
    assert.equal(theirs.body.workers, mine.workers); // the fleet itself is shared
  });
});

describe('rate limits', () => {
  test('failed authentications: 429 with Retry-After past the limit, a right key from that address too; other addresses unaffected', async () => {
    const t = await app({ overrides: { authFailuresPerMinute: 5 } });
    for (let i = 0; i < 5; i++) assert.equal((await getFrom(t, '127.0.0.2', '/v0.5/fine-tune/jobs', 'sk_wrong_wrong_wrong_wrong_wrong_wrong_wrong')).status, 401);
    const locked = await getFrom(t, '127.0.0.2', '/v0.5/fine-tune/jobs', 'sk_wrong_wrong_wrong_wrong_wrong_wrong_wrong');
    assert.equal(locked.status, 429);
    assert.equal(locked.body.errors[0].code, 'rate_limited');
    assert.ok(Number(locked.headers['retry-after']) >= 1 && Number(locked.headers['retry-after']) <= 60, String(locked.headers['retry-after']));
    const rightKey = await getFrom(t, '127.0.0.2', '/v0.5/fine-tune/jobs', TEST_KEY);
    assert.equal(rightKey.status, 429, 'a locked-out address learns nothing, not even from the right key');
    assert.equal((await getFrom(t, '127.0.0.3', '/v0.5/fine-tune/jobs', TEST_KEY)).status, 200);
    assert.equal((await getFrom(t, '127.0.0.3', '/v0.5/fine-tune/jobs', null)).status, 401);
    assert.equal((await getFrom(t, '127.0.0.2', '/healthz', null)).status, 200); // public routes are not locked
  });

  test('requests per key: 429 in the envelope past the limit, other keys unaffected', async () => {
    const t = await app({ overrides: { requestsPerKeyPerMinute: 4 } });
    for (let i = 0; i < 4; i++) {
      const r = await t.client.get('/v0.5/fine-tune/models');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-remaining'), String(3 - i));
    }
    const over = await t.client.get('/v0.5/fine-tune/models');
    assert.equal(over.status, 429);
    assert.equal(over.body.errors[0].code, 'rate_limited');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    const other = (await t.app.auth.createKey('other-org')).key;
    assert.equal((await getFrom(t, '127.0.0.1', '/v0.5/fine-tune/models', other)).status, 200);
  });
});

describe('/metrics exposure', () => {
  test('local (default): loopback clients read it', async () => {
    const t = await app();
    assert.equal((await getFrom(t, '127.0.0.1', '/metrics', null)).status, 200);
  });
  test('off: 404 in the envelope', async () => {
    const t = await app({ overrides: { metricsExposure: 'off' } });
    const r = await fetch(`${t.app.url}/metrics`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as any).errors[0].code, 'not_found');
  });
  test('token: 401 without or with a wrong token, 200 with it; an API key is not the token', async () => {
    const token = 'scrape-0123456789abcdef';
    const t = await app({ overrides: { metricsExposure: 'token', metricsToken: token } });
    assert.equal((await fetch(`${t.app.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).status, 401);
    const ok = await fetch(`${t.app.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /ftnode_/);
  });
  test('token without a token, or an unknown exposure, stops the start', () => {
    assert.throws(() => appConfig({ metricsExposure: 'token' }, {}), /FTNODE_METRICS_TOKEN/);
    assert.throws(() => appConfig({}, { FTNODE_METRICS: 'everyone' }), /FTNODE_METRICS must be/);
  });
});

describe('data at rest', () => {
  test('the data directory is 0700, the database and stored blobs 0600', async () => {
    const t = await app();
    assert.equal((await t.client.upload('secret.jsonl', '{"x":1}\n')).status, 200);
    assert.equal(statSync(t.home).mode & 0o777, 0o700);
    assert.equal(statSync(join(t.home, 'ftnode.db')).mode & 0o777, 0o600);
    const meta = (await t.client.get('/v0.5/files/metadata/secret.jsonl')).body;
    const org = (await t.app.auth.authenticate(`Bearer ${TEST_KEY}`))!.org.uuid;
    assert.equal(statSync(join(t.home, 'artifacts', 'files', org, meta.file_uid)).mode & 0o777, 0o600);
  });

  test('a bootstrap key without the key format is refused at start with a clear message', () => {
    for (const bad of ['hunter2', 'sk_short', `"sk_${'a'.repeat(40)}"`, `${'a'.repeat(43)}`, `sk_${'a'.repeat(39)} `]) {
      assert.throws(() => appConfig({}, { FTNODE_BOOTSTRAP_KEY: bad }), /FTNODE_BOOTSTRAP_KEY must look like sk_/, bad);
    }
    assert.doesNotThrow(() => appConfig({}, { FTNODE_BOOTSTRAP_KEY: TEST_KEY }));
  });
});

describe('a trainer killed by a signal ftnode did not send', () => {
  test('fails trainer_killed, naming the signal, the likely OOM killer and the peak memory; not retried', async () => {
    const t = await app({ plans: { oom: { steps: 4, evalEvery: 2, killSelfAtStep: 2 } } });
    assert.equal((await t.client.upload('d.jsonl', '{"x":1}\n')).status, 200);
    const job = (await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-oom', 'd.jsonl'))).body;
    const done = await t.client.waitStatus(job.id, ['FAILED', 'COMPLETED']);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.error.code, 'trainer_killed');
    assert.match(done.error.message, /signal SIGKILL/);
    assert.match(done.error.message, /out-of-memory killer/);
    assert.match(done.error.message, /peak memory was at least \d+ MiB/);
    const events = (await t.client.get(`/v0.5/fine-tune/jobs/${job.id}/events?limit=-1&order=asc`)).body.data as Array<{ type: string }>;
    assert.equal(events.filter((e) => e.type === 'attempt_started' || e.type === 'job_claimed').length <= 1, true, JSON.stringify(events.map((e) => e.type)));
  });
});
