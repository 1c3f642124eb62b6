/**
 * The worker API over HTTP, driven by the test as a worker would (no worker process): token auth,
 * long-poll claims with download refs, fenced writes and streamed uploads, and what a worker that
 * lost its lease gets (refusals, never writes) — with a manual clock, so leases expire on command.
 * Then sessions: status pushes, and presence (a dropped session, a goodbye, a restarted boot).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../src/lib/clock.js';
import { jobBody, startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const DATA = '{"x":1}\n';

class W {
  constructor(readonly url: string, readonly token: string) {}
  async call(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${this.token}`, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  }
  async upload(attempt: string, leaseToken: number, report: Record<string, unknown>, bytes: Buffer): Promise<{ status: number; body: any }> {
    const form = new FormData();
    form.append('report', JSON.stringify(report));
    form.append('file', new Blob([bytes]), 'file');
    const res = await fetch(`${this.url}/v1/worker/attempts/${attempt}/checkpoints`, {
      method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'x-ftnode-lease-token': String(leaseToken) }, body: form,
    });
    return { status: res.status, body: await res.json() };
  }
  async download(url: string, leaseToken: number): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
    const res = await fetch(this.url + url, { headers: { authorization: `Bearer ${this.token}`, 'x-ftnode-lease-token': String(leaseToken) } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  }
}

const apps: TestApp[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

async function app(overrides: Record<string, unknown>, clock?: ManualClock): Promise<{ t: TestApp; w: W; create: (id: string) => Promise<any> }> {
  const t = await startTestApp({ plans: { plain: { steps: 4, evalEvery: 2 } }, overrides: { builtinWorkers: 0, ...overrides }, app: clock ? { clock, reaperTimer: false } : {} });
  apps.push(t);
  await t.client.upload('data.jsonl', DATA);
  const w = new W(t.app.url, (await t.app.workerTokens.create('test')).token);
  const create = async (id: string): Promise<any> => (await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id }))).body;
  return { t, w, create };
}

describe('claims, fenced writes and uploads (manual clock)', () => {
  test('auth: worker tokens only, and only on the worker API', async () => {
    const { t, w } = await app({}, new ManualClock(Date.now()));
    assert.equal((await new W(t.app.url, TEST_KEY).call('/v1/worker/info')).status, 401, 'a user API key does not open the worker API');
    assert.equal((await new W(t.app.url, 'wk_nope').call('/v1/worker/info')).status, 401);
    assert.equal((await w.call('/v1/worker/info')).status, 200);
    const asUser = await fetch(`${t.app.url}/v0.5/fine-tune/jobs`, { headers: { authorization: `Bearer ${w.token}` } });
    assert.equal(asUser.status, 401, 'a worker token does not open the user API');
    const [rec] = await t.app.workerTokens.list();
    await t.app.workerTokens.revoke(rec!.id);
    assert.equal((await w.call('/v1/worker/info')).status, 401, 'revoked');
  });

  test('claim → refs → download → checkpoint upload; a lost lease gets refusals only; the retry resumes', async () => {
    const clock = new ManualClock(Date.now());
    const { t, w, create } = await app({ leaseMs: 30_000 }, clock);
    const worker_id = 'remote:n1:0a0b:0';
    assert.deepEqual((await w.call('/v1/worker/claim', { worker_id, wait_ms: 0 })).body, { work: null });
    assert.equal((await w.call('/v1/worker/claim', { worker_id: 'builtin:x:y:0', wait_ms: 0 })).status, 400, 'worker ids are remote:<node>:<boot>:<slot>');
    const waiting = w.call('/v1/worker/claim', { worker_id, wait_ms: 20_000 });
    await waitFor('the claim to wait', () => t.app.workerApi.waitingClaims === 1);
    const job = await create('job-a');
    const work = (await waiting).body.work;
    assert.equal(work.job.uuid, job.uuid, 'the waiting claim was woken by the create');
    assert.match(work.fence.attempt_id, /^[0-9a-f-]{36}$/);
    const ref = work.datasets[0].files[0].ref;
    assert.deepEqual([ref.size, ref.sha256], [DATA.length, sha(DATA)]);
    const dl = await w.download(ref.url, work.fence.lease_token);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('x-ftnode-sha256'), sha(DATA));
    assert.equal(sha(dl.bytes), sha(DATA));
    assert.equal((await w.download(ref.url, work.fence.lease_token + 1)).status, 409, 'a wrong lease token downloads nothing');
    const fence = work.fence;
    assert.deepEqual((await w.call('/v1/worker/heartbeat', { fence })).body, { status: 'STARTING' });
    assert.equal((await w.call('/v1/worker/advance', { fence, action: 'start_training', event: { level: 'info', type: 'training_started', message: 'up' } })).body.job.status, 'RUNNING');
    const bytes = Buffer.from('checkpoint bytes at step 2');
    const report = { step: 2, name: 'step_2', size: bytes.length, sha256: sha(bytes), metrics: { loss: 0.5 }, meta: { labels: ['a'] } };
    const up = await w.upload(fence.attempt_id, fence.lease_token, report, bytes);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.checkpoint.step, 2);
    assert.equal((await w.upload(fence.attempt_id, fence.lease_token, report, bytes)).body.checkpoint.id, up.body.checkpoint.id, 'a retried upload is not a duplicate');
    const bad = await w.upload(fence.attempt_id, fence.lease_token, { ...report, step: 3, sha256: sha('other') }, bytes);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].code, 'checksum_mismatch');
    assert.deepEqual((await t.client.get('/v0.5/fine-tune/jobs/job-a/checkpoints')).body.data.map((c: any) => c.step), [2]);

    clock.advance(30_001); // the worker went silent past its lease
    assert.equal((await t.app.recovery.tick()).requeued, 1);
    const eventsBefore = (await t.client.get('/v0.5/fine-tune/jobs/job-a/events?limit=-1')).body.data.length;
    assert.deepEqual((await w.call('/v1/worker/heartbeat', { fence })).body, { status: null });
    assert.deepEqual((await w.call('/v1/worker/progress', { fence, progress: { step: 3, total_steps: 4, epoch: 1, phase: 'training', eta_seconds: null } })).body, { ok: false });
    assert.deepEqual((await w.call('/v1/worker/metrics', { fence, step: 3, values: { loss: 0.3 } })).body, { ok: false });
    assert.deepEqual((await w.call('/v1/worker/events', { fence, level: 'info', type: 'log', message: 'zombie' })).body, { ok: false });
    const late = Buffer.from('checkpoint bytes at step 4');
    assert.deepEqual((await w.upload(fence.attempt_id, fence.lease_token, { ...report, step: 4, size: late.length, sha256: sha(late) }, late)).body, { checkpoint: null });
    assert.deepEqual((await w.call('/v1/worker/finish', { fence })).body, { job: null });
    assert.deepEqual((await w.call('/v1/worker/fail', { fence, code: 'trainer_failed', message: 'zombie' })).body, { job: null });
    assert.equal((await w.download(ref.url, fence.lease_token)).status, 409);
    assert.equal((await t.client.get('/v0.5/fine-tune/jobs/job-a/events?limit=-1')).body.data.length, eventsBefore, 'the zombie wrote no event');
    const j = await t.client.job('job-a');
    assert.equal(j.status, 'REGISTERED');
    assert.deepEqual((await t.client.get('/v0.5/fine-tune/jobs/job-a/checkpoints')).body.data.map((c: any) => c.step), [2]);

    const retry = (await w.call('/v1/worker/claim', { worker_id: 'remote:n1:0a0b:1', wait_ms: 0 })).body.work;
    assert.equal(retry.attempt_number, 2);
    assert.equal(retry.resume.step, 2);
    const resume = await w.download(retry.resume.ref.url, retry.fence.lease_token);
    assert.equal(sha(resume.bytes), sha(bytes));
    assert.equal(retry.resume.ref.sha256, sha(bytes));

    const scrape = await fetch(`${t.app.url}/metrics`); // public: no key
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    const m = await scrape.text();
    assert.match(m, /^ftnode_claims_total\{kind="first"\} 1$/m);
    assert.match(m, /^ftnode_claims_total\{kind="retry"\} 1$/m);
    assert.match(m, /^ftnode_attempt_retries_total 1$/m);
    assert.match(m, /^ftnode_lease_expirations_total\{outcome="requeued"\} 1$/m);
    assert.match(m, /^ftnode_claim_latency_seconds_count 1$/m);
    for (const op of ['heartbeat', 'progress', 'metrics', 'event', 'checkpoint', 'finish', 'fail']) assert.match(m, new RegExp(`^ftnode_fenced_refusals_total\\{op="${op}"\\} 1$`, 'm'));
    assert.match(m, /^ftnode_jobs\{status="STARTING"\} 1$/m);
    assert.match(m, /^ftnode_queue_depth 0$/m);
    assert.match(m, /^ftnode_http_request_duration_seconds_count\{method="POST",route="\/v1\/worker\/claim",status="200"\} 3$/m);
    assert.match(m, /^ftnode_http_request_duration_seconds_bucket\{method="GET",route="\/v0.5\/fine-tune\/jobs\/:job_id",status="200",le="\+Inf"\} \d+$/m);
  });

  test('a body whose multipart framing closes before its Content-Length, then hangs up: the 400 stands, no checkpoint', async () => {
    const { t, w, create } = await app({}, new ManualClock(Date.now()));
    await create('job-short');
    const { fence } = (await w.call('/v1/worker/claim', { worker_id: 'remote:n1:0c0d:0', wait_ms: 0 })).body.work;
    await w.call('/v1/worker/advance', { fence, action: 'start_training' });
    const bytes = Buffer.from('checkpoint bytes, short body');
    const report = JSON.stringify({ step: 1, name: 'step_1', size: bytes.length, sha256: sha(bytes), metrics: { loss: 1 }, meta: {} });
    const body = `--BB\r\nContent-Disposition: form-data; name="report"\r\n\r\n${report}\r\n` +
      `--BB\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\n${bytes}\r\n--BB--\r\n`;
    const scratch = join(t.home, 'artifacts', '.work', 'remote-uploads');
    const staged = (): number[] => (existsSync(scratch) ? readdirSync(scratch) : []).map((d) => {
      const f = join(scratch, d, 'upload');
      return existsSync(f) ? statSync(f).size : -1;
    });
    const checkpoints = async (): Promise<unknown[]> => (await t.client.get('/v0.5/fine-tune/jobs/job-short/checkpoints')).body.data;
    const s = connect(Number(new URL(t.app.url).port), '127.0.0.1');
    let answer = '';
    s.on('data', (c) => (answer += String(c)));
    const closed = new Promise((resolve) => s.on('close', resolve));
    // Every byte of a complete multipart body, 100 fewer than declared.
    s.write(`POST /v1/worker/attempts/${fence.attempt_id}/checkpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.token}\r\n` +
      `x-ftnode-lease-token: ${fence.lease_token}\r\nContent-Type: multipart/form-data; boundary=BB\r\nContent-Length: ${Buffer.byteLength(body) + 100}\r\n\r\n${body}`);
    await waitFor('the file part staged (or committed)', async () => staged()[0] === bytes.length || (await checkpoints()).length > 0);
    assert.deepEqual(await checkpoints(), [], 'nothing is committed while the request is short of its Content-Length');
    s.end(); // then our side closes: the HTTP parser answers 400
    await closed;
    assert.match(answer, /^HTTP\/1\.1 400 /, answer);
    assert.match(answer, /"code":"invalid_request"/);
    await waitFor('the staged file removed', () => staged().length === 0); // the commit would come before this
    assert.deepEqual(await checkpoints(), [], 'nothing committed after the 400');
    const ok = await w.upload(fence.attempt_id, fence.lease_token, JSON.parse(report), bytes);
    assert.equal(ok.status, 200, 'the same upload, whole, commits');
  });
});

/** Reads a session stream's lines as they come. */
function openSession(w: W, prefix: string): { lines: any[]; close(): void } {
  const ac = new AbortController();
  const lines: any[] = [];
  void (async () => {
    const res = await fetch(`${w.url}/v1/worker/session?prefix=${encodeURIComponent(prefix)}`, { headers: { authorization: `Bearer ${w.token}` }, signal: ac.signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    }
  })().catch(() => undefined);
  return { lines, close: () => ac.abort() };
}

describe('sessions: pushes and presence (real clock, 10 min lease: only presence can recover)', () => {
  test('a cancel is pushed; a dropped session, a goodbye and a restarted boot each recover the attempts', async () => {
    const { t, w, create } = await app({ leaseMs: 600_000, heartbeatMs: 100, workerDisconnectGraceMs: 300, maxAttempts: 5 });
    const s1 = openSession(w, 'remote:n1:aaaa:');
    await waitFor('hello', () => s1.lines.some((l) => l.type === 'hello'));
    const j1 = await create('push-1');
    const c1 = (await w.call('/v1/worker/claim', { worker_id: 'remote:n1:aaaa:0', wait_ms: 5_000 })).body.work;
    assert.equal(c1.job.uuid, j1.uuid);
    await t.client.call('PUT', '/v0.5/fine-tune/jobs/push-1/cancel');
    await waitFor('the cancel pushed', () => s1.lines.some((l) => l.type === 'status' && l.job_uuid === j1.uuid && l.status === 'CANCELLED'));

    const j2 = await create('presence-1');
    assert.equal((await w.call('/v1/worker/claim', { worker_id: 'remote:n1:aaaa:0', wait_ms: 5_000 })).body.work.job.uuid, j2.uuid);
    s1.close(); // killed: the connection drops without a goodbye
    const st = await t.client.waitStatus('presence-1', ['REGISTERED', 'FAILED'], 10_000);
    assert.equal(st.status, 'REGISTERED', JSON.stringify(st.error));
    const ev = (await t.client.get('/v0.5/fine-tune/jobs/presence-1/events?limit=-1')).body.data;
    assert.ok(ev.some((e: any) => e.type === 'attempt_lost'));

    const s2 = openSession(w, 'remote:n1:bbbb:');
    await waitFor('hello', () => s2.lines.some((l) => l.type === 'hello'));
    assert.equal((await w.call('/v1/worker/claim', { worker_id: 'remote:n1:bbbb:0', wait_ms: 5_000 })).body.work.job.uuid, j2.uuid);
    assert.deepEqual((await w.call('/v1/worker/session/end', { prefix: 'remote:n1:bbbb:' })).body, { ok: true });
    assert.equal((await t.client.job('presence-1')).status, 'REGISTERED', 'a goodbye recovers at once');
    s2.close();

    const s3 = openSession(w, 'remote:n1:cccc:');
    assert.equal((await w.call('/v1/worker/claim', { worker_id: 'remote:n1:cccc:0', wait_ms: 5_000 })).body.work.job.uuid, j2.uuid);
    const s4 = openSession(w, 'remote:n1:dddd:'); // the same node restarted: boot cccc is dead
    await waitFor('hello', () => s4.lines.some((l) => l.type === 'hello'));
    assert.equal((await t.client.job('presence-1')).status, 'REGISTERED', "a new boot's session recovers the old boot's attempts");
    s3.close();
    s4.close();
  });
});
