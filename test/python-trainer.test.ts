/**
 * The Python side of the trainer protocol: the ftnode_trainer SDK's own unit tests (python/tests,
 * no torch needed), and the reference PyTorch trainer python/trainers/lora_sft.py under the protocol
 * conformance checker: a complete run that learns answers it never saw verbatim (better than the
 * label-style built-in trainer, which can only repeat training outputs), a stop mid-training, the
 * worker vanishing (stdin closed), bad data, and a resume from the stopped run's last checkpoint that
 * ends with exactly the adapters of the uninterrupted run (same seed, CPU).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TRAINER_ENTRY } from '../src/app/app.js';
import { runConformance, type ConformanceRun } from '../src/trainers/conformance.js';
import { PROTOCOL_VERSION, type TrainerMessage, type TrainerSpec } from '../src/trainers/protocol.js';
import { LORA_SFT, loraCommand, PYTHON, PYTHON_DIR, torchMissing, writeComposedSft, type SftFiles } from './helpers/python-sft.js';

const skip = torchMissing();
if (skip) console.log(`# python-trainer: ${skip}`);

const temps: string[] = []; // removed after the suite: each run leaves ~1 MB checkpoints
const temp = (prefix: string): string => (temps.push(mkdtempSync(join(tmpdir(), prefix))), temps.at(-1)!);
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function spec(files: SftFiles, extra: Partial<TrainerSpec> = {}): TrainerSpec {
  const work_dir = temp('ftnode-pyproto-');
  return {
    protocol: PROTOCOL_VERSION, job_id: 'pyproto', attempt: 1, model: 'lora-sft', trainer: 'external', config: {}, work_dir, resume: null, seed: 3,
    datasets: [{ name: 'train', split: 'train', files: [{ file_id: 'train.jsonl', path: files.train }] }, { name: 'eval', split: 'eval', files: [{ file_id: 'eval.jsonl', path: files.eval }] }],
    ...extra,
  };
}

const evals = (r: ConformanceRun) => r.messages.filter((m): m is Extract<TrainerMessage, { type: 'eval_end' }> => m.type === 'eval_end');
const checkpoints = (r: ConformanceRun) => r.messages.filter((m): m is Extract<TrainerMessage, { type: 'checkpoint' }> => m.type === 'checkpoint');

test('ftnode_trainer SDK unit tests (python -m unittest)', async () => {
  const child = spawn(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], { cwd: PYTHON_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  assert.equal(code, 0, out);
  assert.match(out, /Ran \d+ tests/);
});

describe('reference trainer lora_sft.py under the conformance checker', { skip: skip ?? false }, () => {
  let files: SftFiles;
  let full: ConformanceRun;
  before(async () => {
    files = writeComposedSft();
    temps.push(files.dir);
    full = await runConformance(loraCommand(), spec(files), { timeoutMs: 120_000 });
  });

  test('a complete run conforms and learns composed answers the label-style trainer cannot give', async () => {
    assert.deepEqual(full.violations, []);
    assert.equal(full.exitCode, 0);
    const done = full.messages.at(-1);
    assert.ok(done?.type === 'done' && done.reason === 'completed', JSON.stringify(done));
    const e = evals(full);
    assert.ok(e.length >= 2, `evaluations: ${e.length}`);
    assert.ok(e.at(-1)!.metrics.eval_loss! < e[0]!.metrics.eval_loss!, `validation loss falls: ${e.map((x) => x.metrics.eval_loss).join(' → ')}`);
    const em = e.at(-1)!.metrics.exact_match!;
    // The same files through the built-in label-style trainer: every held-out answer is a new output.
    const builtin = await runConformance([process.execPath, TRAINER_ENTRY], { ...spec(files), trainer: 'text-sft', model: 'Newton::c2_4_7b_251215a172f6d7' });
    assert.deepEqual(builtin.violations, []);
    const acc = evals(builtin).at(-1)!.metrics.eval_accuracy!;
    assert.ok(em > acc + 0.25, `exact match ${em} vs label-style accuracy ${acc}`);
    const ck = checkpoints(full);
    assert.ok(ck.length >= 2 && ck.at(-1)!.name === 'final');
    assert.equal(ck.at(-1)!.meta?.base_source, 'fitted');
  });

  test('stop mid-training, then resume from its last checkpoint: same adapters as the uninterrupted run', async () => {
    const firstCkpt = checkpoints(full)[0]!.step;
    const stopped = await runConformance(loraCommand(), spec(files), { stopWhen: (m) => m.type === 'progress' && m.step === firstCkpt + 5, timeoutMs: 120_000 });
    assert.deepEqual(stopped.violations, []);
    assert.equal(stopped.exitCode, 0);
    const done = stopped.messages.at(-1);
    assert.ok(done?.type === 'done' && done.reason === 'stopped' && done.step < checkpoints(full).at(-1)!.step, JSON.stringify(done));
    const last = checkpoints(stopped).at(-1)!;
    assert.equal(last.step, firstCkpt);
    const resumeSpec = spec(files, { attempt: 2, resume: { checkpoint_id: 'ckp_test', step: last.step, path: last.path } });
    const resumed = await runConformance(loraCommand(), resumeSpec, { timeoutMs: 120_000 });
    assert.deepEqual(resumed.violations, []);
    const progress = resumed.messages.find((m) => m.type === 'progress');
    assert.ok(progress?.type === 'progress' && progress.step === last.step + 1, 'continues at the next step');
    assert.equal(checkpoints(resumed).at(-1)!.meta?.adapters_sha256, checkpoints(full).at(-1)!.meta?.adapters_sha256);
    assert.deepEqual(evals(resumed).at(-1)!.metrics, evals(full).at(-1)!.metrics);
  });

  test('killed (SIGKILL) after a checkpoint, then resumed from it: same adapters and final metrics as the uninterrupted run', async () => {
    const firstCkpt = checkpoints(full)[0]!.step;
    const killed = await runConformance(loraCommand(), spec(files), { killWhen: (m) => m.type === 'progress' && m.step === firstCkpt + 3, timeoutMs: 120_000 });
    assert.equal(killed.exitCode, null, 'killed by a signal');
    assert.ok(!killed.messages.some((m) => m.type === 'done'));
    const last = checkpoints(killed).at(-1)!;
    assert.equal(last.step, firstCkpt);
    const resumed = await runConformance(loraCommand(), spec(files, { attempt: 2, resume: { checkpoint_id: 'ckp_test', step: last.step, path: last.path } }), { timeoutMs: 120_000 });
    assert.deepEqual(resumed.violations, []);
    assert.equal(checkpoints(resumed).at(-1)!.meta?.adapters_sha256, checkpoints(full).at(-1)!.meta?.adapters_sha256);
    assert.deepEqual(evals(resumed).at(-1)!.metrics, evals(full).at(-1)!.metrics);
  });

  test('a base file from the catalog command (--base) is loaded, frozen and named by its sha256 in the checkpoints', async () => {
    const base = join(temp('ftnode-pybase-'), 'base.pt');
    const exp = spawnSync(PYTHON, [LORA_SFT, 'export-base', checkpoints(full).at(-1)!.path, base], { encoding: 'utf8' });
    assert.equal(exp.status, 0, exp.stderr);
    const run = await runConformance(loraCommand(['--base', base, '--steps', '30', '--evals', '1']), spec(files), { timeoutMs: 120_000 });
    assert.deepEqual(run.violations, []);
    const hp = run.messages.find((m) => m.type === 'hyperparameters');
    assert.ok(hp?.type === 'hyperparameters' && hp.values.base === 'catalog' && hp.values.base_steps === 0, JSON.stringify(hp));
    const ck = checkpoints(run).at(-1)!;
    assert.equal(ck.step, 30);
    assert.equal(ck.meta?.base_sha256, createHash('sha256').update(readFileSync(base)).digest('hex'));
    // Starting from the fitted base, the adapters' first evaluation is already close to the full run's.
    assert.ok(evals(run).at(-1)!.metrics.exact_match! > 0.25, JSON.stringify(evals(run).at(-1)));
  });

  test('closing stdin (the worker died) makes it exit at once, without done', async () => {
    const run = await runConformance(loraCommand(), spec(files), { closeStdinWhen: (m) => m.type === 'progress' && m.step === 3, timeoutMs: 60_000 });
    assert.equal(run.exitCode, 75);
    assert.ok(!run.messages.some((m) => m.type === 'done'));
    assert.ok(run.messages.filter((m) => m.type === 'progress').length < 20, 'stopped within a few steps');
  });

  test('bad data exits 2 with an invalid_dataset error naming the line', async () => {
    const dir = temp('ftnode-pybad-');
    writeFileSync(join(dir, 'bad.jsonl'), '{"inputs":[{"type":"data.text","event_data":{"contents":"x"}}],"outputs":[{"type":"data.text","event_data":{"contents":"y"}}]}\n{"inputs":[]}\n');
    const run = await runConformance(loraCommand(), spec({ ...files, train: join(dir, 'bad.jsonl') }));
    assert.deepEqual(run.violations, []);
    assert.equal(run.exitCode, 2);
    const err = run.messages.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error' && err.code === 'invalid_dataset' && /line 2/.test(err.message), JSON.stringify(err));
  });
});
