/**
 * POST /v0.5/batch/jobs refusals, each in the documented envelope with nothing stored: unknown
 * pipeline (404 `Pipeline … not found`) or version, missing and empty ports, unknown ports, bad
 * checkpoint items and ids, bad reader and classifier config (n_neighbors < 3), unknown files,
 * n_shots without classes, inference files missing the columns; plus the service's defaults against
 * the time-series trainer's.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { BATCH_SIZE_DEFAULT, CLASSIFIER_DEFAULTS, READER_DEFAULTS } from '../src/api/drafts-batch.js';
import { ENCODE_BATCH } from '../src/trainers/timeseries/encoder.js';
import { KNN_DEFAULTS, READER_DEFAULTS as TS_READER } from '../src/trainers/timeseries/config.js';
import { syntheticCsv, writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { startTestApp, type TestApp } from './helpers/harness.js';

let t: TestApp;
let files: SynthFiles;
const BATCH = '/v0.5/batch/jobs';

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 0 } }); // nothing here should ever run
  files = await writeSynthetic(2, 200, 1);
  for (const f of [...files.train, ...files.val]) await t.client.upload(f.file_id, await readFile(f.path), 'text/csv');
  await t.client.upload('other_columns.csv', syntheticCsv(0, 100, 5).replace('timestamp,a,b,c', 'timestamp,x,y,z'), 'text/csv');
});
after(() => t.close());

const inference = (): Array<{ file_id: string }> => files.val.map((f) => ({ file_id: f.file_id }));
const shots = (): Array<{ file_id: string; metadata: { class: string } }> => files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } }));

function body(over: Record<string, unknown> = {}, config: Record<string, unknown> = { reader_config: { window_size: 32, step_size: 4 } }): Record<string, unknown> {
  return {
    name: 'v', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: { 'worker.inference': inference(), 'worker.n_shots': shots() },
    parameters: { worker: { parallelism: 1, config } },
    ...over,
  };
}

async function refused(b: unknown, status = 400): Promise<Array<{ code: string; message: string; suggestion: string; error_uid: string }>> {
  const r = await t.client.call('POST', BATCH, b);
  assert.equal(r.status, status, JSON.stringify(r.body));
  for (const e of r.body.errors) {
    assert.match(e.error_uid, /^err-[0-9a-f-]{36}$/);
    assert.ok(e.suggestion);
  }
  return r.body.errors;
}

test('a valid body is accepted (the baseline every refusal below departs from)', async () => {
  const r = await t.client.call('POST', BATCH, body());
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'PENDING');
  assert.deepEqual(r.body.parameters.worker.config.reader_config, { window_size: 32, step_size: 4, timestamp_column: 'timestamp', data_columns: null });
  assert.equal((await t.client.call('POST', `${BATCH}/${r.body.id}/cancel`)).body.status, 'CANCELLED');
  assert.equal((await t.client.call('DELETE', `${BATCH}/${r.body.id}`)).status, 200);
});

test('unknown pipeline or version: 404 pipeline_not_found, "Pipeline <key> not found"', async () => {
  const [e] = await refused(body({ pipeline_key: 'fine-tuning-omega' }), 404);
  assert.equal(e!.code, 'pipeline_not_found');
  assert.equal(e!.message, 'Pipeline fine-tuning-omega not found');
  assert.equal((await refused(body({ pipeline_key: 'omega' }), 404))[0]!.message, 'Pipeline omega not found', 'a fine-tune model is not a pipeline');
  assert.equal((await refused(body({ pipeline_version: '9' }), 404))[0]!.code, 'pipeline_not_found');
  assert.equal((await t.client.call('POST', BATCH, body({ pipeline_version: '1' }))).status, 201);
  assert.equal((await refused({ name: 'x' }))[0]!.code, 'missing_parameter');
});

test('ports: missing, empty, unknown, malformed items, n_shots without classes', async () => {
  const missing = await refused(body({ inputs: {} }));
  assert.deepEqual(missing.map((e) => e.code), ['missing_parameter', 'missing_parameter']);
  assert.match(missing[0]!.message, /worker\.inference is required/);
  assert.match(missing[1]!.message, /worker\.n_shots is required/);
  assert.match((await refused(body({ inputs: { 'worker.inference': [], 'worker.n_shots': shots() } })))[0]!.message, /worker\.inference is empty/);
  assert.match((await refused(body({ inputs: { 'worker.inference': inference(), 'worker.n_shots': [] } })))[0]!.message, /worker\.n_shots is empty/);
  assert.match((await refused(body({ inputs: { 'worker.inference': inference(), 'worker.n_shots': shots(), 'worker.train_data': [] } })))[0]!.message, /unknown port 'worker\.train_data'/);
  const noClass = await refused(body({ inputs: { 'worker.inference': [{ fileid: 'x' }], 'worker.n_shots': [{ file_id: files.train[0]!.file_id }, { file_id: files.train[1]!.file_id, metadata: { class: 'a' } }] } }));
  assert.ok(noClass.some((e) => /inference\[0\] must be \{"file_id"/.test(e.message)));
  assert.ok(noClass.some((e) => /n_shots\[0\]\.metadata\.class is required/.test(e.message)));
  const oneClass = await refused(body({ inputs: { 'worker.inference': inference(), 'worker.n_shots': files.train.map((f) => ({ file_id: f.file_id, metadata: { class: 'same' } })) } }));
  assert.match(oneClass[0]!.message, /at least 2 distinct metadata\.class/);
  const dup = await refused(body({ inputs: { 'worker.inference': [...inference(), ...inference()], 'worker.n_shots': shots() } }));
  assert.match(dup[0]!.message, /listed twice/);
});

test('checkpoint port: bad item, bad id, unknown id (400, not 404)', async () => {
  const port = (items: unknown[]): Record<string, unknown> => body({ inputs: { 'worker.inference': inference(), 'worker.n_shots': [], 'worker.fine_tune_checkpoint': items } });
  assert.match((await refused(port([{ kind: 'file', file_id: 'x' }])))[0]!.message, /must be \{"kind": "checkpoint"/);
  assert.match((await refused(port([{ kind: 'checkpoint', checkpoint_id: 'ftj_123' }])))[0]!.message, /checkpoint_id must be a checkpoint id/);
  assert.match((await refused(port([{ kind: 'checkpoint', checkpoint_id: 'ckp_aaaaaaaaaaaaaaaaaaaaaaaaaa' }, { kind: 'checkpoint', checkpoint_id: 'ckp_bbbbbbbbbbbbbbbbbbbbbbbbbb' }])))[0]!.message, /takes one checkpoint/);
  const unknown = await refused(port([{ kind: 'checkpoint', checkpoint_id: 'ckp_aaaaaaaaaaaaaaaaaaaaaaaaaa' }]));
  assert.equal(unknown[0]!.code, 'checkpoint_not_found');
});

test('config: n_neighbors < 3, bad reader config, bad parallelism and batch_size, all in one answer', async () => {
  const e = await refused(body({}, {
    reader_config: { window_size: 8, step_size: 0, data_columns: [] },
    classifier_config: { n_neighbors: 2, metric: 'manhattan', weights: 'uniform' },
    batch_size: 0,
  }));
  const text = e.map((x) => x.message).join('\n');
  for (const re of [/reader_config\.window_size must be an integer in \[16, 1024\]/, /reader_config\.step_size/, /data_columns must be a non-empty array/, /n_neighbors must be an integer in \[3, 1000\], got 2/, /metric must be one of cosine, euclidean/, /batch_size/]) {
    assert.match(text, re);
  }
  assert.ok(e.every((x) => x.code === 'invalid_parameter'));
  assert.match((await refused(body({ parameters: { worker: { parallelism: 0 } } })))[0]!.message, /parallelism must be an integer in \[1, 32\]/);
  assert.match((await refused(body({ pipeline_type: 'training' })))[0]!.message, /pipeline_type must be 'batch'/);
});

test('files: unknown ids (400 file_not_found), inference header without the columns (invalid_dataset)', async () => {
  const nf = await refused(body({ inputs: { 'worker.inference': [{ file_id: 'nope.csv' }], 'worker.n_shots': [...shots(), { file_id: 'gone.csv', metadata: { class: 'x' } }] } }));
  assert.deepEqual(nf.map((e) => e.code).sort(), ['file_not_found', 'file_not_found']);
  const cols = await refused(body({ inputs: { 'worker.inference': [{ file_id: 'other_columns.csv' }], 'worker.n_shots': shots() } }));
  assert.equal(cols[0]!.code, 'invalid_dataset');
  assert.match(cols[0]!.message, /other_columns\.csv .*missing column 'a'/);
  const short = await refused(body({}, { reader_config: { window_size: 512 } }));
  assert.match(short[0]!.message, /at least 512 are needed/);
});

test('nothing refused was stored', async () => {
  const list = (await t.client.get(`${BATCH}?limit=-1`)).body;
  assert.equal(list.total, 1, 'only the pipeline_version: 1 job');
});

test("the service's defaults are the time-series trainer's", () => {
  assert.deepEqual({ w: READER_DEFAULTS.window_size, s: READER_DEFAULTS.step_size, t: READER_DEFAULTS.timestamp_column }, { w: TS_READER.windowSize, s: TS_READER.stepSize, t: TS_READER.timestampColumn });
  assert.deepEqual(CLASSIFIER_DEFAULTS, { n_neighbors: KNN_DEFAULTS.nNeighbors, metric: KNN_DEFAULTS.metric, weights: KNN_DEFAULTS.weights, normalize_embeddings: KNN_DEFAULTS.normalizeEmbeddings });
  assert.equal(BATCH_SIZE_DEFAULT, ENCODE_BATCH);
});
