/**
 * The typed client: endpoint normalisation, the ApiError shapes (envelope, legacy `{detail}`, text,
 * unreachable server), the SSE parser on awkward chunking, follow() resuming with Last-Event-ID after a
 * dropped stream, and the calls against a real server: the built-in text trainer end to end through
 * v0.5 (create → follow → metrics → checkpoints → inference config → predict) and the v0.6 views.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32cBase64, crc32cUpdate } from '../src/client/crc32c.js';
import { ApiError, FtClient, normalizeEndpoint, parseSse, type SseMessage } from '../src/client/index.js';
import { startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

const DATA = (name: string): string => fileURLToPath(new URL(`../../examples/datasets/${name}`, import.meta.url));

let t: TestApp;
let client: FtClient;
before(async () => {
  t = await startTestApp({ plans: { held: { steps: 6, evalEvery: 2, gates: ['step_2'] } } });
  client = new FtClient({ endpoint: `${t.app.url}/v0.5/`, apiKey: TEST_KEY });
});
after(() => t?.close());

test('normalizeEndpoint removes slashes and a version suffix', () => {
  assert.equal(normalizeEndpoint('https://api.example/v0.5'), 'https://api.example');
  assert.equal(normalizeEndpoint('https://api.example/v0.6/'), 'https://api.example');
  assert.equal(normalizeEndpoint(' http://127.0.0.1:8642// '), 'http://127.0.0.1:8642');
  assert.equal(normalizeEndpoint('https://h/prefix/v0.5'), 'https://h/prefix');
});

test('crc32c of the direct-upload checksum matches the standard check value', () => {
  assert.equal(crc32cBase64(crc32cUpdate(0, Buffer.from('123456789'))), '4waSgw=='); // 0xE3069283
  const whole = crc32cUpdate(0, Buffer.from('hello world'));
  assert.equal(crc32cUpdate(crc32cUpdate(0, Buffer.from('hello ')), Buffer.from('world')), whole, 'incremental');
});

test('ApiError carries the envelope, or one synthetic entry for other answers', async () => {
  const env = await ApiError.fromResponse(new Response(JSON.stringify({ errors: [{ code: 'a', message: 'one', suggestion: '', error_uid: 'err-1' }, { code: 'b', message: 'two', suggestion: '', error_uid: 'err-2' }] }), { status: 400 }));
  assert.equal(env.status, 400);
  assert.equal(env.code, 'a');
  assert.equal(env.line(), 'error a: one; b: two');
  const legacy = await ApiError.fromResponse(new Response(JSON.stringify({ detail: 'Not authenticated' }), { status: 401 }));
  assert.equal(legacy.line(), 'error http_401: Not authenticated');
  const html = await ApiError.fromResponse(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
  assert.equal(html.code, 'http_502');
  const down = await new FtClient({ endpoint: 'http://127.0.0.1:1', apiKey: 'k' }).models().catch((e: unknown) => e);
  assert.ok(down instanceof ApiError);
  assert.equal(down.status, 0);
  assert.equal(down.code, 'connection_failed');
});

test('parseSse handles split chunks, CRLF, comments, multi-line data and ids', async () => {
  const text = ': keepalive\r\n\r\nid: 7\nevent: log\ndata: {"a":\ndata: 1}\n\nevent: status\ndata: x\n\n';
  const bytes = new TextEncoder().encode(text);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.subarray(i, i + 5)); // boundaries everywhere
      c.close();
    },
  });
  const out: SseMessage[] = [];
  for await (const m of parseSse(stream)) out.push(m);
  assert.deepEqual(out, [{ id: '7', event: 'log', data: '{"a":\n1}' }, { event: 'status', data: 'x' }]);
});

test('follow() reconnects with Last-Event-ID after a dropped stream and stops at the terminal status', async () => {
  const seen: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers['last-event-id'] as string | undefined);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const ev = (seq: number): string => `id: ${seq}\nevent: log\ndata: ${JSON.stringify({ id: `e${seq}`, seq, type: 'log', message: `m${seq}` })}\n\n`;
    if (seen.length === 1) return res.end(ev(1) + ev(2)); // drops before the job ends
    const job = { id: 'j', status: 'COMPLETED', progress: null };
    res.end(`${ev(3)}event: status\ndata: ${JSON.stringify(job)}\n\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = new FtClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
    const got: string[] = [];
    for await (const m of c.follow('j')) got.push(m.kind === 'event' ? m.event.id : `status:${m.job.status}`);
    assert.deepEqual(got, ['e1', 'e2', 'e3', 'status:COMPLETED']);
    assert.deepEqual(seen, [undefined, '2']);
  } finally {
    server.close();
  }
});

test('v0.5 end to end with the built-in text trainer: upload, create, follow, metrics, checkpoints, config, predict', async () => {
  for (const name of ['sensor-sft-train.jsonl', 'sensor-sft-eval.jsonl']) {
    const ref = await client.uploadFile(new Blob([readFileSync(DATA(name))], { type: 'text/plain' }), name);
    assert.equal(ref.file_id, name);
  }
  const job = await client.createJob({ name: 'client e2e', config: { datasets: [{ name: 'train', split: 'train', file_ids: ['sensor-sft-train.jsonl'] }, { name: 'eval', split: 'eval', file_ids: ['sensor-sft-eval.jsonl'] }] } });
  assert.equal(job.status, 'REGISTERED');
  const statuses: string[] = [];
  let events = 0;
  for await (const m of client.follow(job.id)) {
    if (m.kind === 'status') statuses.push(m.job.status);
    else events++;
  }
  assert.equal(statuses.at(-1), 'COMPLETED');
  assert.ok(events >= 3);
  const metrics = await client.metrics(job.id);
  assert.ok(metrics.metrics.some((m) => typeof m.loss === 'number'));
  const { data: ckpts } = await client.checkpoints(job.id);
  assert.ok(ckpts.length >= 1);
  const res = await client.downloadCheckpoint(job.id, ckpts[0]!.id);
  assert.equal(res.headers.get('x-checksum-sha256'), ckpts[0]!.sha256);
  await res.arrayBuffer();
  assert.match(await client.inferenceConfig(job.id), /checkpoint:/);
  const example = JSON.parse(readFileSync(DATA('sensor-sft-eval.jsonl'), 'utf8').split('\n')[0]!) as unknown;
  const pred = await client.predict(job.id, { examples: [example] });
  assert.equal(pred.predictions.length, 1);
  assert.equal((await client.listJobs({ statuses: ['COMPLETED'] }))[0]!.id, job.id);
  assert.equal((await client.events(job.id, { limit: 1 })).data.length, 1);
  assert.equal((await client.deleteJob(job.id)).id, job.id);
  const gone = await client.getJob(job.id).catch((e: unknown) => e);
  assert.ok(gone instanceof ApiError && gone.status === 404 && gone.code === 'job_not_found');
});

test('v0.6 views of a job, stop through v0.6, files info and status', async () => {
  await client.uploadFile(new Blob([readFileSync(DATA('sensor-sft-train.jsonl'))]), 'train.jsonl');
  const job = await client.createJob({ name: 'v06 view', config: { model: 'fixture-held', datasets: [{ name: 'train', split: 'train', file_ids: ['train.jsonl'] }] } });
  await t.gates.reached(job.id, 'step_2');
  assert.equal((await client.getJobV06(job.id)).object, 'fine_tuning.job');
  assert.ok((await client.listJobsV06({ limit: 100 })).data.some((j) => j.id === job.id));
  const stopped = await client.stopJobV06(job.id);
  assert.equal(stopped.v05_status, 'STOPPING');
  t.gates.open(job.id, 'step_2');
  let last = '';
  for await (const m of client.follow(job.id)) if (m.kind === 'status') last = m.job.status;
  assert.equal(last, 'STOPPED');
  assert.ok((await client.eventsV06(job.id)).data.length > 0);
  assert.ok((await client.checkpointsV06(job.id)).data.every((c) => c.fine_tuning_job_id === job.id));
  const cancel = await client.cancelJobV06(job.id).catch((e: unknown) => e);
  assert.ok(cancel instanceof ApiError && cancel.status === 409 && cancel.code === 'invalid_state_transition');
  assert.ok((await client.filesInfo()).num_files >= 1);
  assert.ok(['READY', 'BUSY'].includes((await client.status()).status));
  assert.ok((await client.models()).data.some((m) => m.id === 'omega'));
});
