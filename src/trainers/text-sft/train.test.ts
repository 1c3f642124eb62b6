/**
 * Tests: train() in-process with a fake context: it learns the example dataset (loss falls, eval
 * accuracy beats the majority class), the message stream is well formed, stop semantics, resume
 * from a checkpoint, checkpoint round-trip, predict, and invalid datasets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InvalidConfigError, InvalidDatasetError } from '../builtin.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { featurize } from './features.js';
import { colourExamples, EXAMPLE_EVAL, EXAMPLE_TRAIN, fakeContext, makeSpec, ofType, tempDir, writeJsonl } from './fixtures.js';
import { textSftTrainer } from './index.js';

function labelsOf(path: string): string[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).outputs[0].event_data.contents as string);
}

test('learns the sensor example dataset: loss falls, eval accuracy far above the majority class', async () => {
  const dir = tempDir();
  const ctx = fakeContext(makeSpec(dir, [EXAMPLE_TRAIN], [EXAMPLE_EVAL]));
  const result = await textSftTrainer.train(ctx);
  assert.equal(result.reason, 'completed');
  assert.equal(result.step, 760);

  const msgs = ctx.messages;
  const hp = ofType(msgs, 'hyperparameters')[0].values;
  assert.equal(hp.total_steps, 760);
  assert.equal(hp.eval_source, 'eval_split');
  const progress = ofType(msgs, 'progress');
  assert.deepEqual(progress.map((p) => p.step), Array.from({ length: 760 }, (_, i) => i + 1));
  assert.ok(progress.every((p) => p.total_steps === 760 && p.epoch! >= 1 && p.epoch! <= 20));

  const losses = ofType(msgs, 'metrics').map((m) => m.values.loss);
  const head = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const tail = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(tail < head / 3, `train loss ${head} -> ${tail}`);

  const evalLabels = labelsOf(EXAMPLE_EVAL);
  const counts = new Map<string, number>();
  for (const l of evalLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const majority = Math.max(...counts.values()) / evalLabels.length;
  const acc = result.metrics!.eval_accuracy;
  assert.ok(acc > majority + 0.3, `eval accuracy ${acc} vs majority ${majority}`);
  // 10 evaluations: 9 periodic + the final one, each a start/end pair in order.
  const evals = msgs.filter((m) => m.type === 'eval_start' || m.type === 'eval_end');
  assert.equal(evals.length, 20);
  for (let i = 0; i < evals.length; i += 2) assert.deepEqual([evals[i].type, evals[i + 1].type], ['eval_start', 'eval_end']);
  // The stream ends: finalizing, the final evaluation, the final checkpoint.
  const tailTypes = msgs.slice(-4).map((m) => m.type);
  assert.deepEqual(tailTypes, ['finalizing', 'eval_start', 'eval_end', 'checkpoint']);
  assert.equal(ctx.checkpoints.at(-1)!.name, 'final');
  // Periodic checkpoints only when eval loss improved.
  const periodic = ctx.checkpoints.slice(0, -1).map((c) => c.metrics.eval_loss);
  assert.ok(periodic.length >= 1);
  for (let i = 1; i < periodic.length; i++) assert.ok(periodic[i] < periodic[i - 1]);

  // predict() from the final checkpoint agrees with the eval accuracy the run reported.
  const examples = readFileSync(EXAMPLE_EVAL, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const preds = await textSftTrainer.predict(ctx.checkpoints.at(-1)!.path, { examples });
  const predAcc = preds.filter((p, i) => p.prediction === evalLabels[i]).length / preds.length;
  assert.equal(predAcc, acc);
  const p0 = preds[0].probabilities;
  assert.equal(Object.keys(p0).length, 4);
  assert.ok(Math.abs(Object.values(p0).reduce((a, b) => a + b) - 1) < 1e-9);
  assert.equal(Object.entries(p0).sort((a, b) => b[1] - a[1])[0][0], preds[0].prediction);
});

test('stop: no step starts after stopRequested, returns stopped, finishes the eval in progress', async () => {
  const dir = tempDir();
  const train = writeJsonl(dir, 'train.jsonl', colourExamples(120));
  // Flip stop while step 7 is being reported; then again right as an evaluation starts.
  const ctx = fakeContext(makeSpec(dir, [train]), (m, c) => {
    if (m.type === 'progress' && m.step === 7) c.stop = true;
  });
  const r = await textSftTrainer.train(ctx);
  assert.deepEqual(r, { reason: 'stopped', step: 7 });
  assert.equal(ofType(ctx.messages, 'progress').at(-1)!.step, 7);
  assert.equal(ofType(ctx.messages, 'finalizing').length, 0);

  const dir2 = tempDir();
  const ctx2 = fakeContext(makeSpec(dir2, [writeJsonl(dir2, 'train.jsonl', colourExamples(120))]), (m, c) => {
    if (m.type === 'eval_start') c.stop = true;
  });
  const r2 = await textSftTrainer.train(ctx2);
  const evalStep = ofType(ctx2.messages, 'eval_start')[0].step;
  assert.deepEqual(r2, { reason: 'stopped', step: evalStep });
  const last = ctx2.messages.at(-1)!;
  // The evaluation ran to its end (and, being the first, wrote its checkpoint).
  assert.equal(last.type, 'checkpoint');
  assert.equal(ofType(ctx2.messages, 'eval_end')[0].step, evalStep);
  assert.equal(ofType(ctx2.messages, 'progress').at(-1)!.step, evalStep);

  // A stop during the very last step: no finalizing, no final evaluation.
  const dir3 = tempDir();
  const ctx3 = fakeContext(makeSpec(dir3, [writeJsonl(dir3, 'train.jsonl', colourExamples(40))]), (m, c) => {
    if (m.type === 'progress' && m.step === m.total_steps) c.stop = true;
  });
  const r3 = await textSftTrainer.train(ctx3);
  assert.equal(r3.reason, 'stopped');
  assert.equal(r3.step, ofType(ctx3.messages, 'progress')[0].total_steps);
  assert.equal(ofType(ctx3.messages, 'finalizing').length, 0);
});

test('resume from a checkpoint continues at its step and ends exactly like an uninterrupted run', async () => {
  const dir = tempDir();
  const train = writeJsonl(dir, 'train.jsonl', colourExamples(150));
  const evalFile = writeJsonl(dir, 'eval.jsonl', colourExamples(30, 1000));
  const full = fakeContext(makeSpec(tempDir(), [train], [evalFile]));
  const fullResult = await textSftTrainer.train(full);
  const mid = full.checkpoints.find((c) => c.name !== 'final' && c.step > 0)!;
  assert.ok(mid.step < fullResult.step);

  const resumed = fakeContext(makeSpec(tempDir(), [train], [evalFile], { resume: { checkpoint_id: 'ckp-1', step: mid.step, path: mid.path }, attempt: 2 }));
  const r = await textSftTrainer.train(resumed);
  assert.equal(r.reason, 'completed');
  assert.equal(r.step, fullResult.step);
  const steps = ofType(resumed.messages, 'progress').map((p) => p.step);
  assert.equal(steps[0], mid.step + 1);
  assert.equal(steps.length, fullResult.step - mid.step);
  assert.deepEqual(r.metrics, fullResult.metrics);
  // Same final model, bit for bit (the checkpoint holds the whole optimizer state).
  const a = decodeCheckpoint(full.checkpoints.at(-1)!.bytes).model;
  const b = decodeCheckpoint(resumed.checkpoints.at(-1)!.bytes).model;
  assert.deepEqual(b.W, a.W);
  assert.deepEqual(b.b, a.b);

  // A checkpoint whose schedule does not fit the dataset is refused, not silently misused.
  const other = writeJsonl(dir, 'other.jsonl', colourExamples(300));
  const wrong = fakeContext(makeSpec(tempDir(), [other], [evalFile], { resume: { checkpoint_id: 'ckp-1', step: mid.step, path: mid.path } }));
  await assert.rejects(textSftTrainer.train(wrong), InvalidConfigError);
});

test('checkpoint round-trip: decode(encode(model)) predicts identically; corrupt files are refused', async () => {
  const dir = tempDir();
  const ctx = fakeContext(makeSpec(dir, [writeJsonl(dir, 'train.jsonl', colourExamples(60))]));
  await textSftTrainer.train(ctx);
  const bytes = ctx.checkpoints.at(-1)!.bytes;
  const { header, model } = decodeCheckpoint(bytes);
  assert.deepEqual(header.labels, ['BLUE', 'GREEN', 'RED']);
  assert.equal(header.step, ctx.checkpoints.at(-1)!.step);
  const again = encodeCheckpoint(model, header);
  assert.deepEqual(again, bytes);
  const copy = decodeCheckpoint(again).model;
  for (const text of ['the lamp shows red light', 'green', 'nothing at all', 'BLUE blue blue']) {
    const x = featurize(text, model.dim);
    assert.deepEqual(copy.probabilities(x), model.probabilities(x));
  }
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4)), /expected/);
  assert.throws(() => decodeCheckpoint(Buffer.from('nope')), /bad magic/);

  const preds = await textSftTrainer.predict(ctx.checkpoints.at(-1)!.path, {
    examples: [colourExamples(1, 1)[0], 'a lamp with blue light', { inputs: [{ type: 'data.text', event_data: { contents: 'red light' } }] }],
  });
  assert.deepEqual(preds.map((p) => p.prediction), ['GREEN', 'BLUE', 'RED']);
  await assert.rejects(textSftTrainer.predict(ctx.checkpoints.at(-1)!.path, { examples: [{ inputs: [] }] }), InvalidDatasetError);
  await assert.rejects(textSftTrainer.predict(ctx.checkpoints.at(-1)!.path, {}), InvalidDatasetError);
});

test('without an eval split, 10% of train is held out; invalid data throws InvalidDatasetError', async () => {
  const dir = tempDir();
  const ctx = fakeContext(makeSpec(dir, [writeJsonl(dir, 'train.jsonl', colourExamples(50))]));
  await textSftTrainer.train(ctx);
  const hp = ofType(ctx.messages, 'hyperparameters')[0].values;
  assert.deepEqual([hp.train_examples, hp.eval_examples, hp.eval_source], [45, 5, 'holdout_10pct']);

  const bad = writeJsonl(dir, 'bad.jsonl', [...colourExamples(3), { inputs: [] }]);
  await assert.rejects(textSftTrainer.train(fakeContext(makeSpec(dir, [bad]))), (err: unknown) => {
    assert.ok(err instanceof InvalidDatasetError);
    assert.equal(err.problem.line, 4);
    assert.equal(err.problem.file_id, 'bad.jsonl');
    return true;
  });
});
