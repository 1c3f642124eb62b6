/**
 * Tests: the real trainer child process (node dist/src/trainers/main.js) running text-sft over
 * stdio: a start spec in, protocol messages out, exit code 0 on done, 2 on an invalid dataset, and a
 * `stop` line ends a run early with `done: stopped`. No sleeps: the tests react to the stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TrainerMessage, TrainerSpec } from '../protocol.js';
import { colourExamples, EXAMPLE_TRAIN, makeSpec, REPO_ROOT, tempDir, TRAINER_MAIN, writeJsonl } from './fixtures.js';

interface Run {
  messages: TrainerMessage[];
  code: number | null;
  stderr: string;
}

/** Starts the trainer, sends the spec; `onMessage` may write more lines (e.g. a stop). stdin stays open until exit. */
function runTrainer(spec: TrainerSpec, onMessage?: (m: TrainerMessage, send: (line: object) => void) => void): Promise<Run> {
  const child = spawn(process.execPath, [TRAINER_MAIN], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const send = (line: object) => child.stdin.write(`${JSON.stringify(line)}\n`);
  const messages: TrainerMessage[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as TrainerMessage;
    messages.push(m);
    onMessage?.(m, send);
  });
  send({ type: 'start', spec });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' (not 'exit') so that every stdout line has been read.
    child.on('close', (code) => resolve({ messages, code, stderr }));
  });
}

test('child process: trains, checkpoints into work_dir, ends with done and exit code 0', async () => {
  const dir = tempDir();
  const spec = makeSpec(dir, [writeJsonl(dir, 'train.jsonl', colourExamples(90))], [writeJsonl(dir, 'eval.jsonl', colourExamples(15, 500))]);
  const run = await runTrainer(spec);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.messages[0].type, 'hello');
  const last = run.messages.at(-1)!;
  assert.equal(last.type, 'done');
  assert.equal(last.type === 'done' && last.reason, 'completed');
  assert.ok(run.messages.some((m) => m.type === 'finalizing'));
  const ckpts = run.messages.filter((m): m is Extract<TrainerMessage, { type: 'checkpoint' }> => m.type === 'checkpoint');
  assert.ok(ckpts.length >= 1);
  for (const c of ckpts) {
    const bytes = readFileSync(join(dir, c.path));
    assert.equal(bytes.length, c.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), c.sha256);
  }
  assert.equal(ckpts.at(-1)!.name, 'final');
  assert.equal(last.type === 'done' && last.metrics?.eval_accuracy, 1);
});

test('child process: a stop line ends the run early with done: stopped and exit code 0', async () => {
  const dir = tempDir();
  // The sensor set trains 760 steps (~0.4 s): far longer than a stop line takes to arrive.
  const spec = makeSpec(dir, [EXAMPLE_TRAIN]);
  let sent = false;
  const run = await runTrainer(spec, (m, send) => {
    if (m.type === 'progress' && m.step === 3 && !sent) {
      sent = true;
      send({ type: 'stop' });
    }
  });
  assert.equal(run.code, 0, run.stderr);
  const last = run.messages.at(-1)!;
  assert.equal(last.type, 'done');
  assert.equal(last.type === 'done' && last.reason, 'stopped');
  const total = run.messages.find((m) => m.type === 'progress');
  assert.ok(last.type === 'done' && total?.type === 'progress' && last.step < total.total_steps);
  assert.ok(!run.messages.some((m) => m.type === 'finalizing'));
});

test('child process: an invalid dataset exits with code 2 and an invalid_dataset error', async () => {
  const dir = tempDir();
  const bad = writeJsonl(dir, 'bad.jsonl', [...colourExamples(2), { inputs: [{ type: 'data.text', event_data: { contents: 'x' } }] }]);
  const run = await runTrainer(makeSpec(dir, [bad]));
  assert.equal(run.code, 2, run.stderr);
  const err = run.messages.at(-1)!;
  assert.equal(err.type, 'error');
  assert.equal(err.type === 'error' && err.code, 'invalid_dataset');
  assert.match(err.type === 'error' ? err.message : '', /^bad\.jsonl line 3: example 3: `outputs`/);
});
