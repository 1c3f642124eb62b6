/**
 * /v0.6/fine_tuning/jobs end to end with the built-in time-series trainer on generated series:
 * create (Omega body), status words, events newest first, checkpoints with macro_f1, the same job
 * through v0.5 (get, stop, predict), cancel, and the validation answers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { syntheticCsv, writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { startTestApp, waitFor, type TestApp } from './helpers/harness.js';

let t: TestApp;
let files: SynthFiles;

before(async () => {
  t = await startTestApp();
  files = await writeSynthetic(2, 400, 2);
  for (const f of [...files.train, ...files.val]) {
    const r = await t.client.upload(f.file_id, await readFile(f.path), 'text/csv');
    assert.equal(r.status, 200);
  }
});
after(() => t.close());

function body(method: 'head' | 'knn', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `synthetic-${method}`,
    seed: 3,
    model: 'omega',
    method: { type: method, [method]: { hyperparameters: { num_features: 840, ...(method === 'head' ? { n_epochs: 8 } : { n_neighbors: 3 }) }, reader: { window_size: 32, step_size: 4 } } },
    training_files: files.train.map((f) => ({ type: 'n_shot', file_id: f.file_id, label: f.label, format: 'csv' })),
    validation_files: files.val.map((f) => ({ type: 'n_shot', file_id: f.file_id, label: f.label, format: 'csv' })),
    ...extra,
  };
}

async function waitV06(id: string, statuses: string[]): Promise<any> {
  return waitFor(`v0.6 job ${id} in ${statuses}`, async () => {
    const j = (await t.client.get(`/v0.6/fine_tuning/jobs/${id}`)).body;
    return statuses.includes(j.status) ? j : null;
  }, 120_000);
}

test('head: QUEUED → … → SUCCEEDED, checkpoints carry macro_f1, the highest step is the best', async () => {
  const r = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.id, /^ftj_/);
  assert.equal(r.body.status, 'QUEUED');
  assert.equal(r.body.object, 'fine_tuning.job');
  const done = await waitV06(r.body.id, ['SUCCEEDED', 'FAILED', 'CANCELLED']);
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
  const ckpts = (await t.client.get(`/v0.6/fine_tuning/jobs/${r.body.id}/checkpoints`)).body.data;
  assert.ok(ckpts.length >= 1);
  for (const c of ckpts) assert.match(c.id, /^ckp_/);
  const best = ckpts.reduce((a: any, b: any) => (b.step > a.step ? b : a));
  assert.ok(best.metrics.macro_f1 >= 0.95, `macro_f1 ${best.metrics.macro_f1}`);
  const events = (await t.client.get(`/v0.6/fine_tuning/jobs/${r.body.id}/events?limit=100`)).body.data;
  assert.ok(events.length > 3);
  assert.ok(events[0].created_at >= events.at(-1).created_at, 'newest first');
  const limited = (await t.client.get(`/v0.6/fine_tuning/jobs/${r.body.id}/events?limit=2`)).body;
  assert.equal(limited.data.length, 2);
  assert.equal(limited.has_more, true);
  // The same job through v0.5, and prediction from its checkpoint on a file of another class.
  const v05 = await t.client.job(r.body.id);
  assert.equal(v05.status, 'COMPLETED');
  assert.ok(v05.inference_config_path);
  const pred = await t.client.call('POST', `/v0.5/fine-tune/jobs/${r.body.id}/predict`, { file_ids: [files.val[1]!.file_id] });
  assert.equal(pred.status, 200, JSON.stringify(pred.body));
  const right = pred.body.predictions.filter((p: any) => p.prediction === files.val[1]!.label).length;
  assert.ok(right / pred.body.predictions.length > 0.9, `${right}/${pred.body.predictions.length}`);
});

test('knn: one checkpoint holding the training embeddings, evaluated with macro_f1', async () => {
  const r = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('knn'));
  assert.equal(r.status, 201);
  const done = await waitV06(r.body.id, ['SUCCEEDED', 'FAILED']);
  assert.equal(done.status, 'SUCCEEDED');
  const ckpts = (await t.client.get(`/v0.6/fine_tuning/jobs/${r.body.id}/checkpoints`)).body.data;
  assert.equal(ckpts.length, 1);
  assert.ok(ckpts[0].metrics.macro_f1 >= 0.9);
});

test('cancel through v0.6 answers CANCELLED; list shows both API families', async () => {
  await t.app.pool!.stop();
  try {
    const r = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', { name: 'to-cancel' }));
    const c = await t.client.call('POST', `/v0.6/fine_tuning/jobs/${r.body.id}/cancel`);
    assert.equal(c.status, 200);
    assert.equal(c.body.status, 'CANCELLED');
    const l = (await t.client.get('/v0.6/fine_tuning/jobs?limit=1')).body;
    assert.equal(l.object, 'list');
    assert.equal(l.data[0].id, r.body.id);
  } finally {
    t.app.pool!.start();
  }
});

test('bad Omega bodies: every problem in one 400, nothing stored', async () => {
  const before = (await t.client.get('/v0.6/fine_tuning/jobs?limit=-1')).body.data.length;
  const noVal = await t.client.call('POST', '/v0.6/fine_tuning/jobs', { ...body('head'), validation_files: [] });
  assert.equal(noVal.status, 400);
  const bad = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', {
    method: { type: 'head', head: { reader: { window_size: 8, step_size: 0 } } },
    training_files: [{ file_id: 'nope.csv', label: 'a' }, ...files.train.map((f) => ({ file_id: f.file_id, label: f.label }))],
  }));
  assert.equal(bad.status, 400);
  assert.ok(bad.body.errors.some((e: any) => /nope\.csv/.test(e.message)));
  const cfg = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', { method: { type: 'head', head: { reader: { window_size: 8, step_size: 0 } } } }));
  assert.equal(cfg.status, 400);
  assert.ok(cfg.body.errors.length >= 2, JSON.stringify(cfg.body));
  assert.ok(cfg.body.errors.every((e: any) => e.code === 'invalid_parameter'), JSON.stringify(cfg.body));
  await t.client.upload('short.csv', syntheticCsv(0, 10, 1), 'text/csv');
  const short = await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', { validation_files: [{ file_id: 'short.csv', label: 'class0' }] }));
  assert.equal(short.status, 400);
  assert.equal(short.body.errors[0].code, 'invalid_dataset');
  const text = await t.client.call('POST', '/v0.6/fine_tuning/jobs', { ...body('head'), model: 'Newton::c2_4_7b_251215a172f6d7' });
  assert.equal(text.status, 400);
  assert.equal((await t.client.get('/v0.6/fine_tuning/jobs?limit=-1')).body.data.length, before);
});

test('stop mid-training keeps the best checkpoint and ends STOPPED; cancel ends CANCELLED with nothing committed after it', async () => {
  const long = { method: { type: 'head', head: { hyperparameters: { num_features: 840, n_epochs: 5000, patience: 5000 }, reader: { window_size: 32, step_size: 4 } } } };
  const firstCheckpoint = async (id: string): Promise<void> => {
    await waitFor(`a checkpoint of ${id}`, async () => (await t.client.get(`/v0.6/fine_tuning/jobs/${id}/checkpoints`)).body.data.length > 0, 120_000);
  };
  const a = (await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', { name: 'to-stop', ...long }))).body;
  await firstCheckpoint(a.id);
  const stop = await t.client.call('PUT', `/v0.5/fine-tune/jobs/${a.id}/stop`);
  assert.equal(stop.status, 200);
  assert.ok(['STOPPING', 'STOPPED'].includes(stop.body.status), stop.body.status);
  const stopped = await t.client.waitStatus(a.id, ['STOPPED', 'COMPLETED', 'FAILED']);
  assert.equal(stopped.status, 'STOPPED');
  assert.ok(stopped.inference_config_path, 'the most recent checkpoint is kept and finalized');
  assert.equal((await t.client.get(`/v0.6/fine_tuning/jobs/${a.id}`)).body.status, 'STOPPED');

  const b = (await t.client.call('POST', '/v0.6/fine_tuning/jobs', body('head', { name: 'to-cancel-mid-run', ...long }))).body;
  await firstCheckpoint(b.id);
  const cancel = await t.client.call('POST', `/v0.6/fine_tuning/jobs/${b.id}/cancel`);
  assert.equal(cancel.body.status, 'CANCELLED');
  const job = await t.client.job(b.id);
  // Once the worker slot is free again, the killed trainer's attempt is fully over.
  await waitFor('worker idle', () => t.app.pool!.activeJobs === 0);
  const ckpts = (await t.client.get(`/v0.5/fine-tune/jobs/${b.id}/checkpoints`)).body.data;
  const cancelledAt = Date.parse(job.updated_at);
  for (const c of ckpts) assert.ok(Date.parse(c.created_at) <= cancelledAt, 'no checkpoint committed after the cancel');
  assert.equal(job.inference_config_path, null);
});
