/**
 * Trainer protocol conformance (src/trainers/conformance.ts) on every trainer ftnode ships and on the
 * test fixture: a complete run, a graceful stop, the worker vanishing (stdin closed) and bad data.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TRAINER_ENTRY } from '../src/app/app.js';
import { runConformance } from '../src/trainers/conformance.js';
import { PROTOCOL_VERSION, type TrainerSpec } from '../src/trainers/protocol.js';
import { makeSpec, writeSynthetic } from '../src/trainers/timeseries/test-helpers.js';
import { FIXTURE_TRAINER, waitFor } from './helpers/harness.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/datasets/', import.meta.url));
const node = [process.execPath];

async function textSpec(trainFile: string, evalFile?: string): Promise<TrainerSpec> {
  const work_dir = await mkdtemp(join(tmpdir(), 'ftnode-proto-'));
  const datasets: TrainerSpec['datasets'] = [{ name: 'train', split: 'train', files: [{ file_id: 'train.jsonl', path: trainFile }] }];
  if (evalFile) datasets.push({ name: 'eval', split: 'eval', files: [{ file_id: 'eval.jsonl', path: evalFile }] });
  return { protocol: PROTOCOL_VERSION, job_id: 'proto', attempt: 1, model: 'Newton::c2_4_7b_251215a172f6d7', trainer: 'text-sft', config: {}, datasets, work_dir, resume: null, seed: 1 };
}

describe('built-in text-sft trainer', () => {
  test('a complete run conforms', async () => {
    const run = await runConformance([...node, TRAINER_ENTRY], await textSpec(join(EXAMPLES, 'sensor-sft-train.jsonl'), join(EXAMPLES, 'sensor-sft-eval.jsonl')));
    assert.deepEqual(run.violations, []);
    assert.equal(run.exitCode, 0);
    assert.equal(run.messages.at(-1)?.type, 'done');
    assert.ok(run.messages.some((m) => m.type === 'checkpoint'));
  });

  test('a stop request ends the run cleanly with reason stopped', async () => {
    const run = await runConformance([...node, TRAINER_ENTRY], await textSpec(join(EXAMPLES, 'sensor-sft-train.jsonl')), { stopWhen: (m) => m.type === 'progress' && m.step >= 3 });
    assert.deepEqual(run.violations, []);
    assert.equal(run.exitCode, 0);
    const done = run.messages.at(-1);
    assert.ok(done?.type === 'done' && done.reason === 'stopped');
  });

  test('closing stdin (the worker died) makes the trainer exit', async () => {
    const run = await runConformance([...node, TRAINER_ENTRY], await textSpec(join(EXAMPLES, 'sensor-sft-train.jsonl')), { closeStdinWhen: (m) => m.type === 'progress' });
    assert.notEqual(run.exitCode, 0);
    assert.ok(!run.messages.some((m) => m.type === 'done' && m.reason === 'completed'));
  });

  test('bad data exits 2 with an error message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ftnode-proto-bad-'));
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"inputs":[{"type":"data.text","event_data":{"contents":"x"}}],"outputs":[{"type":"data.text","event_data":{"contents":"y"}}]}\nnot json\n');
    const run = await runConformance([...node, TRAINER_ENTRY], await textSpec(bad));
    assert.deepEqual(run.violations, []);
    assert.equal(run.exitCode, 2);
  });
});

describe('built-in timeseries trainer', () => {
  test('a complete head run conforms', async () => {
    const files = await writeSynthetic(2, 200, 1);
    const spec = { ...makeSpec(files, 'head', { n_epochs: 3 }), work_dir: await mkdtemp(join(tmpdir(), 'ftnode-proto-ts-')) };
    const run = await runConformance([...node, TRAINER_ENTRY], spec);
    assert.deepEqual(run.violations, []);
    assert.equal(run.exitCode, 0);
  });
});

describe('test fixture trainer', () => {
  test('conforms, and honours stop', async () => {
    const spec = await textSpec(join(EXAMPLES, 'sensor-sft-train.jsonl'));
    const run = await runConformance([...node, FIXTURE_TRAINER], spec, { env: { FIXTURE_PLAN: JSON.stringify({ steps: 6, evalEvery: 2 }) } });
    assert.deepEqual(run.violations, []);
    // The fixture holds before step 3 until the stop has reached it, so it cannot finish its 6 steps
    // first (on a loaded machine it did: done 'completed', a valid answer to a late stop).
    const gateDir = await mkdtemp(join(tmpdir(), 'ftnode-proto-gate-'));
    const stopSpec = await textSpec(join(EXAMPLES, 'sensor-sft-train.jsonl'));
    const running = runConformance([...node, FIXTURE_TRAINER], stopSpec, {
      env: { FIXTURE_PLAN: JSON.stringify({ steps: 6, evalEvery: 2, gates: ['step_3'] }), FIXTURE_GATE_DIR: gateDir },
      stopWhen: (m) => m.type === 'progress' && m.step === 1,
    });
    await waitFor('the stop reached the trainer', () => existsSync(join(gateDir, `${stopSpec.job_id}.stop_received.reached`)));
    writeFileSync(join(gateDir, `${stopSpec.job_id}.step_3.go`), '');
    const stopped = await running;
    assert.deepEqual(stopped.violations, []);
    assert.ok(stopped.messages.some((m) => m.type === 'done' && m.reason === 'stopped'));
  });
});
