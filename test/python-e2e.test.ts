/**
 * The reference PyTorch trainer (python/trainers/lora_sft.py) as an `external` catalog model with
 * `predict: true`, end to end through the API: upload, create, watch it run (progress, evaluations,
 * a committed checkpoint), stop → STOPPED with that checkpoint and an inference config, download the
 * checkpoint (bytes match its sha256), predict generated text through the protocol's predict
 * extension; a second job cancelled while it fits its base ends CANCELLED with no checkpoint.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CATALOG } from '../src/config/catalog.js';
import { startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';
import { loraCommand, torchMissing, writeComposedSft } from './helpers/python-sft.js';

const JOBS = '/v0.5/fine-tune/jobs';
const skip = torchMissing();
if (skip) console.log(`# python-e2e: ${skip}`);

describe('lora_sft.py through the API', { skip: skip ?? false }, () => {
  let t: TestApp;
  const files = writeComposedSft(11, 240);
  before(async () => {
    // 8 evaluations of 50 LoRA steps: the stop lands after the first checkpoint, long before the end.
    const catalog = { ...DEFAULT_CATALOG, 'lora-sft': { trainer: 'external', kind: 'text' as const, predict: true, command: loraCommand(['--steps', '400', '--evals', '8']), description: 'reference PyTorch LoRA trainer' } };
    t = await startTestApp({ overrides: { builtinWorkers: 1, catalog } });
    for (const [name, path] of [['py-train.jsonl', files.train], ['py-eval.jsonl', files.eval]] as const) {
      assert.equal((await t.client.upload(name, readFileSync(path))).status, 200);
    }
  });
  after(async () => {
    await t.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  test('create, watch, stop, download the checkpoint, predict text', async () => {
    const body = { name: 'python lora', config: { model: 'lora-sft', datasets: [{ name: 'train', split: 'train', file_ids: ['py-train.jsonl'] }, { name: 'eval', split: 'eval', file_ids: ['py-eval.jsonl'] }] } };
    const r = await t.client.call('POST', JOBS, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id;
    const running = await t.client.waitStatus(id, ['RUNNING', 'FAILED'], 60_000);
    assert.equal(running.status, 'RUNNING', JSON.stringify(running.error));
    const first = await waitFor('a committed checkpoint', async () => (await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data[0], 120_000);
    const s = await t.client.call('PUT', `${JOBS}/${id}/stop`);
    assert.equal(s.body.status, 'STOPPING', `stop answered ${s.body.status}`);
    const done = await t.client.waitStatus(id, ['STOPPED', 'COMPLETED', 'FAILED', 'CANCELLED'], 60_000);
    assert.equal(done.status, 'STOPPED', JSON.stringify(done.error));
    assert.match(done.inference_config_path, /^file:\/\//);

    const events = (await t.client.get(`${JOBS}/${id}/events?limit=-1`)).body.data;
    const evals = events.filter((e: any) => e.type === 'eval_finished');
    assert.ok(evals.length >= 1 && typeof evals[0].data.metrics.exact_match === 'number', JSON.stringify(evals[0]));
    const hp = events.find((e: any) => e.type === 'hyperparameters');
    assert.equal(hp.data.values.base, 'fitted');
    const ckpts = (await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data;
    const last = ckpts.at(-1);
    assert.ok(last.step >= first.step && last.step < hp.data.values.base_steps + hp.data.values.lora_steps, 'stopped before the end');
    const res = await fetch(`${t.app.url}${JOBS}/${id}/checkpoints/${last.id}/download`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), last.sha256);

    const examples = readFileSync(files.eval, 'utf8').trim().split('\n').slice(0, 6).map((l) => JSON.parse(l));
    const p = await t.client.call('POST', `${JOBS}/${id}/predict`, { examples: [...examples, 'unit: fan2\nstate: idle'] });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.checkpoint_id, last.id);
    assert.equal(p.body.predictions.length, examples.length + 1);
    for (const x of p.body.predictions) assert.equal(typeof x.prediction, 'string');
    // Generated, not chosen: the answers follow the taught form "the <unit> is <state>".
    assert.ok(p.body.predictions.filter((x: any) => /^the \w+ is \w+$/.test(x.prediction)).length >= 4, JSON.stringify(p.body.predictions));
    const bad = await t.client.call('POST', `${JOBS}/${id}/predict`, { examples: [{ inputs: [] }] });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /inputs/);
  });

  test('cancel while the base is being fitted: CANCELLED, no checkpoint', async () => {
    const r = await t.client.call('POST', JOBS, { name: 'python cancel', config: { model: 'lora-sft', datasets: [{ name: 'train', split: 'train', file_ids: ['py-train.jsonl'] }] } });
    const id = r.body.id;
    await waitFor('training progress', async () => (await t.client.job(id)).progress?.step > 0, 60_000);
    const c = await t.client.call('PUT', `${JOBS}/${id}/cancel`);
    assert.equal(c.body.status, 'CANCELLED');
    const ev = (await t.client.get(`${JOBS}/${id}/events?limit=-1`)).body.data;
    assert.ok(ev.some((e: any) => e.type === 'cancelled'), JSON.stringify(ev.map((e: any) => e.type)));
    assert.deepEqual((await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data, []);
  });
});
