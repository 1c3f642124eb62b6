/**
 * /v0.5/batch/jobs end to end (real server, worker and trainer processes) on generated series:
 * a v0.6 omega head → batch round trip whose output CSVs equal POST …/predict on the same files;
 * few-shot knn without a checkpoint on two threads; cancel mid-run (trainer killed, nothing committed
 * afterwards); list filters between the batch and fine-tune families; another org's checkpoint.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { syntheticCsv, writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { Client, processAlive, startTestApp, waitFor, type TestApp } from './helpers/harness.js';

let t: TestApp;
let files: SynthFiles;
let ckptId = '';
let omegaJobId = '';
const BATCH = '/v0.5/batch/jobs';

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 2 } });
  files = await writeSynthetic(2, 400, 2);
  for (const f of [...files.train, ...files.val]) assert.equal((await t.client.upload(f.file_id, await readFile(f.path), 'text/csv')).status, 200);
});
after(() => t.close());

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const [head, ...lines] = text.trimEnd().split('\n');
  return { header: head!.split(','), rows: lines.map((l) => l.split(',')) };
}

async function waitBatch(c: Client, id: string, statuses: string[], timeoutMs = 60_000): Promise<any> {
  return waitFor(`batch job ${id} in ${statuses}`, async () => {
    const j = (await c.get(`${BATCH}/${id}`)).body;
    return statuses.includes(j.status) ? j : null;
  }, timeoutMs);
}

function batchBody(inputs: Record<string, unknown>, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'synthetic-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification', inputs, parameters: { worker: { parallelism: 1, config } }, ...extra };
}

const vals = (): Array<{ file_id: string }> => files.val.map((f) => ({ file_id: f.file_id }));
const shots = (): Array<{ file_id: string; metadata: { class: string } }> => files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } }));

test('fine-tune (v0.6 omega head) → batch with its checkpoint: outputs equal …/predict window by window', async () => {
  const ft = await t.client.call('POST', '/v0.6/fine_tuning/jobs', {
    name: 'for-batch', seed: 3, model: 'omega',
    method: { type: 'head', head: { hyperparameters: { num_features: 840, n_epochs: 3 }, reader: { window_size: 32, step_size: 4 } } },
    training_files: files.train.map((f) => ({ file_id: f.file_id, label: f.label })),
    validation_files: files.val.map((f) => ({ file_id: f.file_id, label: f.label })),
  });
  assert.equal(ft.status, 201, JSON.stringify(ft.body));
  omegaJobId = ft.body.id;
  await waitFor('omega job done', async () => ['SUCCEEDED', 'FAILED'].includes((await t.client.get(`/v0.6/fine_tuning/jobs/${omegaJobId}`)).body.status), 120_000);
  const ckpts = (await t.client.get(`/v0.6/fine_tuning/jobs/${omegaJobId}/checkpoints`)).body.data;
  ckptId = ckpts[0].id;

  const r = await t.client.call('POST', BATCH, batchBody(
    { 'worker.inference': vals(), 'worker.n_shots': [], 'worker.fine_tune_checkpoint': [{ kind: 'checkpoint', checkpoint_id: ckptId, metadata: {} }] },
    { model_type: 'omega_1_5_base', omega_1_5: { base_model_path: 's3://archetype/omega_1_5.pt' }, reader_config: { window_size: 64 }, batch_size: 50 },
  ));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.id, /^job_[0-9a-z]{26}$/);
  assert.equal(r.body.status, 'PENDING');
  assert.match(r.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(r.body.checkpoint_id, ckptId);
  const done = await waitBatch(t.client, r.body.id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));

  const outs = (await t.client.get(`${BATCH}/${r.body.id}/outputs`)).body;
  assert.equal(outs.total, 2);
  for (const [i, f] of files.val.entries()) {
    const o = outs.outputs[i].data;
    assert.equal(o.filename, `synthetic-batch_output_${f.file_id.replace(/\.csv$/, '')}.csv`);
    assert.equal(o.ref, `/batch/jobs/${r.body.id}/outputs/${o.filename}`, 'relative to the version root (docs/batch.md)');
    const csv = await t.client.get(`/v0.5${o.ref}`); // as Archetype's clients resolve it: {base ending in /v0.5}{ref}
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.equal(Buffer.byteLength(csv.body), o.num_bytes);
    const { header, rows } = parseCsv(csv.body);
    assert.deepEqual(header, ['timestamp', 'Prediction', 'class0', 'class1']);
    const pred = await t.client.call('POST', `/v0.5/fine-tune/jobs/${omegaJobId}/predict`, { checkpoint_id: ckptId, file_ids: [f.file_id] });
    assert.equal(pred.status, 200);
    const p = pred.body.predictions;
    assert.equal(rows.length, p.length, 'same windows');
    rows.forEach((row, w) => {
      assert.equal(row[0], p[w].timestamp);
      assert.equal(row[1], p[w].prediction);
      assert.equal(Number(row[2]), p[w].probabilities.class0);
      assert.equal(Number(row[3]), p[w].probabilities.class1);
    });
  }
  const events = (await t.client.get(`${BATCH}/${r.body.id}/events?limit=-1`)).body;
  assert.equal(events.total, events.events.length);
  const types = events.events.map((e: any) => e.event_type);
  assert.ok(types.includes('model_mapped'), types.join());
  assert.ok(events.events.some((e: any) => e.level === 'warn' && /window_size 64 differs from the checkpoint's 32/.test(e.message)), 'override reported');
  assert.ok(events.events.every((e: any) => Object.keys(e).sort().join() === 'created_at,event_type,level,message'));
  const prog = (await t.client.get(`${BATCH}/${r.body.id}/progress?limit=-1`)).body;
  assert.equal(prog.job_id, r.body.id);
  const completed = prog.entries.filter((e: any) => e.kind === 'input_completed');
  assert.deepEqual(completed.map((e: any) => e.input_id), files.val.map((f) => f.file_id));
  assert.deepEqual(completed.map((e: any) => e.index), [0, 1]);
  assert.equal(completed[0].payload.filename, outs.outputs[0].data.filename);
  for (const e of prog.entries) assert.deepEqual(Object.keys(e).sort(), ['created_at', 'id', 'index', 'input_id', 'kind', 'message', 'metrics', 'payload', 'step']);
});

test('few-shot knn from worker.n_shots (no checkpoint), two files on two threads', async () => {
  const r = await t.client.call('POST', BATCH, batchBody(
    { 'worker.inference': vals(), 'worker.n_shots': shots() },
    { reader_config: { window_size: 32, step_size: 8, timestamp_column: 'timestamp', data_columns: ['a', 'b', 'c'] }, classifier_config: { n_neighbors: 3, metric: 'cosine', weights: 'distance', normalize_embeddings: true } },
    { name: undefined, parameters: { worker: { parallelism: 2, config: { reader_config: { window_size: 32, step_size: 8 }, classifier_config: { n_neighbors: 3, weights: 'distance' } } } } },
  ));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.parameters.worker.config.classifier_config.metric, 'cosine', 'defaults resolved in the record');
  assert.equal(r.body.parameters.worker.config.batch_size, 256);
  const done = await waitBatch(t.client, r.body.id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  const outs = (await t.client.get(`${BATCH}/${r.body.id}/outputs`)).body.outputs;
  assert.equal(outs.length, 2);
  for (const [i, f] of files.val.entries()) {
    assert.equal(outs.find((o: any) => o.data.input_file_id === f.file_id).data.filename, `${r.body.id}_output_${f.file_id.replace(/\.csv$/, '')}.csv`, 'unnamed job: outputs named after the id');
    const { header, rows } = parseCsv((await t.client.get(`/v0.5${outs.find((o: any) => o.data.input_file_id === f.file_id).data.ref}`)).body);
    assert.deepEqual(header, ['timestamp', 'Prediction', 'class0', 'class1']);
    assert.equal(rows.length, Math.floor((400 - 32) / 8) + 1);
    const right = rows.filter((row) => row[1] === f.label).length;
    assert.ok(right / rows.length > 0.9, `file ${i}: ${right}/${rows.length}`);
  }
  const events = (await t.client.get(`${BATCH}/${r.body.id}/events?limit=-1`)).body.events.map((e: any) => e.message).join('\n');
  assert.match(events, /few-shot knn \(n_neighbors 3, cosine, distance\)/);
  assert.match(events, /parallelism 2 \((2 threads|main thread)\)/);
});

test('cancel mid-run: CANCELLED at once, trainer killed, outputs committed before stay, nothing after', async () => {
  const big = join(files.dir, 'big.csv');
  await writeFile(big, syntheticCsv(1, 120_000, 77));
  assert.equal((await t.client.upload('big.csv', await readFile(big), 'text/csv')).status, 200);
  const r = await t.client.call('POST', BATCH, batchBody(
    { 'worker.inference': [{ file_id: files.val[0]!.file_id }, { file_id: 'big.csv' }], 'worker.n_shots': shots() },
    { reader_config: { window_size: 32, step_size: 1 }, batch_size: 64 },
    { name: 'to cancel' },
  ));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.id;
  // Held deterministically: the small file's output is committed and the big one (120k windows) has begun.
  await waitFor('first output and a progress entry of the big input', async () => {
    const outs = (await t.client.get(`${BATCH}/${id}/outputs`)).body;
    const prog = (await t.client.get(`${BATCH}/${id}/progress?limit=-1`)).body;
    return outs.total === 1 && prog.entries.some((e: any) => e.index === 1);
  });
  const events = (await t.client.get(`${BATCH}/${id}/events?limit=-1`)).body.events;
  const pid = Number(/batch-msc pid (\d+)/.exec(events.map((e: any) => e.message).join('\n'))?.[1]);
  assert.ok(pid > 0 && processAlive(pid));
  const c = await t.client.call('POST', `${BATCH}/${id}/cancel`);
  assert.equal(c.status, 200);
  assert.equal(c.body.status, 'CANCELLED');
  await waitFor('trainer killed', () => !processAlive(pid), 5_000);
  const outsAfter = (await t.client.get(`${BATCH}/${id}/outputs`)).body;
  assert.equal(outsAfter.total, 1);
  assert.equal(outsAfter.outputs[0].data.filename, `to_cancel_output_${files.val[0]!.file_id.replace(/\.csv$/, '')}.csv`);
  assert.equal((await t.client.get(`${BATCH}/${id}/outputs/to_cancel_output_big.csv`)).status, 404);
  const prog = (await t.client.get(`${BATCH}/${id}/progress?limit=-1`)).body;
  assert.ok(!prog.entries.some((e: any) => e.index === 1 && e.kind === 'input_completed'));
  assert.equal((await t.client.get(`${BATCH}/${id}`)).body.status, 'CANCELLED');
  const again = await t.client.call('POST', `${BATCH}/${id}/cancel`);
  assert.equal(again.status, 200, 'cancel of CANCELLED: 200 unchanged');
  const del = await t.client.call('DELETE', `${BATCH}/${id}`);
  assert.equal(del.status, 200);
  assert.equal((await t.client.get(`${BATCH}/${id}`)).status, 404);
});

test('list filters: batch jobs only in the batch list, fine-tune jobs only in fine-tune lists and routes', async () => {
  const batchList = (await t.client.get(`${BATCH}?limit=-1`)).body;
  assert.ok(batchList.total >= 2);
  assert.equal(batchList.jobs.length, batchList.total);
  assert.ok(batchList.jobs.every((j: any) => /^job_/.test(j.id) && j.pipeline_key === 'machine-state-classification'));
  assert.ok(batchList.jobs[0].created_at >= batchList.jobs.at(-1).created_at, 'newest first');
  const v05 = (await t.client.get('/v0.5/fine-tune/jobs')).body;
  const v06 = (await t.client.get('/v0.6/fine_tuning/jobs?limit=-1')).body.data;
  const batchIds = new Set(batchList.jobs.map((j: any) => j.id));
  assert.ok(v05.length >= 1 && v05.every((j: any) => !batchIds.has(j.id)));
  assert.ok(v06.some((j: any) => j.id === omegaJobId) && v06.every((j: any) => !batchIds.has(j.id)));
  assert.ok(batchList.jobs.every((j: any) => j.id !== omegaJobId));
  const someBatch = batchList.jobs[0].id;
  assert.equal((await t.client.get(`/v0.5/fine-tune/jobs/${someBatch}`)).status, 404);
  assert.equal((await t.client.get(`/v0.6/fine_tuning/jobs/${someBatch}`)).status, 404);
  assert.equal((await t.client.call('PUT', `/v0.5/fine-tune/jobs/${someBatch}/cancel`)).status, 404);
  assert.equal((await t.client.get(`${BATCH}/${omegaJobId}`)).status, 404);
  const page = (await t.client.get(`${BATCH}?limit=1&offset=1`)).body;
  assert.deepEqual([page.total, page.offset, page.limit, page.jobs.length], [batchList.total, 1, 1, 1]);
  assert.equal(page.jobs[0].id, batchList.jobs[1].id);
  const completed = (await t.client.get(`${BATCH}?statuses=COMPLETED&statuses=PENDING`)).body;
  assert.ok(completed.jobs.length >= 2 && completed.jobs.every((j: any) => j.status === 'COMPLETED' || j.status === 'PENDING'));
  assert.equal((await t.client.get(`${BATCH}?statuses=SUCCEEDED`)).status, 400);
  assert.equal((await t.client.get(`${BATCH}?statuses=PREEMPTED`)).body.total, 0);
  const ev = (await t.client.get(`${BATCH}/${someBatch}/events?offset=1&limit=2`)).body;
  assert.deepEqual([ev.offset, ev.limit, ev.events.length], [1, 2, 2]);
  assert.equal((await t.client.get(`${BATCH}/${someBatch}/outputs?limit=1`)).body.outputs.length, 1);
  assert.equal((await t.client.get(`${BATCH}/${someBatch}/events?limit=0`)).status, 400);
});

test("another organization's checkpoint is not found (400), and its batch jobs are invisible", async () => {
  const other = new Client(t.app.url, (await t.app.auth.createKey('other-org', 'k')).key);
  for (const f of [...files.val]) await other.upload(f.file_id, await readFile(f.path), 'text/csv');
  const r = await other.call('POST', BATCH, batchBody({ 'worker.inference': vals(), 'worker.n_shots': [], 'worker.fine_tune_checkpoint': [{ kind: 'checkpoint', checkpoint_id: ckptId }] }));
  assert.equal(r.status, 400);
  assert.equal(r.body.errors[0].code, 'checkpoint_not_found');
  assert.equal((await other.get(BATCH)).body.total, 0);
  const mine = (await t.client.get(BATCH)).body.jobs[0].id;
  assert.equal((await other.get(`${BATCH}/${mine}`)).status, 404);
});
