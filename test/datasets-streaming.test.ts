/**
 * Real-sized text datasets over HTTP (real server on an ephemeral port, real SQLite files, the real
 * text-sft trainer process): a generated Newton SFT JSONL of 300,000 examples (~90 MB; the loader
 * used to spread every example into one push() and overflow the call stack past ~120,000) is
 * validated at create by the streaming reader, trains (RUNNING with progress, checkpoints committed,
 * COMPLETED) from its spill file, and a broken line deep in such a file is named by file and line.
 * Waits are on conditions only.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeSftJsonl } from './helpers/big-datasets.js';
import { jobBody, startTestApp, waitFor, type TestApp } from './helpers/harness.js';

const JOBS = '/v0.5/fine-tune/jobs';
const MODEL = 'Newton::c2_4_7b_251215a172f6d7';
const N = 300_000;

let t: TestApp;
let dir: string;
let big: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ftnode-big-'));
  // ~300 bytes an example: one reading each, so 3 epochs of 300,000 stay well under a minute.
  writeSftJsonl(join(dir, 'big.jsonl'), N, { bytesPerExample: 300, seed: 7 });
  big = readFileSync(join(dir, 'big.jsonl'));
  t = await startTestApp({ overrides: { builtinWorkers: 1 } });
  const r = await t.client.upload('big-sft.jsonl', big);
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a 300,000-example JSONL is accepted at create and trains to COMPLETED', async () => {
  const r = await t.client.call('POST', JOBS, jobBody(MODEL, 'big-sft.jsonl'));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.id;
  const running = await waitFor('RUNNING with progress', async () => {
    const j = await t.client.job(id);
    assert.ok(!['FAILED', 'CANCELLED'].includes(j.status), JSON.stringify(j.error));
    return j.status === 'RUNNING' && j.progress?.step > 0 ? j : null;
  }, 120_000);
  assert.ok(running.progress.total_steps > running.progress.step);
  const done = await t.client.waitStatus(id, ['COMPLETED', 'FAILED', 'STOPPED', 'CANCELLED'], 300_000);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));

  const m = (await t.client.get(`${JOBS}/${id}/metrics`)).body.metrics;
  const hp = m.find((e: any) => e.step === 0);
  // No eval split and n > 50,000: ~5,000 examples held out by the seeded hash, the rest trained on.
  assert.ok(hp.hp_train_examples + hp.hp_eval_examples === N, JSON.stringify(hp));
  assert.ok(hp.hp_eval_examples > 4500 && hp.hp_eval_examples < 5500, String(hp.hp_eval_examples));
  assert.equal(hp.hp_classes, 4);
  assert.equal(hp.hp_epochs, 3);
  // The label is a rule over the text: a model that trained on the whole file gets it nearly always right.
  const final = m.filter((e: any) => typeof e.eval_accuracy === 'number').at(-1);
  assert.ok(final.eval_accuracy > 0.95, JSON.stringify(final));
  const ckpts = (await t.client.get(`${JOBS}/${id}/checkpoints`)).body;
  const list = Array.isArray(ckpts) ? ckpts : ckpts.checkpoints ?? ckpts.data;
  assert.ok(list.length >= 2, JSON.stringify(ckpts).slice(0, 300));
});

test('a bad line deep in a large file is named by file and line at create', async () => {
  const path = join(dir, 'big.jsonl');
  appendFileSync(path, '{"inputs": [{"type": "data.text", "event_data": {"contents": 5}}], "outputs": []}\n');
  const r = await t.client.upload('big-bad.jsonl', readFileSync(path));
  assert.equal(r.status, 200);
  const before = JSON.stringify((await t.client.get(`${JOBS}?limit=-1`)).body);
  const c = await t.client.call('POST', JOBS, jobBody(MODEL, 'big-bad.jsonl'));
  assert.equal(c.status, 400, JSON.stringify(c.body));
  const text = c.body.errors.map((e: any) => `${e.code} ${e.message}`).join('\n');
  assert.match(text, new RegExp(`invalid_dataset big-bad\\.jsonl \\(line ${N + 1}\\): example ${N + 1}: \`inputs\\[0\\]\\.event_data\\.contents\` must be a string`));
  assert.equal(JSON.stringify((await t.client.get(`${JOBS}?limit=-1`)).body), before, 'nothing stored');
});
