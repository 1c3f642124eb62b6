/**
 * Request validation of POST/GET /v0.5/fine-tune/jobs at the HTTP level (docs/spec.md#wire-conventions, #the-v05-job-record): every bad
 * input answers with the error envelope and stores nothing (the job list is byte-identical before
 * and after, a rejected id is 404); body parsing whatever the Content-Type; client ids and
 * idempotent retries; dataset checks of the built-in text model; list semantics; the record shape.
 * No worker runs here, so every created job stays where the test puts it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { jobBody, startTestApp, TEST_KEY, type ApiResponse, type TestApp } from './helpers/harness.js';

const JOBS = '/v0.5/fine-tune/jobs';
const MODEL = 'Newton::c2_4_7b_251215a172f6d7';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const RECORD_KEYS = ['config', 'created_at', 'error', 'id', 'inference_config_path', 'name', 'org_uuid', 'progress', 'status', 'updated_at', 'uuid'];
const TRAIN = readFileSync(new URL('../../examples/datasets/sensor-sft-train.jsonl', import.meta.url), 'utf8').split('\n').slice(0, 20);

let t: TestApp;
const body = (extra: Record<string, unknown> = {}) => jobBody(MODEL, 'train.jsonl', extra);

before(async () => {
  t = await startTestApp({ overrides: { builtinWorkers: 0 } });
  assert.equal((await t.client.upload('train.jsonl', TRAIN.join('\n') + '\n')).status, 200);
  const bad = [TRAIN[0], '{"inputs": [not json', TRAIN[1]].join('\n');
  assert.equal((await t.client.upload('bad-line.jsonl', bad)).status, 200);
  const ex = JSON.parse(TRAIN[0]!);
  delete ex.outputs;
  assert.equal((await t.client.upload('no-outputs.jsonl', `${TRAIN[0]}\n${JSON.stringify(ex)}\n`)).status, 200);
});
after(() => t.close());

/** The documented envelope, one entry per problem; returns the entries. */
function assertEnvelope(r: ApiResponse, status: number, codes: string[]): Array<{ code: string; message: string }> {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body), ['errors']);
  assert.ok(r.body.errors.length >= 1);
  for (const e of r.body.errors) {
    assert.deepEqual(Object.keys(e).sort(), ['code', 'error_uid', 'message', 'suggestion']);
    assert.match(e.code, /^[a-z]+(_[a-z]+)*$/);
    assert.ok(e.message.length > 0 && e.suggestion.length > 0);
    assert.match(e.error_uid, new RegExp(`^err-${UUID.source.slice(1, -1)}$`));
    assert.ok(!/\n\s+at /.test(e.message), 'no stack trace');
  }
  for (const c of codes) assert.ok(r.body.errors.some((e: any) => e.code === c), `expected ${c} in ${JSON.stringify(r.body)}`);
  return r.body.errors;
}

const listAll = async () => JSON.stringify((await t.client.get(`${JOBS}?limit=-1`)).body);

/** POSTs a create that must fail: checks the envelope and that the job list did not change. */
async function rejected(b: unknown, status: number, codes: string[], headers: Record<string, string> = {}) {
  const before = await listAll();
  const r = await t.client.call('POST', JOBS, b, headers);
  const errors = assertEnvelope(r, status, codes);
  assert.equal(await listAll(), before, 'a rejected create stores nothing');
  return errors;
}

async function rawPost(payload: string | Buffer, headers: Record<string, string>): Promise<ApiResponse> {
  const res = await fetch(t.client.url + JOBS, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, ...headers }, body: payload });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('body parsing', () => {
  test('malformed JSON → 400 invalid_json, nothing stored', async () => {
    const before = await listAll();
    assertEnvelope(await rawPost('{"name": "x", "config": {', { 'content-type': 'application/json' }), 400, ['invalid_json']);
    assertEnvelope(await rawPost('{"name": "x",', {}), 400, ['invalid_json']);
    assert.equal(await listAll(), before);
  });

  test('a body with no Content-Type, or text/plain, is parsed as JSON', async () => {
    const none = await rawPost(Buffer.from(JSON.stringify(body({ id: 'ct-none' }))), {});
    assert.equal(none.headers.get('content-type')?.startsWith('application/json'), true);
    assert.equal(none.status, 201, JSON.stringify(none.body));
    const plain = await rawPost(JSON.stringify(body({ id: 'ct-plain' })), { 'content-type': 'text/plain' });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.equal((await t.client.job('ct-none')).id, 'ct-none');
  });

  test('an empty body → 400', async () => {
    const before = await listAll();
    assertEnvelope(await rawPost('', { 'content-type': 'application/json' }), 400, []);
    assert.equal(await listAll(), before);
  });
});

describe('required fields and shapes', () => {
  const cfg = () => body().config as Record<string, any>;
  test('missing name, config, config.datasets → missing_parameter', async () => {
    await rejected({ config: cfg() }, 400, ['missing_parameter']);
    await rejected({ name: 'x' }, 400, ['missing_parameter']);
    const errs = await rejected({ name: 'x', config: { model: MODEL } }, 400, ['missing_parameter']);
    assert.ok(errs.some((e) => e.message.includes('datasets')), JSON.stringify(errs));
  });

  test('several problems come back together', async () => {
    const c = cfg();
    c.datasets[0].split = 'validation';
    const errs = await rejected({ config: c }, 400, ['missing_parameter', 'invalid_parameter']);
    assert.ok(errs.some((e) => e.message.includes('name')) && errs.some((e) => e.message.includes('split')), JSON.stringify(errs));
  });

  test('bad id, unknown model, unknown file and hyperparameters in one request: all four reported', async () => {
    const b = { name: 'x', id: 'bad/id', hyperparameters: { epochs: 3 }, config: { model: 'nope', datasets: [{ name: 'd', split: 'train', file_ids: ['ghost.jsonl'] }] } };
    const errs = await rejected(b, 400, ['model_not_found', 'file_not_found', 'invalid_parameter']);
    assert.ok(errs.some((e) => e.message.includes('hyperparameters')) && errs.some((e) => e.message.includes('bad/id')), JSON.stringify(errs));
    assert.equal(errs.length, 4);
  });

  test('bad split, empty datasets, empty file_ids, only an eval dataset → 400', async () => {
    const c = cfg();
    c.datasets[0].split = 'test';
    assert.ok((await rejected({ name: 'x', config: c }, 400, ['invalid_parameter'])).some((e) => e.message.includes('split')));
    await rejected({ name: 'x', config: { model: MODEL, datasets: [] } }, 400, ['invalid_parameter']);
    await rejected({ name: 'x', config: { model: MODEL, datasets: [{ name: 'd', split: 'train', file_ids: [] }] } }, 400, ['invalid_parameter']);
    const onlyEval = await rejected({ name: 'x', config: { model: MODEL, datasets: [{ name: 'd', split: 'eval', file_ids: ['train.jsonl'] }] } }, 400, ['invalid_parameter']);
    assert.ok(onlyEval.some((e) => e.message.includes("'train'")));
  });

  test('a model of another API family → 400 naming its endpoint, with the other problems', async () => {
    const errs = await rejected({ name: 'x', config: { model: 'omega', datasets: [{ name: 'd', split: 'eval', file_ids: ['train.jsonl'] }] } }, 400, ['invalid_parameter']);
    assert.ok(errs.some((e) => e.message === "model 'omega' is a timeseries model: create its jobs with POST /v0.6/fine_tuning/jobs"), JSON.stringify(errs));
    assert.ok(errs.some((e) => e.message.includes("'train'")), 'the missing train split is reported in the same answer');
    const v06 = await t.client.call('POST', '/v0.6/fine_tuning/jobs', { model: MODEL, training_files: [{ file_id: 'train.jsonl', label: 'a' }], validation_files: [{ file_id: 'train.jsonl', label: 'a' }] });
    assert.ok(assertEnvelope(v06, 400, ['invalid_parameter']).some((e) => e.message.includes('create its jobs with POST /v0.5/fine-tune/jobs')), JSON.stringify(v06.body));
  });

  test('hyperparameters at the top level or inside config → 400', async () => {
    await rejected(body({ hyperparameters: { epochs: 1 } }), 400, ['invalid_parameter']);
    const b = body();
    (b.config as any).hyperparameters = { learning_rate: 0.1 };
    await rejected(b, 400, ['invalid_parameter']);
  });

  test('unknown model → model_not_found listing the available ids', async () => {
    const [e] = await rejected({ name: 'x', config: { model: 'gpt-9', datasets: [{ name: 'd', split: 'train', file_ids: ['train.jsonl'] }] } }, 400, ['model_not_found']);
    assert.ok(e!.message.includes(MODEL) && e!.message.includes('Newton::c2_4_3b_251215dfe6a746'), e!.message);
  });

  test('unknown file ids → one 400 listing every missing id', async () => {
    const b = { name: 'x', config: { model: MODEL, datasets: [{ name: 'a', split: 'train', file_ids: ['train.jsonl', 'missing-1.jsonl'] }, { name: 'b', split: 'eval', file_ids: ['missing-2.jsonl'] }] } };
    const errs = await rejected(b, 400, ['file_not_found']);
    const text = errs.map((e) => e.message).join(' ');
    assert.ok(text.includes('missing-1.jsonl') && text.includes('missing-2.jsonl') && !text.includes("'train.jsonl'"), text);
  });

  test('a dataset line that is not JSON → invalid_dataset naming the file and the line', async () => {
    const [e] = await rejected(jobBody(MODEL, 'bad-line.jsonl'), 400, ['invalid_dataset']);
    assert.match(e!.message, /bad-line\.jsonl.*line 2/);
  });

  test('an example without outputs → invalid_dataset', async () => {
    const [e] = await rejected(jobBody(MODEL, 'no-outputs.jsonl'), 400, ['invalid_dataset']);
    assert.match(e!.message, /no-outputs\.jsonl.*outputs/);
  });

  test('more distinct outputs than the text trainer supports (1,500 > 1,024) → invalid_dataset at create, nothing stored', async () => {
    // Accepted at create before, then FAILED at run time: the limit is a dataset rule like the others.
    const ex = JSON.parse(TRAIN[0]!);
    const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ ...ex, outputs: [{ type: 'data.text', event_data: { contents: `answer ${i}` } }] }));
    assert.equal((await t.client.upload('many-outputs.jsonl', `${lines.join('\n')}\n`)).status, 200);
    const [e] = await rejected(jobBody(MODEL, 'many-outputs.jsonl'), 400, ['invalid_dataset']);
    // The file, and the line where the 1,025th distinct output appears.
    assert.match(e!.message, /many-outputs\.jsonl \(line 1025\).*more than 1024 distinct outputs/);
    // 1,024 distinct outputs is still a valid dataset.
    assert.equal((await t.client.upload('max-outputs.jsonl', `${lines.slice(0, 1024).join('\n')}\n`)).status, 200);
    assert.equal((await t.client.call('POST', JOBS, jobBody(MODEL, 'max-outputs.jsonl'))).status, 201);
  });
});

describe('client ids and retries', () => {
  test('an id of 65 characters, or with unsafe characters → 400, nothing stored', async () => {
    await rejected(body({ id: 'a'.repeat(65) }), 400, ['invalid_parameter']);
    for (const id of ['a/b', '../x', 'a b', 'a?b', 'a%2Fb', '-lead', '.hidden', 'é', '', 'a#b']) {
      await rejected(body({ id }), 400, ['invalid_parameter']);
      if (id) assert.equal((await t.client.get(`${JOBS}/${encodeURIComponent(id)}`)).status, 404);
    }
    assert.equal((await t.client.call('POST', JOBS, body({ id: 'a'.repeat(64) }))).status, 201, '64 characters is fine');
  });

  test('same id, identical body (keys reordered) → 200 same record; different body → 409', async () => {
    const first = await t.client.call('POST', JOBS, body({ id: 'dup-1' }));
    assert.equal(first.status, 201);
    const events = JSON.stringify((await t.client.get(`${JOBS}/dup-1/events?limit=-1`)).body);
    const reordered = { config: { datasets: [{ file_ids: ['train.jsonl'], split: 'train', name: 'train' }], model: MODEL }, id: 'dup-1', name: 'test job' };
    const again = await t.client.call('POST', JOBS, reordered);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    const errs = await rejected(body({ id: 'dup-1', name: 'another name' }), 409, ['job_already_exists']);
    assert.equal(errs.length, 1);
    assert.equal(JSON.stringify((await t.client.get(`${JOBS}/dup-1/events?limit=-1`)).body), events, 'no event recorded by the retries');
  });

  test('Idempotency-Key: same key + same body → 200 same job; different body → 409', async () => {
    const h = { 'idempotency-key': 'key-123' };
    const first = await t.client.call('POST', JOBS, body({ name: 'idem job' }), h);
    assert.equal(first.status, 201);
    const again = await t.client.call('POST', JOBS, body({ name: 'idem job' }), h);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    await rejected(body({ name: 'idem job 2' }), 409, ['job_already_exists'], h);
    const other = await t.client.call('POST', JOBS, body({ name: 'idem job' }), { 'idempotency-key': 'key-456' });
    assert.equal(other.status, 201);
    assert.notEqual(other.body.id, first.body.id);
  });

  test('concurrent identical creates (same id, or same Idempotency-Key) make one job', async () => {
    for (const [b, h] of [[body({ id: 'race-1' }), {}], [body({ name: 'race by key' }), { 'idempotency-key': 'race-key' }]] as const) {
      const before = ((await t.client.get(JOBS)).body as any[]).length;
      const rs = await Promise.all(Array.from({ length: 8 }, () => t.client.call('POST', JOBS, b, h)));
      assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(rs.map((r) => r.body.uuid)).size, 1);
      assert.equal(((await t.client.get(JOBS)).body as any[]).length, before + 1);
    }
  });
});

describe('list', () => {
  test('bad statuses, offset and limit → 400', async () => {
    for (const q of ['statuses=DONE', 'statuses=RUNNING&statuses=nope', 'statuses=UNKNOWN', 'offset=-1', 'limit=0', 'limit=-2', 'limit=ten', 'limit=1.5', 'offset=x']) {
      assertEnvelope(await t.client.get(`${JOBS}?${q}`), 400, ['invalid_parameter']);
    }
    const both = await t.client.get(`${JOBS}?limit=0&offset=-1`);
    assert.equal(assertEnvelope(both, 400, ['invalid_parameter']).length, 2, 'both problems at once');
  });

  test('newest first, limit/offset, repeated statuses, limit -1 = all', async () => {
    const ids = ['list-1', 'list-2', 'list-3']; // ids sort in creation order, so a created_at tie keeps the order
    for (const id of ids) assert.equal((await t.client.call('POST', JOBS, body({ id }))).status, 201);
    assert.equal((await t.client.call('PUT', `${JOBS}/list-1/stop`)).body.status, 'STOPPED');
    assert.equal((await t.client.call('PUT', `${JOBS}/list-2/cancel`)).body.status, 'CANCELLED');
    const all = (await t.client.get(`${JOBS}?limit=-1`)).body as any[];
    assert.ok(Array.isArray(all) && all.length >= 3);
    assert.deepEqual((await t.client.get(JOBS)).body, all, 'default limit is -1');
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]];
      assert.ok(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id), `${a.id} before ${b.id}`);
    }
    assert.deepEqual(all.slice(0, 3).map((j) => j.id), ['list-3', 'list-2', 'list-1']);
    assert.deepEqual((await t.client.get(`${JOBS}?limit=2&offset=1`)).body, all.slice(1, 3));
    assert.deepEqual((await t.client.get(`${JOBS}?offset=${all.length}`)).body, []);
    const filtered = (await t.client.get(`${JOBS}?statuses=STOPPED&statuses=CANCELLED`)).body;
    assert.deepEqual(filtered, all.filter((j) => j.status === 'STOPPED' || j.status === 'CANCELLED'));
    assert.deepEqual(filtered.map((j: any) => j.id), ['list-2', 'list-1']);
    assert.deepEqual((await t.client.get(`${JOBS}?statuses=REGISTERED&limit=1`)).body.map((j: any) => j.id), [all.find((j) => j.status === 'REGISTERED').id]);
  });
});

describe('record shape', () => {
  test('documented keys + error + progress; timestamps, uuids, generated ids', async () => {
    const r = await t.client.call('POST', JOBS, body({ name: 'My Fine-Tune run #1' }));
    assert.equal(r.status, 201);
    const j = r.body;
    assert.deepEqual(Object.keys(j).sort(), RECORD_KEYS);
    assert.match(j.id, /^ftj-my-fine-tune-run-1-[0-9a-f]{8}$/);
    assert.match(j.uuid, UUID);
    assert.match(j.org_uuid, UUID);
    assert.match(j.created_at, TS);
    assert.match(j.updated_at, TS);
    assert.equal(j.status, 'REGISTERED');
    assert.equal(j.inference_config_path, null);
    assert.equal(j.error, null);
    assert.equal(j.progress, null);
    assert.deepEqual(j.config, { model: MODEL, datasets: [{ name: 'train', split: 'train', file_ids: ['train.jsonl'] }] });
    const got = await t.client.get(`${JOBS}/${j.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, j);
    const stopped = await t.client.call('PUT', `${JOBS}/${j.id}/stop`);
    assert.equal(stopped.status, 200);
    assert.deepEqual(Object.keys(stopped.body).sort(), RECORD_KEYS);
    assert.match(stopped.body.updated_at, TS);
  });

  test('the model defaults to Newton 7B and is echoed in config', async () => {
    const r = await t.client.call('POST', JOBS, { name: 'no model', config: { datasets: [{ name: 'd', split: 'train', file_ids: ['train.jsonl'] }] } });
    assert.equal(r.status, 201);
    assert.equal(r.body.config.model, MODEL);
  });

  test('a generated id stays within 64 characters for a 300-character name', async () => {
    const name = `${'Very long name '.repeat(20)}`;
    assert.equal(name.length, 300);
    const r = await t.client.call('POST', JOBS, body({ name }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(r.body.id.length <= 64, r.body.id);
    assert.match(r.body.id, /^ftj-very-long-name-[a-z0-9-]*[a-z0-9]-[0-9a-f]{8}$/);
    assert.equal(r.body.name, name);
    for (const name2 of ['!!!', '日本語']) assert.match((await t.client.call('POST', JOBS, body({ name: name2 }))).body.id, /^ftj-job-[0-9a-f]{8}$/);
  });
});
