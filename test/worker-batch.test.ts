/**
 * The built-in trainers on a remote worker (no in-process worker): a v0.6 omega fine-tune (CSV
 * datasets downloaded by sha256, real checkpoints uploaded), then a batch job on its checkpoint (the
 * attached checkpoint downloaded as a resource, output files uploaded): the outputs listed are the
 * ones the remote trainer wrote, and they agree with …/predict on the control plane.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { startTestApp, waitFor, type TestApp } from './helpers/harness.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

let t: TestApp;
let worker: WorkerProcess;
let files: SynthFiles;

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 0 } });
  files = await writeSynthetic(2, 400, 2);
  for (const f of [...files.train, ...files.val]) assert.equal((await t.client.upload(f.file_id, await readFile(f.path), 'text/csv')).status, 200);
  worker = await startWorkerProcess(t.app.url, (await t.app.workerTokens.create('batch')).token);
});
after(async () => {
  await worker?.stop();
  await t?.close();
});

test('omega fine-tune, then a batch job on its checkpoint, both on a remote worker', async () => {
  const ft = await t.client.call('POST', '/v0.6/fine_tuning/jobs', {
    name: 'remote-omega', seed: 3, model: 'omega',
    method: { type: 'head', head: { hyperparameters: { num_features: 840, n_epochs: 3 }, reader: { window_size: 32, step_size: 4 } } },
    training_files: files.train.map((f) => ({ file_id: f.file_id, label: f.label })),
    validation_files: files.val.map((f) => ({ file_id: f.file_id, label: f.label })),
  });
  assert.equal(ft.status, 201, JSON.stringify(ft.body));
  const ftDone = await waitFor('omega job done', async () => {
    const j = (await t.client.get(`/v0.6/fine_tuning/jobs/${ft.body.id}`)).body;
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
  }, 120_000);
  assert.equal(ftDone.status, 'SUCCEEDED', JSON.stringify(ftDone.error));
  const events = (await t.client.get(`/v0.5/fine-tune/jobs/${ft.body.id}/events?limit=-1`)).body.data as Array<{ type: string; data: any }>;
  assert.ok(events.find((e) => e.type === 'attempt_started')!.data.worker_id.startsWith('remote:'), 'run by the remote worker');
  const ckpt = (await t.client.get(`/v0.6/fine_tuning/jobs/${ft.body.id}/checkpoints`)).body.data[0];

  const b = await t.client.call('POST', '/v0.5/batch/jobs', {
    name: 'remote-batch', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: { 'worker.inference': files.val.map((f) => ({ file_id: f.file_id })), 'worker.n_shots': [], 'worker.fine_tune_checkpoint': [{ kind: 'checkpoint', checkpoint_id: ckpt.id, metadata: {} }] },
    parameters: { worker: { parallelism: 1, config: { batch_size: 50 } } },
  });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  const done = await waitFor('batch job done', async () => {
    const j = (await t.client.get(`/v0.5/batch/jobs/${b.body.id}`)).body;
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
  }, 120_000);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  const outs = (await t.client.get(`/v0.5/batch/jobs/${b.body.id}/outputs`)).body;
  assert.equal(outs.total, files.val.length);
  for (const [i, f] of files.val.entries()) {
    const o = outs.outputs[i].data;
    assert.equal(o.ref, `/batch/jobs/${b.body.id}/outputs/${o.filename}`, 'relative to the version root');
    const csv = await t.client.get(`/v0.5${o.ref}`); // {base ending in /v0.5}{ref}, as Archetype's clients resolve it
    assert.equal(csv.status, 200);
    assert.equal(Buffer.byteLength(csv.body), o.num_bytes);
    const rows = (csv.body as string).trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const pred = (await t.client.call('POST', `/v0.5/fine-tune/jobs/${ft.body.id}/predict`, { checkpoint_id: ckpt.id, file_ids: [f.file_id] })).body.predictions;
    assert.equal(rows.length, pred.length, 'same windows');
    assert.deepEqual(rows.map((r) => r[1]), pred.map((p: any) => p.prediction), 'the remote batch agrees with the control plane');
  }
});
