/**
 * The real built-in text-sft trainer end to end over HTTP (docs/spec.md): upload the example sensor
 * datasets, train `Newton::c2_4_7b_251215a172f6d7` to COMPLETED, then check what a user gets: metrics
 * that learn (loss falls, eval accuracy beats the majority class), downloadable checkpoints whose
 * bytes match their sha256, the stand-in inference config, predictions that are accurate and
 * repeatable, and DELETE removing the artifacts (409 while a job is active). A stop mid-training of a
 * larger generated dataset ends STOPPED with an inference config.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { jobBody, startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';

const JOBS = '/v0.5/fine-tune/jobs';
const MODEL = 'Newton::c2_4_7b_251215a172f6d7';
const DATA = new URL('../../examples/datasets/', import.meta.url);
const TRAIN = readFileSync(new URL('sensor-sft-train.jsonl', DATA), 'utf8');
const EVAL = readFileSync(new URL('sensor-sft-eval.jsonl', DATA), 'utf8');
const labelOf = (ex: any): string => ex.outputs[0].event_data.contents;
const evalExamples = EVAL.trim().split('\n').map((l) => JSON.parse(l));

let t: TestApp;
let job: any; // the completed job of the main run

before(async () => {
  t = await startTestApp({ plans: { gated: { steps: 4, evalEvery: 2, gates: ['step_2'] } }, overrides: { builtinWorkers: 1 } });
  for (const [name, text] of [['sensor-sft-train.jsonl', TRAIN], ['sensor-sft-eval.jsonl', EVAL]]) {
    const r = await t.client.upload(name!, text!);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
});
after(() => t.close());

/** Share of the most frequent label: what a model that learned nothing would score. */
function majorityRate(labels: string[]): number {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

describe('built-in text trainer, sensor dataset', () => {
  test('trains to COMPLETED with metrics that learn', async () => {
    const body = {
      name: 'sensor sft e2e',
      config: { model: MODEL, datasets: [{ name: 'train', split: 'train', file_ids: ['sensor-sft-train.jsonl'] }, { name: 'eval', split: 'eval', file_ids: ['sensor-sft-eval.jsonl'] }] },
    };
    const r = await t.client.call('POST', JOBS, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    job = await t.client.waitStatus(r.body.id, ['COMPLETED', 'FAILED', 'STOPPED', 'CANCELLED'], 120_000);
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job.error));
    assert.match(job.inference_config_path, new RegExp(`^file://.*inference-configs/${job.id}\\.yaml$`));

    const m = (await t.client.get(`${JOBS}/${job.id}/metrics`)).body;
    const losses = m.metrics.filter((e: any) => typeof e.loss === 'number').map((e: any) => e.loss);
    assert.ok(losses.length >= 10, `loss points: ${losses.length}`);
    assert.ok(losses.at(-1) < losses[0] * 0.7, `loss falls: ${losses[0]} → ${losses.at(-1)}`);
    const evals = m.metrics.filter((e: any) => typeof e.eval_accuracy === 'number');
    const majority = majorityRate(evalExamples.map(labelOf));
    assert.ok(majority < 0.5, `majority rate ${majority}`);
    assert.ok(evals.at(-1).eval_accuracy > majority + 0.3, `eval accuracy ${evals.at(-1).eval_accuracy} vs majority ${majority}`);
    assert.ok(evals.at(-1).eval_loss < evals[0].eval_loss, 'eval loss falls');
    const ckpts = (await t.client.get(`${JOBS}/${job.id}/checkpoints`)).body.data;
    assert.equal(m.last_checkpoint_step, ckpts.at(-1).step);
    const events = (await t.client.get(`${JOBS}/${job.id}/events?limit=-1`)).body.data.map((e: any) => e.type);
    assert.ok(events.includes('job_completed'));
  });

  test('checkpoints are listed and each downloads with matching sha256 and Content-Length', async () => {
    const ckpts = (await t.client.get(`${JOBS}/${job.id}/checkpoints`)).body.data as any[];
    assert.ok(ckpts.length >= 2, `checkpoints: ${ckpts.length}`);
    for (let i = 1; i < ckpts.length; i++) assert.ok(ckpts[i].step > ckpts[i - 1].step);
    for (const c of ckpts) {
      const res = await fetch(`${t.app.url}${JOBS}/${job.id}/checkpoints/${c.id}/download`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
      assert.equal(res.status, 200);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(Number(res.headers.get('content-length')), c.num_bytes);
      assert.equal(bytes.length, c.num_bytes);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), c.sha256);
      assert.equal(res.headers.get('x-checksum-sha256'), c.sha256);
    }
    assert.equal((await t.client.get(`${JOBS}/${job.id}/checkpoints/ckp_nope/download`)).status, 404);
  });

  test('the inference config is a stand-in naming the last checkpoint', async () => {
    const r = await t.client.get(`${JOBS}/${job.id}/inference-config`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /yaml/);
    const doc = parse(r.body);
    const last = (await t.client.get(`${JOBS}/${job.id}/checkpoints`)).body.data.at(-1);
    assert.equal(doc.stand_in, true);
    assert.equal(doc.model, MODEL);
    assert.equal(doc.job_id, job.id);
    assert.equal(doc.checkpoint.id, last.id);
    assert.equal(doc.checkpoint.sha256, last.sha256);
    assert.equal(readFileSync(fileURLToPath(job.inference_config_path), 'utf8'), r.body, 'the file at inference_config_path');
  });

  test('predictions on eval examples are accurate and repeatable', async () => {
    const sample = evalExamples.slice(0, 50);
    const path = `${JOBS}/${job.id}/predict`;
    const r = await t.client.call('POST', path, { examples: sample });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.stand_in, true);
    assert.equal(r.body.predictions.length, sample.length);
    const correct = r.body.predictions.filter((p: any, i: number) => p.prediction === labelOf(sample[i])).length;
    const majority = majorityRate(sample.map(labelOf));
    assert.ok(correct / sample.length > majority + 0.3, `accuracy ${correct / sample.length} vs majority ${majority}`);
    for (const p of r.body.predictions) assert.ok(p.probabilities[p.prediction] > 0 && p.probabilities[p.prediction] <= 1);

    const first = (await t.client.get(`${JOBS}/${job.id}/checkpoints`)).body.data[0];
    const a = await t.client.call('POST', path, { examples: sample, checkpoint_id: first.id });
    const b = await t.client.call('POST', path, { examples: sample, checkpoint_id: first.id });
    assert.equal(a.status, 200);
    assert.equal(a.body.checkpoint_id, first.id);
    assert.deepEqual(a.body, b.body, 'the same checkpoint gives the same predictions');
    assert.equal((await t.client.call('POST', path, { examples: sample, checkpoint_id: 'ckp_nope' })).status, 404);
    assert.equal((await t.client.call('POST', path, {})).status, 400);
    assert.equal((await t.client.call('POST', path, { examples: [{ inputs: 'not a list' }] })).status, 400);
  });

  test('DELETE of the completed job → 200, then 404, and its artifacts are gone from disk', async () => {
    const ckptDir = join(t.home, 'artifacts', 'checkpoints', job.uuid);
    const yamlFile = fileURLToPath(job.inference_config_path);
    assert.ok(existsSync(ckptDir) && existsSync(yamlFile));
    const r = await t.client.call('DELETE', `${JOBS}/${job.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.is_valid, true);
    assert.equal(r.body.id, job.id);
    assert.equal((await t.client.get(`${JOBS}/${job.id}`)).status, 404);
    assert.equal((await t.client.get(`${JOBS}/${job.id}/checkpoints`)).status, 404);
    assert.ok(!existsSync(ckptDir), 'checkpoint files removed');
    assert.ok(!existsSync(yamlFile), 'inference config removed');
    assert.equal((await t.client.call('DELETE', `${JOBS}/${job.id}`)).status, 404);
    assert.ok(!(await t.client.get(JOBS)).body.some((j: any) => j.id === job.id));
  });

  test('DELETE of a running job → 409, nothing removed', async () => {
    await t.client.upload('fixture.jsonl', '{"x":1}\n');
    const r = await t.client.call('POST', JOBS, jobBody('fixture-gated', 'fixture.jsonl', { id: 'gated-delete' }));
    assert.equal(r.status, 201);
    try {
      await t.gates.reached('gated-delete', 'step_2');
      const d = await t.client.call('DELETE', `${JOBS}/gated-delete`);
      assert.equal(d.status, 409);
      assert.equal(d.body.errors[0].code, 'invalid_state_transition');
      assert.equal((await t.client.job('gated-delete')).status, 'RUNNING');
      assert.equal((await t.client.get(`${JOBS}/gated-delete/checkpoints`)).status, 200);
    } finally {
      t.gates.open('gated-delete', 'step_2');
    }
    assert.equal((await t.client.waitStatus('gated-delete', ['COMPLETED', 'FAILED'])).status, 'COMPLETED');
    assert.equal((await t.client.call('DELETE', `${JOBS}/gated-delete`)).status, 200);
  });
});

/** A port of examples/datasets/make-sensor-sft.mjs (same rule, mix and noise; its own seed). */
function sensorExamples(count: number, seed: number): string {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const labels = ['overheating', 'vibration_fault', 'occupied', 'empty'];
  const weights = [0.18, 0.17, 0.35, 0.3];
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    let r = rand();
    let s = weights.findIndex((w) => (r -= w) < 0);
    if (s < 0) s = 3;
    const scenario = labels[s];
    const presence = [rand() < 0.5 ? 'active' : 'inactive', rand() < 0.5 ? 'active' : 'inactive'];
    if (scenario === 'occupied' && !presence.includes('active')) presence[Math.floor(rand() * 2)] = 'active';
    if (scenario === 'empty') presence.fill('inactive');
    const temp = [u(17, 39.9), u(17, 39.9)];
    if (scenario === 'overheating') temp[Math.floor(rand() * 2)] = u(40, 62);
    const vib = [u(0.2, 6.9), u(0.2, 6.9)];
    if (scenario === 'vibration_fault') vib[Math.floor(rand() * 2)] = u(7, 15);
    if (scenario === 'overheating' && rand() < 0.3) vib[0] = u(7, 15);
    const t1 = temp.map((v) => v.toFixed(1));
    const v1 = vib.map((v) => v.toFixed(1));
    let label = t1.some((v) => Number(v) >= 40) ? 'overheating' : v1.some((v) => Number(v) >= 7) ? 'vibration_fault' : presence.includes('active') ? 'occupied' : 'empty';
    if (rand() < 0.06) label = pick(labels.filter((l) => l !== label));
    const pad = (x: number) => String(x).padStart(2, '0');
    const [day, hour, min] = [1 + Math.floor(rand() * 28), Math.floor(u(6, 22)), Math.floor(u(0, 50))];
    const ts = [0, 5].map((d) => `2025-08-${pad(day)}T${pad(hour)}:${pad(min + d)}`);
    const room = pick(['Entrance', 'Storage', 'Kitchen', 'Lab-1', 'Lab-2', 'Server-Room', 'Workshop', 'Lobby']);
    const contents = [
      `- sensor_name: ${room}-presence`, '  log:', ...ts.map((x, i) => `    - {presence_state: "${presence[i]}", timestamp: "${x}"}`),
      `- sensor_name: ${room}-pump`, '  log:', ...ts.map((x, i) => `    - {temperature_c: ${t1[i]}, vibration_mm_s: ${v1[i]}, timestamp: "${x}"}`), '',
    ].join('\n');
    lines.push(JSON.stringify({
      lens_parameters: { instruction: 'Classify this facility sensor log as overheating, vibration_fault, occupied or empty.' },
      inputs: [{ type: 'data.text', event_data: { contents } }],
      outputs: [{ type: 'data.text', event_data: { contents: label } }],
    }));
  }
  return `${lines.join('\n')}\n`;
}

describe('stop mid-training', () => {
  test('a built-in job stopped after its first checkpoint ends STOPPED with an inference config', async () => {
    assert.equal((await t.client.upload('sensor-big.jsonl', sensorExamples(5000, 424242))).status, 200);
    const r = await t.client.call('POST', JOBS, jobBody(MODEL, 'sensor-big.jsonl', { name: 'big run' }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id;
    const first = await waitFor('a committed checkpoint', async () => (await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data[0], 120_000);
    const s = await t.client.call('PUT', `${JOBS}/${id}/stop`);
    assert.equal(s.status, 200);
    assert.equal(s.body.status, 'STOPPING', `stop answered ${s.body.status}: the run finished before the stop arrived`);
    const done = await t.client.waitStatus(id, ['STOPPED', 'COMPLETED', 'FAILED', 'CANCELLED'], 120_000);
    assert.equal(done.status, 'STOPPED');
    assert.match(done.inference_config_path, /^file:\/\//);
    const ckpts = (await t.client.get(`${JOBS}/${id}/checkpoints`)).body.data;
    const doc = parse((await t.client.get(`${JOBS}/${id}/inference-config`)).body);
    assert.equal(doc.checkpoint.id, ckpts.at(-1).id);
    assert.ok(ckpts.at(-1).step >= first.step);
    const hp = (await t.client.get(`${JOBS}/${id}/events?limit=-1`)).body.data.find((e: any) => e.type === 'hyperparameters');
    assert.ok(ckpts.at(-1).step < hp.data.values.total_steps, 'no final checkpoint: training did not run to the end');
    const p = await t.client.call('POST', `${JOBS}/${id}/predict`, { examples: evalExamples.slice(0, 5) });
    assert.equal(p.status, 200, 'the stopped job predicts from its last checkpoint');
  });
});
